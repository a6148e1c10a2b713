package verify

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
)

// base resolves a provider's base URL: the credential's own setting, then the server's override,
// then the catalog default, and checks it may receive a key.
func (v *Verifier) base(p api.Provider, settings map[string]string, setting, fallback string) (string, error) {
	raw := strings.TrimSpace(settings[setting])
	if raw == "" {
		raw = v.baseURLs[p.ID]
	}
	if raw == "" {
		raw = fallback
	}
	if raw == "" {
		return "", outage("%s credentials need the setting %s to be checked", p.ID, setting)
	}
	if err := checkURL(raw); err != nil {
		return "", outage("cannot check the key: %v", err)
	}
	return strings.TrimRight(raw, "/"), nil
}

func get(ctx context.Context, rawURL string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, outage("cannot build the request: %v", err)
	}
	return req, nil
}

// prepare builds the provider's probe.
func (v *Verifier) prepare(ctx context.Context, p api.Provider, settings, secrets map[string]string) (*probe, error) {
	key := secrets[api.SecretAPIKey]
	switch p.ID {
	case "openai", "mistral", "deepseek", "xai", "perplexity", "fireworks", "litellm":
		if key == "" {
			return nil, refused("no api_key to check")
		}
		base, err := v.base(p, settings, "base_url", p.DefaultBaseURL)
		if err != nil {
			return nil, err
		}
		req, err := get(ctx, base+"/models")
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+key)
		if p.ID == "openai" {
			if org := settings["organization_id"]; org != "" {
				req.Header.Set("OpenAI-Organization", org)
			}
			if proj := settings["project"]; proj != "" {
				req.Header.Set("OpenAI-Project", proj)
			}
		}
		return &probe{req: req, models: openAIModels}, nil

	case "openrouter":
		if key == "" {
			return nil, refused("no api_key to check")
		}
		return v.openRouterProbe(ctx, p, settings, key)

	case "custom":
		base, err := v.base(p, settings, "base_url", "")
		if err != nil {
			return nil, err
		}
		req, err := get(ctx, base+"/models")
		if err != nil {
			return nil, err
		}
		token := secrets[api.SecretAuthToken]
		switch {
		case key != "" && token != "":
			req.Header.Set("Authorization", "Bearer "+key)
			req.Header.Set("Proxy-Authorization", "Bearer "+token)
		case key != "":
			req.Header.Set("Authorization", "Bearer "+key)
		case token != "":
			req.Header.Set("Authorization", "Bearer "+token)
		}
		return &probe{req: req, models: openAIModels}, nil

	case "portkey":
		if key == "" {
			return nil, refused("no api_key to check")
		}
		base, err := v.base(p, settings, "base_url", p.DefaultBaseURL)
		if err != nil {
			return nil, err
		}
		req, err := get(ctx, base+"/models")
		if err != nil {
			return nil, err
		}
		req.Header.Set("x-portkey-api-key", key)
		if vk := settings["virtual_key"]; vk != "" {
			req.Header.Set("x-portkey-virtual-key", vk)
		}
		if cfg := settings["config"]; cfg != "" {
			req.Header.Set("x-portkey-config", cfg)
		}
		return &probe{req: req, models: openAIModels}, nil

	case "databricks":
		base, err := v.base(p, settings, "host", "")
		if err != nil {
			return nil, err
		}
		req, err := get(ctx, base+"/api/2.0/serving-endpoints")
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+key)
		return &probe{req: req, models: databricksModels}, nil

	case "anthropic":
		base, err := v.base(p, settings, "base_url", p.DefaultBaseURL)
		if err != nil {
			return nil, err
		}
		req, err := get(ctx, base+"/v1/models?limit=1000")
		if err != nil {
			return nil, err
		}
		req.Header.Set("x-api-key", key)
		req.Header.Set("anthropic-version", AnthropicVersion)
		return &probe{req: req, models: anthropicModels}, nil

	case "gemini":
		base, err := v.base(p, settings, "base_url", p.DefaultBaseURL)
		if err != nil {
			return nil, err
		}
		req, err := get(ctx, base+"/v1beta/models?pageSize=1000")
		if err != nil {
			return nil, err
		}
		req.Header.Set("x-goog-api-key", key)
		return &probe{req: req, models: geminiModels, refusedOn: geminiKeyInvalid}, nil

	case "azure_openai":
		base, err := v.base(p, settings, "endpoint", "")
		if err != nil {
			return nil, err
		}
		q := url.Values{"api-version": {settings["api_version"]}}
		req, err := get(ctx, base+"/openai/models?"+q.Encode())
		if err != nil {
			return nil, err
		}
		if err := v.azureAuthorize(ctx, p, settings, key, req); err != nil {
			return nil, err
		}
		return &probe{req: req, models: openAIModels}, nil

	case "azure_ai_foundry":
		base, err := v.base(p, settings, "endpoint", "")
		if err != nil {
			return nil, err
		}
		ver := settings["api_version"]
		if ver == "" {
			ver = DefaultFoundryAPIVersion
		}
		req, err := get(ctx, base+"/info?"+url.Values{"api-version": {ver}}.Encode())
		if err != nil {
			return nil, err
		}
		if err := v.azureAuthorize(ctx, p, settings, key, req); err != nil {
			return nil, err
		}
		if d := settings["deployment"]; d != "" {
			req.Header.Set("azureml-model-deployment", d)
		}
		return &probe{req: req, models: foundryModels}, nil

	case "bedrock":
		return v.bedrock(ctx, p, settings, key)

	case "vertex_ai":
		return v.vertex(ctx, p, settings, key)
	}
	return nil, outage("modelkeys has no probe for provider %q", p.ID)
}

// geminiKeyInvalid recognises Gemini's answer to a bad key: 400 INVALID_ARGUMENT with the reason
// API_KEY_INVALID ("API key not valid. Please pass a valid API key.").
func geminiKeyInvalid(status int, body []byte) bool {
	if status != http.StatusBadRequest {
		return false
	}
	return bytes.Contains(body, []byte("API_KEY_INVALID")) || bytes.Contains(body, []byte("API key not valid"))
}

// catalogModelIDs lists the catalog's models of a provider.
func catalogModelIDs(provider string) []string {
	out := []string{}
	for _, m := range catalog.ModelsFor(provider) {
		out = append(out, m.ID)
	}
	return out
}

// openRouterProbe lists the models the key may use: GET {base}/models/user, OpenRouter's list
// filtered by the key's provider preferences and guardrails. Unlike GET {base}/models, which answers
// anyone, it needs the key, so it proves it.
func (v *Verifier) openRouterProbe(ctx context.Context, p api.Provider, settings map[string]string, token string) (*probe, error) {
	base, err := v.base(p, settings, "base_url", p.DefaultBaseURL)
	if err != nil {
		return nil, err
	}
	req, err := get(ctx, base+"/models/user")
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	return &probe{req: req, models: openAIModels}, nil
}
