package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
	"golang.org/x/time/rate"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// Keyless credentials (auth_method workload_identity) store no secret: the server mints an assertion
// for the credential as an OpenID issuer (MintAssertion) and the verifier exchanges it at the vendor.

// AssertFunc mints an assertion for the credential being checked, for a vendor audience.
type AssertFunc = func(ctx context.Context, audience string) (string, error)

// KeylessVerifier is implemented by verifiers that can check keyless credentials and fetch their
// vendor tokens. Verification always makes a fresh exchange.
type KeylessVerifier interface {
	VerifyKeyless(ctx context.Context, p api.Provider, settings map[string]string, assert AssertFunc) api.VerifyResult
	ExchangeKeyless(ctx context.Context, p api.Provider, settings map[string]string, assert AssertFunc) (api.CredentialAccessToken, api.VerifyResult)
}

// KeylessModelLister is ModelLister for keyless credentials.
type KeylessModelLister interface {
	ListModelsKeyless(ctx context.Context, p api.Provider, settings map[string]string, assert AssertFunc) ([]string, error)
}

type credentialIDKey struct{}

// withCredentialID tells verify which credential it checks: a keyless credential's assertion names it.
func withCredentialID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, credentialIDKey{}, id)
}

func credentialIDOf(ctx context.Context) string {
	id, _ := ctx.Value(credentialIDKey{}).(string)
	return id
}

// keylessKeepsRefusal: a refused exchange of a keyless credential is stored (status invalid, the
// vendor's refusal in status_message) rather than refused with a 422 as a refused key is. The
// vendor's federation rule names the credential's subject, which holds its id, so it can only be
// written once the credential exists; refusing the first write would make that impossible.
func keylessKeepsRefusal(provider string, settings map[string]string) bool {
	return catalog.IsKeyless(provider, settings)
}

// asserter mints assertions for one credential.
func (s *Service) asserter(orgID, credentialID string) AssertFunc {
	return func(ctx context.Context, audience string) (string, error) {
		a, err := s.MintAssertion(ctx, orgID, credentialID, audience)
		var e *Error
		if errors.As(err, &e) {
			return "", errors.New(e.Detail)
		}
		return a, err
	}
}

// verifyKeyless is verify for a keyless credential: a fresh exchange and the vendor's read.
func (s *Service) verifyKeyless(ctx context.Context, orgID string, prov api.Provider, settings map[string]string, wanted bool) (string, string, *time.Time, error) {
	if !wanted {
		return api.StatusUnverified, "Verification was skipped (verify = false).", nil, nil
	}
	kv, ok := s.cfg.Verifier.(KeylessVerifier)
	if !ok {
		return api.StatusUnverified, "This server has no verifier for keyless credentials configured; the exchange was not checked.", nil, nil
	}
	id := credentialIDOf(ctx)
	var r api.VerifyResult
	if err := s.probe(ctx, orgID, func() { r = kv.VerifyKeyless(ctx, prov, settings, s.asserter(orgID, id)) }); err != nil {
		return "", "", nil, err
	}
	now := s.now()
	switch {
	case r.OK:
		return api.StatusVerified, r.Message, &now, nil
	case r.Blocked:
		return api.StatusUnverified, "The exchange was not made and nothing was sent: " + r.Message + ".", nil, egressRefused(settings, r.Message)
	case r.Refused:
		return api.StatusInvalid, fmt.Sprintf("%s refused the keyless credential: %s", prov.DisplayName, r.Message), &now, nil
	}
	return api.StatusUnverified, "Could not complete the exchange with the vendor: " + r.Message, nil, nil
}

// listModels asks the provider which models a credential reaches, through an exchange when it is
// keyless.
func (s *Service) listModels(ctx context.Context, lister ModelLister, orgID string, cred api.Credential, prov api.Provider, plain map[string]string) ([]string, error) {
	if !catalog.IsKeyless(cred.Provider, cred.Settings) {
		return lister.ListModels(ctx, prov, cred.Settings, plain)
	}
	kl, ok := lister.(KeylessModelLister)
	if !ok {
		return nil, errors.New("this server cannot list the models of keyless credentials")
	}
	return kl.ListModelsKeyless(ctx, prov, cred.Settings, s.asserter(orgID, cred.ID))
}

// Limits of POST /v1/credentials/{id}/access-token per caller: a workload fetches one token per
// credential every few minutes, so a burst for many workloads starting behind one token, then a
// steady rate that no correct client reaches. Tokens come from the cache (below) when they can.
const (
	accessTokenBurst     = 60
	accessTokenPerSecond = 2
	accessTokenMaxKeys   = 10_000
	// accessTokenMargin: a cached vendor token is handed out until this long before it expires, so a
	// workload always has at least this long to use it.
	accessTokenMargin = time.Minute
)

// keylessState is the access-token endpoint's memory: vendor tokens (never written anywhere else:
// not to the database, a log, an audit event or state) and the per-caller limits.
type keylessState struct {
	mu       sync.Mutex
	tokens   map[string]api.CredentialAccessToken
	limiters map[string]*rate.Limiter
	flight   singleflight.Group
}

func (k *keylessState) allow(key string, now time.Time) bool {
	k.mu.Lock()
	if k.limiters == nil {
		k.limiters = map[string]*rate.Limiter{}
	}
	if len(k.limiters) >= accessTokenMaxKeys {
		for key, lim := range k.limiters {
			if lim.TokensAt(now) >= accessTokenBurst {
				delete(k.limiters, key)
			}
		}
	}
	lim, ok := k.limiters[key]
	if !ok {
		lim = rate.NewLimiter(accessTokenPerSecond, accessTokenBurst)
		k.limiters[key] = lim
	}
	k.mu.Unlock()
	return lim.AllowN(now, 1)
}

func (k *keylessState) cached(key string, now time.Time) (api.CredentialAccessToken, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	t, ok := k.tokens[key]
	if ok && now.Add(accessTokenMargin).Before(t.ExpiresAt) {
		return t, true
	}
	for ck, ct := range k.tokens { // drop what has expired, so the map stays small
		if !now.Add(accessTokenMargin).Before(ct.ExpiresAt) {
			delete(k.tokens, ck)
		}
	}
	return api.CredentialAccessToken{}, false
}

func (k *keylessState) keep(key string, t api.CredentialAccessToken) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.tokens == nil {
		k.tokens = map[string]api.CredentialAccessToken{}
	}
	k.tokens[key] = t
}

// mayUseCredential says whether p may fetch vendor tokens of credential c: an admin may; otherwise a
// token exchanged from a federation rule whose credentials list names c, or holds "*" (for the
// credentials of the rule's project when it has one).
func mayUseCredential(p Principal, c api.Credential) bool {
	if p.Role == api.RoleAdmin {
		return true
	}
	if slices.Contains(p.Credentials, c.ID) {
		return true
	}
	return slices.Contains(p.Credentials, "*") && (p.ProjectID == "" || p.ProjectID == c.ProjectID)
}

// CredentialAccessToken answers POST /v1/credentials/{id}/access-token: a vendor token of a keyless
// credential, from the cache until a minute before it expires, otherwise from a fresh exchange. A
// credential that stores a key has none (409): keys never leave modelkeys. Every call is audited with
// the caller (never the token); calls are rate-limited per caller.
func (s *Service) CredentialAccessToken(ctx context.Context, p Principal, id string) (api.CredentialAccessToken, error) {
	if !s.keyless.allow(p.OrgID+"\x00"+p.TokenID+"\x00"+p.Actor, s.now()) {
		return api.CredentialAccessToken{}, &Error{Status: StatusTooManyRequests, Title: "Too many requests",
			Detail: fmt.Sprintf("Token %q may fetch access tokens at most %d times per second (bursts of %d); retry after the Retry-After delay, and reuse a token until a minute before its expires_at.", p.Actor, accessTokenPerSecond, accessTokenBurst)}
	}
	c, err := s.GetCredential(ctx, p, id)
	if err != nil {
		return api.CredentialAccessToken{}, err
	}
	if !mayUseCredential(p, c) {
		return api.CredentialAccessToken{}, forbidden(fmt.Sprintf(
			"token %q may not fetch access tokens of credential %q: only admins, and tokens exchanged from a federation rule whose credentials list names the credential (or \"*\"), may.", p.Actor, c.Name))
	}
	if !catalog.IsKeyless(c.Provider, c.Settings) {
		prov, _ := catalog.Provider(c.Provider)
		return api.CredentialAccessToken{}, &Error{Status: StatusConflict, Title: "Not a keyless credential",
			Detail: fmt.Sprintf("Credential %q stores a key (auth_method %q), and keys never leave modelkeys: only keyless credentials (auth_method %q) have access tokens.",
				c.Name, catalog.AuthMethod(prov, c.Settings), api.AuthMethodWorkloadIdentity)}
	}
	// A keyless credential is governed by the same policies: one its scope's credential policy now
	// refuses (a provider no longer allowed, say) hands out no tokens until it complies.
	if len(c.PolicyViolations) > 0 {
		return api.CredentialAccessToken{}, &Error{Status: StatusConflict, Title: "Credential violates policy",
			Detail: fmt.Sprintf("Credential %q violates its scope's credential policy (%s), so it hands out no access tokens until it complies.", c.Name, strings.Join(c.PolicyViolations, "; "))}
	}
	if s.IssuerURL() == "" {
		return api.CredentialAccessToken{}, ErrNoIssuer
	}
	kv, ok := s.cfg.Verifier.(KeylessVerifier)
	if !ok {
		return api.CredentialAccessToken{}, &Error{Status: StatusUnavailable, Title: "No verifier", Detail: "This server has no verifier configured, so it cannot exchange assertions at vendors."}
	}
	// The cache is keyed by the credential's version: a change of its settings never serves a token
	// of the settings before.
	key := fmt.Sprintf("%s\x00%s\x00%d", p.OrgID, c.ID, c.Version)
	tok, hit := s.keyless.cached(key, s.now())
	if !hit {
		v, err, _ := s.keyless.flight.Do(key, func() (any, error) {
			prov, _ := catalog.Provider(c.Provider)
			var t api.CredentialAccessToken
			var r api.VerifyResult
			if err := s.probe(ctx, p.OrgID, func() { t, r = kv.ExchangeKeyless(ctx, prov, c.Settings, s.asserter(p.OrgID, c.ID)) }); err != nil {
				return nil, err
			}
			switch {
			case r.OK:
				s.keyless.keep(key, t)
				return t, nil
			case r.Blocked:
				return nil, egressRefused(c.Settings, r.Message)
			case r.Refused:
				return nil, &Error{Status: StatusUnprocessable, Title: "Exchange refused",
					Detail: fmt.Sprintf("%s refused the exchange for credential %q: %s", prov.DisplayName, c.Name, r.Message)}
			}
			return nil, &Error{Status: 502, Title: "Vendor error", Detail: fmt.Sprintf("Could not complete the exchange with %s for credential %q: %s", prov.DisplayName, c.Name, r.Message)}
		})
		if err != nil {
			return api.CredentialAccessToken{}, err
		}
		tok, _ = v.(api.CredentialAccessToken) // the only value the flight returns
	}
	if err := s.tx(ctx, func(tx store.Tx) error {
		return s.audit(ctx, tx, p, "access_token", "credential", c.ID, nil)
	}); err != nil {
		return api.CredentialAccessToken{}, err
	}
	return tok, nil
}
