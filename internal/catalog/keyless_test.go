package catalog

import (
	"strings"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

// keylessSettings are complete workload identity settings per vendor, as the vendors' docs name them.
var keylessSettings = map[string]map[string]string{
	"openai": {"auth_method": "workload_identity", "identity_provider_id": "wip_1", "service_account_id": "svc_acct_1",
		"audience": "https://api.openai.com/v1"},
	"anthropic": {"auth_method": "workload_identity", "federation_rule_id": "fdrl_1", "service_account_id": "svac_1",
		"organization_id": "00000000-0000-0000-0000-000000000000", "audience": "https://api.anthropic.com"},
	"openrouter": {"auth_method": "workload_identity", "federation_policy_id": "4b2f", "audience": "https://openrouter.ai"},
	"azure_openai": {"auth_method": "workload_identity", "endpoint": "https://r.openai.azure.com", "deployment": "d",
		"api_version": "2024-10-21", "tenant_id": "t", "client_id": "c"},
	"azure_ai_foundry": {"auth_method": "workload_identity", "endpoint": "https://r.services.ai.azure.com/models", "tenant_id": "t", "client_id": "c"},
	"vertex_ai": {"auth_method": "workload_identity", "project_id": "p",
		"workload_identity_provider": "projects/1/locations/global/workloadIdentityPools/p/providers/q"},
}

func TestKeylessCredentialsTakeNoSecret(t *testing.T) {
	for id, settings := range keylessSettings {
		if !SupportsKeyless(id) || !IsKeyless(id, settings) {
			t.Fatalf("%s: not keyless with %v", id, settings)
		}
		if errs := ValidateCredential(id, settings, false, false); errs != nil {
			t.Errorf("%s: a complete keyless credential without api_key is refused: %v", id, errs)
		}
		wantOneError(t, ValidateCredential(id, settings, true, false), api.SecretAPIKey, "are keyless: they store no secret")
		if SecretsNeeded(id, map[string]string{}, settings, false, true) {
			t.Errorf("%s: SecretsNeeded says a keyless credential must resend a secret it does not have", id)
		}
	}
	if SupportsKeyless("deepseek") || IsKeyless("bedrock", map[string]string{"region": "us-east-1"}) {
		t.Error("deepseek or bedrock claims workload identity, which they do not offer")
	}
}

func TestKeylessMissingSettingIsNamed(t *testing.T) {
	for id, settings := range keylessSettings {
		p, _ := Provider(id)
		for _, s := range p.Settings {
			if _, set := settings[s.Name]; !set || s.Name == api.SettingAuthMethod || s.Optional {
				continue
			}
			without := map[string]string{}
			for k, v := range settings {
				if k != s.Name {
					without[k] = v
				}
			}
			errs := ValidateCredential(id, without, false, false)
			if len(errs) != 1 || errs[0].Field != "settings."+s.Name || !strings.Contains(errs[0].Message, "require the setting "+s.Name) {
				t.Errorf("%s without %s: errors %v, want one naming settings.%s", id, s.Name, errs, s.Name)
			}
		}
	}
}

func TestKeylessSettingsAreRefusedWithKeys(t *testing.T) {
	wantOneError(t, ValidateCredential("openai", map[string]string{"auth_method": "bearer", "audience": "a"}, true, false),
		"settings.audience", `goes only with auth_method "workload_identity"`)
	// A federation setting alone implies workload identity, so the key is what is refused.
	wantOneError(t, ValidateCredential("openrouter", map[string]string{"federation_policy_id": "x", "audience": "a"}, true, false),
		api.SecretAPIKey, `implied by the setting federation_policy_id`)
}

func TestKeylessDestination(t *testing.T) {
	before := keylessSettings["openai"]
	after := map[string]string{}
	for k, v := range before {
		after[k] = v
	}
	after["token_url"] = "https://elsewhere.example.com/token"
	moves := DestinationMoves("openai", before, after)
	if len(moves) != 1 || moves[0].Field != "settings.token_url" {
		t.Errorf("moving token_url: %v, want one change of settings.token_url (it decides who receives the assertion)", moves)
	}
	after["token_url"] = before["token_url"]
	delete(after, "token_url")
	after["service_account_id"] = "svc_acct_2"
	if moves := DestinationMoves("openai", before, after); len(moves) != 0 {
		t.Errorf("a service account is not a destination: %v", moves)
	}
}

func TestKeylessTokenURLIsChecked(t *testing.T) {
	s := map[string]string{}
	for k, v := range keylessSettings["openrouter"] {
		s[k] = v
	}
	s["token_url"] = "http://openrouter.example.com/api/v1/oauth/token"
	wantOneError(t, ValidateCredential("openrouter", s, false, false), "settings.token_url", "must use https")
}
