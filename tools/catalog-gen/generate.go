package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
)

// providerMap lists the models.dev providers the catalog takes models from, with the modelkeys
// provider they become; earlier entries win when two give the same model id to one provider. Azure
// is split by publisher (see azureProvider). Gateways and custom servers (litellm, portkey, custom)
// have no model list: they accept any id.
var providerMap = []struct{ modelsDev, modelkeys string }{
	{"openai", "openai"},
	{"anthropic", "anthropic"},
	{"google", "gemini"},
	{"google-vertex-anthropic", "vertex_ai"},
	{"google-vertex", "vertex_ai"},
	{"azure", "azure"},
	{"amazon-bedrock", "bedrock"},
	{"mistral", "mistral"},
	{"deepseek", "deepseek"},
	{"xai", "xai"},
	{"perplexity", "perplexity"},
	{"fireworks-ai", "fireworks"},
	{"databricks", "databricks"},
}

// makerPublisher maps the maker directory of a models.dev base model (models/MAKER/...) to the
// publisher id of modelkeys' policies, where the two differ.
var makerPublisher = map[string]string{"zhipuai": "zai"}

// knownModalities are the modalities the catalog knows (catalog.HasCapability); others are dropped.
var knownModalities = map[string]bool{"text": true, "image": true, "audio": true, "video": true, "pdf": true}

type source struct {
	Repository string `json:"repository"`
	Commit     string `json:"commit"`
	Date       string `json:"date"`
	License    string `json:"license"`
}

// model is one entry of models.json, in the shape and field order of api.Model without Allowed (a
// per-scope answer the data never holds); TestModelHasTheWireTypesFields keeps the two in step.
type model struct {
	ID               string   `json:"id"`
	Provider         string   `json:"provider"`
	Publisher        string   `json:"publisher"`
	DisplayName      string   `json:"display_name"`
	Family           string   `json:"family,omitempty"`
	ContextWindow    int64    `json:"context_window"`
	MaxOutputTokens  int64    `json:"max_output_tokens"`
	InputModalities  []string `json:"input_modalities"`
	OutputModalities []string `json:"output_modalities"`
	ToolCall         bool     `json:"tool_call"`
	Reasoning        bool     `json:"reasoning"`
	ReleaseDate      string   `json:"release_date,omitempty"`
	Source           string   `json:"source"`
}

// overrides are modelkeys' own corrections, keyed by models.dev path (PROVIDER/MODEL_ID).
type overrides struct {
	// Publishers gives the publisher of models that neither models.dev nor the rules name.
	Publishers map[string]string `json:"publishers"`
	// Exclude leaves models out of the catalog, each with the reason.
	Exclude map[string]string `json:"exclude"`
}

func readOverrides(file string) (overrides, error) {
	var ov overrides
	data, err := os.ReadFile(file)
	if err != nil {
		return ov, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ov); err != nil {
		return ov, fmt.Errorf("%s: %w", file, err)
	}
	return ov, nil
}

// generate reads the checkout in dir and returns the content of models.json.
func generate(dir string, src source, ov overrides) ([]byte, error) {
	bases, err := readTree(filepath.Join(dir, "models"))
	if err != nil {
		return nil, err
	}
	repoPath := strings.TrimPrefix(strings.TrimPrefix(src.Repository, "https://"), "github.com/")
	var models []model
	var problems []error
	seen := map[[2]string]bool{}
	usedOverrides := map[string]bool{}
	for _, pm := range providerMap {
		raw, err := readTree(filepath.Join(dir, "providers", pm.modelsDev, "models"))
		if err != nil {
			return nil, err
		}
		for _, id := range sortedKeys(raw) {
			key := pm.modelsDev + "/" + id
			if _, ok := ov.Exclude[key]; ok {
				usedOverrides[key] = true
				continue
			}
			fields := raw[id]
			basePublisher := ""
			if base, ok := fields["base_model"].(string); ok {
				b, found := bases[base]
				if !found {
					problems = append(problems, fmt.Errorf("%s: base_model %q is not under models/", key, base))
					continue
				}
				maker, _, _ := strings.Cut(base, "/")
				basePublisher = maker
				if p, ok := makerPublisher[maker]; ok {
					basePublisher = p
				}
				fields = mergeBase(b, fields)
			}
			m := toModel(id, fields)
			m.Source = fmt.Sprintf("%s@%s:providers/%s/models/%s.toml", repoPath, short(src.Commit), pm.modelsDev, id)
			publisher, err := choosePublisher(pm.modelkeys, id, basePublisher, ov.Publishers[key])
			if ov.Publishers[key] != "" {
				usedOverrides[key] = true
			}
			if err != nil {
				problems = append(problems, fmt.Errorf("%s: %w", key, err))
				continue
			}
			m.Publisher = publisher
			m.Provider = pm.modelkeys
			if pm.modelkeys == "azure" {
				m.Provider = azureProvider(publisher)
			}
			if len(m.InputModalities) == 0 || len(m.OutputModalities) == 0 {
				problems = append(problems, fmt.Errorf("%s: no input or output modality the catalog knows; exclude it in overrides.json", key))
				continue
			}
			k := [2]string{m.Provider, m.ID}
			if seen[k] {
				continue
			}
			seen[k] = true
			models = append(models, m)
		}
	}
	for _, key := range append(sortedKeys(ov.Publishers), sortedKeys(ov.Exclude)...) {
		if !usedOverrides[key] {
			problems = append(problems, fmt.Errorf("overrides.json names %s, which the checkout does not have; remove it", key))
		}
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	sort.Slice(models, func(i, j int) bool {
		if models[i].Provider != models[j].Provider {
			return models[i].Provider < models[j].Provider
		}
		return models[i].ID < models[j].ID
	})
	return encode(src, models)
}

// azureProvider puts OpenAI's models under azure_openai and every other maker's under
// azure_ai_foundry, as Azure serves them.
func azureProvider(publisher string) string {
	if publisher == "openai" {
		return "azure_openai"
	}
	return "azure_ai_foundry"
}

// choosePublisher decides a model's publisher from the override, the catalog's rules and models.dev's
// base model. Sources that disagree are an error: the runtime rules would then contradict the
// catalog for models it does not list.
func choosePublisher(provider, id, fromBase, override string) (string, error) {
	ruleProvider := provider
	if provider == "azure" {
		ruleProvider = "azure_ai_foundry" // the same name rules as azure_openai
	}
	fromRule := catalog.PublisherByRule(ruleProvider, id)
	switch {
	case override != "" && fromRule != "" && override != fromRule:
		return "", fmt.Errorf("the override says publisher %q but catalog.PublisherByRule says %q; fix one of them", override, fromRule)
	case override != "":
		return override, nil
	case fromRule != "" && fromBase != "" && fromRule != fromBase:
		return "", fmt.Errorf("its base model is by %q but catalog.PublisherByRule says %q; fix the rule or add an override", fromBase, fromRule)
	case fromRule != "":
		return fromRule, nil
	case fromBase != "":
		return fromBase, nil
	}
	return "", fmt.Errorf("no publisher: neither a base model nor catalog.PublisherByRule names one; add it to overrides.json publishers")
}

// readTree decodes every TOML file under dir, keyed by its path without .toml ("openai/gpt-5",
// "accounts/fireworks/models/glm-5p2").
func readTree(dir string) (map[string]map[string]any, error) {
	out := map[string]map[string]any{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == dir {
				return fs.SkipDir
			}
			return err
		}
		if d.IsDir() || !strings.HasSuffix(p, ".toml") {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		var fields map[string]any
		if _, err := toml.DecodeFile(p, &fields); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		out[strings.TrimSuffix(filepath.ToSlash(rel), ".toml")] = fields
		return nil
	})
	return out, err
}

// mergeBase applies a model's fields over its base model's, as models.dev does: tables merge key
// by key, anything else is replaced, then base_model_omit removes dotted paths.
func mergeBase(base, over map[string]any) map[string]any {
	merged := mergeDeep(base, over)
	delete(merged, "base_model")
	omit, _ := merged["base_model_omit"].([]any)
	delete(merged, "base_model_omit")
	for _, o := range omit {
		s, _ := o.(string)
		parts := strings.Split(s, ".")
		t := merged
		for _, part := range parts[:len(parts)-1] {
			next, ok := t[part].(map[string]any)
			if !ok {
				t = nil
				break
			}
			t = next
		}
		if t != nil {
			delete(t, parts[len(parts)-1])
		}
	}
	return merged
}

func mergeDeep(a, b map[string]any) map[string]any {
	out := make(map[string]any, len(a)+len(b))
	for k, v := range a {
		if t, ok := v.(map[string]any); ok {
			v = mergeDeep(t, nil)
		}
		out[k] = v
	}
	for k, v := range b {
		bt, bok := v.(map[string]any)
		at, aok := out[k].(map[string]any)
		if bok && aok {
			out[k] = mergeDeep(at, bt)
			continue
		}
		out[k] = v
	}
	return out
}

// toModel keeps the fields the catalog uses.
func toModel(id string, f map[string]any) model {
	limit, _ := f["limit"].(map[string]any)
	modalities, _ := f["modalities"].(map[string]any)
	m := model{
		ID:               id,
		DisplayName:      str(f["name"]),
		Family:           str(f["family"]),
		ContextWindow:    num(limit["context"]),
		MaxOutputTokens:  num(limit["output"]),
		InputModalities:  modalityList(modalities["input"]),
		OutputModalities: modalityList(modalities["output"]),
		ToolCall:         f["tool_call"] == true,
		Reasoning:        f["reasoning"] == true,
		ReleaseDate:      str(f["release_date"]),
	}
	if m.DisplayName == "" {
		m.DisplayName = path.Base(id)
	}
	return m
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func num(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case float64:
		return int64(n)
	}
	return 0
}

func modalityList(v any) []string {
	list, _ := v.([]any)
	out := []string{}
	for _, item := range list {
		if s, ok := item.(string); ok && knownModalities[s] && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// encode writes one model per line, so that a refresh shows in a diff as the models that changed.
func encode(src source, models []model) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("{\n  \"source\": ")
	s, err := json.Marshal(src)
	if err != nil {
		return nil, err
	}
	b.Write(s)
	b.WriteString(",\n  \"models\": [\n")
	for i, m := range models {
		line, err := json.Marshal(m)
		if err != nil {
			return nil, err
		}
		b.WriteString("    ")
		b.Write(line)
		if i < len(models)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("  ]\n}\n")
	return b.Bytes(), nil
}
