package catalog

import (
	"bytes"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

var wantProviderIDs = []string{
	"anthropic", "azure_ai_foundry", "azure_openai", "bedrock", "custom", "databricks", "deepseek",
	"fireworks", "gemini", "litellm", "mistral", "openai", "openrouter", "perplexity", "portkey", "vertex_ai", "xai",
}

func TestEmbeddedCatalogLoads(t *testing.T) {
	if _, err := parseFiles(embedded, embeddedModels); err != nil {
		t.Fatalf("the embedded catalog does not load: %v", err)
	}
	if len(Providers()) == 0 || len(Models()) == 0 {
		t.Fatal("the catalog is empty")
	}
}

func TestCatalogJSONHasNoUnknownFields(t *testing.T) {
	for name, data := range map[string][]byte{"catalog.json": embedded, "models.json": embeddedModels} {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		var f struct {
			Source    *ModelSource   `json:"source"`
			Providers []api.Provider `json:"providers"`
			Models    []api.Model    `json:"models"`
		}
		if err := dec.Decode(&f); err != nil {
			t.Fatalf("%s does not match the api types: %v", name, err)
		}
	}
}

// The models come from models.dev, and say so: the generated file records the repository, commit and
// date, and every model the file it came from.
func TestModelsRecordTheirSource(t *testing.T) {
	src := Source()
	if src.Repository != "https://github.com/anomalyco/models.dev" || len(src.Commit) != 40 || src.License != "MIT" {
		t.Errorf("Source() = %+v, want the models.dev repository, a full commit and MIT", src)
	}
	if _, err := time.Parse(time.RFC3339, src.Date); err != nil {
		t.Errorf("Source().Date = %q is not RFC 3339: %v", src.Date, err)
	}
	for _, m := range Models() {
		if !strings.HasPrefix(m.Source, "anomalyco/models.dev@"+src.Commit[:7]+":providers/") {
			t.Errorf("model %s/%s: source %q does not name the recorded commit", m.Provider, m.ID, m.Source)
		}
	}
}

// The models people use are known, on every platform that serves them (issue 38).
func TestCatalogKnowsCommonModels(t *testing.T) {
	for _, want := range []struct{ provider, id, publisher string }{
		{"openai", "gpt-4o", "openai"},
		{"openai", "o3-mini", "openai"},
		{"openai", "gpt-4o-mini", "openai"},
		{"azure_openai", "gpt-4o", "openai"},
		{"azure_openai", "o3-mini", "openai"},
		{"azure_ai_foundry", "claude-sonnet-4-5", "anthropic"},
		{"bedrock", "anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic"},
		{"bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic"},
		{"anthropic", "claude-sonnet-4-5", "anthropic"},
		{"gemini", "gemini-2.5-flash", "google"},
		{"vertex_ai", "claude-sonnet-4-5@20250929", "anthropic"},
		{"mistral", "mistral-large-latest", "mistral"},
	} {
		m, ok := Model(want.provider, want.id)
		if !ok {
			t.Errorf("the catalog lacks %s/%s", want.provider, want.id)
			continue
		}
		if m.Publisher != want.publisher {
			t.Errorf("%s/%s: publisher %q, want %q", want.provider, want.id, m.Publisher, want.publisher)
		}
	}
}

// The embedded catalog is parsed when first used, by the provider at plan time and by the server at
// start: keep it cheap. BENCHMARKS.md has the numbers.
func BenchmarkParseEmbedded(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseFiles(embedded, embeddedModels); err != nil {
			b.Fatal(err)
		}
	}
}

func TestAllProvidersExist(t *testing.T) {
	if got := ProviderIDs(); !slices.Equal(got, wantProviderIDs) {
		t.Fatalf("ProviderIDs() = %v, want %v", got, wantProviderIDs)
	}
	for _, p := range Providers() {
		u, err := url.Parse(p.DocsURL)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			t.Errorf("%s: docs_url %q is not an https URL", p.ID, p.DocsURL)
		}
		if p.DisplayName == "" || len(p.AuthMethods) == 0 || len(p.Secrets) == 0 {
			t.Errorf("%s: display_name, auth_methods and secrets must all be set", p.ID)
		}
		for _, s := range p.Settings {
			if !idPattern.MatchString(s.Name) || s.Description == "" {
				t.Errorf("%s: setting %q needs a snake_case name and a description", p.ID, s.Name)
			}
		}
	}
}

func TestAnyModel(t *testing.T) {
	anyModel := []string{"azure_ai_foundry", "azure_openai", "custom", "databricks", "litellm", "openrouter", "portkey"}
	for _, p := range Providers() {
		if want := slices.Contains(anyModel, p.ID); p.AnyModel != want {
			t.Errorf("%s: any_model = %v, want %v", p.ID, p.AnyModel, want)
		}
	}
}

func TestModels(t *testing.T) {
	models := Models()
	for _, m := range models {
		if _, ok := Provider(m.Provider); !ok {
			t.Errorf("model %s names unknown provider %q", m.ID, m.Provider)
		}
		if m.ContextWindow < 0 || (m.ContextWindow == 0 && !slices.Contains(m.OutputModalities, "image")) {
			t.Errorf("model %s/%s: context_window %d is not positive", m.Provider, m.ID, m.ContextWindow)
		}
		if m.Publisher == "" || m.Source == "" {
			t.Errorf("model %s/%s: publisher and source must be set", m.Provider, m.ID)
		}
		if got, ok := Model(m.Provider, m.ID); !ok || got.ID != m.ID {
			t.Errorf("Model(%q, %q) does not find a listed model", m.Provider, m.ID)
		}
	}
	total := 0
	for _, id := range ProviderIDs() {
		for _, m := range ModelsFor(id) {
			if m.Provider != id {
				t.Errorf("ModelsFor(%q) returned a model of %q", id, m.Provider)
			}
			total++
		}
	}
	if total != len(models) {
		t.Errorf("ModelsFor over all providers gives %d models, Models gives %d", total, len(models))
	}
	if _, ok := Model("openai", "no-such-model"); ok {
		t.Error("Model found a model that does not exist")
	}
	if got := ModelsFor("nope"); len(got) != 0 {
		t.Errorf("ModelsFor(unknown) = %v, want none", got)
	}
}

func TestPublishers(t *testing.T) {
	pubs := Publishers()
	for _, want := range []string{"anthropic", "google", "meta", "openai"} {
		if !slices.Contains(pubs, want) {
			t.Errorf("Publishers() = %v, lacks %q", pubs, want)
		}
	}
	if !slices.IsSorted(pubs) {
		t.Errorf("Publishers() is not sorted: %v", pubs)
	}
}

func TestAccessorsReturnCopies(t *testing.T) {
	p, _ := Provider("openai")
	p.Settings[0].Name = "changed"
	p.AuthMethods[0] = "changed"
	m := Models()[0]
	m.InputModalities[0] = "changed"
	again, _ := Provider("openai")
	if again.Settings[0].Name == "changed" || again.AuthMethods[0] == "changed" {
		t.Error("changing a returned provider changed the catalog")
	}
	if Models()[0].InputModalities[0] == "changed" {
		t.Error("changing a returned model changed the catalog")
	}
}

func TestParseRejectsBadCatalogs(t *testing.T) {
	provider := `{"id":"p","display_name":"P","settings":[],"secrets":[{"name":"api_key","description":"d","required":true}],"auth_methods":["bearer"],"docs_url":"https://example.com","any_model":false}`
	model := func(fields string) string {
		return `{"id":"m","provider":"p","publisher":"acme","display_name":"M","context_window":10,"max_output_tokens":1,"input_modalities":["text"],"output_modalities":["text"],"tool_call":false,"reasoning":false` + fields + `}`
	}
	tests := []struct{ name, data, want string }{
		{"not json", `{`, "decode"},
		{"trailing data", `{"providers":[` + provider + `]} {}`, "trailing"},
		{"unknown field", `{"providers":[` + provider + `],"extra":1}`, "unknown field"},
		{"no providers", `{"providers":[]}`, "no providers"},
		{"duplicate provider", `{"providers":[` + provider + `,` + provider + `]}`, "twice"},
		{"bad setting name", `{"providers":[` + strings.Replace(provider, `"settings":[]`, `"settings":[{"name":"Base-URL","description":"d","required":false}]`, 1) + `]}`, "must match"},
		{"bad secret name", `{"providers":[` + strings.Replace(provider, `"api_key"`, `"password"`, 1) + `]}`, "a secret must be"},
		{"http docs", `{"providers":[` + strings.Replace(provider, `https://example.com`, `http://example.com`, 1) + `]}`, "docs_url"},
		{"model of unknown provider", `{"providers":[` + provider + `],"models":[` + strings.Replace(model(""), `"provider":"p"`, `"provider":"q"`, 1) + `]}`, "not in the catalog"},
		{"negative context window", `{"providers":[` + provider + `],"models":[` + strings.Replace(model(""), `"context_window":10`, `"context_window":-1`, 1) + `]}`, "context_window"},
		{"unknown modality", `{"providers":[` + provider + `],"models":[` + strings.Replace(model(""), `"input_modalities":["text"]`, `"input_modalities":["smell"]`, 1) + `]}`, "modality"},
		{"allowed set", `{"providers":[` + provider + `],"models":[` + model(`,"allowed":true`) + `]}`, "allowed"},
		{"duplicate model", `{"providers":[` + provider + `],"models":[` + model("") + `,` + model("") + `]}`, "twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := check([]byte(tt.data))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("parse error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// validSettings builds, from the catalog itself, the settings of a valid credential: every
// required setting with its example value.
func validSettings(p api.Provider) map[string]string {
	settings := map[string]string{}
	for _, s := range p.Settings {
		if s.Required {
			settings[s.Name] = s.Example
		}
	}
	return settings
}

func needsSecret(p api.Provider, name string) bool {
	s, ok := secretDef(p, name)
	return ok && s.Required
}

func TestValidateCredentialAcceptsCatalogExamples(t *testing.T) {
	for _, p := range Providers() {
		if errs := ValidateCredential(p.ID, validSettings(p), true, false); errs != nil {
			t.Errorf("%s: required settings with their examples are refused: %v", p.ID, errs)
		}
		// Every optional setting's example must be accepted too, with each auth method in turn (a
		// setting of one method is refused with another); a keyless method takes no api_key.
		methods := []string{""}
		if _, ok := settingDef(p, api.SettingAuthMethod); ok {
			methods = p.AuthMethods
		}
		for _, m := range methods {
			all := map[string]string{}
			for _, s := range p.Settings {
				if s.Example == "" {
					t.Errorf("%s: setting %s has no example for error messages", p.ID, s.Name)
				}
				if len(s.AuthMethods) == 0 || slices.Contains(s.AuthMethods, m) {
					all[s.Name] = s.Example
				}
			}
			if m != "" {
				all[api.SettingAuthMethod] = m
			}
			if errs := ValidateCredential(p.ID, all, m != api.AuthMethodWorkloadIdentity, false); errs != nil {
				t.Errorf("%s: all settings of auth method %q with their examples are refused: %v", p.ID, m, errs)
			}
		}
	}
}

func TestValidateCredentialMissingRequiredSetting(t *testing.T) {
	checked := 0
	for _, p := range Providers() {
		for _, s := range p.Settings {
			if !s.Required {
				continue
			}
			settings := validSettings(p)
			delete(settings, s.Name)
			errs := ValidateCredential(p.ID, settings, true, false)
			wantOneError(t, errs, "settings."+s.Name, "require the setting "+s.Name)
			checked++
		}
	}
	// azure_openai (3), azure_ai_foundry, bedrock, databricks, litellm, custom.
	if checked < 8 {
		t.Errorf("only %d required settings checked; did the catalog lose some?", checked)
	}
}

func TestValidateCredentialRequiredSettingsMatchProviderConventions(t *testing.T) {
	want := map[string][]string{
		"azure_openai":     {"api_version", "deployment", "endpoint"},
		"azure_ai_foundry": {"endpoint"},
		"bedrock":          {"region"},
		"databricks":       {"host"},
		"litellm":          {"base_url"},
		"custom":           {"base_url"},
	}
	for _, p := range Providers() {
		var got []string
		for _, s := range p.Settings {
			if s.Required {
				got = append(got, s.Name)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want[p.ID]) {
			t.Errorf("%s: required settings %v, want %v", p.ID, got, want[p.ID])
		}
	}
}

func TestValidateCredentialEmptySetting(t *testing.T) {
	for _, p := range Providers() {
		for _, s := range p.Settings {
			settings := validSettings(p)
			settings[s.Name] = " "
			errs := ValidateCredential(p.ID, settings, true, false)
			wantOneError(t, errs, "settings."+s.Name, "is empty")
		}
	}
}

func TestValidateCredentialUnknownProvider(t *testing.T) {
	for _, id := range []string{"", "open-ai", "OpenAI"} {
		errs := ValidateCredential(id, nil, true, false)
		wantOneError(t, errs, "provider", "openai")
		for _, valid := range wantProviderIDs {
			if !strings.Contains(errs[0].Message, valid) {
				t.Errorf("provider %q: message %q does not list %q", id, errs[0].Message, valid)
			}
		}
	}
}

func TestValidateCredentialUnknownSetting(t *testing.T) {
	tests := []struct {
		provider, key string
		want          []string
	}{
		{"openai", "organization", []string{"organization_id, project, base_url", "Did you mean organization_id?"}},
		{"openai", "region", []string{"not a setting of openai"}},
		{"openai", "api_key", []string{"Secrets do not go in settings"}},
		{"mistral", "base_url", []string{"mistral credentials take no settings"}},
		{"azure_openai", "Endpoint", []string{"Did you mean endpoint?"}},
	}
	for _, tt := range tests {
		p, _ := Provider(tt.provider)
		settings := validSettings(p)
		settings[tt.key] = "x"
		errs := ValidateCredential(tt.provider, settings, true, false)
		if tt.key == "Endpoint" {
			// Endpoint is unknown, and the real endpoint is still present: one error.
			wantOneError(t, errs, "settings.Endpoint", tt.want[0])
			continue
		}
		wantOneError(t, errs, "settings."+tt.key, tt.want...)
	}
}

func TestValidateCredentialSecrets(t *testing.T) {
	for _, p := range Providers() {
		settings := validSettings(p)
		if needsSecret(p, api.SecretAPIKey) {
			errs := ValidateCredential(p.ID, settings, false, false)
			wantOneError(t, errs, api.SecretAPIKey, "need an API key")
		} else if errs := ValidateCredential(p.ID, settings, false, false); errs != nil {
			t.Errorf("%s: no secret is required, yet: %v", p.ID, errs)
		}
		if _, takes := secretDef(p, api.SecretAuthToken); !takes {
			errs := ValidateCredential(p.ID, settings, true, true)
			wantOneError(t, errs, api.SecretAuthToken, "do not take auth_token")
		}
	}
	if errs := ValidateCredential("custom", map[string]string{"base_url": "http://127.0.0.1:8000/v1"}, true, true); errs != nil {
		t.Errorf("custom with both secrets is refused: %v", errs)
	}
}

func TestValidateCredentialURLs(t *testing.T) {
	tests := []struct {
		value string
		want  string // "" means valid
	}{
		{"https://llm.example.com/v1", ""},
		{"http://127.0.0.1:8000/v1", ""},
		{"http://localhost:11434/v1", ""},
		{"http://LOCALHOST:11434", ""},
		{"http://[::1]:8080", ""},
		{"http://127.0.0.2:8080", ""},
		{"http://llm.example.com/v1", "must use https"},
		{"http://10.0.0.5:8000/v1", "must use https"},
		{"llm.example.com/v1", "absolute URL"},
		{"/v1", "absolute URL"},
		{"localhost:8000", "absolute URL"},
		{"ftp://llm.example.com", "not ftp"},
		{"https://user:secret@llm.example.com", "user name or password"},
		{"https://", "absolute URL"},
		{"://x", "absolute URL"},
		// A query, a fragment or user info would let the setting choose the probe's path and query.
		{"https://llm.example.com/v1?x=", "must not contain a query"},
		{"https://llm.example.com/v1?", "must not contain a query"},
		{"https://169.254.169.254/latest/meta-data?", "must not contain a query"},
		{"https://llm.example.com/v1#", "must not contain a fragment"},
		{"https://llm.example.com/v1#frag", "must not contain a fragment"},
		{"http://127.0.0.1:6379/#", "must not contain a fragment"},
		{"https://user@llm.example.com", "user name or password"},
		{"https://@llm.example.com", "user name or password"},
		{"https://:443/v1", "absolute URL"},
	}
	// Check every URL setting of every provider, as named in the catalog.
	for _, p := range Providers() {
		for _, s := range p.Settings {
			if !IsURLSetting(s.Name) {
				continue
			}
			for _, tt := range tests {
				settings := validSettings(p)
				hasKey := true
				if len(s.AuthMethods) > 0 { // a setting of an auth method: with the rest of that method
					m := s.AuthMethods[0]
					settings[api.SettingAuthMethod] = m
					for _, o := range p.Settings {
						if slices.Contains(o.AuthMethods, m) {
							settings[o.Name] = o.Example
						}
					}
					if keylessRequires[p.ID] != nil {
						for _, n := range keylessRequires[p.ID] {
							def, _ := settingDef(p, n)
							settings[n] = def.Example
						}
					}
					hasKey = m != api.AuthMethodWorkloadIdentity
				}
				settings[s.Name] = tt.value
				errs := ValidateCredential(p.ID, settings, hasKey, false)
				if tt.want == "" {
					if errs != nil {
						t.Errorf("%s %s=%q: unexpected %v", p.ID, s.Name, tt.value, errs)
					}
					continue
				}
				wantOneError(t, errs, "settings."+s.Name, tt.want)
			}
		}
	}
}

func TestValidateCredentialReportsEveryProblem(t *testing.T) {
	errs := ValidateCredential("azure_openai", map[string]string{"endpoint": "http://x.example.com", "colour": "red"}, false, true)
	var fields []string
	for _, e := range errs {
		fields = append(fields, e.Field)
	}
	want := []string{"settings.colour", "settings.endpoint", "settings.deployment", "settings.api_version", "api_key", "auth_token"}
	if !slices.Equal(fields, want) {
		t.Fatalf("fields = %v, want %v", fields, want)
	}
	for _, e := range errs {
		if !strings.HasSuffix(e.Message, ".") && !strings.HasSuffix(e.Message, "?") {
			t.Errorf("%s: message %q is not a full sentence", e.Field, e.Message)
		}
	}
}

func TestValidateName(t *testing.T) {
	tests := []struct {
		name string
		want string // "" means valid
	}{
		{"openai-prod", ""},
		{"a", ""},
		{"team_a.key-2", ""},
		{strings.Repeat("a", 64), ""},
		{"", "empty"},
		{strings.Repeat("a", 65), "more than the limit of 64"},
		{"OpenAI", `'O'`},
		{"my key", `' '`},
		{"key/1", `'/'`},
		{"clé", `'é'`},
	}
	for _, tt := range tests {
		err := ValidateName(tt.name)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("ValidateName(%q) = %v, want nil", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "1 to 64 characters")):
			t.Errorf("ValidateName(%q) = %v, want an error containing %q and the rule", tt.name, err, tt.want)
		}
	}
}

func TestValidateModelRef(t *testing.T) {
	tests := []struct {
		ref, provider, model, want string
	}{
		{"openai/gpt-4o", "openai", "gpt-4o", ""},
		{"vertex_ai/meta/llama-3.3-70b-instruct-maas", "vertex_ai", "meta/llama-3.3-70b-instruct-maas", ""},
		{"custom/llama3:8b", "custom", "llama3:8b", ""},
		{"gpt-4o", "", "", "provider/model"},
		{"openai/", "", "", "provider/model"},
		{"/gpt-4o", "", "", "provider/model"},
		{"", "", "", "provider/model"},
		{"opena/gpt-4o", "", "", `unknown provider "opena"`},
		{"openai/gpt 4o", "", "", "space"},
	}
	for _, tt := range tests {
		provider, model, err := ParseModelRef(tt.ref)
		if tt.want == "" {
			if err != nil || provider != tt.provider || model != tt.model {
				t.Errorf("ParseModelRef(%q) = %q, %q, %v; want %q, %q, nil", tt.ref, provider, model, err, tt.provider, tt.model)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseModelRef(%q) error = %v, want one containing %q", tt.ref, err, tt.want)
		}
		if err2 := ValidateModelRef(tt.ref); (err2 == nil) != (err == nil) {
			t.Errorf("ValidateModelRef(%q) and ParseModelRef disagree", tt.ref)
		}
	}
}

func TestHasCapability(t *testing.T) {
	m := api.Model{ToolCall: true, InputModalities: []string{"text", "image", "pdf"}}
	tests := map[string]bool{
		"tool_call": true, "reasoning": false, "vision": true, "pdf": true,
		"audio": false, "video": false, "image": false, "text": false, "nonsense": false,
	}
	for capability, want := range tests {
		if got := HasCapability(m, capability); got != want {
			t.Errorf("HasCapability(%q) = %v, want %v", capability, got, want)
		}
	}
	for _, c := range Capabilities() {
		found := false
		for _, model := range Models() {
			found = found || HasCapability(model, c)
		}
		if !found {
			t.Errorf("no catalog model has capability %q; is the capability or the data wrong?", c)
		}
	}
}

// wantOneError fails unless errs holds exactly one error, on field, whose message has every part.
func wantOneError(t *testing.T, errs []api.FieldError, field string, parts ...string) {
	t.Helper()
	if len(errs) != 1 || errs[0].Field != field {
		t.Errorf("errors = %v, want exactly one on %s", errs, field)
		return
	}
	for _, part := range parts {
		if !strings.Contains(errs[0].Message, part) {
			t.Errorf("%s: message %q does not contain %q", field, errs[0].Message, part)
		}
	}
}
