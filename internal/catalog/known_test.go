package catalog

import (
	"slices"
	"strings"
	"testing"
)

func TestNearest(t *testing.T) {
	got := Nearest("gpt-4o-mni", []string{"gpt-4o-mini", "gpt-4o", "o4-mini", "claude-sonnet-4-5", "gpt-4o-mini"}, 3)
	if len(got) == 0 || got[0] != "gpt-4o-mini" || slices.Contains(got, "claude-sonnet-4-5") {
		t.Errorf("Nearest = %v, want gpt-4o-mini first and nothing far", got)
	}
	if got := Nearest("opneai", Publishers(), 3); len(got) == 0 || got[0] != "openai" {
		t.Errorf("Nearest(opneai) = %v", got)
	}
	if got := Nearest("zzzzzzzzzzzz", []string{"gpt-4o"}, 3); len(got) != 0 {
		t.Errorf("Nearest suggested %v for a name near nothing", got)
	}
}

func TestModelListed(t *testing.T) {
	for _, tc := range []struct {
		provider, model string
		want            bool
	}{
		{"openai", "gpt-4o", true},
		{"openai", "gpt-4o-mni", false},
		{"bedrock", "anthropic.claude-sonnet-4-5-20250929-v1:0", true},
		{"custom", "llama3:8b", true},           // any_model: a custom server's ids are its own
		{"azure_openai", "my-deployment", true}, // any_model
		{"no-such-provider", "gpt-4o", false},
	} {
		if got := ModelListed(tc.provider, tc.model); got != tc.want {
			t.Errorf("ModelListed(%q, %q) = %v, want %v", tc.provider, tc.model, got, tc.want)
		}
	}
}

func TestUnknownModelMessage(t *testing.T) {
	msg := UnknownModelMessage("openai", "gpt-4o-mni", []string{"gpt-4o-mini-2024-07-18"}, `credential "prod" reaches 2 models and this is not one of them`)
	for _, want := range []string{
		`model "gpt-4o-mni" is not a model of openai: the modelkeys catalog does not list it, and credential "prod" reaches 2 models`,
		`Did you mean "gpt-4o-mini"`,
		"allow_unknown_model = true",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
}

func TestValidateModelRefKnowsTheCatalog(t *testing.T) {
	for ref, want := range map[string]string{
		"openai/gpt-4o":                  "",
		"azure_openai/any-deployment":    "",
		"custom/llama3:8b":               "",
		"openai/ft:gpt-4o-mini:acme::x1": "",
		"bedrock/arn:aws:bedrock:us-east-1:1:application-inference-profile/x": "",
		"openai/gpt-4o-mni": `Did you mean "openai/gpt-4o-mini"`,
		"opneai/gpt-4o":     `did you mean "openai"?`,
		"bedrock/anthropic.claude-sonet-4-5-20250929-v1:0": `Did you mean "bedrock/anthropic.claude-sonnet-4-5-20250929-v1:0"`,
	} {
		err := ValidateModelRef(ref)
		switch {
		case want == "" && err != nil:
			t.Errorf("ValidateModelRef(%q) = %v, want nil", ref, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("ValidateModelRef(%q) = %v, want an error with %q", ref, err, want)
		}
	}
}

func TestValidatePublisherSuggests(t *testing.T) {
	err := ValidatePublisher("opneai")
	if err == nil || !strings.Contains(err.Error(), `publisher "opneai" is not a publisher the modelkeys catalog knows. Did you mean "openai"?`) {
		t.Fatalf("ValidatePublisher(opneai) = %v", err)
	}
	for _, ok := range []string{"openai", "anthropic", "meta", "microsoft", "amazon"} {
		if err := ValidatePublisher(ok); err != nil {
			t.Errorf("ValidatePublisher(%q) = %v", ok, err)
		}
	}
}
