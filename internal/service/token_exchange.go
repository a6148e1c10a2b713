package service

// The RFC 8693 token exchange of /v1/oauth/token (issue 33 §2), and the tokens it issues: a workload
// trades its identity provider's JWT, checked against one federation rule, for a short-lived modelkeys
// token. Only the token's SHA-256 is stored; it is valid while it has not expired, its rule exists at
// the version it was issued under (any change of the rule ends it) and the rule's provider exists.

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/federation"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// ExchangedTokenPrefix starts every token issued under a federation rule (API tokens start with
// TokenPrefix), so secret scanners, people and the lookup can tell them apart.
const ExchangedTokenPrefix = "mkx_"

// TokenExchangeRequest is the form of POST /v1/oauth/token.
type TokenExchangeRequest struct {
	GrantType          string
	SubjectToken       string
	SubjectTokenType   string
	FederationRule     string
	RequestedTokenType string
	ActorToken         string
}

// OAuthError is a refusal of the token endpoint (RFC 6749 §5.2): Code is the error code, Status the
// HTTP status. Its description never says which check failed; the server log and the audit event
// do.
type OAuthError struct {
	Status      int
	Code        string
	Description string
	RetryAfter  time.Duration // of a 429: how long until the caller may try again
}

func (e *OAuthError) Error() string { return e.Code + ": " + e.Description }

func oauthInvalidRequest(desc string) *OAuthError {
	return &OAuthError{Status: StatusBadRequest, Code: "invalid_request", Description: desc}
}

// errGrantRefused is every refusal of a well-formed exchange: an unknown rule, a rule of the wrong
// kind, a token that does not verify, claims that do not match. One answer for all, so a caller
// learns nothing about which check failed, nor whether the rule exists.
var errGrantRefused = &OAuthError{Status: StatusBadRequest, Code: "invalid_grant",
	Description: "The subject token is not accepted for this federation rule. Check that the rule id is right, that the token comes from the rule's identity provider with one of its audiences and is not expired, and that its claims meet the rule's conditions; the server's log and audit log say which check failed."}

// auditClaimNames are the claims of a subject token kept as the actor of what its exchanged token
// does (issue 33 §2), and email for people.
var auditClaimNames = []string{"sub", "repository", "ref", "environment", "workflow", "run_id", "job_workflow_ref",
	"namespace_path", "terraform_run_phase", "email"}

const maxAuditClaimLen = 256

// auditClaims picks the claims kept for the audit log, as text, trimmed and with control and format
// characters replaced, so a hostile issuer cannot write a misleading line into the log.
func auditClaims(c federation.Claims) map[string]string {
	out := map[string]string{}
	for _, name := range auditClaimNames {
		v := c.String(name)
		if v == "" {
			continue
		}
		if len(v) > maxAuditClaimLen {
			cut := maxAuditClaimLen
			for cut > 0 && !utf8.RuneStart(v[cut]) {
				cut--
			}
			v = v[:cut]
		}
		v = strings.ToValidUTF8(v, "?")
		if catalog.ValidateText(v) != nil {
			v = strings.Map(func(r rune) rune {
				if catalog.ValidateText(string(r)) != nil {
					return '?'
				}
				return r
			}, v)
		}
		out[name] = v
	}
	return out
}

// federatedActor is how audit events and whoami name a principal of an exchanged token.
func federatedActor(rule api.FederationRule, claims map[string]string) string {
	sub := claims["sub"]
	if sub == "" {
		sub = "(no sub)"
	}
	if len(sub) > 128 {
		sub = sub[:128]
	}
	return strings.ToValidUTF8(sub, "?") + " via federation rule " + rule.Name
}

// ExchangeToken runs the token exchange. Errors are *OAuthError (an *Error only for a failure of
// the server itself).
func (s *Service) ExchangeToken(ctx context.Context, in TokenExchangeRequest) (api.TokenExchangeResponse, error) {
	switch {
	case in.GrantType == "":
		return api.TokenExchangeResponse{}, oauthInvalidRequest("grant_type is missing: send grant_type=" + api.GrantTypeTokenExchange + ".")
	case in.GrantType != api.GrantTypeTokenExchange:
		return api.TokenExchangeResponse{}, &OAuthError{Status: StatusBadRequest, Code: "unsupported_grant_type",
			Description: "This endpoint supports only grant_type=" + api.GrantTypeTokenExchange + " (RFC 8693)."}
	case in.SubjectTokenType != api.TokenTypeJWT && in.SubjectTokenType != api.TokenTypeIDToken:
		return api.TokenExchangeResponse{}, oauthInvalidRequest("subject_token_type must be " + api.TokenTypeJWT + " or " + api.TokenTypeIDToken + ".")
	case in.SubjectToken == "":
		return api.TokenExchangeResponse{}, oauthInvalidRequest("subject_token is missing: send the identity token of the CI job or run.")
	case in.FederationRule == "" || len(checkID("federation_rule", in.FederationRule)) > 0 || len(in.FederationRule) > 128:
		return api.TokenExchangeResponse{}, oauthInvalidRequest("federation_rule is missing or is not an id: send the id of the federation rule to exchange the token under.")
	case in.ActorToken != "":
		return api.TokenExchangeResponse{}, oauthInvalidRequest("actor_token is not supported: modelkeys does not do delegation.")
	case in.RequestedTokenType != "" && in.RequestedTokenType != api.TokenTypeAccessToken:
		return api.TokenExchangeResponse{}, oauthInvalidRequest("requested_token_type may only be " + api.TokenTypeAccessToken + ".")
	}

	var found store.FederationRuleWithProvider
	err := s.readOne(ctx, func(tx store.Tx) error {
		var err error
		found, err = tx.FederationRuleByID(ctx, in.FederationRule)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		// No organisation to audit in: the log is the record.
		s.log.WarnContext(ctx, "token exchange refused", "federation_rule_id", in.FederationRule, "reason", "no such federation rule")
		return api.TokenExchangeResponse{}, errGrantRefused
	}
	if err != nil {
		return api.TokenExchangeResponse{}, err
	}
	rule, provider := found.Rule, found.Provider
	if rule.Kind != api.FederationWorkload {
		return api.TokenExchangeResponse{}, s.refuseExchange(ctx, found, "kind", "the rule is a people rule, for console sign-in; token exchange takes workload rules only", nil)
	}
	if s.cfg.Federation == nil {
		return api.TokenExchangeResponse{}, &Error{Status: StatusUnavailable, Title: "Token exchange unavailable", Detail: "This server has no token verifier configured."}
	}
	// A provider stored before its client_id was kept out of its audiences: people's ID tokens
	// (aud = client_id) never pass as a workload's.
	audiences := slices.DeleteFunc(slices.Clone(provider.Audiences), func(a string) bool { return a == provider.ClientID })
	if len(audiences) == 0 {
		return api.TokenExchangeResponse{}, s.refuseExchange(ctx, found, "subject_token", "the identity provider has no workload audience other than its client_id", nil)
	}
	claims, err := s.cfg.Federation.Verify(ctx, federation.Issuer{URL: provider.Issuer, JWKSJSON: provider.JWKSJSON}, audiences, in.SubjectToken)
	if err != nil {
		reason := "the token does not verify"
		var fe *federation.Error
		if errors.As(err, &fe) {
			reason = fe.Reason
		}
		return api.TokenExchangeResponse{}, s.refuseExchange(ctx, found, "subject_token", reason, nil)
	}
	kept := auditClaims(claims)
	if !federation.Match(rule.Conditions, claims) {
		return api.TokenExchangeResponse{}, s.refuseExchange(ctx, found, "conditions", "the token's claims do not meet the rule's conditions", kept)
	}
	if ok, wait := s.replays.take(rule.ID, in.SubjectToken, s.now()); !ok {
		s.log.WarnContext(ctx, "token exchange refused", "org_id", found.OrgID, "federation_rule_id", rule.ID, "check", "replay",
			"reason", "the subject token was exchanged too often under this rule", "sub", kept["sub"])
		return api.TokenExchangeResponse{}, errTooManyExchanges(wait)
	}
	value, p, expires, err := s.issueFederatedToken(ctx, found.OrgID, rule, provider.Version, kept, "token_exchange")
	if err != nil {
		return api.TokenExchangeResponse{}, err
	}
	s.log.InfoContext(ctx, "token exchanged", "org_id", p.OrgID, "federation_rule_id", rule.ID, "sub", kept["sub"], "expires_at", expires)
	return api.TokenExchangeResponse{AccessToken: value, IssuedTokenType: api.TokenTypeAccessToken, TokenType: "Bearer",
		ExpiresIn: int64(expires.Sub(s.now()).Round(time.Second) / time.Second)}, nil
}

// refuseExchange logs and audits a refused exchange in the rule's organisation, then answers with
// the one refusal every failed check shares. check names what failed (an audit field name), reason
// says how (safe to log: federation.Error reasons never hold the token); claims are the verified
// claims, when the token verified.
func (s *Service) refuseExchange(ctx context.Context, found store.FederationRuleWithProvider, check, reason string, claims map[string]string) error {
	s.log.WarnContext(ctx, "token exchange refused", "org_id", found.OrgID, "federation_rule_id", found.Rule.ID, "check", check, "reason", reason)
	err := s.tx(ctx, func(tx store.Tx) error {
		return tx.InsertAudit(ctx, found.OrgID, api.AuditEvent{Time: s.now(), Actor: "token exchange", Action: "token_exchange_refused",
			ObjectType: "federation_rule", ObjectID: found.Rule.ID, Fields: []string{check}, ActorFederationRule: found.Rule.ID,
			ActorClaims: claims, Detail: reason})
	})
	if err != nil {
		s.log.ErrorContext(ctx, "audit of a refused token exchange failed", "federation_rule_id", found.Rule.ID, "error", err)
	}
	return errGrantRefused
}

// IssueFederatedToken issues a token under rule (of organisation orgID) for a subject whose claims
// matched it: the console opens a session with it from a people rule, so the session ends with the
// rule, as an exchanged token does. The caller has verified the subject's token with the identity
// provider at providerVersion and matched the rule; the token is bound to that version, so a change
// of the provider's trust while the caller verified (the console's code exchange) ends it, and a
// change already made is refused here. value is shown once and never stored.
func (s *Service) IssueFederatedToken(ctx context.Context, orgID string, rule api.FederationRule, providerVersion int64, claims federation.Claims) (value string, p Principal, expiresAt time.Time, err error) {
	action := "sign_in"
	if rule.Kind == api.FederationWorkload {
		action = "token_exchange"
	}
	var provider api.IdentityProvider
	err = s.readOne(ctx, func(tx store.Tx) error {
		var err error
		provider, err = tx.GetIdentityProvider(ctx, orgID, rule.IdentityProviderID)
		return err
	})
	if errors.Is(err, store.ErrNotFound) || (err == nil && provider.Version != providerVersion) {
		return "", Principal{}, time.Time{}, conflict("The identity provider changed during this sign-in (its keys, audiences or client were edited, or it was deleted). Start again from the sign-in page.")
	}
	if err != nil {
		return "", Principal{}, time.Time{}, err
	}
	return s.issueFederatedToken(ctx, orgID, rule, providerVersion, auditClaims(claims), action)
}

// issueFederatedToken issues a token under rule at its version, bound to providerVersion, the version
// of the identity provider the subject's token was verified with: a change of the provider's trust
// (its keys, audiences) ends the tokens verified under the old one.
func (s *Service) issueFederatedToken(ctx context.Context, orgID string, rule api.FederationRule, providerVersion int64, kept map[string]string, action string) (string, Principal, time.Time, error) {
	ttl, err := parseTokenTTL(rule.TokenTTL)
	if err != nil {
		ttl = DefaultTokenTTL // a stored rule was checked when written; never longer than the default
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", Principal{}, time.Time{}, err
	}
	value := ExchangedTokenPrefix + base64.RawURLEncoding.EncodeToString(raw)
	hash := HashToken(value)
	now := s.now()
	expires := now.Add(ttl)
	p := federatedPrincipal(orgID, rule, kept, hash)
	err = s.tx(ctx, func(tx store.Tx) error {
		if err := tx.InsertExchangedToken(ctx, store.ExchangedToken{Hash: hash, OrgID: orgID, RuleID: rule.ID, RuleVersion: rule.Version,
			ProviderVersion: providerVersion, Claims: kept, CreatedAt: now, ExpiresAt: expires}); err != nil {
			return err
		}
		// Expired tokens of the rule go as new ones come, so the table holds about one token
		// lifetime's worth per rule.
		if _, err := tx.DeleteExpiredExchangedTokens(ctx, orgID, rule.ID, now); err != nil {
			return err
		}
		return s.audit(ctx, tx, p, action, "federation_rule", rule.ID, nil)
	})
	if errors.Is(err, store.ErrNotFound) {
		// The rule went between the match and the insert.
		return "", Principal{}, time.Time{}, errGrantRefused
	}
	if err != nil {
		return "", Principal{}, time.Time{}, err
	}
	return value, p, expires, nil
}

func federatedPrincipal(orgID string, rule api.FederationRule, claims map[string]string, hash string) Principal {
	return Principal{OrgID: orgID, Actor: federatedActor(rule, claims), Role: rule.Role,
		// Each exchanged token is its own "token" for the per-token rate limit and for who set a
		// credential's destination; the id is derived from the hash, never the token.
		TokenID:   "xt_" + hash[:24],
		ProjectID: rule.ProjectID, FederationRuleID: rule.ID, Credentials: rule.Credentials, Claims: claims,
		identityProviderID: rule.IdentityProviderID}
}

// principalOfExchangedHash finds the principal of an exchanged token: unknown, expired, or issued
// under a rule that has since changed or gone, or verified with a provider that has since changed, is
// a 401. With the token
// cache on, a valid one is remembered until the earlier of its expiry and the cache's TTL; a change
// or delete of its rule on this process drops it at once (forgetRuleTokens). Other replicas keep
// serving it from their caches for at most TokenCacheTTL after the change (as with a revoked API
// token), then refuse it.
func (s *Service) principalOfExchangedHash(ctx context.Context, hash string) (Principal, error) {
	return s.principalOfExchanged(ctx, hash, "The token is not valid: it is unknown or expired, or the federation rule it was issued under has changed or gone. Exchange a new identity token at /v1/oauth/token.")
}

// principalOfExchanged is principalOfExchangedHash with the words of its 401.
func (s *Service) principalOfExchanged(ctx context.Context, hash, refusal string) (Principal, error) {
	ttl := s.cfg.TokenCacheTTL
	if ttl > 0 {
		if p, ok := s.tokens.get(hash, time.Now()); ok {
			return p, nil
		}
	}
	gen := s.ruleGeneration()
	read := time.Now()
	var et store.ExchangedToken
	var rule api.FederationRule
	err := s.readOne(ctx, func(tx store.Tx) error {
		var err error
		et, rule, err = tx.ExchangedTokenByHash(ctx, hash)
		return err
	})
	invalid := unauthorized(refusal)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, invalid
	}
	if err != nil {
		return Principal{}, err
	}
	if !s.now().Before(et.ExpiresAt) || rule.Version != et.RuleVersion {
		return Principal{}, invalid
	}
	p := federatedPrincipal(et.OrgID, rule, et.Claims, hash)
	if ttl > 0 {
		until := read.Add(ttl)
		if left := et.ExpiresAt.Sub(s.now()); read.Add(left).Before(until) {
			until = read.Add(left)
		}
		s.putExchanged(hash, p, until, gen)
	}
	return p, nil
}

// ruleGeneration, forgetRuleTokens and putExchanged keep the token cache from holding a token of a
// rule changed on this process: a change drops the rule's cached tokens and bumps the generation,
// and a lookup that read before the change (and so may have read the old rule) does not cache.
func (s *Service) ruleGeneration() uint64 {
	s.tokens.mu.Lock()
	defer s.tokens.mu.Unlock()
	return s.tokens.ruleGen
}

func (s *Service) forgetRuleTokens(ruleID string) {
	s.forgetTokens(func(p Principal) bool { return p.FederationRuleID == ruleID })
}

// forgetProviderTokens is forgetRuleTokens for every rule of an identity provider that changed.
func (s *Service) forgetProviderTokens(providerID string) {
	s.forgetTokens(func(p Principal) bool { return p.identityProviderID == providerID })
}

func (s *Service) forgetTokens(match func(Principal) bool) {
	c := &s.tokens
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ruleGen++
	for h, e := range c.m {
		if e.p.FederationRuleID != "" && match(e.p) {
			delete(c.m, h)
		}
	}
}

func (s *Service) putExchanged(hash string, p Principal, expires time.Time, gen uint64) {
	c := &s.tokens
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ruleGen != gen {
		return
	}
	if c.m == nil || len(c.m) >= tokenCacheMax {
		c.m = map[string]tokenEntry{}
	}
	c.m[hash] = tokenEntry{p: p, expires: expires}
}

// AuditClaimNames lists the claims kept as an exchanged token's actor (for documentation and tests).
func AuditClaimNames() []string { return append([]string(nil), auditClaimNames...) }
