package catalog

import (
	"slices"
	"strings"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

func TestAuthMethodChoice(t *testing.T) {
	for _, c := range []struct {
		provider string
		settings map[string]string
		want     string
	}{
		{"bedrock", map[string]string{"region": "us-east-1"}, "api_key"},
		{"bedrock", map[string]string{"region": "us-east-1", "access_key_id": "AKIAIOSFODNN7EXAMPLE"}, "sigv4"}, // as before auth_method
		{"bedrock", map[string]string{"region": "us-east-1", "auth_method": "sigv4", "access_key_id": "AKIA"}, "sigv4"},
		{"azure_openai", map[string]string{"endpoint": "https://r.openai.azure.com"}, "api_key"},
		{"azure_openai", map[string]string{"auth_method": "entra_id"}, "entra_id"},
		{"azure_ai_foundry", map[string]string{"tenant_id": "t"}, "entra_id"},
		{"openai", map[string]string{}, "bearer"},
		{"openai", map[string]string{"identity_provider_id": "wip_1"}, "workload_identity"}, // implied
		{"vertex_ai", map[string]string{"project_id": "p"}, "service_account"},
		{"deepseek", map[string]string{}, ""},
	} {
		p, _ := Provider(c.provider)
		if got := AuthMethod(p, c.settings); got != c.want {
			t.Errorf("%s %v: AuthMethod = %q, want %q", c.provider, c.settings, got, c.want)
		}
	}
}

func TestAuthMethodsListTheChoices(t *testing.T) {
	for id, want := range map[string][]string{
		"bedrock":          {"api_key", "sigv4"},
		"azure_openai":     {"api_key", "entra_id", "workload_identity"},
		"azure_ai_foundry": {"api_key", "entra_id", "workload_identity"},
		"openai":           {"bearer", "workload_identity"},
		"anthropic":        {"x-api-key", "workload_identity"},
		"openrouter":       {"bearer", "workload_identity"},
		"vertex_ai":        {"service_account", "workload_identity"},
	} {
		p, _ := Provider(id)
		def, ok := settingDef(p, api.SettingAuthMethod)
		if !ok || !slices.Equal(p.AuthMethods, want) || !slices.Equal(def.AllowedValues, want) {
			t.Errorf("%s: auth_methods %v, auth_method values %v; want %v", id, p.AuthMethods, def.AllowedValues, want)
		}
		if !strings.Contains(def.Description, "Omit it to use "+want[0]) {
			t.Errorf("%s: the auth_method description does not say its default: %q", id, def.Description)
		}
	}
}

func TestValidateCredentialAuthMethod(t *testing.T) {
	azure := map[string]string{"endpoint": "https://r.openai.azure.com", "deployment": "d", "api_version": "2024-10-21"}
	with := func(base map[string]string, kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range base {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	ok := []struct {
		provider string
		settings map[string]string
	}{
		{"azure_openai", azure},
		{"azure_openai", with(azure, "auth_method", "api_key")},
		{"azure_openai", with(azure, "auth_method", "entra_id", "tenant_id", "t", "client_id", "c")},
		{"azure_openai", with(azure, "tenant_id", "t", "client_id", "c")},
		{"bedrock", map[string]string{"region": "us-east-1"}},
		{"bedrock", map[string]string{"region": "us-east-1", "access_key_id": "AKIA"}},
		{"bedrock", map[string]string{"region": "us-east-1", "auth_method": "sigv4", "access_key_id": "AKIA"}},
		{"bedrock", map[string]string{"region": "us-east-1", "auth_method": "api_key"}},
	}
	for _, c := range ok {
		if errs := ValidateCredential(c.provider, c.settings, true, false); errs != nil {
			t.Errorf("%s %v: refused: %v", c.provider, c.settings, errs)
		}
	}
	for _, c := range []struct {
		provider string
		settings map[string]string
		field    string
		want     string
	}{
		{"azure_openai", with(azure, "auth_method", "oauth"), "settings.auth_method", `is "oauth", which azure_openai credentials do not know. Use one of: api_key, entra_id, workload_identity.`},
		{"azure_openai", with(azure, "auth_method", "entra_id", "tenant_id", "t"), "settings.client_id", `with auth_method "entra_id" require the setting client_id`},
		{"azure_openai", with(azure, "tenant_id", "t"), "settings.client_id", `implied by the setting tenant_id`},
		{"azure_openai", with(azure, "auth_method", "api_key", "client_id", "c"), "settings.client_id", `goes only with auth_method "entra_id"`},
		{"bedrock", map[string]string{"region": "us-east-1", "auth_method": "sigv4"}, "settings.access_key_id", `require the setting access_key_id`},
		{"bedrock", map[string]string{"region": "us-east-1", "auth_method": "api_key", "access_key_id": "AKIA"}, "settings.access_key_id", `Remove access_key_id, or set auth_method to "sigv4"`},
	} {
		wantOneError(t, ValidateCredential(c.provider, c.settings, true, false), c.field, c.want)
	}
}

func TestCatalogRefusesInconsistentAuthMethods(t *testing.T) {
	for _, c := range []struct{ settings, methods, want string }{
		{`[]`, `["a","b"]`, "no auth_method setting"},
		{`[{"name":"auth_method","description":"d","required":false,"allowed_values":["b","a"]}]`, `["a","b"]`, "must be its auth_methods"},
		{`[{"name":"auth_method","description":"d","required":false,"allowed_values":["a","b"]},{"name":"x","description":"d","required":false,"auth_methods":["c"]}]`, `["a","b"]`, `auth method "c" is not one`},
		{`[{"name":"x","description":"d","required":false,"auth_methods":["a"]}]`, `["a"]`, "has no auth_method setting"},
		{`[{"name":"x","description":"d","required":false,"example":"z","allowed_values":["a"]}]`, `["a"]`, "not one of its allowed_values"},
	} {
		provider := `{"id":"p","display_name":"P","category":"model_provider","settings":` + c.settings + `,"secrets":[{"name":"api_key","description":"d","required":true}],"auth_methods":` + c.methods + `,"docs_url":"https://example.com","any_model":true}`
		err := check([]byte(`{"providers":[` + provider + `],"models":[]}`))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %s: err = %v, want %q", c.settings, c.methods, err, c.want)
		}
	}
}
