package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-version"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/querycheck"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

// seedForQuery makes three credentials, two connections and two projects out of band, as someone
// else would have, and returns the credentials by name.
func seedForQuery(t *testing.T, s *testServer) map[string]*api.Credential {
	t.Helper()
	ctx := context.Background()
	out := map[string]*api.Credential{}
	for name, key := range map[string]string{"team-a-openai": keyOne, "team-a-spare": keyTwo, "legacy": keyThreeQuery} {
		c, err := s.Client.CreateCredential(ctx, api.CredentialCreate{Name: name, Provider: "openai", APIKey: ptrTo(key), Verify: new(bool),
			Settings: map[string]string{"organization_id": "org-123"}})
		if err != nil {
			t.Fatal(err)
		}
		out[name] = c
	}
	for _, c := range []struct{ name, model string }{{"chat", "gpt-4.1"}, {"mini", "gpt-4o-mini"}} {
		if _, err := s.Client.CreateConnection(ctx, api.ConnectionCreate{Name: c.name, CredentialID: out["team-a-openai"].ID, Model: c.model}); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{"ml-prod", "web"} {
		if _, err := s.Client.CreateProject(ctx, api.ProjectCreate{Name: p}); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

const keyThreeQuery = "sk-proj-third-key-0000000000000000003"

func ptrTo[T any](v T) *T { return &v }

// terraform query (Terraform 1.14+) lists what exists, filtered, with identities and display names.
func TestAccListResources_query(t *testing.T) {
	s := newTestServer(t)
	creds := seedForQuery(t, s)
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_14_0)},
		Steps: []resource.TestStep{
			{Config: s.providerConfig()},
			{
				Query: true,
				// The query file sits beside step 1's configuration, which configures the provider.
				Config: `
list "modelkeys_credential" "team_a" {
  provider = modelkeys
  config {
    name_prefix    = "team-a-"
    model_provider = "openai"
    status         = "unverified"
  }
}

list "modelkeys_credential" "invalid" {
  provider = modelkeys
  config {
    status = "invalid"
  }
}

list "modelkeys_connection" "gpt41" {
  provider = modelkeys
  config {
    model = "gpt-4.1"
  }
}

list "modelkeys_project" "ml" {
  provider = modelkeys
  config {
    name_prefix = "ml-"
  }
}
`,
				QueryResultChecks: []querycheck.QueryResultCheck{
					querycheck.ExpectLength("modelkeys_credential.team_a", 2),
					querycheck.ExpectIdentity("modelkeys_credential.team_a", map[string]knownvalue.Check{"id": knownvalue.StringExact(creds["team-a-openai"].ID)}),
					querycheck.ExpectIdentity("modelkeys_credential.team_a", map[string]knownvalue.Check{"id": knownvalue.StringExact(creds["team-a-spare"].ID)}),
					querycheck.ExpectLength("modelkeys_credential.invalid", 0),
					querycheck.ExpectLength("modelkeys_connection.gpt41", 1),
					querycheck.ExpectLength("modelkeys_project.ml", 1),
					querycheck.ExpectIdentity("modelkeys_project.ml", map[string]knownvalue.Check{"id": knownvalue.StringRegexp(regexp.MustCompile(`^proj_`))}),
				},
			},
		},
	})
}

// reattachProvider serves the provider in-process for a terraform run outside terraform-plugin-testing
// and returns the TF_REATTACH_PROVIDERS value that points terraform at it.
func reattachProvider(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	configs := make(chan *plugin.ReattachConfig, 1)
	closed := make(chan struct{})
	go func() {
		_ = tf6server.Serve("registry.terraform.io/modelkeys/modelkeys", NewProtocol6Server("test"),
			tf6server.WithDebug(ctx, configs, closed), tf6server.WithoutLogStderrOverride())
	}()
	var rc *plugin.ReattachConfig
	select {
	case rc = <-configs:
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("the provider did not start")
	}
	t.Cleanup(func() { cancel(); <-closed })
	b, err := json.Marshal(map[string]any{"registry.terraform.io/modelkeys/modelkeys": map[string]any{
		"Protocol": string(rc.Protocol), "ProtocolVersion": rc.ProtocolVersion, "Pid": rc.Pid, "Test": true,
		"Addr": map[string]string{"Network": rc.Addr.Network(), "String": rc.Addr.String()},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// terraformCLI runs the terraform binary the acceptance tests use in dir, with the provider reattached.
type terraformCLI struct {
	t        *testing.T
	bin, dir string
	env      []string
}

func newTerraformCLI(t *testing.T, atLeast string) *terraformCLI {
	t.Helper()
	testAccPreCheck(t)
	bin := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if bin == "" {
		bin = "terraform"
	}
	out, err := exec.Command(bin, "version", "-json").Output()
	if err != nil {
		t.Fatalf("%s version: %v", bin, err)
	}
	var v struct {
		Version string `json:"terraform_version"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatal(err)
	}
	if version.Must(version.NewVersion(v.Version)).LessThan(version.Must(version.NewVersion(atLeast))) {
		t.Skipf("Terraform %s: this needs Terraform %s or later", v.Version, atLeast)
	}
	return &terraformCLI{t: t, bin: bin, dir: t.TempDir(), env: append(os.Environ(),
		"TF_REATTACH_PROVIDERS="+reattachProvider(t), "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1")}
}

func (c *terraformCLI) write(name, content string) {
	c.t.Helper()
	if err := os.WriteFile(filepath.Join(c.dir, name), []byte(content), 0o600); err != nil {
		c.t.Fatal(err)
	}
}

func (c *terraformCLI) read(name string) string {
	c.t.Helper()
	b, err := os.ReadFile(filepath.Join(c.dir, name))
	if err != nil {
		c.t.Fatal(err)
	}
	return string(b)
}

// run runs terraform with args; it fails the test unless the exit status is what wantOK says.
func (c *terraformCLI) run(wantOK bool, args ...string) string {
	c.t.Helper()
	cmd := exec.Command(c.bin, append(args, "-no-color")...)
	cmd.Dir, cmd.Env = c.dir, c.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if (err == nil) != wantOK {
		c.t.Fatalf("terraform %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

func noSecrets(t *testing.T, what, text string, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if strings.Contains(text, k) || strings.Contains(text, k[len(k)-12:]) {
			t.Errorf("%s holds a key (…%s)", what, k[len(k)-4:])
		}
	}
}

// The whole adoption, with the CLI (Terraform 1.14+): terraform query prints what exists, without
// keys; -generate-config-out writes resource and import blocks that validate, without keys; once the
// user adds each key, the plan is one quiet update per credential, and the apply writes nothing to the
// server for a key it already holds (and rotates the one that differs).
func TestAccListResources_generateConfigAndAdopt(t *testing.T) {
	s := newTestServer(t)
	creds := seedForQuery(t, s)
	tf := newTerraformCLI(t, "1.14.0")
	allKeys := []string{keyOne, keyTwo, keyThreeQuery}
	tf.write("main.tf", `
terraform {
  required_providers {
    modelkeys = { source = "modelkeys/modelkeys" }
  }
}
`+s.providerConfig())
	tf.write("adopt.tfquery.hcl", `
list "modelkeys_credential" "team_a" {
  provider         = modelkeys
  include_resource = true
  config {
    name_prefix = "team-a-"
  }
}
`)
	tf.run(true, "init")
	out := tf.run(true, "query")
	for _, name := range []string{"team-a-openai", "team-a-spare"} {
		if !strings.Contains(out, creds[name].ID) || !strings.Contains(out, name) {
			t.Errorf("terraform query does not show %s (%s):\n%s", name, creds[name].ID, out)
		}
	}
	if strings.Contains(out, "legacy") {
		t.Errorf("terraform query ignored name_prefix:\n%s", out)
	}
	noSecrets(t, "terraform query's output", out, allKeys...)

	out = tf.run(true, "query", "-generate-config-out=generated.tf")
	noSecrets(t, "terraform query -generate-config-out's output", out, allKeys...)
	generated := tf.read("generated.tf")
	noSecrets(t, "generated.tf", generated, allKeys...)
	for _, want := range []string{`resource "modelkeys_credential"`, "import {", creds["team-a-openai"].ID, creds["team-a-spare"].ID} {
		if !strings.Contains(generated, want) {
			t.Errorf("generated.tf lacks %q:\n%s", want, generated)
		}
	}
	// Terraform writes every optional argument, the secrets as null: never a value.
	if regexp.MustCompile(`(api_key|auth_token)(_wo)?\s*=\s*"`).MatchString(generated) || strings.Contains(generated, "secret_") {
		t.Errorf("generated.tf sets a key or a computed secret attribute:\n%s", generated)
	}
	tf.run(true, "validate")

	// The user adds the keys: the one the server holds to team-a-openai (write-only), another one to
	// team-a-spare.
	addKey := func(cfg, name string, set map[string]string) string {
		blocks := strings.SplitAfter(cfg, "\n}\n")
		for i, b := range blocks {
			if !regexp.MustCompile(`(?m)^\s*name\s*=\s*"` + regexp.QuoteMeta(name) + `"$`).MatchString(b) {
				continue
			}
			for attr, value := range set {
				re := regexp.MustCompile(`(?m)^(\s*` + attr + `\s*=\s*)null( # sensitive)?$`)
				if !re.MatchString(b) {
					t.Fatalf("no %s = null in the block of %s:\n%s", attr, name, b)
				}
				b = re.ReplaceAllString(b, "${1}"+value)
			}
			blocks[i] = b
			return strings.Join(blocks, "")
		}
		t.Fatalf("no block of %s in generated.tf:\n%s", name, cfg)
		return ""
	}
	const rotated = "sk-proj-rotated-key-00000000000000004"
	generated = addKey(generated, "team-a-openai", map[string]string{"api_key_wo": fmt.Sprintf("%q", keyOne), "api_key_wo_version": "1"})
	generated = addKey(generated, "team-a-spare", map[string]string{"api_key": fmt.Sprintf("%q", rotated)})
	tf.write("generated.tf", generated)
	plan := tf.run(true, "plan", "-out=tfplan")
	noSecrets(t, "terraform plan's output", plan, append(allKeys, rotated)...)
	if !strings.Contains(plan, "2 to import, 0 to add, 2 to change, 0 to destroy") {
		t.Errorf("plan: want 2 imports and 2 updates:\n%s", plan)
	}
	// Only team-a-spare's key changes: its secret_version is the only value known after apply.
	if n := len(regexp.MustCompile(`secret_version\s+= 1 -> \(known after apply\)`).FindAllString(plan, -1)); n != 1 {
		t.Errorf("want one rotation (secret_version known after apply), got %d:\n%s", n, plan)
	}
	tf.run(true, "apply", "tfplan")

	ctx := context.Background()
	adopted, err := s.Client.GetCredential(ctx, creds["team-a-openai"].ID)
	if err != nil {
		t.Fatal(err)
	}
	if before := creds["team-a-openai"]; adopted.Version != before.Version || adopted.SecretVersion != before.SecretVersion || !adopted.UpdatedAt.Equal(before.UpdatedAt) {
		t.Errorf("adopting a key the server holds wrote to the server: version %d -> %d, secret_version %d -> %d",
			before.Version, adopted.Version, before.SecretVersion, adopted.SecretVersion)
	}
	spare, err := s.Client.GetCredential(ctx, creds["team-a-spare"].ID)
	if err != nil {
		t.Fatal(err)
	}
	if spare.SecretVersion != creds["team-a-spare"].SecretVersion+1 {
		t.Errorf("the differing key was not rotated: secret_version %d", spare.SecretVersion)
	}
	if again := tf.run(true, "plan", "-detailed-exitcode"); !strings.Contains(again, "No changes") {
		t.Errorf("plan after adopting is not empty:\n%s", again)
	}
	state := tf.run(true, "show")
	noSecrets(t, "terraform show", state, append(allKeys, rotated)...)
}
