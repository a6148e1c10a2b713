package catalog

import (
	"regexp"
	"strings"
)

// Publishers of models the catalog does not list are found by rules, so that a model policy by
// publisher covers a new release, an inference profile or a deployment the day it appears, as long as
// its maker is certain from the provider and the id. Where the rules cannot tell, the publisher is
// unknown: a policy can then name the model only in models. tools/catalog-gen uses the same rules to
// give the catalog's models their publishers, so the two cannot disagree.

// providerPublisher is the one publisher of the models of a maker's own API: whatever an OpenAI key
// reaches, fine-tunes included, is OpenAI's.
var providerPublisher = map[string]string{
	"openai":     "openai",
	"anthropic":  "anthropic",
	"gemini":     "google",
	"mistral":    "mistral",
	"deepseek":   "deepseek",
	"xai":        "xai",
	"perplexity": "perplexity",
}

// namespacePublisher maps the vendor part of a model id (Bedrock's "anthropic." in
// "us.anthropic.claude-...", Vertex AI's "publishers/meta/models/...", "deepseek-ai/..." of Vertex
// AI's model-as-a-service) to the publisher id used in policies.
var namespacePublisher = map[string]string{
	"ai21": "ai21", "amazon": "amazon", "anthropic": "anthropic", "cohere": "cohere",
	"deepseek": "deepseek", "deepseek-ai": "deepseek", "google": "google", "meta": "meta",
	"minimax": "minimax", "minimaxai": "minimax", "mistral": "mistral", "mistralai": "mistral",
	"moonshot": "moonshotai", "moonshotai": "moonshotai", "nvidia": "nvidia", "openai": "openai",
	"qwen": "alibaba", "writer": "writer", "xai": "xai", "zai": "zai", "zai-org": "zai",
	"stability": "stability", "twelvelabs": "twelvelabs", "luma": "luma",
}

// namePublisher maps the start of a model name to its maker, for platforms that serve many makers'
// models under their plain names (Azure, Databricks, Fireworks, Vertex AI). Only names that belong to
// one maker are here.
var namePublisher = []struct {
	pattern   *regexp.Regexp
	publisher string
}{
	{regexp.MustCompile(`^(gpt-|chatgpt-|o[1-9](-|$)|text-embedding-(3|ada)|dall-e|whisper|tts-|codex-|davinci|babbage|sora)`), "openai"},
	{regexp.MustCompile(`^claude-`), "anthropic"},
	{regexp.MustCompile(`^(gemini-|gemma-|imagen-|veo-)`), "google"},
	{regexp.MustCompile(`^(meta-llama|llama-?v?[0-9])`), "meta"},
	{regexp.MustCompile(`^(mistral-|mixtral-|ministral-|codestral-|magistral-|devstral-|pixtral-|voxtral-|open-mistral|open-mixtral)`), "mistral"},
	{regexp.MustCompile(`^deepseek-`), "deepseek"},
	{regexp.MustCompile(`^grok-`), "xai"},
	{regexp.MustCompile(`^(qwen[0-9p.-]|qwen-|qwq-)`), "alibaba"},
	{regexp.MustCompile(`^kimi-`), "moonshotai"},
	{regexp.MustCompile(`^glm-`), "zai"},
	{regexp.MustCompile(`^minimax-`), "minimax"},
	{regexp.MustCompile(`^(phi-[0-9]|mai-ds-|model-router$)`), "microsoft"},
	{regexp.MustCompile(`^(cohere-|command-)`), "cohere"},
	{regexp.MustCompile(`^jamba-`), "ai21"},
	{regexp.MustCompile(`^(nova-|titan-)`), "amazon"},
	{regexp.MustCompile(`^nemotron-`), "nvidia"},
	{regexp.MustCompile(`^sonar(-|$)`), "perplexity"},
}

// vertexGooglePattern names Google's own Vertex AI models that carry no maker in their id beyond the
// family (text-embedding-005 is Google's on Vertex AI, where OpenAI's embeddings are not served).
var vertexGooglePattern = regexp.MustCompile(`^(text-embedding-|textembedding-|text-multilingual-embedding-|multimodalembedding|chirp|lyria)`)

// bedrockGeoPrefixes are the geography prefixes of Bedrock's cross-Region inference profiles.
var bedrockGeoPrefixes = []string{"us-gov.", "us.", "eu.", "apac.", "ap.", "jp.", "au.", "ca.", "global."}

// PublisherByRule returns the publisher of a model served by provider when the provider and the
// model id alone make it certain, and "" otherwise. It does not look at the catalog's models (see
// PublisherOf), so it also works for the generator that builds them.
func PublisherByRule(provider, model string) string {
	if p, ok := providerPublisher[provider]; ok {
		return p
	}
	switch provider {
	case "bedrock":
		return bedrockPublisher(model)
	case "vertex_ai":
		return vertexPublisher(model)
	case "fireworks":
		// accounts/ACCOUNT/models/NAME: a model of Fireworks' own library names its maker; one of
		// another account may be anything its owner uploaded.
		if rest, ok := strings.CutPrefix(model, "accounts/fireworks/"); ok {
			if _, name, ok := strings.Cut(rest, "/"); ok {
				return publisherByName(name)
			}
		}
		return ""
	case "databricks":
		// Databricks' pay-per-token endpoints are databricks-NAME; other endpoints are named by whoever
		// created them.
		if name, ok := strings.CutPrefix(model, "databricks-"); ok {
			return publisherByName(name)
		}
		return ""
	case "azure_openai", "azure_ai_foundry":
		return publisherByName(model)
	}
	return ""
}

// PublisherOf returns the publisher of a model served by provider: the catalog's when it lists the
// model, otherwise PublisherByRule's, otherwise (Azure deployments named after their model) that of
// the one publisher the catalog gives every model of that id; "" when none of these can tell.
func PublisherOf(provider, model string) string {
	c := get()
	if i, ok := c.modelIndex[modelKey{provider, model}]; ok {
		return c.models[i].Publisher
	}
	if p := PublisherByRule(provider, model); p != "" {
		return p
	}
	if provider == "azure_openai" || provider == "azure_ai_foundry" {
		return c.publisherByID[model]
	}
	return ""
}

func bedrockPublisher(model string) string {
	// An ARN ends in foundation-model/ID or inference-profile/ID; application inference profiles
	// have opaque ids, which the namespace lookup below leaves unknown.
	if i := strings.LastIndexByte(model, '/'); i >= 0 && strings.HasPrefix(model, "arn:") {
		model = model[i+1:]
	}
	for _, geo := range bedrockGeoPrefixes {
		if rest, ok := strings.CutPrefix(model, geo); ok {
			model = rest
			break
		}
	}
	ns, _, ok := strings.Cut(model, ".")
	if !ok {
		return ""
	}
	return namespacePublisher[ns]
}

func vertexPublisher(model string) string {
	// projects/P/locations/L/publishers/PUB/models/M, or publishers/PUB/models/M.
	if i := strings.Index(model, "publishers/"); i >= 0 && (i == 0 || model[i-1] == '/') {
		pub, _, _ := strings.Cut(model[i+len("publishers/"):], "/")
		if p, ok := namespacePublisher[pub]; ok {
			return p
		}
		return ""
	}
	if strings.HasPrefix(model, "projects/") {
		return "" // a tuned model or an endpoint: anything its owner deployed
	}
	// PUB/M: the OpenAI-compatible model-as-a-service ids.
	if ns, _, ok := strings.Cut(model, "/"); ok {
		return namespacePublisher[ns]
	}
	if vertexGooglePattern.MatchString(model) {
		return "google"
	}
	return publisherByName(model)
}

func publisherByName(name string) string {
	name = strings.ToLower(name)
	for _, r := range namePublisher {
		if r.pattern.MatchString(name) {
			return r.publisher
		}
	}
	return ""
}

// rulePublishers are the publishers the rules can give, known even when no catalog model has them.
func rulePublishers() []string {
	var out []string
	for _, p := range providerPublisher {
		out = append(out, p)
	}
	for _, p := range namespacePublisher {
		out = append(out, p)
	}
	for _, r := range namePublisher {
		out = append(out, r.publisher)
	}
	return out
}
