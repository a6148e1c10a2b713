// Package vendortest fakes, on loopback, the token endpoints and a cheap read endpoint of the vendors
// that accept keyless credentials (OpenAI, Anthropic, OpenRouter, Azure through Microsoft Entra ID,
// Google Cloud's Security Token Service), following their documented paths and bodies. Like a real
// vendor, each fake fetches the issuer's discovery document and JWKS and checks every assertion
// cryptographically (signature, iss, aud, exp, sub) with go-oidc before it issues a token, which its
// read endpoint then accepts. Issuer is a small OpenID issuer for tests that do not run
// modelkeys-server's own. For tests only.
package vendortest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Issuer is a minimal OpenID issuer: a discovery document, a JWKS and ES256 assertions.
type Issuer struct {
	URL    string
	key    *ecdsa.PrivateKey
	kid    string
	signer jose.Signer
}

// NewIssuer starts an issuer on loopback, closed with the test.
func NewIssuer(t testing.TB) *Issuer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	iss := &Issuer{key: key, kid: randomHex(8)}
	iss.signer, err = jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader(jose.HeaderKey("kid"), iss.kid))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	iss.URL = srv.URL
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 200, map[string]any{"issuer": iss.URL, "jwks_uri": iss.URL + "/.well-known/jwks.json",
			"id_token_signing_alg_values_supported": []string{"ES256"}, "response_types_supported": []string{"id_token"},
			"subject_types_supported": []string{"public"}})
	})
	mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 200, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: iss.kid, Algorithm: "ES256", Use: "sig"}}})
	})
	return iss
}

// Mint signs an assertion for subject and audience that expires in five minutes.
func (i *Issuer) Mint(subject, audience string) (string, error) {
	now := time.Now()
	return jwt.Signed(i.signer).Claims(jwt.Claims{Issuer: i.URL, Subject: subject, Audience: jwt.Audience{audience},
		IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)),
		Expiry: jwt.NewNumericDate(now.Add(5 * time.Minute)), ID: randomHex(16)}).Serialize()
}

// Vendor is a fake of one vendor: its token endpoint and one read endpoint.
type Vendor struct {
	URL      string
	Provider string
	Issuer   string
	Audience string

	mu      sync.Mutex
	subject string
	issued  map[string]bool
	bodies  []string // token requests, to check what was sent

	Exchanges atomic.Int64 // token requests answered with a token
	Refusals  atomic.Int64 // token requests refused
	Reads     atomic.Int64 // reads accepted
}

// Vendor test values: the ids of the vendors' federation objects that the fakes expect.
const (
	OpenAIIdentityProvider  = "wip_test0123"
	OpenAIServiceAccount    = "svc_acct_test0123"
	AnthropicRule           = "fdrl_test0123"
	AnthropicOrganization   = "00000000-0000-4000-8000-000000000001"
	AnthropicServiceAccount = "svac_test0123"
	OpenRouterPolicy        = "4b2f7d1e-8c3a-4e5f-9a6b-1c2d3e4f5a6b"
	AzureTenant             = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	AzureClient             = "00001111-aaaa-2222-bbbb-3333cccc4444"
	GoogleProject           = "test-project"
	GooglePoolProvider      = "projects/123456789012/locations/global/workloadIdentityPools/modelkeys/providers/modelkeys"
	GoogleServiceAccount    = "vertex-caller@test-project.iam.gserviceaccount.com"
)

// DefaultAudience is the audience a vendor's credential uses when its settings set none (Azure,
// Vertex AI) or the one the fake's settings give it.
func DefaultAudience(provider string) string {
	switch provider {
	case "azure_openai", "azure_ai_foundry":
		return "api://AzureADTokenExchange"
	case "vertex_ai":
		return "//iam.googleapis.com/" + GooglePoolProvider
	case "openai":
		return "https://api.openai.com/v1"
	case "anthropic":
		return "https://api.anthropic.com"
	}
	return "https://openrouter.ai"
}

// NewVendor starts the fake of provider on loopback, trusting issuer and subject for audience
// DefaultAudience(provider).
func NewVendor(t testing.TB, provider, issuer, subject string) *Vendor {
	t.Helper()
	v := &Vendor{Provider: provider, Issuer: issuer, Audience: DefaultAudience(provider), subject: subject, issued: map[string]bool{}}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	v.URL = srv.URL
	switch provider {
	case "openai":
		mux.HandleFunc("POST /oauth/token", v.token(v.openAI))
		mux.HandleFunc("GET /models", v.read(`{"object":"list","data":[{"id":"gpt-4o","object":"model"}]}`))
	case "anthropic":
		mux.HandleFunc("POST /v1/oauth/token", v.token(v.anthropic))
		mux.HandleFunc("GET /v1/models", v.read(`{"data":[{"type":"model","id":"claude-sonnet-4-20250514"}],"has_more":false}`))
	case "openrouter":
		mux.HandleFunc("POST /oauth/token", v.token(v.openRouter))
		mux.HandleFunc("GET /models/user", v.read(`{"data":[{"id":"openai/gpt-4o"}]}`))
	case "azure_openai", "azure_ai_foundry":
		mux.HandleFunc("POST /"+AzureTenant+"/oauth2/v2.0/token", v.token(v.entra))
		mux.HandleFunc("GET /openai/models", v.read(`{"data":[{"id":"gpt-4o-2024-08-06","object":"model"}],"object":"list"}`))
		mux.HandleFunc("GET /models/info", v.read(`{"model_name":"Mistral-Large-2411","model_type":"chat-completion"}`))
	case "vertex_ai":
		mux.HandleFunc("POST /v1/token", v.token(v.sts))
		mux.HandleFunc("POST /v1/projects/-/serviceAccounts/"+GoogleServiceAccount+":generateAccessToken", v.impersonate)
		mux.HandleFunc("GET /v1/projects/"+GoogleProject+"/locations/us-central1/endpoints", v.read(`{"endpoints":[]}`))
	default:
		t.Fatalf("vendortest: no fake for %s", provider)
	}
	return v
}

// Trust replaces the subject the vendor's federation rule trusts.
func (v *Vendor) Trust(subject string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.subject = subject
}

// Issued reports whether the vendor issued token.
func (v *Vendor) Issued(token string) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.issued[token]
}

// TokenRequests returns the bodies of the token requests received, assertions included.
func (v *Vendor) TokenRequests() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]string{}, v.bodies...)
}

// Settings are complete keyless settings of a credential of the vendor, aimed at this fake.
func (v *Vendor) Settings() map[string]string {
	s := map[string]string{"auth_method": "workload_identity"}
	switch v.Provider {
	case "openai":
		s["identity_provider_id"], s["service_account_id"], s["audience"] = OpenAIIdentityProvider, OpenAIServiceAccount, v.Audience
		s["token_url"] = v.URL + "/oauth/token"
	case "anthropic":
		s["federation_rule_id"], s["organization_id"], s["service_account_id"] = AnthropicRule, AnthropicOrganization, AnthropicServiceAccount
		s["audience"] = v.Audience
	case "openrouter":
		s["federation_policy_id"], s["audience"] = OpenRouterPolicy, v.Audience
	case "azure_openai":
		s["endpoint"], s["deployment"], s["api_version"] = v.URL, "gpt-4o-prod", "2024-10-21"
		s["tenant_id"], s["client_id"] = AzureTenant, AzureClient
	case "azure_ai_foundry":
		s["endpoint"], s["tenant_id"], s["client_id"] = v.URL+"/models", AzureTenant, AzureClient
	case "vertex_ai":
		s["project_id"], s["workload_identity_provider"], s["service_account_email"] = GoogleProject, GooglePoolProvider, GoogleServiceAccount
		s["token_url"] = v.URL + "/v1/token"
	}
	return s
}

// BaseURLs are the server's provider base URLs that aim the vendor's defaults at this fake (and make
// it a host the operator trusts).
func (v *Vendor) BaseURLs() map[string]string {
	switch v.Provider {
	case "azure_openai", "azure_ai_foundry":
		return map[string]string{"azure_entra": v.URL}
	case "vertex_ai":
		return map[string]string{"vertex_ai": v.URL, "gcp_iamcredentials": v.URL}
	}
	return map[string]string{v.Provider: v.URL}
}

// exchangeRequest is what a vendor's token request carries; problem, when set, is an
// invalid_request of the vendor.
type exchangeRequest struct {
	assertion string
	problem   string
}

func (v *Vendor) token(parse func(*http.Request, []byte) exchangeRequest) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		v.mu.Lock()
		v.bodies = append(v.bodies, string(body))
		subject := v.subject
		v.mu.Unlock()
		req := parse(r, body)
		if req.problem != "" {
			v.Refusals.Add(1)
			writeJSON(w, 400, map[string]string{"error": "invalid_request", "error_description": req.problem})
			return
		}
		// As a vendor does: discovery, JWKS, signature, iss, aud, exp; then the rule's subject.
		ctx := r.Context()
		provider, err := oidc.NewProvider(ctx, v.Issuer)
		if err != nil {
			v.Refusals.Add(1)
			writeJSON(w, 400, map[string]string{"error": "invalid_grant", "error_description": "the issuer's discovery document could not be read: " + err.Error()})
			return
		}
		tok, err := provider.Verifier(&oidc.Config{ClientID: v.Audience, SupportedSigningAlgs: []string{"ES256", "RS256"}}).Verify(ctx, req.assertion)
		if err != nil {
			v.Refusals.Add(1)
			writeJSON(w, 400, map[string]string{"error": "invalid_grant", "error_description": "assertion rejected: " + err.Error()})
			return
		}
		if tok.Subject != subject {
			v.Refusals.Add(1)
			writeJSON(w, 400, map[string]string{"error": "invalid_grant", "error_description": "no federation rule matches the token's subject"})
			return
		}
		issued := "vendor-" + v.Provider + "-" + randomHex(16)
		v.mu.Lock()
		v.issued[issued] = true
		v.mu.Unlock()
		v.Exchanges.Add(1)
		writeJSON(w, 200, map[string]any{"access_token": issued, "token_type": "Bearer", "expires_in": 900,
			"issued_token_type": "urn:ietf:params:oauth:token-type:access_token"})
	}
}

func (v *Vendor) read(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || !v.Issued(token) || (v.Provider == "anthropic" && r.Header.Get("anthropic-beta") != "oauth-2025-04-20") {
			writeJSON(w, 401, map[string]any{"error": map[string]string{"message": "invalid token"}})
			return
		}
		v.Reads.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, body)
	}
}

func decodeJSON(r *http.Request, body []byte) (map[string]string, string) {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		return nil, "the body must be JSON"
	}
	var m map[string]string
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, "the body is not a JSON object of strings"
	}
	return m, ""
}

func decodeForm(r *http.Request, body []byte) (map[string]string, string) {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return nil, "the body must be form-encoded"
	}
	r.Body = io.NopCloser(strings.NewReader(string(body)))
	if err := r.ParseForm(); err != nil {
		return nil, "the form cannot be read"
	}
	m := map[string]string{}
	for k := range r.PostForm {
		m[k] = r.PostForm.Get(k)
	}
	return m, ""
}

// expect checks fields of a token request: problem names the first that differs.
func expect(m map[string]string, want map[string]string) string {
	for k, w := range want {
		if m[k] != w {
			return fmt.Sprintf("%s must be %q", k, w)
		}
	}
	return ""
}

func (v *Vendor) openAI(r *http.Request, body []byte) exchangeRequest {
	m, p := decodeJSON(r, body)
	if p == "" {
		p = expect(m, map[string]string{"grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
			"subject_token_type": "urn:ietf:params:oauth:token-type:jwt", "identity_provider_id": OpenAIIdentityProvider,
			"service_account_id": OpenAIServiceAccount})
	}
	return exchangeRequest{assertion: m["subject_token"], problem: p}
}

func (v *Vendor) anthropic(r *http.Request, body []byte) exchangeRequest {
	m, p := decodeJSON(r, body)
	if p == "" && r.Header.Get("anthropic-beta") != "oidc-federation-2026-04-01" {
		p = "the anthropic-beta header must be oidc-federation-2026-04-01"
	}
	if p == "" {
		p = expect(m, map[string]string{"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
			"federation_rule_id": AnthropicRule, "organization_id": AnthropicOrganization, "service_account_id": AnthropicServiceAccount})
	}
	return exchangeRequest{assertion: m["assertion"], problem: p}
}

func (v *Vendor) openRouter(r *http.Request, body []byte) exchangeRequest {
	m, p := decodeForm(r, body)
	if p == "" {
		p = expect(m, map[string]string{"grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
			"subject_token_type": "urn:ietf:params:oauth:token-type:jwt", "federation_policy_id": OpenRouterPolicy})
	}
	return exchangeRequest{assertion: m["subject_token"], problem: p}
}

func (v *Vendor) entra(r *http.Request, body []byte) exchangeRequest {
	m, p := decodeForm(r, body)
	if p == "" {
		p = expect(m, map[string]string{"grant_type": "client_credentials", "client_id": AzureClient,
			"client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
			"scope":                 "https://cognitiveservices.azure.com/.default"})
	}
	if p == "" && m["client_secret"] != "" {
		p = "a federated credential sends no client_secret"
	}
	return exchangeRequest{assertion: m["client_assertion"], problem: p}
}

func (v *Vendor) sts(r *http.Request, body []byte) exchangeRequest {
	m, p := decodeForm(r, body)
	if p == "" {
		p = expect(m, map[string]string{"grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
			"audience": "//iam.googleapis.com/" + GooglePoolProvider, "scope": "https://www.googleapis.com/auth/cloud-platform",
			"requested_token_type": "urn:ietf:params:oauth:token-type:access_token", "subject_token_type": "urn:ietf:params:oauth:token-type:jwt"})
	}
	return exchangeRequest{assertion: m["subject_token"], problem: p}
}

// impersonate is generateAccessToken: a federated token of this fake becomes the service account's.
func (v *Vendor) impersonate(w http.ResponseWriter, r *http.Request) {
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !v.Issued(token) {
		writeJSON(w, 403, map[string]any{"error": map[string]any{"code": 403, "message": "Permission 'iam.serviceAccounts.getAccessToken' denied", "status": "PERMISSION_DENIED"}})
		return
	}
	sa := "ya29.impersonated-" + randomHex(16)
	v.mu.Lock()
	v.issued[sa] = true
	delete(v.issued, token) // only the impersonated token reads
	v.mu.Unlock()
	writeJSON(w, 200, map[string]string{"accessToken": sa, "expireTime": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
