package server

// The HTTP face of identity providers, federation rules and the RFC 8693 token exchange (issue 33).

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"mime"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/federation"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/verify"
)

func (s *Server) createIdentityProvider(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	var in api.IdentityProviderCreate
	idem, err := s.createRequest(r, &in)
	if err != nil {
		return err
	}
	ip, _, err := s.svc.CreateIdentityProvider(r.Context(), p, in, idem)
	if err != nil {
		return err
	}
	writeObject(w, http.StatusCreated, ip.Version, ip)
	return nil
}

func (s *Server) listIdentityProviders(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	limit, err := queryInt(r, "limit")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	out, err := s.svc.ListIdentityProviders(r.Context(), p, q.Get("name"), q.Get("page_token"), limit)
	if err != nil {
		return err
	}
	writeJSON(w, 200, out)
	return nil
}

func (s *Server) getIdentityProvider(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	ip, err := s.svc.GetIdentityProvider(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeObject(w, 200, ip.Version, ip)
	return nil
}

func (s *Server) updateIdentityProvider(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	match, err := ifMatch(r)
	if err != nil {
		return err
	}
	var in api.IdentityProviderPatch
	if err := s.decode(r, &in); err != nil {
		return err
	}
	ip, err := s.svc.UpdateIdentityProvider(r.Context(), p, r.PathValue("id"), in, match)
	if err != nil {
		return err
	}
	writeObject(w, 200, ip.Version, ip)
	return nil
}

func (s *Server) deleteIdentityProvider(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	match, err := ifMatch(r)
	if err != nil {
		return err
	}
	if err := s.svc.DeleteIdentityProvider(r.Context(), p, r.PathValue("id"), match); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) createFederationRule(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	var in api.FederationRuleCreate
	idem, err := s.createRequest(r, &in)
	if err != nil {
		return err
	}
	fr, _, err := s.svc.CreateFederationRule(r.Context(), p, in, idem)
	if err != nil {
		return err
	}
	writeObject(w, http.StatusCreated, fr.Version, fr)
	return nil
}

func (s *Server) listFederationRules(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	limit, err := queryInt(r, "limit")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	out, err := s.svc.ListFederationRules(r.Context(), p, store.FederationRuleFilter{
		IdentityProviderID: q.Get("identity_provider_id"), Kind: q.Get("kind"), Name: q.Get("name"),
		AfterID: q.Get("page_token"), Limit: limit})
	if err != nil {
		return err
	}
	writeJSON(w, 200, out)
	return nil
}

func (s *Server) getFederationRule(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	fr, err := s.svc.GetFederationRule(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeObject(w, 200, fr.Version, fr)
	return nil
}

func (s *Server) updateFederationRule(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	match, err := ifMatch(r)
	if err != nil {
		return err
	}
	var in api.FederationRulePatch
	if err := s.decode(r, &in); err != nil {
		return err
	}
	fr, err := s.svc.UpdateFederationRule(r.Context(), p, r.PathValue("id"), in, match)
	if err != nil {
		return err
	}
	writeObject(w, 200, fr.Version, fr)
	return nil
}

func (s *Server) deleteFederationRule(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	match, err := ifMatch(r)
	if err != nil {
		return err
	}
	if err := s.svc.DeleteFederationRule(r.Context(), p, r.PathValue("id"), match); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// maxTokenFormBytes bounds the token endpoint's form: an identity token is a few kilobytes.
const maxTokenFormBytes = 64 << 10

// oauthToken is POST /v1/oauth/token, the RFC 8693 token exchange. It answers RFC 6749 §5.2 errors
// (JSON, never a problem document, never saying which check failed), and every refusal counts toward
// the failed-authentication limit of the client's address, as a wrong token does.
func (s *Server) oauthToken(w http.ResponseWriter, r *http.Request, _ service.Principal) error {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	g, addr := s.authGate, clientAddress(r)
	tracked := false
	if g != nil {
		ok, tr, wait := g.take(addr, time.Now())
		if !ok {
			desc := "Too many failed authentications from this address; retry after Retry-After seconds."
			if !tr {
				desc = "Too many failed authentications reach the server at once; retry after Retry-After seconds."
			}
			writeOAuthError(w, &service.OAuthError{Status: http.StatusTooManyRequests, Code: "invalid_request", RetryAfter: wait, Description: desc})
			return nil
		}
		tracked = tr
	}
	resp, err := s.exchange(r)
	var oe *service.OAuthError
	isOAuth := errors.As(err, &oe)
	if g != nil && tracked && (err == nil || !isOAuth) {
		g.give(addr, time.Now()) // only the caller's own failures use the bucket up
	}
	if isOAuth {
		writeOAuthError(w, oe)
		return nil
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// exchange reads the form (from the body only: a token in the URL would end up in logs and
// histories) and runs the exchange.
func (s *Server) exchange(r *http.Request) (api.TokenExchangeResponse, error) {
	invalid := func(desc string) error {
		return &service.OAuthError{Status: http.StatusBadRequest, Code: "invalid_request", Description: desc}
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return api.TokenExchangeResponse{}, invalid("The body must be a form, sent with Content-Type: application/x-www-form-urlencoded (RFC 6749 §3.2).")
	}
	for _, name := range []string{"subject_token", "actor_token", "client_secret"} {
		if r.URL.Query().Has(name) {
			return api.TokenExchangeResponse{}, invalid(name + " must be sent in the body, never in the URL.")
		}
	}
	r.Body = http.MaxBytesReader(nil, r.Body, maxTokenFormBytes)
	if err := r.ParseForm(); err != nil {
		return api.TokenExchangeResponse{}, invalid("The body is not a form of at most 64 KiB.")
	}
	f := r.PostForm
	for name, vs := range f {
		if len(vs) > 1 {
			return api.TokenExchangeResponse{}, invalid(name + " is sent more than once (RFC 6749 §3.2).")
		}
	}
	return s.svc.ExchangeToken(r.Context(), service.TokenExchangeRequest{
		GrantType: f.Get("grant_type"), SubjectToken: f.Get("subject_token"), SubjectTokenType: f.Get("subject_token_type"),
		FederationRule: f.Get("federation_rule"), RequestedTokenType: f.Get("requested_token_type"), ActorToken: f.Get("actor_token"),
	})
}

func writeOAuthError(w http.ResponseWriter, e *service.OAuthError) {
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(e.RetryAfter.Seconds())))))
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(api.OAuthError{Error: e.Code, ErrorDescription: e.Description})
}

// withFederation fills in the egress policy (the strict one of serve, or the embedded one) and the
// verifier of identity tokens, whose discovery and key fetches dial through that policy, follow no
// redirect and use no proxy from the environment.
func withFederation(cfg *service.Config) {
	if cfg.Egress == nil {
		if cfg.Embedded {
			cfg.Egress = verify.EmbeddedEgress()
		} else {
			cfg.Egress = verify.ServerEgress(nil)
		}
	}
	if cfg.Federation != nil {
		return
	}
	d, ok := cfg.Egress.(dialer)
	if !ok {
		d = verify.ServerEgress(nil)
	}
	cfg.Federation = federation.NewVerifier(federationHTTPClient(d))
}

type dialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// federationHTTPClient is the client of identity-provider fetches: every dial through d (the egress
// policy), no proxy from the environment, no redirect followed, bounded in time.
func federationHTTPClient(d dialer) *http.Client {
	return &http.Client{
		Timeout: 15 * time.Second,
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           d.DialContext,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: 10 * time.Second,
			MaxIdleConnsPerHost:   2,
			IdleConnTimeout:       90 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
