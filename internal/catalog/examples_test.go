package catalog

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every example in docs/ and examples/ names models and publishers the catalog knows (issue 38: the
// docs' own example used o3-mini, which the catalog lacked), so a user copying one never meets the
// unknown-model error.
func TestExamplesNameKnownModels(t *testing.T) {
	var files []string
	for _, root := range []string{"../../examples", "../../docs", "../../templates"} {
		err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".tf") || strings.HasSuffix(p, ".md") || strings.HasSuffix(p, ".tmpl")) {
				files = append(files, p)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	files = append(files, "../../README.md")
	checked := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, problem := range exampleProblems(string(data), &checked) {
			t.Errorf("%s: %s", file, problem)
		}
	}
	if checked < 10 {
		t.Errorf("checked only %d model references: the scan no longer finds the examples", checked)
	}
}

var (
	blockStart      = regexp.MustCompile(`(?m)^\s*(resource|data|list)\s+"([a-z_]+)"\s+"([a-z0-9_-]+)"\s*\{`)
	modelAttr       = regexp.MustCompile(`(?m)^\s*model\s*=\s*"([^"]+)"`)
	listAttr        = regexp.MustCompile(`(?m)^\s*(models|publishers)\s*=\s*\[([^\]]*)\]`)
	credentialRef   = regexp.MustCompile(`modelkeys_credential\.([a-z0-9_-]+)\.id`)
	modelProviderAt = regexp.MustCompile(`(?m)^\s*model_provider\s*=\s*"([^"]+)"`)
	quoted          = regexp.MustCompile(`"([^"]*)"`)
)

// exampleProblems checks one file: each connection's model against its credential's provider when
// the file defines that credential (any provider's model otherwise), and each policy's models and
// publishers with the rules the server applies.
func exampleProblems(text string, checked *int) []string {
	type block struct{ kind, typ, name, body string }
	var blocks []block
	starts := blockStart.FindAllStringSubmatchIndex(text, -1)
	for i, s := range starts {
		end := len(text)
		if i+1 < len(starts) {
			end = starts[i+1][0]
		}
		body := text[s[1]:end]
		if close := strings.Index(body, "\n}"); close >= 0 { // the block's own closing brace, at the start of a line
			body = body[:close]
		}
		blocks = append(blocks, block{text[s[2]:s[3]], text[s[4]:s[5]], text[s[6]:s[7]], body})
	}
	providerOf := map[string]string{}
	for _, b := range blocks {
		if b.typ == "modelkeys_credential" {
			if m := modelProviderAt.FindStringSubmatch(b.body); m != nil {
				providerOf[b.name] = m[1]
			}
		}
	}
	var problems []string
	for _, b := range blocks {
		for _, m := range modelAttr.FindAllStringSubmatch(b.body, -1) {
			*checked++
			model := m[1]
			ref := credentialRef.FindStringSubmatch(b.body)
			if ref != nil && providerOf[ref[1]] != "" {
				if p := providerOf[ref[1]]; !ModelListed(p, model) {
					problems = append(problems, UnknownModelMessage(p, model, nil, ""))
				}
				continue
			}
			if !listedAnywhere(model) {
				problems = append(problems, "model "+model+" is not a model of any provider of the catalog")
			}
		}
		if b.typ != "modelkeys_model_policy" {
			continue // models and publishers lists of other blocks (test variables, mocks) are not policies
		}
		for _, l := range listAttr.FindAllStringSubmatch(b.body, -1) {
			for _, q := range quoted.FindAllStringSubmatch(l[2], -1) {
				if strings.Contains(q[1], "${") {
					continue // built from variables: checked where the variables are set
				}
				*checked++
				check := ValidateModelRef
				if l[1] == "publishers" {
					check = ValidatePublisher
				}
				if err := check(q[1]); err != nil {
					problems = append(problems, err.Error())
				}
			}
		}
	}
	return problems
}

func listedAnywhere(model string) bool {
	for _, m := range get().models {
		if m.ID == model {
			return true
		}
	}
	return false
}

// The scan itself finds what it should: a typo, an unknown publisher, and a model checked against
// its own credential's provider.
func TestExampleProblemsFindsMistakes(t *testing.T) {
	text := `
resource "modelkeys_credential" "local" {
  name           = "local"
  model_provider = "custom"
}

resource "modelkeys_credential" "openai" {
  model_provider = "openai"
}

resource "modelkeys_connection" "llama" {
  credential_id = modelkeys_credential.local.id
  model         = "llama3.1:8b"
}

resource "modelkeys_connection" "gpt" {
  credential_id = modelkeys_credential.openai.id
  model         = "gpt-4o-mni"
}

resource "modelkeys_model_policy" "org" {
  publishers = ["opneai", "anthropic"]
  models     = ["openai/o3-mini", "custom/llama3.1:8b"]
}
`
	var n int
	got := exampleProblems(text, &n)
	if n != 6 || len(got) != 2 || !strings.Contains(got[0], `"gpt-4o-mni" is not a model of openai`) || !strings.Contains(got[1], `"opneai"`) {
		t.Errorf("checked %d, problems %q", n, got)
	}
}
