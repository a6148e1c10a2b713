package service

import (
	"strings"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

func pol(mode string, models, publishers []string) api.ModelPolicy {
	return api.ModelPolicy{Mode: mode, Models: models, Publishers: publishers}
}

func TestEvaluatePolicy(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name                       string
		policy                     api.ModelPolicy
		provider, model, publisher string
		allowed                    bool
		reason                     string // a part of the refusal
	}{
		{"all allows anything", pol(api.PolicyAll, nil, nil), "openai", "gpt-4.1", "openai", true, ""},
		{"empty mode is all", pol("", nil, nil), "custom", "llama", "", true, ""},
		{"allowlist by model", pol(api.PolicyAllowlist, []string{"openai/gpt-4.1"}, nil), "openai", "gpt-4.1", "openai", true, ""},
		{"allowlist by model is exact", pol(api.PolicyAllowlist, []string{"openai/gpt-4.1"}, nil), "openai", "gpt-4.1-mini", "openai", false, `neither model "openai/gpt-4.1-mini" nor its publisher "openai"`},
		{"allowlist model ref includes the provider", pol(api.PolicyAllowlist, []string{"openai/gpt-4.1"}, nil), "azure_openai", "gpt-4.1", "openai", false, "allowlist"},
		{"allowlist by publisher", pol(api.PolicyAllowlist, nil, []string{"anthropic"}), "bedrock", "anthropic.claude", "anthropic", true, ""},
		{"allowlist by publisher refuses others", pol(api.PolicyAllowlist, nil, []string{"anthropic"}), "openai", "gpt-4.1", "openai", false, "allowlist"},
		{"allowlist unknown publisher", pol(api.PolicyAllowlist, nil, []string{"anthropic"}), "custom", "x", "", false, `its publisher is unknown (neither the catalog nor its rules name the maker of custom models called "x"), so no publisher in the policy can allow it; add "custom/x" to the policy's models`},
		{"allowlist empty publisher never matches", pol(api.PolicyAllowlist, nil, []string{""}), "custom", "x", "", false, "allowlist"},
		{"empty allowlist refuses all", pol(api.PolicyAllowlist, nil, nil), "openai", "gpt-4.1", "openai", false, "allowlist"},
		{"denylist by model", pol(api.PolicyDenylist, []string{"openai/gpt-4.1"}, nil), "openai", "gpt-4.1", "openai", false, `denies model "openai/gpt-4.1"`},
		{"denylist by model spares others", pol(api.PolicyDenylist, []string{"openai/gpt-4.1"}, nil), "openai", "o4-mini", "openai", true, ""},
		{"denylist by publisher", pol(api.PolicyDenylist, nil, []string{"meta"}), "bedrock", "meta.llama", "meta", false, `denies publisher "meta"`},
		{"denylist by publisher spares others", pol(api.PolicyDenylist, nil, []string{"meta"}), "bedrock", "anthropic.claude", "anthropic", true, ""},
		{"denylist unknown publisher", pol(api.PolicyDenylist, nil, []string{"meta"}), "custom", "llama", "", true, ""},
		{"empty denylist allows all", pol(api.PolicyDenylist, nil, nil), "openai", "gpt-4.1", "openai", true, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := evaluatePolicy(tc.policy, "organisation", tc.provider, tc.model, tc.publisher)
			if d.Allowed != tc.allowed {
				t.Fatalf("allowed = %v, want %v (reason %q)", d.Allowed, tc.allowed, d.Reason)
			}
			if tc.allowed && d.Reason != "" {
				t.Errorf("allowed with a reason %q", d.Reason)
			}
			if !tc.allowed {
				if !strings.Contains(d.Reason, tc.reason) || !strings.Contains(d.Reason, "organisation") {
					t.Errorf("reason %q lacks %q or the scope", d.Reason, tc.reason)
				}
			}
		})
	}
}

func TestEffectivePolicyIntersection(t *testing.T) {
	t.Parallel()
	orgAllowOpenAIAnthropic := pol(api.PolicyAllowlist, nil, []string{"openai", "anthropic"})
	projDenyGPT41 := pol(api.PolicyDenylist, []string{"openai/gpt-4.1"}, nil)
	projAllowClaude := pol(api.PolicyAllowlist, []string{"anthropic/claude-sonnet-4-6"}, nil)
	all := pol(api.PolicyAll, nil, nil)
	cases := []struct {
		name                       string
		e                          effectivePolicy
		provider, model, publisher string
		allowed                    bool
		scope                      string
	}{
		{"both allow", effectivePolicy{org: orgAllowOpenAIAnthropic, project: projDenyGPT41, projectID: "proj_1"}, "openai", "o4-mini", "openai", true, ""},
		{"project refuses what org allows", effectivePolicy{org: orgAllowOpenAIAnthropic, project: projDenyGPT41, projectID: "proj_1"}, "openai", "gpt-4.1", "openai", false, "project proj_1"},
		{"org refuses what project allows", effectivePolicy{org: orgAllowOpenAIAnthropic, project: all, projectID: "proj_1"}, "mistral", "mistral-large", "mistral", false, "organisation"},
		{"org refusal is reported first", effectivePolicy{org: pol(api.PolicyDenylist, []string{"openai/gpt-4.1"}, nil), project: projDenyGPT41, projectID: "proj_1"}, "openai", "gpt-4.1", "openai", false, "organisation"},
		{"narrow project allowlist", effectivePolicy{org: orgAllowOpenAIAnthropic, project: projAllowClaude, projectID: "proj_1"}, "openai", "o4-mini", "openai", false, "project proj_1"},
		{"narrow project allowlist allows its model", effectivePolicy{org: orgAllowOpenAIAnthropic, project: projAllowClaude, projectID: "proj_1"}, "anthropic", "claude-sonnet-4-6", "anthropic", true, ""},
		{"organisation scope ignores any project policy", effectivePolicy{org: all, project: projDenyGPT41}, "openai", "gpt-4.1", "openai", true, ""},
		{"no policies", effectivePolicy{org: all, project: all, projectID: "proj_1"}, "custom", "anything", "", true, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.e.decide(tc.provider, tc.model, tc.publisher)
			if d.Allowed != tc.allowed {
				t.Fatalf("allowed = %v, want %v (%q)", d.Allowed, tc.allowed, d.Reason)
			}
			if !tc.allowed && !strings.Contains(d.Reason, "the "+tc.scope+" model policy") {
				t.Errorf("reason %q does not name the %s policy", d.Reason, tc.scope)
			}
		})
	}
}
