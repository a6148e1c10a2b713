package catalog

import (
	"strings"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

// Every URL setting decides where a key goes; a new URL setting must not escape the destination rule.
func TestURLSettingsAreDestinations(t *testing.T) {
	for _, p := range Providers() {
		for _, s := range p.Settings {
			if IsURLSetting(s.Name) && settingRoles[s.Name] != roleDestination {
				t.Errorf("%s: URL setting %s is not a destination setting", p.ID, s.Name)
			}
		}
	}
	for _, name := range []string{"region", "location", "tenant_id"} {
		if settingRoles[name] != roleDestination {
			t.Errorf("%s builds a probe's host name or token endpoint, so it is a destination", name)
		}
	}
}

// A setting the roles table does not classify fails the catalog's integrity check, so a new provider
// cannot forget to say whether its setting moves a key.
func TestUnclassifiedSettingFailsIntegrity(t *testing.T) {
	p := api.Provider{ID: "x", Settings: []api.ProviderSetting{{Name: "proxy_host"}}}
	errs := checkSettingRoles(&p)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "proxy_host") {
		t.Fatalf("errs = %v, want one naming proxy_host", errs)
	}
}

// The effective auth method is part of the destination: settings that imply a method move the key as
// surely as a base_url does (issue: tenant_id + client_id sent an Azure key to Entra; dropping
// access_key_id sent an IAM secret key as a bearer token).
func TestDestinationMovesWithTheEffectiveAuthMethod(t *testing.T) {
	tests := []struct {
		name          string
		provider      string
		before, after map[string]string
		want          []string // "field:from->to"
	}{
		{"azure entra_id implied by tenant and client", "azure_openai",
			map[string]string{"endpoint": "https://a.openai.azure.com"},
			map[string]string{"endpoint": "https://a.openai.azure.com", "tenant_id": "evil.onmicrosoft.com", "client_id": "c"},
			[]string{"settings.auth_method:api_key->entra_id", "settings.client_id:->c", "settings.tenant_id:->evil.onmicrosoft.com"}},
		{"bedrock sigv4 dropped", "bedrock",
			map[string]string{"region": "us-east-1", "access_key_id": "AKIA"},
			map[string]string{"region": "us-east-1"},
			[]string{"settings.auth_method:sigv4->api_key"}},
		{"explicit default is no move", "bedrock",
			map[string]string{"region": "us-east-1"},
			map[string]string{"region": "us-east-1", "auth_method": "api_key"}, nil},
		{"another tenant", "azure_ai_foundry",
			map[string]string{"endpoint": "https://a.services.ai.azure.com", "auth_method": "entra_id", "tenant_id": "t1", "client_id": "c"},
			map[string]string{"endpoint": "https://a.services.ai.azure.com", "auth_method": "entra_id", "tenant_id": "t2", "client_id": "c"},
			[]string{"settings.tenant_id:t1->t2"}},
		{"a request setting is no move", "openai",
			map[string]string{"project": "p1"}, map[string]string{"project": "p2", "organization_id": "o"}, nil},
		{"portkey routing headers are no move", "portkey",
			map[string]string{"virtual_key": "a"}, map[string]string{"virtual_key": "b", "config": "pc-1"}, nil},
		{"removing base_url moves to the default", "openai",
			map[string]string{"base_url": "https://proxy.example.com/v1"}, map[string]string{},
			[]string{"settings.base_url:https://proxy.example.com/v1->"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, c := range DestinationMoves(tt.provider, tt.before, tt.after) {
				got = append(got, c.Field+":"+c.From+"->"+c.To)
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("moves = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSecretsNeeded(t *testing.T) {
	s := map[string]string{"region": "us-east-1"}
	if SecretsNeeded("bedrock", s, s, true, true) {
		t.Error("no change needs no secret")
	}
	if !SecretsNeeded("bedrock", s, s, false, true) {
		t.Error("turning verify on sends the stored key: it needs the key")
	}
	if SecretsNeeded("bedrock", s, s, true, false) {
		t.Error("turning verify off sends nothing")
	}
	if !SecretsNeeded("bedrock", s, map[string]string{"region": "eu-west-1"}, true, true) {
		t.Error("a new region is a new destination")
	}
}
