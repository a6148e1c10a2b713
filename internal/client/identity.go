package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

// IdentityProviderListOptions selects a page of GET /v1/identity-providers.
type IdentityProviderListOptions struct {
	// Name keeps the identity provider of that name.
	Name      string
	PageToken string
	Limit     int
}

// FederationRuleListOptions narrows GET /v1/federation-rules and selects a page. Empty fields are not sent.
type FederationRuleListOptions struct {
	IdentityProviderID string
	// Kind keeps the rules of one kind, api.FederationWorkload or api.FederationPeople.
	Kind string
	// Name keeps the rule of that name.
	Name      string
	PageToken string
	Limit     int
}

// ---- identity providers ----

// CreateIdentityProvider registers an OpenID issuer the organisation trusts (POST
// /v1/identity-providers, admin tokens only). in.ClientSecret is masked in errors.
func (c *Client) CreateIdentityProvider(ctx context.Context, in api.IdentityProviderCreate) (*api.IdentityProvider, error) {
	return send[api.IdentityProvider](ctx, c, request{
		method:  http.MethodPost,
		path:    "/v1/identity-providers",
		body:    in,
		secrets: []string{strp(in.ClientSecret)},
	})
}

// GetIdentityProvider reads one identity provider (GET /v1/identity-providers/{id}). It never carries
// the client secret, only whether one is set.
func (c *Client) GetIdentityProvider(ctx context.Context, id string) (*api.IdentityProvider, error) {
	eid, err := escapeID("identity provider", id)
	if err != nil {
		return nil, err
	}
	return getObject[api.IdentityProvider](ctx, c, "/v1/identity-providers/"+eid, nil)
}

// UpdateIdentityProvider patches an identity provider (PATCH /v1/identity-providers/{id});
// expectedVersion, when non-zero, is sent as If-Match. patch.ClientSecret is masked in errors.
func (c *Client) UpdateIdentityProvider(ctx context.Context, id string, patch api.IdentityProviderPatch, expectedVersion int64) (*api.IdentityProvider, error) {
	eid, err := escapeID("identity provider", id)
	if err != nil {
		return nil, err
	}
	return send[api.IdentityProvider](ctx, c, request{
		method:  http.MethodPatch,
		path:    "/v1/identity-providers/" + eid,
		body:    patch,
		ifMatch: expectedVersion,
		secrets: []string{strp(patch.ClientSecret)},
	})
}

// DeleteIdentityProvider deletes an identity provider (DELETE /v1/identity-providers/{id});
// expectedVersion, when non-zero, is sent as If-Match. One that federation rules still use is refused
// with 409 (see IsConflict; Problem.Conflicts lists the rules).
func (c *Client) DeleteIdentityProvider(ctx context.Context, id string, expectedVersion int64) error {
	eid, err := escapeID("identity provider", id)
	if err != nil {
		return err
	}
	return c.do(ctx, request{method: http.MethodDelete, path: "/v1/identity-providers/" + eid, ifMatch: expectedVersion}, nil)
}

func (o IdentityProviderListOptions) query() url.Values {
	q := values("name", o.Name, "page_token", o.PageToken)
	setLimit(q, o.Limit)
	return q
}

// ListIdentityProviders returns one page of identity providers (GET /v1/identity-providers).
func (c *Client) ListIdentityProviders(ctx context.Context, opts IdentityProviderListOptions) (*api.List[api.IdentityProvider], error) {
	return getPage[api.IdentityProvider](ctx, c, "/v1/identity-providers", opts.query())
}

// ListAllIdentityProviders returns every identity provider matching opts, following next_page_token.
func (c *Client) ListAllIdentityProviders(ctx context.Context, opts IdentityProviderListOptions) ([]api.IdentityProvider, error) {
	return listAll[api.IdentityProvider](ctx, c, "/v1/identity-providers", opts.query())
}

// ---- federation rules ----

// CreateFederationRule creates a federation rule (POST /v1/federation-rules, admin tokens only).
func (c *Client) CreateFederationRule(ctx context.Context, in api.FederationRuleCreate) (*api.FederationRule, error) {
	return send[api.FederationRule](ctx, c, request{method: http.MethodPost, path: "/v1/federation-rules", body: in})
}

// GetFederationRule reads one federation rule (GET /v1/federation-rules/{id}).
func (c *Client) GetFederationRule(ctx context.Context, id string) (*api.FederationRule, error) {
	eid, err := escapeID("federation rule", id)
	if err != nil {
		return nil, err
	}
	return getObject[api.FederationRule](ctx, c, "/v1/federation-rules/"+eid, nil)
}

// UpdateFederationRule patches a federation rule (PATCH /v1/federation-rules/{id}); expectedVersion,
// when non-zero, is sent as If-Match. Any change ends the tokens the rule issued before it.
func (c *Client) UpdateFederationRule(ctx context.Context, id string, patch api.FederationRulePatch, expectedVersion int64) (*api.FederationRule, error) {
	eid, err := escapeID("federation rule", id)
	if err != nil {
		return nil, err
	}
	return send[api.FederationRule](ctx, c, request{method: http.MethodPatch, path: "/v1/federation-rules/" + eid, body: patch, ifMatch: expectedVersion})
}

// DeleteFederationRule deletes a federation rule and so ends the tokens it issued (DELETE
// /v1/federation-rules/{id}); expectedVersion, when non-zero, is sent as If-Match.
func (c *Client) DeleteFederationRule(ctx context.Context, id string, expectedVersion int64) error {
	eid, err := escapeID("federation rule", id)
	if err != nil {
		return err
	}
	return c.do(ctx, request{method: http.MethodDelete, path: "/v1/federation-rules/" + eid, ifMatch: expectedVersion}, nil)
}

func (o FederationRuleListOptions) query() url.Values {
	q := values("identity_provider_id", o.IdentityProviderID, "kind", o.Kind, "name", o.Name, "page_token", o.PageToken)
	setLimit(q, o.Limit)
	return q
}

// ListFederationRules returns one page of federation rules (GET /v1/federation-rules).
func (c *Client) ListFederationRules(ctx context.Context, opts FederationRuleListOptions) (*api.List[api.FederationRule], error) {
	return getPage[api.FederationRule](ctx, c, "/v1/federation-rules", opts.query())
}

// ListAllFederationRules returns every federation rule matching opts, following next_page_token.
func (c *Client) ListAllFederationRules(ctx context.Context, opts FederationRuleListOptions) ([]api.FederationRule, error) {
	return listAll[api.FederationRule](ctx, c, "/v1/federation-rules", opts.query())
}

// ---- token exchange ----

// TokenExchangePath is the server's OAuth 2.0 token endpoint (RFC 8693 token exchange).
const TokenExchangePath = "/v1/oauth/token"

// ExchangeError is a token exchange the server refused. The server never says which check failed
// (its log and audit event do), so the message lists what to check. It holds neither token.
type ExchangeError struct {
	// RuleID is the federation rule the exchange asked for.
	RuleID string
	// Status is the HTTP status; Code the RFC 6749 §5.2 error code ("invalid_grant", ...) when the
	// server sent one; Description its error_description.
	Status      int
	Code        string
	Description string
}

func (e *ExchangeError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "modelkeys: POST %s: the server refused to exchange the identity token for federation rule %q (HTTP %d", TokenExchangePath, e.RuleID, e.Status)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	b.WriteString(")")
	desc := strings.TrimRight(e.Description, ". ")
	if desc != "" && desc != e.Code {
		b.WriteString(": " + desc)
	}
	switch {
	case e.Status == http.StatusTooManyRequests:
		b.WriteString(". Too many failed sign-ins from here: wait and try again")
	case e.Code == "invalid_request" || e.Code == "unsupported_grant_type":
		b.WriteString(". The request was malformed; check that the federation rule id is right and that the provider and server versions match")
	case e.Status == http.StatusNotFound:
		b.WriteString(". The server has no token endpoint: it is older than workload identity support")
	case desc != "" && desc != e.Code:
		// The server's own words say what to check.
	default:
		b.WriteString(". The server does not say which check failed (its log and audit events do). Check that the federation rule exists and is a " +
			"\"workload\" rule, that its identity provider's issuer is the token's iss exactly and one of its audiences is the token's aud, that the " +
			"token's claims match every condition of the rule, and that the token has not expired")
	}
	b.WriteString(".")
	return b.String()
}

// IsExchangeRefused reports a token exchange the server refused (see ExchangeError).
func IsExchangeRefused(err error) bool {
	var ee *ExchangeError
	return errors.As(err, &ee)
}

// ExchangeToken trades subjectToken, an OpenID Connect ID token (a JWT) from the workload's identity
// provider, for a short-lived modelkeys token under federation rule ruleID (POST /v1/oauth/token,
// form-encoded, RFC 8693). The call carries no Authorization and no Idempotency-Key. A refusal is an
// *ExchangeError; neither token ever appears in an error or a log line.
func (c *Client) ExchangeToken(ctx context.Context, ruleID, subjectToken string) (api.TokenExchangeResponse, error) {
	var out api.TokenExchangeResponse
	if ruleID == "" {
		return out, errors.New("modelkeys: token exchange: the federation rule id is empty")
	}
	if subjectToken == "" {
		return out, errors.New("modelkeys: token exchange: the identity token is empty")
	}
	form := url.Values{
		"grant_type":         {api.GrantTypeTokenExchange},
		"subject_token":      {subjectToken},
		"subject_token_type": {api.TokenTypeJWT},
		"federation_rule":    {ruleID},
	}
	err := c.do(ctx, request{
		method:    http.MethodPost,
		path:      TokenExchangePath,
		form:      form,
		anonymous: true,
		secrets:   []string{subjectToken, url.QueryEscape(subjectToken)},
	}, &out)
	if err != nil {
		if ae, ok := AsAPIError(err); ok && ae.Status >= 400 && ae.Status < 500 {
			ee := &ExchangeError{RuleID: ruleID, Status: ae.Status, Code: ae.OAuthCode, Description: ae.Problem.Detail}
			if ae.OAuthCode == "" {
				ee.Description = ae.Problem.Detail
				if ee.Description == "" {
					ee.Description = ae.Problem.Title
				}
			} else {
				ee.Description = strings.TrimPrefix(ee.Description, ae.OAuthCode+": ")
			}
			return api.TokenExchangeResponse{}, ee
		}
		return api.TokenExchangeResponse{}, err
	}
	if out.AccessToken == "" {
		return api.TokenExchangeResponse{}, fmt.Errorf("modelkeys: POST %s: the answer holds no access_token", TokenExchangePath)
	}
	if !strings.EqualFold(out.TokenType, "Bearer") {
		return api.TokenExchangeResponse{}, fmt.Errorf("modelkeys: POST %s: token_type %q, want Bearer", TokenExchangePath, snippet(out.TokenType))
	}
	if out.ExpiresIn <= 0 {
		return api.TokenExchangeResponse{}, fmt.Errorf("modelkeys: POST %s: expires_in %d, want a positive number of seconds", TokenExchangePath, out.ExpiresIn)
	}
	return out, nil
}
