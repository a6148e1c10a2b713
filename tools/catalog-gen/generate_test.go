package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

var fixtureSource = source{Repository: "https://github.com/anomalyco/models.dev", Commit: "0123456789abcdef0123456789abcdef01234567", Date: "2026-07-01T16:40:28Z", License: "MIT"}

func generateFixture(t *testing.T, ov overrides) (map[string]model, []byte) {
	t.Helper()
	out, err := generate("testdata/models.dev", fixtureSource, ov)
	if err != nil {
		t.Fatalf("generate: %v", err)
	}
	var f struct {
		Source source  `json:"source"`
		Models []model `json:"models"`
	}
	if err := json.Unmarshal(out, &f); err != nil {
		t.Fatalf("the output is not JSON: %v\n%s", err, out)
	}
	if f.Source != fixtureSource {
		t.Errorf("source = %+v, want %+v", f.Source, fixtureSource)
	}
	byKey := map[string]model{}
	for _, m := range f.Models {
		byKey[m.Provider+"/"+m.ID] = m
	}
	return byKey, out
}

func fixtureOverrides(t *testing.T) overrides {
	t.Helper()
	ov, err := readOverrides("testdata/overrides.json")
	if err != nil {
		t.Fatal(err)
	}
	return ov
}

func TestGenerateFromFixture(t *testing.T) {
	models, out := generateFixture(t, fixtureOverrides(t))
	want := []string{
		"openai/gpt-4o", "openai/gpt-image-1", "azure_openai/gpt-4o", "azure_ai_foundry/phi-4", "azure_ai_foundry/mystery-model",
		"bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1", "fireworks/accounts/fireworks/models/glm-5p2",
	}
	if len(models) != len(want) {
		t.Errorf("got %d models, want %d (providers the catalog does not serve are left out): %s", len(models), len(want), out)
	}
	for _, k := range want {
		if _, ok := models[k]; !ok {
			t.Errorf("model %s is missing", k)
		}
	}

	// A model inherits its base model's fields and overrides some of them.
	az := models["azure_openai/gpt-4o"]
	if az.Publisher != "openai" || az.DisplayName != "GPT-4o" || az.ContextWindow != 128000 || az.MaxOutputTokens != 4096 || !az.ToolCall || az.Family != "gpt" {
		t.Errorf("azure_openai/gpt-4o = %+v, want GPT-4o by openai with its base model's context and Azure's output limit", az)
	}
	if az.Source != "anomalyco/models.dev@0123456:providers/azure/models/gpt-4o.toml" {
		t.Errorf("source = %q", az.Source)
	}
	// Publishers: by the catalog's rules, and by the override where no rule knows.
	for k, pub := range map[string]string{
		"azure_ai_foundry/phi-4":                             "microsoft",
		"azure_ai_foundry/mystery-model":                     "microsoft",
		"bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1": "anthropic",
		"fireworks/accounts/fireworks/models/glm-5p2":        "zai",
	} {
		if got := models[k].Publisher; got != pub {
			t.Errorf("%s: publisher %q, want %q", k, got, pub)
		}
	}
	// Modalities the catalog does not know (file) are dropped; image output without a context
	// window is kept with 0.
	if got := models["bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1"].InputModalities; strings.Join(got, ",") != "text,image,pdf" {
		t.Errorf("input modalities = %v", got)
	}
	if img := models["openai/gpt-image-1"]; img.ContextWindow != 0 || strings.Join(img.OutputModalities, ",") != "image" {
		t.Errorf("gpt-image-1 = %+v", img)
	}
	// Sorted, one model per line: a refresh diffs as the models that changed.
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(want)+5 || !strings.HasPrefix(lines[3], `    {"id":"mystery-model","provider":"azure_ai_foundry"`) {
		t.Errorf("unexpected layout:\n%s", out)
	}
	again, _ := generateFixture(t, fixtureOverrides(t))
	if len(again) != len(models) {
		t.Error("the output differs between runs")
	}
}

func TestGenerateRefusesUnknownPublishers(t *testing.T) {
	_, err := generate("testdata/models.dev", fixtureSource, overrides{})
	if err == nil || !strings.Contains(err.Error(), "azure/mystery-model: no publisher") || !strings.Contains(err.Error(), "overrides.json") {
		t.Fatalf("err = %v, want one naming azure/mystery-model and overrides.json", err)
	}
}

func TestGenerateRefusesContradictions(t *testing.T) {
	ov := fixtureOverrides(t)
	ov.Publishers["azure/phi-4"] = "meta"
	_, err := generate("testdata/models.dev", fixtureSource, ov)
	if err == nil || !strings.Contains(err.Error(), `azure/phi-4: the override says publisher "meta" but catalog.PublisherByRule says "microsoft"`) {
		t.Fatalf("err = %v", err)
	}
	ov = fixtureOverrides(t)
	ov.Exclude = map[string]string{"openai/gone": "removed"}
	_, err = generate("testdata/models.dev", fixtureSource, ov)
	if err == nil || !strings.Contains(err.Error(), "overrides.json names openai/gone, which the checkout does not have") {
		t.Fatalf("err = %v, want a stale override reported", err)
	}
}

func TestGenerateExcludes(t *testing.T) {
	ov := fixtureOverrides(t)
	ov.Exclude = map[string]string{"openai/gpt-image-1": "not a chat model"}
	models, _ := generateFixture(t, ov)
	if _, ok := models["openai/gpt-image-1"]; ok {
		t.Error("an excluded model is in the output")
	}
}

func TestRunExplainsAMissingCheckout(t *testing.T) {
	err := run(options{})
	if err == nil || !strings.Contains(err.Error(), "-models-dev DIR") || !strings.Contains(err.Error(), "MODELS_DEV") {
		t.Fatalf("err = %v, want one saying how to give the checkout", err)
	}
	err = run(options{dir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "not a models.dev checkout") {
		t.Fatalf("err = %v", err)
	}
}

func TestRunWritesTheFile(t *testing.T) {
	out := filepath.Join(t.TempDir(), "models.json")
	err := run(options{dir: "testdata/models.dev", out: out, overrides: "testdata/overrides.json", repo: fixtureSource.Repository, commit: fixtureSource.Commit, date: fixtureSource.Date})
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(out); err != nil || !strings.Contains(string(b), `"commit":"`+fixtureSource.Commit+`"`) {
		t.Fatalf("written file: %v %s", err, b)
	}
}

// model is written in api.Model's shape (the catalog loads models.json into api.Model): the same JSON
// fields, in the same order, but Allowed, which a read computes per scope and the data never holds.
func TestModelHasTheWireTypesFields(t *testing.T) {
	fields := func(typ reflect.Type, skip string) []string {
		var out []string
		for i := range typ.NumField() {
			name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
			if name != skip {
				out = append(out, name)
			}
		}
		return out
	}
	got, want := fields(reflect.TypeFor[model](), ""), fields(reflect.TypeFor[api.Model](), "allowed")
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("catalog-gen's model has the fields %v, api.Model %v: keep them in step", got, want)
	}
}
