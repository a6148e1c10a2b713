package api

import "time"

// Federation rule kinds: who signs in with the rule.
const (
	// FederationWorkload rules let a machine (a CI job, a Terraform run) trade its OIDC token for a
	// short-lived modelkeys token at /v1/oauth/token.
	FederationWorkload = "workload"
	// FederationPeople rules let a person sign in to the console with the identity provider.
	FederationPeople = "people"
)

// OAuth 2.0 token exchange (RFC 8693) identifiers that /v1/oauth/token speaks.
const (
	GrantTypeTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	TokenTypeJWT           = "urn:ietf:params:oauth:token-type:jwt"
	TokenTypeIDToken       = "urn:ietf:params:oauth:token-type:id_token"
	TokenTypeAccessToken   = "urn:ietf:params:oauth:token-type:access_token"
)

// IdentityProvider is an OpenID issuer the organisation trusts (GitHub Actions, GitLab, HCP Terraform,
// the company's SSO). It never carries the client secret.
type IdentityProvider struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Issuer is the exact `iss` of the tokens, and where discovery starts unless JWKSJSON is set.
	Issuer string `json:"issuer"`
	// Audiences lists the `aud` values a workload token may carry (one must match).
	Audiences []string `json:"audiences"`
	// JWKSJSON holds the issuer's public keys, uploaded instead of discovered ("" means discovery).
	JWKSJSON string `json:"jwks_json,omitempty"`
	// ClientID is the console's OAuth client at the issuer; people sign in only where it is set.
	ClientID        string    `json:"client_id,omitempty"`
	HasClientSecret bool      `json:"has_client_secret"`
	Version         int64     `json:"version"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
}

// IdentityProviderCreate is the body of POST /v1/identity-providers.
type IdentityProviderCreate struct {
	Name      string   `json:"name"`
	Issuer    string   `json:"issuer"`
	Audiences []string `json:"audiences,omitempty"`
	JWKSJSON  string   `json:"jwks_json,omitempty"`
	ClientID  string   `json:"client_id,omitempty"`
	// ClientSecret is write-only: stored encrypted, never returned.
	ClientSecret *string `json:"client_secret,omitempty"`
}

// IdentityProviderPatch is the body of PATCH /v1/identity-providers/{id}; absent fields are kept.
// The issuer cannot change: trust in one issuer is not moved to another (delete and create instead).
type IdentityProviderPatch struct {
	Name      *string   `json:"name,omitempty"`
	Audiences *[]string `json:"audiences,omitempty"`
	JWKSJSON  *string   `json:"jwks_json,omitempty"`
	ClientID  *string   `json:"client_id,omitempty"`
	// ClientSecret replaces the stored secret; an empty string removes it.
	ClientSecret *string `json:"client_secret,omitempty"`
}

// FederationRule says which tokens of an identity provider are trusted, as whom, and for how long.
type FederationRule struct {
	ID                 string `json:"id"`
	Name               string `json:"name"`
	IdentityProviderID string `json:"identity_provider_id"`
	Kind               string `json:"kind"`
	// Conditions maps a claim name to a pattern (`*` matches any run of characters); all must match.
	// A claim that is a list (such as `groups`) matches when one of its items does.
	Conditions map[string]string `json:"conditions"`
	Role       string            `json:"role"`
	// ProjectID confines the tokens the rule issues to one project.
	ProjectID string `json:"project_id,omitempty"`
	// TokenTTL is how long an exchanged token lives, as a Go duration ("15m"; at most "1h").
	TokenTTL string `json:"token_ttl"`
	// Credentials lists the keyless credentials (ids, or "*" for all in scope) whose minutes-lived
	// vendor tokens the rule's tokens may fetch at /v1/credentials/{id}/access-token.
	Credentials []string  `json:"credentials"`
	Version     int64     `json:"version"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// FederationRuleCreate is the body of POST /v1/federation-rules.
type FederationRuleCreate struct {
	Name               string            `json:"name"`
	IdentityProviderID string            `json:"identity_provider_id"`
	Kind               string            `json:"kind,omitempty"` // default FederationWorkload
	Conditions         map[string]string `json:"conditions"`
	Role               string            `json:"role"`
	ProjectID          string            `json:"project_id,omitempty"`
	TokenTTL           string            `json:"token_ttl,omitempty"` // default "15m"
	Credentials        []string          `json:"credentials,omitempty"`
}

// FederationRulePatch is the body of PATCH /v1/federation-rules/{id}; absent fields are kept. Any
// change ends the tokens the rule issued before it.
type FederationRulePatch struct {
	Name        *string            `json:"name,omitempty"`
	Conditions  *map[string]string `json:"conditions,omitempty"`
	Role        *string            `json:"role,omitempty"`
	ProjectID   *string            `json:"project_id,omitempty"`
	TokenTTL    *string            `json:"token_ttl,omitempty"`
	Credentials *[]string          `json:"credentials,omitempty"`
}

// TokenExchangeResponse is the answer of /v1/oauth/token (RFC 8693 §2.2.1).
type TokenExchangeResponse struct {
	AccessToken     string `json:"access_token"`
	IssuedTokenType string `json:"issued_token_type"`
	TokenType       string `json:"token_type"`
	ExpiresIn       int64  `json:"expires_in"`
}

// OAuthError is an error of /v1/oauth/token (RFC 6749 §5.2). It never says which check failed.
type OAuthError struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description,omitempty"`
}
