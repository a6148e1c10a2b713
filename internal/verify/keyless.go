package verify

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

// Keyless credentials (auth_method workload_identity) store no secret. To check one, or to get a
// token for a workload, the verifier asks its caller for an assertion (a JWT that modelkeys-server
// signs as an OpenID issuer, for the vendor's audience), POSTs it to the vendor's token endpoint
// (token_url, through the egress policy), reads the vendor token and its lifetime, and then makes the
// provider's usual cheap read with that token as the bearer. The exchanges, by vendor docs:
//
//   - openai: POST https://auth.openai.com/oauth/token, JSON, RFC 8693 token exchange with
//     subject_token_type jwt, identity_provider_id and service_account_id.
//   - anthropic: POST https://api.anthropic.com/v1/oauth/token, JSON, RFC 7523 jwt-bearer grant with
//     federation_rule_id, organization_id, service_account_id and workspace_id (when set), and the
//     header anthropic-beta: oidc-federation-2026-04-01. The token is then sent as a bearer with
//     anthropic-beta: oauth-2025-04-20.
//   - openrouter: POST https://openrouter.ai/api/v1/oauth/token, form, RFC 8693 with
//     federation_policy_id and scope inference.
//   - azure_openai, azure_ai_foundry: POST https://login.microsoftonline.com/{tenant_id}/oauth2/v2.0/token,
//     form, client credentials grant with client_id, client_assertion_type jwt-bearer and the
//     assertion as client_assertion, scope https://cognitiveservices.azure.com/.default. Audience
//     api://AzureADTokenExchange unless audience is set.
//   - vertex_ai: POST https://sts.googleapis.com/v1/token, form, RFC 8693 with audience
//     //iam.googleapis.com/{workload_identity_provider}, scope cloud-platform and requested_token_type
//     access_token; then, with service_account_email, POST
//     https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/{email}:generateAccessToken
//     with the federated token. Assertion audience: audience, or the STS audience.
//
// The assertion is good for a vendor token until it expires, so it goes only to the vendor's own
// token host, or to a host the operator trusts (--provider-base-url): token_url is an editor's
// setting, and an editor must not be able to send a credential's assertion to a server of theirs.
// Neither the assertion nor the vendor token is ever part of a message.

// Assert mints an assertion (a signed JWT) for the credential being checked, for audience.
type Assert = func(ctx context.Context, audience string) (string, error)

// Token endpoints and values of the vendors' exchanges.
const (
	OpenAITokenURL             = "https://auth.openai.com/oauth/token"
	AnthropicTokenPath         = "/v1/oauth/token"
	OpenRouterTokenPath        = "/oauth/token"
	GoogleSTSURL               = "https://sts.googleapis.com/v1/token"
	GoogleIAMCredentialsURL    = "https://iamcredentials.googleapis.com"
	AzureFederationAudience    = "api://AzureADTokenExchange"
	AnthropicFederationBeta    = "oidc-federation-2026-04-01"
	AnthropicOAuthBeta         = "oauth-2025-04-20"
	DefaultVendorTokenLifetime = 5 * time.Minute

	// GoogleIAMCredentialsBaseURLKey is the key of Options.BaseURLs (and of --provider-base-url)
	// that replaces GoogleIAMCredentialsURL, for a test. It names an endpoint, not a provider.
	GoogleIAMCredentialsBaseURLKey = "gcp_iamcredentials"

	grantTokenExchange   = "urn:ietf:params:oauth:grant-type:token-exchange"
	grantJWTBearer       = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	tokenTypeJWT         = "urn:ietf:params:oauth:token-type:jwt"
	tokenTypeAccessToken = "urn:ietf:params:oauth:token-type:access_token"
	clientAssertionJWT   = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
)

// vendorTokenHosts are the hosts each vendor documents for its token endpoint.
var vendorTokenHosts = map[string][]string{
	"openai":           {"auth.openai.com"},
	"anthropic":        {"api.anthropic.com"},
	"openrouter":       {"openrouter.ai"},
	"azure_openai":     {"login.microsoftonline.com"},
	"azure_ai_foundry": {"login.microsoftonline.com"},
	"vertex_ai":        {"sts.googleapis.com"},
}

// exchange is one vendor's prepared token exchange.
type exchange struct {
	tokenURL string
	audience string // the assertion's aud
	// trust names the vendor's object that must trust the issuer and subject, for refusals.
	trust string
	// request builds the token request around the assertion.
	request func(ctx context.Context, assertion string) (*http.Request, error)
}

// ExchangeKeyless makes a fresh exchange for a keyless credential and returns the vendor token. The
// result says why there is none: Refused (the vendor does not trust the assertion, or the settings
// are wrong), Blocked (egress), or an outage.
func (v *Verifier) ExchangeKeyless(ctx context.Context, p api.Provider, settings map[string]string, assert Assert) (api.CredentialAccessToken, api.VerifyResult) {
	ctx, cancel := context.WithTimeout(ctx, v.timeout)
	defer cancel()
	tok, red, err := v.exchangeKeyless(ctx, p, settings, assert)
	if err != nil {
		return api.CredentialAccessToken{}, resultOf(err, red)
	}
	return tok, api.VerifyResult{OK: true, Message: "The vendor exchanged the assertion for a token."}
}

// VerifyKeyless checks a keyless credential: a fresh exchange (it checks the vendor's trust, never a
// cached token), then the provider's cheap authenticated read with the vendor token.
func (v *Verifier) VerifyKeyless(ctx context.Context, p api.Provider, settings map[string]string, assert Assert) api.VerifyResult {
	ctx, cancel := context.WithTimeout(ctx, v.timeout)
	defer cancel()
	tok, red, err := v.exchangeKeyless(ctx, p, settings, assert)
	if err != nil {
		return resultOf(err, red)
	}
	red = redactorWith(red, tok.AccessToken)
	pr, err := v.keylessProbe(ctx, p, settings, tok.AccessToken)
	if err != nil {
		return resultOf(err, red)
	}
	status, body, err := v.do(ctx, pr.req)
	if err != nil {
		if e, ok := asEgress(err); ok {
			return api.VerifyResult{Blocked: true, Message: e.Error()}
		}
		return api.VerifyResult{Message: red(v.transportError(err))}
	}
	switch {
	case status >= 200 && status < 300:
		msg := "The vendor exchanged the assertion for a token, and accepted it."
		if pr.models != nil {
			if ids, err := pr.models(body); err == nil {
				msg = fmt.Sprintf("The vendor exchanged the assertion for a token, and accepted it (%d models listed).", len(ids))
			}
		}
		return api.VerifyResult{OK: true, Message: msg}
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return api.VerifyResult{Refused: true, Message: "the exchange succeeded, but the vendor refused its token: " + summary(status, body, red) +
			" (check the permissions of the service account or policy the federation maps to)"}
	}
	return api.VerifyResult{Message: "after the exchange: " + summary(status, body, red)}
}

// ListModelsKeyless is ListModels for a keyless credential: an exchange, then the provider's list.
func (v *Verifier) ListModelsKeyless(ctx context.Context, p api.Provider, settings map[string]string, assert Assert) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, v.timeout)
	defer cancel()
	tok, red, err := v.exchangeKeyless(ctx, p, settings, assert)
	if err != nil {
		return nil, &failure{blocked: isBlocked(err), msg: red(err.Error())}
	}
	red = redactorWith(red, tok.AccessToken)
	pr, err := v.keylessProbe(ctx, p, settings, tok.AccessToken)
	if err != nil {
		return nil, &failure{blocked: isBlocked(err), msg: red(err.Error())}
	}
	if pr.req == nil || pr.models == nil {
		return pr.staticModels, nil
	}
	status, body, err := v.do(ctx, pr.req)
	if err != nil {
		if e, ok := asEgress(err); ok {
			return nil, &failure{blocked: true, msg: e.Error()}
		}
		return nil, fmt.Errorf("%s", red(v.transportError(err)))
	}
	if status < 200 || status >= 300 {
		return nil, fmt.Errorf("%s", summary(status, body, red))
	}
	ids, err := pr.models(body)
	if err == nil {
		err = checkModelIDs(ids)
	}
	if err != nil {
		return nil, fmt.Errorf("HTTP %d, but the answer is not %s's list of models (%w)", status, p.DisplayName, err)
	}
	return ids, nil
}

func isBlocked(err error) bool {
	f, ok := err.(*failure)
	return ok && f.blocked
}

// exchangeKeyless mints an assertion and exchanges it; red redacts the assertion (and, once known,
// the vendor token) from anything the caller words.
func (v *Verifier) exchangeKeyless(ctx context.Context, p api.Provider, settings map[string]string, assert Assert) (api.CredentialAccessToken, func(string) string, error) {
	red := newRedactor(nil)
	ex, err := v.prepareExchange(p, settings)
	if err != nil {
		return api.CredentialAccessToken{}, red, err
	}
	if assert == nil {
		return api.CredentialAccessToken{}, red, outage("this server cannot sign assertions, so keyless credentials cannot be checked")
	}
	assertion, err := assert(ctx, ex.audience)
	if err != nil {
		// The issuer's own refusal (no --issuer-url, no signing key yet) is the operator's to fix.
		return api.CredentialAccessToken{}, red, outage("modelkeys-server could not sign an assertion: %v", err)
	}
	red = newRedactor(map[string]string{"assertion": assertion})
	req, err := ex.request(ctx, assertion)
	if err != nil {
		return api.CredentialAccessToken{}, red, err
	}
	tok, err := v.postExchange(ctx, req, ex, assertion, red)
	if err != nil {
		return api.CredentialAccessToken{}, red, err
	}
	red = redactorWith(red, tok.AccessToken)
	if p.ID == "vertex_ai" {
		if email := strings.TrimSpace(settings["service_account_email"]); email != "" {
			tok, err = v.impersonate(ctx, email, tok.AccessToken, red)
			if err != nil {
				return api.CredentialAccessToken{}, red, err
			}
			red = redactorWith(red, tok.AccessToken)
		}
	}
	return tok, red, nil
}

func redactorWith(red func(string) string, secret string) func(string) string {
	more := newRedactor(map[string]string{"token": secret})
	return func(s string) string { return more(red(s)) }
}

// prepareExchange resolves a vendor's token endpoint, the assertion's audience and the request.
func (v *Verifier) prepareExchange(p api.Provider, settings map[string]string) (*exchange, error) {
	set := func(name string) string { return strings.TrimSpace(settings[name]) }
	need := func(names ...string) error {
		for _, n := range names {
			if set(n) == "" {
				return refused("auth_method workload_identity needs the setting %s", n)
			}
		}
		return nil
	}
	switch p.ID {
	case "openai":
		if err := need("identity_provider_id", "service_account_id", "audience"); err != nil {
			return nil, err
		}
		// OpenAI's token endpoint is on its own host, not under the API's base URL (as Anthropic's
		// and OpenRouter's are, whose SDKs append the path to the base URL).
		tokenURL, err := v.tokenURL(p, settings, OpenAITokenURL)
		if err != nil {
			return nil, err
		}
		return &exchange{tokenURL: tokenURL, audience: set("audience"),
			trust: fmt.Sprintf("the OpenAI workload identity provider %s and its service account mapping for %s", set("identity_provider_id"), set("service_account_id")),
			request: func(ctx context.Context, assertion string) (*http.Request, error) {
				return jsonPost(ctx, tokenURL, map[string]string{
					"grant_type": grantTokenExchange, "subject_token_type": tokenTypeJWT, "subject_token": assertion,
					"identity_provider_id": set("identity_provider_id"), "service_account_id": set("service_account_id"),
				})
			}}, nil

	case "anthropic":
		if err := need("federation_rule_id", "organization_id", "service_account_id", "audience"); err != nil {
			return nil, err
		}
		tokenURL, err := v.tokenURL(p, settings, v.overridden(p.ID, AnthropicTokenPath, p.DefaultBaseURL+AnthropicTokenPath))
		if err != nil {
			return nil, err
		}
		return &exchange{tokenURL: tokenURL, audience: set("audience"),
			trust: "the Anthropic federation rule " + set("federation_rule_id"),
			request: func(ctx context.Context, assertion string) (*http.Request, error) {
				body := map[string]string{
					"grant_type": grantJWTBearer, "assertion": assertion, "federation_rule_id": set("federation_rule_id"),
					"organization_id": set("organization_id"), "service_account_id": set("service_account_id"),
				}
				if ws := set("workspace_id"); ws != "" {
					body["workspace_id"] = ws
				}
				req, err := jsonPost(ctx, tokenURL, body)
				if err == nil {
					req.Header.Set("anthropic-beta", AnthropicFederationBeta)
					req.Header.Set("anthropic-version", AnthropicVersion)
				}
				return req, err
			}}, nil

	case "openrouter":
		if err := need("federation_policy_id", "audience"); err != nil {
			return nil, err
		}
		tokenURL, err := v.tokenURL(p, settings, v.overridden(p.ID, OpenRouterTokenPath, p.DefaultBaseURL+OpenRouterTokenPath))
		if err != nil {
			return nil, err
		}
		return &exchange{tokenURL: tokenURL, audience: set("audience"),
			trust: "the OpenRouter federation policy " + set("federation_policy_id"),
			request: func(ctx context.Context, assertion string) (*http.Request, error) {
				return formPost(ctx, tokenURL, url.Values{
					"grant_type": {grantTokenExchange}, "subject_token": {assertion}, "subject_token_type": {tokenTypeJWT},
					"federation_policy_id": {set("federation_policy_id")}, "scope": {"inference"},
				})
			}}, nil

	case "azure_openai", "azure_ai_foundry":
		if err := need("tenant_id", "client_id"); err != nil {
			return nil, err
		}
		tenant := set("tenant_id")
		if !entraTenant.MatchString(tenant) {
			return nil, refused("tenant_id %q is not a Microsoft Entra ID tenant id (a GUID, or a domain such as contoso.onmicrosoft.com)", tenant)
		}
		authority := v.baseURLs[EntraBaseURLKey]
		if authority == "" {
			authority = EntraAuthority
		}
		tokenURL, err := v.tokenURL(p, settings, strings.TrimRight(authority, "/")+"/"+url.PathEscape(tenant)+"/oauth2/v2.0/token")
		if err != nil {
			return nil, err
		}
		aud := set("audience")
		if aud == "" {
			aud = AzureFederationAudience
		}
		return &exchange{tokenURL: tokenURL, audience: aud,
			trust: fmt.Sprintf("a federated identity credential of the app %s in tenant %s", set("client_id"), tenant),
			request: func(ctx context.Context, assertion string) (*http.Request, error) {
				return formPost(ctx, tokenURL, url.Values{
					"grant_type": {"client_credentials"}, "client_id": {set("client_id")}, "scope": {cognitiveServicesScope},
					"client_assertion_type": {clientAssertionJWT}, "client_assertion": {assertion},
				})
			}}, nil

	case "vertex_ai":
		if err := need("workload_identity_provider", "project_id"); err != nil {
			return nil, err
		}
		provider := strings.TrimPrefix(strings.TrimPrefix(set("workload_identity_provider"), "//iam.googleapis.com/"), "/")
		stsAudience := "//iam.googleapis.com/" + provider
		tokenURL, err := v.tokenURL(p, settings, GoogleSTSURL)
		if err != nil {
			return nil, err
		}
		aud := set("audience")
		if aud == "" {
			aud = stsAudience
		}
		return &exchange{tokenURL: tokenURL, audience: aud,
			trust: "the workload identity pool provider " + provider,
			request: func(ctx context.Context, assertion string) (*http.Request, error) {
				return formPost(ctx, tokenURL, url.Values{
					"grant_type": {grantTokenExchange}, "audience": {stsAudience}, "scope": {cloudPlatformScope},
					"requested_token_type": {tokenTypeAccessToken}, "subject_token": {assertion}, "subject_token_type": {tokenTypeJWT},
				})
			}}, nil
	}
	return nil, outage("modelkeys has no workload identity exchange for provider %q", p.ID)
}

// overridden is the default token URL: the operator's base URL for the provider plus path when there
// is one (a proxy or a test), else the vendor's documented URL.
func (v *Verifier) overridden(id, path, documented string) string {
	if b := v.baseURLs[id]; b != "" {
		return b + path
	}
	return documented
}

// tokenURL is the token_url setting or def, checked: a URL that may receive a credential (https, or
// http on loopback) on the vendor's own token host or on a host the operator trusts.
func (v *Verifier) tokenURL(p api.Provider, settings map[string]string, def string) (string, error) {
	raw := strings.TrimSpace(settings["token_url"])
	if raw == "" {
		raw = def
	}
	if err := checkURL(raw); err != nil {
		return "", refused("token_url: %v", err)
	}
	u, _ := url.Parse(raw)
	host := strings.ToLower(u.Hostname())
	for _, h := range vendorTokenHosts[p.ID] {
		if host == h && u.Scheme == "https" {
			return raw, nil
		}
	}
	if v.egress.trusted[hostPort(raw)] {
		return raw, nil
	}
	return "", refused("token_url %q: modelkeys sends a credential's assertions only to %s's own token host (%s) or to a host the server's operator trusts (--provider-base-url), since whoever receives one can exchange it for a vendor token",
		redactURL(raw), p.DisplayName, strings.Join(vendorTokenHosts[p.ID], ", "))
}

func jsonPost(ctx context.Context, rawURL string, body map[string]string) (*http.Request, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, outage("cannot build the token request: %v", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(b))
	if err != nil {
		return nil, outage("cannot build the token request: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	return req, nil
}

func formPost(ctx context.Context, rawURL string, form url.Values) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, outage("cannot build the token request: %v", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req, nil
}

// postExchange sends the token request and reads the vendor token and its lifetime. A refusal (401,
// 403, or 400 with an OAuth error code) is summarised with what to check at the vendor.
func (v *Verifier) postExchange(ctx context.Context, req *http.Request, ex *exchange, assertion string, red func(string) string) (api.CredentialAccessToken, error) {
	status, body, err := v.do(ctx, req)
	if err != nil {
		if e, ok := asEgress(err); ok {
			return api.CredentialAccessToken{}, &failure{blocked: true, msg: "token exchange: " + e.Error()}
		}
		return api.CredentialAccessToken{}, outage("token exchange: %s", v.transportError(err))
	}
	if status < 200 || status >= 300 {
		code := oauthError(body)
		if status == http.StatusUnauthorized || status == http.StatusForbidden || (status == http.StatusBadRequest && code != "") {
			return api.CredentialAccessToken{}, refused("%s", refusalMessage(status, code, body, ex, assertion, red))
		}
		return api.CredentialAccessToken{}, outage("token exchange: %s", summary(status, body, red))
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   any    `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		return api.CredentialAccessToken{}, outage("token exchange: the answer has no access_token")
	}
	return api.CredentialAccessToken{AccessToken: tok.AccessToken, TokenType: "Bearer", ExpiresAt: v.now().Add(lifetime(tok.ExpiresIn)).UTC()}, nil
}

// lifetime reads expires_in (a number, or a string of one, as some servers send); without one, the
// token is taken to last DefaultVendorTokenLifetime, the shortest a vendor documents being longer.
func lifetime(v any) time.Duration {
	var secs float64
	switch x := v.(type) {
	case float64:
		secs = x
	case string:
		_, _ = fmt.Sscan(x, &secs)
	}
	if secs <= 0 {
		return DefaultVendorTokenLifetime
	}
	return time.Duration(secs * float64(time.Second))
}

// refusalMessage words a refused exchange: the OAuth error, what it means, what to check at the
// vendor (with the issuer, subject and audience the assertion carried, which are not secret), and
// the vendor's own description, trimmed and redacted.
func refusalMessage(status int, code string, body []byte, ex *exchange, assertion string, red func(string) string) string {
	iss, sub := assertionClaims(assertion)
	what := fmt.Sprintf("the vendor does not trust this issuer/subject: check that %s trusts the issuer %s, the subject %s and the audience %s",
		ex.trust, iss, sub, ex.audience)
	switch code {
	case "invalid_request", "invalid_scope", "invalid_target", "unsupported_grant_type":
		what = "the vendor refused the request: check the credential's settings against " + ex.trust
	case "invalid_client":
		what = "the vendor does not know the client or does not trust this issuer/subject: check that " + ex.trust + fmt.Sprintf(" exists and trusts the issuer %s, the subject %s and the audience %s", iss, sub, ex.audience)
	}
	if code == "" {
		code = fmt.Sprintf("HTTP %d", status)
	}
	msg := code + ": " + what
	if d := vendorDescription(body, code, red); d != "" {
		msg += " (the vendor said: " + d + ")"
	}
	return msg
}

// vendorDescription is the vendor's error text without its code, trimmed and redacted; "" for a
// body of no documented error shape.
func vendorDescription(body []byte, code string, red func(string) string) string {
	m := errorMessage(body)
	m = strings.TrimPrefix(m, code+": ")
	if m == code {
		return ""
	}
	return trim(redactTokens(red(m)), maxSummary)
}

// maxClaim bounds an issuer or subject quoted in a message.
const maxClaim = 160

// assertionClaims reads iss and sub from an assertion's payload, for messages. They are not secret
// (the vendor's federation rule names them); the signature is not checked, nothing else is read.
func assertionClaims(jwt string) (iss, sub string) {
	iss, sub = "(unknown)", "(unknown)"
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return iss, sub
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return iss, sub
	}
	var c struct {
		Iss string `json:"iss"`
		Sub string `json:"sub"`
	}
	if json.Unmarshal(raw, &c) != nil {
		return iss, sub
	}
	if c.Iss != "" {
		iss = trim(c.Iss, maxClaim)
	}
	if c.Sub != "" {
		sub = trim(c.Sub, maxClaim)
	}
	return iss, sub
}

// impersonate trades a federated Google token for one of the service account email
// (generateAccessToken), which the pool's principal must be allowed to impersonate.
func (v *Verifier) impersonate(ctx context.Context, email, federated string, red func(string) string) (api.CredentialAccessToken, error) {
	base := v.baseURLs[GoogleIAMCredentialsBaseURLKey]
	if base == "" {
		base = GoogleIAMCredentialsURL
	}
	if err := checkURL(base); err != nil {
		return api.CredentialAccessToken{}, outage("cannot impersonate: %v", err)
	}
	rawURL := strings.TrimRight(base, "/") + "/v1/projects/-/serviceAccounts/" + url.PathEscape(email) + ":generateAccessToken"
	b, _ := json.Marshal(map[string]any{"scope": []string{cloudPlatformScope}})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(b))
	if err != nil {
		return api.CredentialAccessToken{}, outage("cannot build the impersonation request: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+federated)
	status, body, err := v.do(ctx, req)
	if err != nil {
		if e, ok := asEgress(err); ok {
			return api.CredentialAccessToken{}, &failure{blocked: true, msg: "impersonation: " + e.Error()}
		}
		return api.CredentialAccessToken{}, outage("impersonation: %s", v.transportError(err))
	}
	if status == http.StatusUnauthorized || status == http.StatusForbidden {
		return api.CredentialAccessToken{}, refused("impersonation of %s: %s (the pool's principal needs roles/iam.workloadIdentityUser on it)", email, summary(status, body, red))
	}
	if status < 200 || status >= 300 {
		return api.CredentialAccessToken{}, outage("impersonation of %s: %s", email, summary(status, body, red))
	}
	var tok struct {
		AccessToken string    `json:"accessToken"`
		ExpireTime  time.Time `json:"expireTime"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		return api.CredentialAccessToken{}, outage("impersonation: the answer has no accessToken")
	}
	if tok.ExpireTime.IsZero() {
		tok.ExpireTime = v.now().Add(DefaultVendorTokenLifetime)
	}
	return api.CredentialAccessToken{AccessToken: tok.AccessToken, TokenType: "Bearer", ExpiresAt: tok.ExpireTime.UTC()}, nil
}

// keylessProbe is the provider's cheap authenticated read, with the vendor token as the bearer.
func (v *Verifier) keylessProbe(ctx context.Context, p api.Provider, settings map[string]string, token string) (*probe, error) {
	switch p.ID {
	case "vertex_ai":
		project, location := strings.TrimSpace(settings["project_id"]), strings.TrimSpace(settings["location"])
		if location == "" {
			location = DefaultVertexLocation
		}
		if !gcpLocation.MatchString(location) || !gcpLocation.MatchString(project) {
			return nil, refused("project_id %q and location %q must be a Google Cloud project id and location such as us-central1", project, location)
		}
		return v.vertexProbe(ctx, p, settings, project, location, token)
	case "openai", "openrouter", "anthropic", "azure_openai", "azure_ai_foundry":
	default:
		return nil, outage("modelkeys has no workload identity probe for provider %q", p.ID)
	}
	// The probes of keys put the key in the provider's header; a vendor token is a bearer instead.
	keySettings := map[string]string{}
	for k, val := range settings {
		if k != "auth_method" && k != "tenant_id" && k != "client_id" {
			keySettings[k] = val
		}
	}
	pr, err := v.prepare(ctx, p, keySettings, map[string]string{api.SecretAPIKey: token})
	if err != nil {
		return nil, err
	}
	if err := v.checkVendorAPIHost(p, pr.req.URL); err != nil {
		return nil, err
	}
	for _, h := range []string{"x-api-key", "api-key"} {
		pr.req.Header.Del(h)
	}
	pr.req.Header.Set("Authorization", "Bearer "+token)
	if p.ID == "anthropic" {
		pr.req.Header.Set("anthropic-beta", AnthropicOAuthBeta)
	}
	return pr, nil
}

// azureAPIHostSuffixes are the hosts of Azure OpenAI and AI Foundry resources' endpoints.
var azureAPIHostSuffixes = []string{".openai.azure.com", ".cognitiveservices.azure.com", ".services.ai.azure.com"}

// checkVendorAPIHost keeps a vendor token on the vendor: the read that checks a keyless credential
// sends the token as a bearer, so it goes only to the provider's own API host (Azure: a resource's
// endpoint host), over https, or to a host the operator trusts. A keyless credential holds no secret
// for an editor to resend when moving base_url or endpoint, so without this an editor could point
// them at a host of their own and be handed a live vendor token at the next verification.
func (v *Verifier) checkVendorAPIHost(p api.Provider, u *url.URL) error {
	if v.egress.trusted[hostPort(u.String())] {
		return nil
	}
	host := strings.ToLower(u.Hostname())
	if u.Scheme == "https" {
		if d, err := url.Parse(p.DefaultBaseURL); err == nil && p.DefaultBaseURL != "" && host == strings.ToLower(d.Hostname()) {
			return nil
		}
		if p.ID == "azure_openai" || p.ID == "azure_ai_foundry" {
			for _, suffix := range azureAPIHostSuffixes {
				if strings.HasSuffix(host, suffix) {
					return nil
				}
			}
		}
	}
	return refused("%s: a keyless credential's vendor token goes only to %s's own API host (or a host the server's operator trusts with --provider-base-url), since whoever receives it can use it",
		redactURL(u.String()), p.DisplayName)
}
