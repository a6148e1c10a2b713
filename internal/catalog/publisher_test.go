package catalog

import "testing"

// A policy by publisher covers models the catalog lacks when the publisher is certain from the
// provider and the id (issue 38): new Bedrock inference profiles, Vertex AI publisher paths, Azure
// deployments named after a known model.
func TestPublisherOf(t *testing.T) {
	for _, tc := range []struct{ provider, model, want string }{
		{"openai", "gpt-4o", "openai"},
		{"openai", "ft:gpt-4o-mini:acme::abc123", "openai"}, // a fine-tune on OpenAI's API
		{"anthropic", "claude-next-9", "anthropic"},
		{"gemini", "gemini-9-ultra", "google"},
		{"bedrock", "anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic"},
		{"bedrock", "us.anthropic.claude-sonnet-9-v1:0", "anthropic"},
		{"bedrock", "global.anthropic.claude-sonnet-9", "anthropic"},
		{"bedrock", "us-gov.meta.llama9-v1:0", "meta"},
		{"bedrock", "meta.llama9-405b-instruct-v1:0", "meta"},
		{"bedrock", "qwen.qwen9", "alibaba"},
		{"bedrock", "arn:aws:bedrock:us-east-1::foundation-model/mistral.mistral-large-9", "mistral"},
		{"bedrock", "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3", ""},
		{"bedrock", "acme.secret-model", ""},
		{"vertex_ai", "publishers/meta/models/llama-9", "meta"},
		{"vertex_ai", "projects/p/locations/us-central1/publishers/anthropic/models/claude-x", "anthropic"},
		{"vertex_ai", "projects/p/locations/us-central1/endpoints/123", ""},
		{"vertex_ai", "deepseek-ai/deepseek-v9-maas", "deepseek"},
		{"vertex_ai", "gemini-9-pro", "google"},
		{"vertex_ai", "text-embedding-005", "google"},
		{"vertex_ai", "claude-sonnet-9@default", "anthropic"},
		{"azure_openai", "gpt-4o", "openai"},
		{"azure_openai", "o3-mini", "openai"},
		{"azure_openai", "my-prod-deployment", ""},
		{"azure_ai_foundry", "Phi-4", "microsoft"},
		{"azure_ai_foundry", "claude-sonnet-4-5", "anthropic"},
		{"fireworks", "accounts/fireworks/models/llama-v9-70b", "meta"},
		{"fireworks", "accounts/acme/models/llama-finetune", ""},
		{"databricks", "databricks-claude-sonnet-9", "anthropic"},
		{"databricks", "my-endpoint", ""},
		{"custom", "gpt-4o", ""}, // a custom server's name means what its operator says
		{"litellm", "claude-sonnet-4-5", ""},
	} {
		if got := PublisherOf(tc.provider, tc.model); got != tc.want {
			t.Errorf("PublisherOf(%q, %q) = %q, want %q", tc.provider, tc.model, got, tc.want)
		}
	}
}

// The rules and the generated catalog never disagree: tools/catalog-gen refuses to write a model
// whose publisher contradicts PublisherByRule, and this catches a rule changed afterwards.
func TestPublisherRulesAgreeWithTheCatalog(t *testing.T) {
	for _, m := range Models() {
		if p := PublisherByRule(m.Provider, m.ID); p != "" && p != m.Publisher {
			t.Errorf("%s/%s: the catalog says publisher %q, PublisherByRule %q", m.Provider, m.ID, m.Publisher, p)
		}
		if !KnownPublisher(m.Publisher) {
			t.Errorf("%s/%s: publisher %q is not known", m.Provider, m.ID, m.Publisher)
		}
	}
	for _, p := range []string{"microsoft", "cohere", "ai21", "writer"} {
		if !KnownPublisher(p) {
			t.Errorf("KnownPublisher(%q) = false", p)
		}
	}
	if KnownPublisher("opneai") {
		t.Error(`KnownPublisher("opneai") = true`)
	}
}
