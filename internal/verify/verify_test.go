package verify

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
)

const (
	goodKey = "sk-good-0123456789abcdef"
	badKey  = "sk-bad-fedcba9876543210"
	slowKey = "sk-slow-00000000000000"
)

// seen is what a fake saw of a request.
type seen struct {
	method string
	path   string
	query  url.Values
	header http.Header
}

// recorded keeps the last request a fake saw.
type recorded struct {
	mu   sync.Mutex
	last seen
}

func (r *recorded) save(req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.last = seen{req.Method, req.URL.Path, req.URL.Query(), req.Header.Clone()}
}

func (r *recorded) get() seen {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

// fake is a provider's auth check: keyOf finds the key where the provider expects it; the right key
// gets okBody, a wrong one errStatus with errBody, the slow key no answer until the client gives up.
type fake struct {
	path      string
	keyOf     func(*http.Request) string
	okBody    string
	errStatus int
	errBody   string
	rec       recorded
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.rec.save(r)
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Path != f.path || r.Method != http.MethodGet {
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":{"message":"Not found"}}`))
		return
	}
	switch f.keyOf(r) {
	case goodKey:
		_, _ = w.Write([]byte(f.okBody))
	case slowKey:
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	default:
		w.WriteHeader(f.errStatus)
		_, _ = w.Write([]byte(f.errBody))
	}
}

func bearer(r *http.Request) string {
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
}
func header(name string) func(*http.Request) string {
	return func(r *http.Request) string { return r.Header.Get(name) }
}

const openAIList = `{"object":"list","data":[{"id":"gpt-4o","object":"model","created":1715367049,"owned_by":"system"},{"id":"gpt-4o-mini","object":"model","created":1721172741,"owned_by":"system"}]}`
const openAI401 = `{"error":{"message":"Incorrect API key provided: sk-bad-fedcba9876543210. You can find your API key at https://platform.openai.com/account/api-keys.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`

type providerCase struct {
	provider  string
	settings  func(base string) map[string]string // nil: base URL from Options.BaseURLs
	fake      *fake
	wantPath  string
	wantQuery url.Values
	wantHdr   map[string]string // headers the probe must send, beyond the key
	keyHeader string            // where the key goes, with its prefix
	keyPrefix string
	models    []string
	refusal   string // expected in the refusal summary
}

func providerCases() []providerCase {
	var cases []providerCase
	for _, id := range []string{"openai", "mistral", "deepseek", "xai", "perplexity", "fireworks"} {
		cases = append(cases, providerCase{
			provider: id,
			fake:     &fake{path: "/models", keyOf: bearer, okBody: openAIList, errStatus: 401, errBody: openAI401},
			wantPath: "/models", keyHeader: "Authorization", keyPrefix: "Bearer ",
			models: []string{"gpt-4o", "gpt-4o-mini"}, refusal: "HTTP 401: Incorrect API key provided: [redacted]. You can find your API key",
		})
	}
	cases = append(cases,
		providerCase{
			provider: "litellm",
			settings: func(b string) map[string]string { return map[string]string{"base_url": b} },
			fake: &fake{path: "/models", keyOf: bearer, okBody: `{"data":[{"id":"claude-sonnet","object":"model","created":1677610602,"owned_by":"openai"}],"object":"list"}`,
				errStatus: 401, errBody: `{"error":{"message":"Authentication Error, Invalid proxy server token passed. Received API Key = sk-...3210, Key Hash (Token) =abc. Unable to find token in cache or LiteLLM_VerificationTokenTable","type":"token_not_found_in_db","param":"key","code":"401"}}`},
			wantPath: "/models", keyHeader: "Authorization", keyPrefix: "Bearer ",
			models: []string{"claude-sonnet"}, refusal: "HTTP 401: Authentication Error, Invalid proxy server token passed.",
		},
		providerCase{
			provider: "portkey",
			settings: func(b string) map[string]string {
				return map[string]string{"base_url": b, "virtual_key": "openai-prod-3b7f2a", "config": "pc-prod-a1b2c3"}
			},
			fake: &fake{path: "/models", keyOf: header("x-portkey-api-key"), okBody: `{"object":"list","data":[{"id":"@openai-prod/gpt-4o","object":"model"}]}`,
				errStatus: 401, errBody: `{"status":"failure","message":"Invalid API Key"}`},
			wantPath: "/models", keyHeader: "x-portkey-api-key",
			wantHdr: map[string]string{"x-portkey-virtual-key": "openai-prod-3b7f2a", "x-portkey-config": "pc-prod-a1b2c3"},
			models:  []string{"@openai-prod/gpt-4o"}, refusal: "HTTP 401: Invalid API Key",
		},
		providerCase{
			provider: "databricks",
			settings: func(b string) map[string]string { return map[string]string{"host": b} },
			fake: &fake{path: "/api/2.0/serving-endpoints", keyOf: bearer,
				okBody:    `{"endpoints":[{"name":"databricks-meta-llama-3-3-70b-instruct","state":{"ready":"READY"}},{"name":"databricks-claude-sonnet-4"}]}`,
				errStatus: 401, errBody: `{"error_code":"401","message":"Credential was not sent or was of an unsupported type for this API."}`},
			wantPath: "/api/2.0/serving-endpoints", keyHeader: "Authorization", keyPrefix: "Bearer ",
			models: []string{"databricks-meta-llama-3-3-70b-instruct", "databricks-claude-sonnet-4"}, refusal: "HTTP 401: Credential was not sent",
		},
		providerCase{
			provider: "anthropic",
			fake: &fake{path: "/v1/models", keyOf: header("x-api-key"),
				okBody:    `{"data":[{"type":"model","id":"claude-sonnet-4-20250514","display_name":"Claude Sonnet 4","created_at":"2025-05-22T00:00:00Z"}],"has_more":false,"first_id":"claude-sonnet-4-20250514","last_id":"claude-sonnet-4-20250514"}`,
				errStatus: 401, errBody: `{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"},"request_id":"req_011CSHoEeqs5C35K2UUqR7Fy"}`},
			wantPath: "/v1/models", wantQuery: url.Values{"limit": {"1000"}}, keyHeader: "x-api-key",
			wantHdr: map[string]string{"anthropic-version": "2023-06-01"},
			models:  []string{"claude-sonnet-4-20250514"}, refusal: "HTTP 401: invalid x-api-key",
		},
		providerCase{
			provider: "gemini",
			fake: &fake{path: "/v1beta/models", keyOf: header("x-goog-api-key"),
				okBody:    `{"models":[{"name":"models/gemini-2.5-flash","version":"001","displayName":"Gemini 2.5 Flash"},{"name":"models/text-embedding-004"}],"nextPageToken":""}`,
				errStatus: 400, errBody: `{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com","metadata":{"service":"generativelanguage.googleapis.com"}}]}}`},
			wantPath: "/v1beta/models", wantQuery: url.Values{"pageSize": {"1000"}}, keyHeader: "x-goog-api-key",
			models: []string{"gemini-2.5-flash", "text-embedding-004"}, refusal: "HTTP 400: API key not valid. Please pass a valid API key.",
		},
		providerCase{
			provider: "azure_openai",
			settings: func(b string) map[string]string {
				return map[string]string{"endpoint": b, "deployment": "gpt-4o-prod", "api_version": "2024-10-21"}
			},
			fake: &fake{path: "/openai/models", keyOf: header("api-key"),
				okBody:    `{"data":[{"status":"succeeded","capabilities":{"chat_completion":true},"lifecycle_status":"generally-available","id":"gpt-4o-2024-08-06","created_at":1723075200,"object":"model"}],"object":"list"}`,
				errStatus: 401, errBody: `{"error":{"code":"401","message":"Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource."}}`},
			wantPath: "/openai/models", wantQuery: url.Values{"api-version": {"2024-10-21"}}, keyHeader: "api-key",
			models: []string{"gpt-4o-2024-08-06"}, refusal: "HTTP 401: Access denied due to invalid subscription key",
		},
		providerCase{
			provider: "azure_ai_foundry",
			settings: func(b string) map[string]string {
				return map[string]string{"endpoint": b + "/models", "deployment": "Mistral-Large-2411"}
			},
			fake: &fake{path: "/models/info", keyOf: header("api-key"),
				okBody:    `{"model_name":"Mistral-Large-2411","model_type":"chat-completion","model_provider_name":"Mistral"}`,
				errStatus: 401, errBody: `{"error":{"code":"401","message":"Access denied due to invalid subscription key or wrong API endpoint."}}`},
			wantPath: "/models/info", wantQuery: url.Values{"api-version": {DefaultFoundryAPIVersion}}, keyHeader: "api-key",
			wantHdr: map[string]string{"azureml-model-deployment": "Mistral-Large-2411"},
			models:  []string{"Mistral-Large-2411"}, refusal: "HTTP 401: Access denied",
		},
		providerCase{
			provider: "bedrock",
			settings: func(string) map[string]string { return map[string]string{"region": "us-east-1"} },
			fake: &fake{path: "/foundation-models", keyOf: bearer,
				okBody:    `{"modelSummaries":[{"modelArn":"arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0","modelId":"anthropic.claude-3-5-haiku-20241022-v1:0","providerName":"Anthropic"}]}`,
				errStatus: 403, errBody: `{"Message":"Authentication failed: Please make sure your API Key is valid."}`},
			wantPath: "/foundation-models", keyHeader: "Authorization", keyPrefix: "Bearer ",
			models: []string{"anthropic.claude-3-5-haiku-20241022-v1:0"}, refusal: "HTTP 403: Authentication failed",
		},
		providerCase{
			provider: "openrouter",
			fake: &fake{path: "/models/user", keyOf: bearer,
				okBody:    `{"data":[{"id":"openai/gpt-4o","canonical_slug":"openai/gpt-4o","name":"OpenAI: GPT-4o","context_length":128000}]}`,
				errStatus: 401, errBody: `{"error":{"message":"No auth credentials found","code":401}}`},
			wantPath: "/models/user", keyHeader: "Authorization", keyPrefix: "Bearer ",
			models: []string{"openai/gpt-4o"}, refusal: "HTTP 401: No auth credentials found",
		},
		providerCase{
			provider: "custom",
			settings: func(b string) map[string]string { return map[string]string{"base_url": b + "/v1"} },
			fake: &fake{path: "/v1/models", keyOf: bearer, okBody: `{"object":"list","data":[{"id":"meta-llama/Llama-3.1-8B-Instruct","object":"model","owned_by":"vllm","max_model_len":131072}]}`,
				errStatus: 401, errBody: `{"error":"Unauthorized"}`},
			wantPath: "/v1/models", keyHeader: "Authorization", keyPrefix: "Bearer ",
			models: []string{"meta-llama/Llama-3.1-8B-Instruct"}, refusal: "HTTP 401: Unauthorized",
		},
	)
	return cases
}

func (c *providerCase) setup(t *testing.T, timeout time.Duration) (*Verifier, api.Provider, map[string]string) {
	t.Helper()
	ts := httptest.NewServer(c.fake)
	t.Cleanup(ts.Close)
	p, ok := catalog.Provider(c.provider)
	if !ok {
		t.Fatalf("no provider %s", c.provider)
	}
	var settings map[string]string
	opts := Options{Timeout: timeout}
	if c.settings != nil {
		settings = c.settings(ts.URL)
	}
	if c.settings == nil || c.provider == "bedrock" {
		opts.BaseURLs = map[string]string{c.provider: ts.URL}
	}
	return New(opts), p, settings
}

func TestVerifyProviders(t *testing.T) {
	covered := map[string]bool{"vertex_ai": true} // TestVerifyVertex
	for _, c := range providerCases() {
		covered[c.provider] = true
		t.Run(c.provider, func(t *testing.T) {
			t.Parallel()
			v, p, settings := c.setup(t, 300*time.Millisecond)
			ctx := context.Background()

			// Right key: accepted, and the probe followed the provider's convention exactly.
			r := v.Verify(ctx, p, settings, map[string]string{api.SecretAPIKey: goodKey})
			if !r.OK || r.Refused {
				t.Fatalf("right key: %+v", r)
			}
			rec := c.fake.rec.get()
			if rec.method != http.MethodGet || rec.path != c.wantPath {
				t.Errorf("request = %s %s, want GET %s", rec.method, rec.path, c.wantPath)
			}
			wantQuery := c.wantQuery
			if wantQuery == nil {
				wantQuery = url.Values{}
			}
			if rec.query.Encode() != wantQuery.Encode() {
				t.Errorf("query = %q, want %q", rec.query.Encode(), wantQuery.Encode())
			}
			if got := rec.header.Get(c.keyHeader); got != c.keyPrefix+goodKey {
				t.Errorf("%s = %q, want %q", c.keyHeader, got, c.keyPrefix+goodKey)
			}
			for k, want := range c.wantHdr {
				if got := rec.header.Get(k); got != want {
					t.Errorf("header %s = %q, want %q", k, got, want)
				}
			}
			// The key travels in its one header and nowhere else.
			for name, vals := range rec.header {
				if strings.EqualFold(name, c.keyHeader) {
					continue
				}
				for _, val := range vals {
					if strings.Contains(val, goodKey) {
						t.Errorf("the key also went in header %s", name)
					}
				}
			}
			for _, other := range []string{"Authorization", "x-api-key", "api-key", "x-goog-api-key", "x-portkey-api-key"} {
				if !strings.EqualFold(other, c.keyHeader) && rec.header.Get(other) != "" {
					t.Errorf("unexpected header %s", other)
				}
			}

			models, err := v.ListModels(ctx, p, settings, map[string]string{api.SecretAPIKey: goodKey})
			if err != nil || !slices.Equal(models, c.models) {
				t.Errorf("ListModels = %q, %v; want %q", models, err, c.models)
			}

			// Wrong key: refused, with the provider's message and never the key.
			r = v.Verify(ctx, p, settings, map[string]string{api.SecretAPIKey: badKey})
			if r.OK || !r.Refused {
				t.Fatalf("wrong key: %+v", r)
			}
			if !strings.Contains(r.Message, c.refusal) || strings.Contains(r.Message, badKey) || len(r.Message) > 230 {
				t.Errorf("refusal message = %q, want it to contain %q", r.Message, c.refusal)
			}
			if _, err := v.ListModels(ctx, p, settings, map[string]string{api.SecretAPIKey: badKey}); err == nil || strings.Contains(err.Error(), badKey) {
				t.Errorf("ListModels with a wrong key: %v", err)
			}

			// Slow provider: an outage, not a refusal.
			start := time.Now()
			r = v.Verify(ctx, p, settings, map[string]string{api.SecretAPIKey: slowKey})
			if r.OK || r.Refused || !strings.Contains(r.Message, "did not answer within 300ms") {
				t.Errorf("slow provider: %+v", r)
			}
			if time.Since(start) > 3*time.Second {
				t.Errorf("the timeout did not cut the probe short")
			}
		})
	}
	for _, id := range catalog.ProviderIDs() {
		if !covered[id] {
			t.Errorf("provider %s has no probe test", id)
		}
	}
}

func TestVerifyOutages(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		want   string
	}{
		{500, `{"error":{"message":"The server had an error while processing your request."}}`, "HTTP 500: The server had an error"},
		{503, `<html><body><h1>503 Service Unavailable</h1></body></html>`, "HTTP 503: Service Unavailable"},
		{429, `{"error":{"message":"Rate limit reached for requests","type":"requests","code":"rate_limit_exceeded"}}`, "HTTP 429: Rate limit reached"},
		{529, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`, "HTTP 529: Overloaded"},
		{404, `{"detail":"Not Found"}`, "HTTP 404: Not Found"},
		{302, ``, "HTTP 302: Found"},
	} {
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if tc.status == 302 {
				w.Header().Set("Location", "https://elsewhere.example/")
			}
			w.WriteHeader(tc.status)
			_, _ = w.Write([]byte(tc.body))
		}))
		v := New(Options{BaseURLs: map[string]string{"openai": ts.URL}})
		p, _ := catalog.Provider("openai")
		r := v.Verify(context.Background(), p, nil, map[string]string{api.SecretAPIKey: goodKey})
		if r.OK || r.Refused || !strings.Contains(r.Message, tc.want) {
			t.Errorf("HTTP %d: %+v, want an outage with %q", tc.status, r, tc.want)
		}
		ts.Close()
	}

	// Nobody listening.
	ts := httptest.NewServer(http.NotFoundHandler())
	ts.Close()
	v := New(Options{BaseURLs: map[string]string{"openai": ts.URL}})
	p, _ := catalog.Provider("openai")
	if r := v.Verify(context.Background(), p, nil, map[string]string{api.SecretAPIKey: goodKey}); r.OK || r.Refused || !strings.Contains(r.Message, "connect") {
		t.Errorf("connection refused: %+v", r)
	}
}

func TestVerifyRedactsEchoedKey(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(401)
		_, _ = w.Write([]byte(`{"message":"bad key ` + r.Header.Get("x-api-key") + `"}`))
	}))
	defer ts.Close()
	p, _ := catalog.Provider("anthropic")
	r := New(Options{}).Verify(context.Background(), p, map[string]string{"base_url": ts.URL}, map[string]string{api.SecretAPIKey: badKey})
	if !r.Refused || strings.Contains(r.Message, badKey) || !strings.Contains(r.Message, "bad key [redacted]") {
		t.Errorf("%+v", r)
	}
}

func TestVerifyRefusesPlainHTTPOffLoopback(t *testing.T) {
	p, _ := catalog.Provider("custom")
	r := New(Options{}).Verify(context.Background(), p, map[string]string{"base_url": "http://models.example.com/v1"}, map[string]string{api.SecretAPIKey: goodKey})
	if r.OK || r.Refused || !strings.Contains(r.Message, "https") {
		t.Errorf("%+v", r)
	}
	if _, err := ParseBaseURLs("openai=http://proxy.example.com/v1"); err == nil {
		t.Error("ParseBaseURLs accepted plain http off loopback")
	}
	if _, err := ParseBaseURLs("nosuch=https://x.example"); err == nil {
		t.Error("ParseBaseURLs accepted an unknown provider")
	}
	if _, err := ParseBaseURLs("openai"); err == nil {
		t.Error("ParseBaseURLs accepted an entry without =")
	}
	got, err := ParseBaseURLs(" openai=http://127.0.0.1:9999/v1/ , anthropic=https://proxy.example.com ")
	if err != nil || got["openai"] != "http://127.0.0.1:9999/v1" || got["anthropic"] != "https://proxy.example.com" || len(got) != 2 {
		t.Errorf("ParseBaseURLs = %v, %v", got, err)
	}
}

func TestVerifyBaseURLPrecedence(t *testing.T) {
	hit := map[string]int{}
	var mu sync.Mutex
	mk := func(name string) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			hit[name]++
			mu.Unlock()
			_, _ = w.Write([]byte(openAIList))
		}))
	}
	setting, option := mk("setting"), mk("option")
	defer setting.Close()
	defer option.Close()
	p, _ := catalog.Provider("openai")
	v := New(Options{BaseURLs: map[string]string{"openai": option.URL}})
	v.Verify(context.Background(), p, map[string]string{"base_url": setting.URL}, map[string]string{api.SecretAPIKey: goodKey})
	v.Verify(context.Background(), p, nil, map[string]string{api.SecretAPIKey: goodKey})
	if hit["setting"] != 1 || hit["option"] != 1 {
		t.Errorf("hits = %v: settings.base_url must win over the server's override", hit)
	}
}

func TestVerifyOpenAIOrgAndProject(t *testing.T) {
	c := providerCases()[0]
	v, p, _ := c.setup(t, time.Second)
	r := v.Verify(context.Background(), p, map[string]string{"organization_id": "org-AbC", "project": "proj_XyZ"}, map[string]string{api.SecretAPIKey: goodKey})
	if !r.OK {
		t.Fatalf("%+v", r)
	}
	if h := c.fake.rec.get().header; h.Get("OpenAI-Organization") != "org-AbC" || h.Get("OpenAI-Project") != "proj_XyZ" {
		t.Errorf("headers = %v", h)
	}
}

func TestVerifyCustomAuthToken(t *testing.T) {
	var got http.Header
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		_, _ = w.Write([]byte(`{"object":"list","data":null}`))
	}))
	defer ts.Close()
	p, _ := catalog.Provider("custom")
	v := New(Options{})
	settings := map[string]string{"base_url": ts.URL + "/v1"}
	for _, tc := range []struct {
		secrets        map[string]string
		authz, proxyAZ string
	}{
		{map[string]string{api.SecretAPIKey: "k1", api.SecretAuthToken: "t1"}, "Bearer k1", "Bearer t1"},
		{map[string]string{api.SecretAPIKey: "k1"}, "Bearer k1", ""},
		{map[string]string{api.SecretAuthToken: "t1"}, "Bearer t1", ""},
		{map[string]string{}, "", ""},
	} {
		r := v.Verify(context.Background(), p, settings, tc.secrets)
		if !r.OK || !strings.Contains(r.Message, "0 models") {
			t.Errorf("%v: %+v", tc.secrets, r)
		}
		if got.Get("Authorization") != tc.authz || got.Get("Proxy-Authorization") != tc.proxyAZ {
			t.Errorf("%v: Authorization %q, Proxy-Authorization %q", tc.secrets, got.Get("Authorization"), got.Get("Proxy-Authorization"))
		}
	}
}

func TestModelParsers(t *testing.T) {
	for _, tc := range []struct {
		name  string
		parse func([]byte) ([]string, error)
		body  string
		want  []string
	}{
		{"openai", openAIModels, openAIList, []string{"gpt-4o", "gpt-4o-mini"}},
		{"data null", openAIModels, `{"object":"list","data":null}`, []string{}},
		{"no data", openAIModels, `{"object":"list"}`, []string{}},
		{"bare array", openAIModels, `[{"id":"a"},{"id":"b"}]`, []string{"a", "b"}},
		{"ollama names", openAIModels, `{"models":[{"name":"llama3.2:latest","model":"llama3.2:latest"}]}`, []string{"llama3.2:latest"}},
		{"anthropic", anthropicModels, `{"data":[{"type":"model","id":"claude-opus-4-1-20250805"}],"has_more":false}`, []string{"claude-opus-4-1-20250805"}},
		{"gemini", geminiModels, `{"models":[{"name":"models/gemini-2.5-pro"},{"name":"tunedModels/x"}]}`, []string{"gemini-2.5-pro", "tunedModels/x"}},
		{"gemini empty", geminiModels, `{}`, []string{}},
		{"databricks empty", databricksModels, `{}`, []string{}},
		{"bedrock", bedrockModels, `{"modelSummaries":[{"modelId":"amazon.nova-pro-v1:0"}]}`, []string{"amazon.nova-pro-v1:0"}},
		{"foundry", foundryModels, `{"model_name":"Phi-4"}`, []string{"Phi-4"}},
	} {
		got, err := tc.parse([]byte(tc.body))
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
	if _, err := openAIModels([]byte(`<html>`)); err == nil {
		t.Error("HTML accepted as a model list")
	}
}

func TestErrorMessageShapes(t *testing.T) {
	for body, want := range map[string]string{
		`{"error":{"message":"m1"}}`: "m1",
		`{"type":"error","error":{"type":"authentication_error","message":"m2"}}`: "m2",
		`{"error":{"code":400,"message":"m3","status":"INVALID_ARGUMENT"}}`:       "m3",
		`[{"error":{"code":400,"message":"m3a","status":"INVALID_ARGUMENT"}}]`:    "m3a",
		`{"error":{"code":"DeploymentNotFound"}}`:                                 "DeploymentNotFound",
		`{"message":"m4"}`: "m4",
		`{"Message":"m5"}`: "m5",
		`{"error":"invalid_grant","error_description":"Invalid JWT Signature."}`: "invalid_grant: Invalid JWT Signature.",
		// Anything else contributes nothing: the body of an unknown service is never echoed.
		`{"error":"Unauthorized SECRET"}`:            "",
		`{"error":{"code":"has spaces in it"}}`:      "",
		`{"error":{"message":["not","a","string"]}}`: "",
		`{"detail":"m6"}`:                            "",
		`{"data":"m7"}`:                              "",
		`[{"message":"a"},{"message":"b"}]`:          "",
		"  plain\n text  ":                           "",
		"<html><title>Internal</title></html>":       "",
	} {
		if got := errorMessage([]byte(body)); got != want {
			t.Errorf("errorMessage(%s) = %q, want %q", body, got, want)
		}
	}
	long := `{"error":{"message":"` + strings.Repeat("x", 500) + `"}}`
	if s := summary(401, []byte(long), func(s string) string { return s }); len([]rune(s)) > 215 {
		t.Errorf("summary not trimmed: %d", len(s))
	}
}

// TestVerifyBedrockSigV4 checks the signed request against a fake that recomputes the signature with
// the right secret, as AWS does.
func TestVerifyBedrockSigV4(t *testing.T) {
	const akid, secret = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		authz := r.Header.Get("Authorization")
		date, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
		want := ""
		if err == nil {
			check, _ := http.NewRequest(http.MethodGet, "http://"+r.Host+r.URL.RequestURI(), nil)
			empty := sha256.Sum256(nil)
			_ = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret}, check, hex.EncodeToString(empty[:]), "bedrock", "eu-west-3", date)
			want = check.Header.Get("Authorization")
		}
		if r.URL.Path != "/foundation-models" || authz == "" || authz != want {
			w.WriteHeader(403)
			_, _ = w.Write([]byte(`{"message":"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method."}`))
			return
		}
		_, _ = w.Write([]byte(`{"modelSummaries":[{"modelId":"mistral.mistral-large-2402-v1:0"}]}`))
	}))
	defer ts.Close()
	p, _ := catalog.Provider("bedrock")
	v := New(Options{BaseURLs: map[string]string{"bedrock": ts.URL}})
	settings := map[string]string{"region": "eu-west-3", "access_key_id": akid}
	if r := v.Verify(context.Background(), p, settings, map[string]string{api.SecretAPIKey: secret}); !r.OK {
		t.Fatalf("right secret: %+v", r)
	}
	r := v.Verify(context.Background(), p, settings, map[string]string{api.SecretAPIKey: "wrong" + secret})
	if !r.Refused || !strings.Contains(r.Message, "HTTP 403: The request signature we calculated does not match") {
		t.Errorf("wrong secret: %+v", r)
	}
	if r := v.Verify(context.Background(), p, map[string]string{"region": "us-east-1.evil.example/x"}, map[string]string{api.SecretAPIKey: secret}); !r.Refused {
		t.Errorf("bad region: %+v", r)
	}
}

// serviceAccountJSON makes a key file whose token_uri is tokenURL.
func serviceAccountJSON(t *testing.T, pk *rsa.PrivateKey, tokenURL string) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(pk)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]string{
		"type": "service_account", "project_id": "my-gcp-project", "private_key_id": "kid-1",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": "modelkeys@my-gcp-project.iam.gserviceaccount.com", "client_id": "1234567890",
		"token_uri": tokenURL,
	})
	return string(b)
}

// TestVerifyVertex runs the JWT exchange against a fake token endpoint that checks the signature with
// the public key it knows, then the endpoints list with the token.
func TestVerifyVertex(t *testing.T) {
	good, _ := rsa.GenerateKey(rand.Reader, 2048)
	revoked, _ := rsa.GenerateKey(rand.Reader, 2048)
	var lastList *http.Request
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/token":
			_ = r.ParseForm()
			parts := strings.Split(r.PostForm.Get("assertion"), ".")
			ok := len(parts) == 3 && r.PostForm.Get("grant_type") == "urn:ietf:params:oauth:grant-type:jwt-bearer"
			if ok {
				sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
				sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
				ok = rsa.VerifyPKCS1v15(&good.PublicKey, 5 /* crypto.SHA256 */, sum[:], sig) == nil
				claims, _ := base64.RawURLEncoding.DecodeString(parts[1])
				ok = ok && strings.Contains(string(claims), `"scope":"https://www.googleapis.com/auth/cloud-platform"`)
			}
			if !ok {
				w.WriteHeader(400)
				_, _ = w.Write([]byte(`{"error":"invalid_grant","error_description":"Invalid JWT Signature."}`))
				return
			}
			_, _ = w.Write([]byte(`{"access_token":"ya29.fake-token","expires_in":3599,"token_type":"Bearer"}`))
		case "/v1/projects/my-gcp-project/locations/us-central1/endpoints":
			lastList = r
			if r.Header.Get("Authorization") != "Bearer ya29.fake-token" {
				w.WriteHeader(401)
				return
			}
			_, _ = w.Write([]byte(`{}`))
		default:
			w.WriteHeader(404)
		}
	}))
	defer ts.Close()
	p, _ := catalog.Provider("vertex_ai")
	v := New(Options{BaseURLs: map[string]string{"vertex_ai": ts.URL}})
	settings := map[string]string{"project_id": "my-gcp-project", "location": "us-central1"}
	ctx := context.Background()

	r := v.Verify(ctx, p, settings, map[string]string{api.SecretAPIKey: serviceAccountJSON(t, good, ts.URL+"/token")})
	if !r.OK {
		t.Fatalf("good key: %+v", r)
	}
	if lastList == nil || lastList.URL.Query().Get("pageSize") != "1" {
		t.Errorf("endpoints list not called as expected: %v", lastList)
	}
	models, err := v.ListModels(ctx, p, settings, map[string]string{api.SecretAPIKey: serviceAccountJSON(t, good, ts.URL+"/token")})
	if err != nil || !slices.Equal(models, catalogModelIDs("vertex_ai")) {
		t.Errorf("ListModels = %v, %v", models, err)
	}

	r = v.Verify(ctx, p, settings, map[string]string{api.SecretAPIKey: serviceAccountJSON(t, revoked, ts.URL+"/token")})
	if !r.Refused || !strings.Contains(r.Message, "invalid_grant: Invalid JWT Signature.") {
		t.Errorf("revoked key: %+v", r)
	}

	for key, want := range map[string]string{
		`not json`: "not the JSON key file of a service account",
		`{"type":"authorized_user","client_id":"x"}`:                        `type "authorized_user"`,
		`{"type":"service_account","client_email":"a@b"}`:                   "lacks private_key",
		`{"type":"service_account","private_key":"x","client_email":"a@b"}`: "not PEM",
	} {
		r := v.Verify(ctx, p, settings, map[string]string{api.SecretAPIKey: key})
		if !r.Refused || !strings.Contains(r.Message, want) {
			t.Errorf("%s: %+v, want %q", key, r, want)
		}
	}

	// A malformed key file's private key never reaches a message.
	sa := serviceAccountJSON(t, revoked, ts.URL+"/token")
	r = v.Verify(ctx, p, settings, map[string]string{api.SecretAPIKey: sa})
	if strings.Contains(r.Message, "PRIVATE KEY") {
		t.Errorf("message leaks the key: %q", r.Message)
	}
}

// TestVerifyVertexDefaults checks that project_id comes from the key file and location defaults to
// us-central1 when the settings omit them, and that a set value wins over either.
func TestVerifyVertexDefaults(t *testing.T) {
	pk, _ := rsa.GenerateKey(rand.Reader, 2048)
	var paths []string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/token" {
			_, _ = w.Write([]byte(`{"access_token":"ya29.fake-token","expires_in":3599,"token_type":"Bearer"}`))
			return
		}
		paths = append(paths, r.URL.Path)
		_, _ = w.Write([]byte(`{}`))
	}))
	defer ts.Close()
	p, _ := catalog.Provider("vertex_ai")
	v := New(Options{BaseURLs: map[string]string{"vertex_ai": ts.URL}})
	key := map[string]string{api.SecretAPIKey: serviceAccountJSON(t, pk, ts.URL+"/token")}
	for _, c := range []struct {
		settings map[string]string
		want     string
	}{
		{nil, "/v1/projects/my-gcp-project/locations/us-central1/endpoints"},
		{map[string]string{"location": "europe-west4"}, "/v1/projects/my-gcp-project/locations/europe-west4/endpoints"},
		{map[string]string{"project_id": "other-project"}, "/v1/projects/other-project/locations/us-central1/endpoints"},
	} {
		paths = nil
		if errs := catalog.ValidateCredential("vertex_ai", c.settings, true, false); errs != nil {
			t.Fatalf("%v: the catalog refuses it: %v", c.settings, errs)
		}
		if r := v.Verify(context.Background(), p, c.settings, key); !r.OK {
			t.Fatalf("%v: %+v", c.settings, r)
		}
		if len(paths) != 1 || paths[0] != c.want {
			t.Errorf("%v: called %v, want %s", c.settings, paths, c.want)
		}
	}

	// A key file without project_id and no setting: a refusal that says what to set.
	var sa map[string]string
	_ = json.Unmarshal([]byte(key[api.SecretAPIKey]), &sa)
	delete(sa, "project_id")
	noProject, _ := json.Marshal(sa)
	r := v.Verify(context.Background(), p, nil, map[string]string{api.SecretAPIKey: string(noProject)})
	if !r.Refused || !strings.Contains(r.Message, "set the setting project_id") {
		t.Errorf("no project anywhere: %+v", r)
	}
}

// TestVerifyBedrockAuthMethod checks that auth_method chooses the signing: api_key sends a bearer
// token even beside access_key_id's absence, sigv4 signs, and access_key_id alone still means sigv4.
func TestVerifyBedrockAuthMethod(t *testing.T) {
	var authz string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		authz = r.Header.Get("Authorization")
		_, _ = w.Write([]byte(`{"modelSummaries":[{"modelId":"amazon.nova-pro-v1:0"}]}`))
	}))
	defer ts.Close()
	p, _ := catalog.Provider("bedrock")
	v := New(Options{BaseURLs: map[string]string{"bedrock": ts.URL}})
	key := map[string]string{api.SecretAPIKey: "ABSKQmVkcm9ja0FQSUtleS1leGFtcGxl"}
	for _, c := range []struct {
		settings map[string]string
		prefix   string
	}{
		{map[string]string{"region": "us-east-1"}, "Bearer "},
		{map[string]string{"region": "us-east-1", "auth_method": "api_key"}, "Bearer "},
		{map[string]string{"region": "us-east-1", "auth_method": "sigv4", "access_key_id": "AKIAIOSFODNN7EXAMPLE"}, "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/"},
		{map[string]string{"region": "us-east-1", "access_key_id": "AKIAIOSFODNN7EXAMPLE"}, "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/"},
	} {
		authz = ""
		if r := v.Verify(context.Background(), p, c.settings, key); !r.OK || !strings.HasPrefix(authz, c.prefix) {
			t.Errorf("%v: %+v, Authorization %q, want prefix %q", c.settings, r, authz, c.prefix)
		}
	}
	if r := v.Verify(context.Background(), p, map[string]string{"region": "us-east-1", "auth_method": "sigv4"}, key); !r.Refused || !strings.Contains(r.Message, "access_key_id") {
		t.Errorf("sigv4 without access_key_id: %+v", r)
	}
}

// TestVerifyAzureEntraID runs the client credentials exchange against a fake Entra ID authority,
// then the probe with the bearer token, for both Azure providers.
func TestVerifyAzureEntraID(t *testing.T) {
	const tenant, client, secret = "72f988bf-86f1-41af-91ab-2d7cd011db47", "00001111-aaaa-2222-bbbb-3333cccc4444", "Qx8Q~fake.client.secret-0123456789abcdef"
	var tokenForm url.Values
	var probe *http.Request
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/" + tenant + "/oauth2/v2.0/token":
			_ = r.ParseForm()
			tokenForm = r.PostForm
			if r.Method != http.MethodPost || r.PostForm.Get("client_secret") != secret || r.PostForm.Get("client_id") != client {
				w.WriteHeader(401)
				_, _ = w.Write([]byte(`{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '` + client + `'.","error_codes":[7000215]}`))
				return
			}
			_, _ = w.Write([]byte(`{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.fake"}`))
		case "/openai/models", "/info":
			probe = r
			if r.Header.Get("Authorization") != "Bearer eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.fake" || r.Header.Get("api-key") != "" {
				w.WriteHeader(401)
				_, _ = w.Write([]byte(`{"error":{"code":"PermissionDenied","message":"Principal does not have access to API/Operation."}}`))
				return
			}
			if r.URL.Path == "/info" {
				_, _ = w.Write([]byte(`{"model_name":"Mistral-Large-2411","model_type":"chat-completion","model_provider_name":"MistralAI"}`))
				return
			}
			_, _ = w.Write([]byte(openAIList))
		default:
			w.WriteHeader(404)
		}
	}))
	defer ts.Close()
	v := New(Options{BaseURLs: map[string]string{EntraBaseURLKey: ts.URL}, Egress: EmbeddedEgress()})
	ctx := context.Background()
	for _, id := range []string{"azure_openai", "azure_ai_foundry"} {
		p, _ := catalog.Provider(id)
		settings := map[string]string{"endpoint": ts.URL, "deployment": "gpt-4o-prod", "api_version": "2024-10-21",
			"auth_method": "entra_id", "tenant_id": tenant, "client_id": client}
		if errs := catalog.ValidateCredential(id, settings, true, false); errs != nil {
			t.Fatalf("%s: the catalog refuses the settings: %v", id, errs)
		}
		probe, tokenForm = nil, nil
		r := v.Verify(ctx, p, settings, map[string]string{api.SecretAPIKey: secret})
		if !r.OK || probe == nil {
			t.Fatalf("%s: right secret: %+v", id, r)
		}
		if tokenForm.Get("grant_type") != "client_credentials" || tokenForm.Get("scope") != "https://cognitiveservices.azure.com/.default" {
			t.Errorf("%s: token request form %v", id, tokenForm)
		}
		r = v.Verify(ctx, p, settings, map[string]string{api.SecretAPIKey: "wrong-" + secret})
		if !r.Refused || !strings.Contains(r.Message, "token exchange: HTTP 401: invalid_client: AADSTS7000215: Invalid client secret provided.") {
			t.Errorf("%s: wrong secret: %+v", id, r)
		}
		if strings.Contains(r.Message, "wrong-"+secret) {
			t.Errorf("%s: the message shows the secret: %q", id, r.Message)
		}
		// The api_key method (the default) still sends the api-key header and no token exchange.
		tokenForm = nil
		delete(settings, "auth_method")
		delete(settings, "tenant_id")
		delete(settings, "client_id")
		r = v.Verify(ctx, p, settings, map[string]string{api.SecretAPIKey: secret})
		if !r.Refused || tokenForm != nil || probe.Header.Get("api-key") != secret {
			t.Errorf("%s: api_key method: %+v, token form %v, api-key %q", id, r, tokenForm, probe.Header.Get("api-key"))
		}
	}
	p, _ := catalog.Provider("azure_openai")
	r := v.Verify(ctx, p, map[string]string{"endpoint": ts.URL, "api_version": "2024-10-21", "auth_method": "entra_id", "tenant_id": "../x", "client_id": client},
		map[string]string{api.SecretAPIKey: secret})
	if !r.Refused || !strings.Contains(r.Message, "is not a Microsoft Entra ID tenant id") {
		t.Errorf("bad tenant: %+v", r)
	}
	if m, err := ParseBaseURLs("azure_entra=https://login.microsoftonline.us"); err != nil || m[EntraBaseURLKey] != "https://login.microsoftonline.us" {
		t.Errorf("ParseBaseURLs(azure_entra) = %v, %v", m, err)
	}
}
