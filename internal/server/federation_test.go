package server

// End-to-end tests of identity providers, federation rules and the RFC 8693 token exchange (issue 33)
// through the HTTP handler, on both stores, against a real OpenID issuer on loopback
// (federationtest: keys generated per run, discovery and JWKS served over HTTP).

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/federation"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/federation/federationtest"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/verify"
)

// loopbackEgress is serve's egress policy with loopback opened (--egress-allow 127.0.0.0/8,::1/128),
// so the test issuer on 127.0.0.1 is reachable and may be plain http.
func loopbackEgress() *verify.EgressPolicy {
	return verify.ServerEgress([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")})
}

// withFederationTest configures every server of the harness with the loopback egress policy, a
// verifier that dials through it and refetches keys at once on an unknown kid (the production
// interval bounds that to once per 30 s; here a rotation is tested without waiting), and the
// given extra configuration.
func withFederationTest(more ...func(*service.Config)) func(*harnessOptions) {
	return withConfig(func(c *service.Config) {
		eg := loopbackEgress()
		c.Egress = eg
		c.Federation = federation.NewVerifier(federationHTTPClient(eg), federation.WithRefetchInterval(time.Millisecond))
		for _, f := range more {
			f(c)
		}
	})
}

// noAuthLimit turns the failed-authentication limit off, so a test can make many refusals.
func noAuthLimit() func(*harnessOptions) {
	l := service.DefaultLimits()
	l.AuthFailures = 0
	return withLimits(l)
}

// fedSetup is a provider and a workload rule of organisation acme trusting iss.
type fedSetup struct {
	iss      *federationtest.Issuer
	provider *api.IdentityProvider
	rule     *api.FederationRule
}

const testAudience = "https://modelkeys.example.test"

// ciClaims are the claims of a GitHub Actions job of acme/infra on main.
func ciClaims(extra map[string]any) map[string]any {
	c := map[string]any{
		"aud": testAudience, "sub": "repo:acme/infra:ref:refs/heads/main", "repository": "acme/infra",
		"ref": "refs/heads/main", "workflow": "apply", "run_id": json.Number("9876543210123"),
		"job_workflow_ref": "acme/infra/.github/workflows/apply.yml@refs/heads/main", "environment": "prod",
	}
	for k, v := range extra {
		c[k] = v
	}
	return c
}

func setupFederation(t *testing.T, h *harness, rule api.FederationRuleCreate) fedSetup {
	t.Helper()
	ctx := context.Background()
	iss := federationtest.NewIssuer(t)
	p, err := h.admin.CreateIdentityProvider(ctx, api.IdentityProviderCreate{Name: "github", Issuer: iss.URL(), Audiences: []string{testAudience}})
	if err != nil {
		t.Fatalf("create identity provider: %v", err)
	}
	rule.IdentityProviderID = p.ID
	if rule.Name == "" {
		rule.Name = "ci-apply"
	}
	if rule.Role == "" {
		rule.Role = api.RoleEditor
	}
	if rule.Conditions == nil {
		rule.Conditions = map[string]string{"repository": "acme/infra", "ref": "refs/heads/*"}
	}
	r, err := h.admin.CreateFederationRule(ctx, rule)
	if err != nil {
		t.Fatalf("create federation rule: %v", err)
	}
	return fedSetup{iss: iss, provider: p, rule: r}
}

// exchange posts the token exchange form and returns the raw answer.
func (h *harness) exchange(ruleID, token string, extra ...string) rawResponse {
	h.t.Helper()
	form := url.Values{"grant_type": {api.GrantTypeTokenExchange}, "subject_token": {token},
		"subject_token_type": {api.TokenTypeJWT}, "federation_rule": {ruleID}}
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] == "" {
			form.Del(extra[i])
		} else {
			form.Set(extra[i], extra[i+1])
		}
	}
	req, err := http.NewRequest(http.MethodPost, h.ts.URL+"/v1/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := h.ts.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return rawResponse{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// exchanged exchanges token and fails the test unless a token comes back.
func (h *harness) exchanged(ruleID, token string) api.TokenExchangeResponse {
	h.t.Helper()
	r := h.exchange(ruleID, token)
	if r.Status != 200 {
		h.t.Fatalf("exchange: %d %s", r.Status, r.Body)
	}
	var out api.TokenExchangeResponse
	if err := json.Unmarshal(r.Body, &out); err != nil {
		h.t.Fatal(err)
	}
	h.remember(out.AccessToken)
	h.remember(token)
	return out
}

func oauthErrorOf(t *testing.T, r rawResponse) api.OAuthError {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("status %d: Content-Type %q, want application/json; body %s", r.Status, ct, r.Body)
	}
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("Cache-Control %q, want no-store", cc)
	}
	var e api.OAuthError
	if err := json.Unmarshal(r.Body, &e); err != nil || e.Error == "" {
		t.Fatalf("status %d: not an RFC 6749 error: %v: %s", r.Status, err, r.Body)
	}
	return e
}

func auditEvents(t *testing.T, h *harness) []api.AuditEvent {
	t.Helper()
	var out []api.AuditEvent
	var after int64
	for {
		page, err := h.admin.ListAuditEvents(context.Background(), after, 500)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Items...)
		if page.NextPageToken == "" || len(page.Items) == 0 {
			return out
		}
		after = page.Items[len(page.Items)-1].ID
	}
}

// TestTokenExchangeRefusals: every way a subject token can be wrong is refused with the same
// invalid_grant answer, which never says which check failed; the server log and an audit event in
// the rule's organisation say which, and neither holds the token.
func TestTokenExchangeRefusals(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		h := newHarness(t, withFederationTest(), noAuthLimit())
		f := setupFederation(t, h, api.FederationRuleCreate{})
		people, err := h.admin.CreateIdentityProvider(context.Background(), api.IdentityProviderCreate{
			Name: "sso", Issuer: f.iss.URL(), Audiences: []string{testAudience}, ClientID: "console"})
		if err != nil {
			t.Fatal(err)
		}
		peopleRule, err := h.admin.CreateFederationRule(context.Background(), api.FederationRuleCreate{Name: "staff", IdentityProviderID: people.ID,
			Kind: api.FederationPeople, Role: api.RoleAdmin, Conditions: map[string]string{"repository": "acme/*"}})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		cases := []struct {
			name, rule, token, check, reason string
		}{
			{"wrong iss", f.rule.ID, f.iss.Mint(ciClaims(map[string]any{"iss": "https://token.actions.githubusercontent.com"})), "subject_token", "iss"},
			{"wrong aud", f.rule.ID, f.iss.Mint(ciClaims(map[string]any{"aud": "https://other.example.test"})), "subject_token", "aud"},
			{"expired", f.rule.ID, f.iss.Mint(ciClaims(map[string]any{"iat": now.Add(-time.Hour).Unix(), "exp": now.Add(-10 * time.Minute).Unix()})), "subject_token", "expired"},
			{"no exp", f.rule.ID, f.iss.Mint(ciClaims(map[string]any{"exp": nil})), "subject_token", "exp"},
			{"valid for more than 24 h", f.rule.ID, f.iss.Mint(ciClaims(map[string]any{"exp": now.Add(48 * time.Hour).Unix()})), "subject_token", "24h"},
			{"alg none", f.rule.ID, f.iss.MintAlgNone(ciClaims(nil)), "subject_token", "algorithm"},
			{"HS256 signed with the public key", f.rule.ID, f.iss.MintHS256WithPublicKey(ciClaims(nil)), "subject_token", "algorithm"},
			{"unknown kid", f.rule.ID, f.iss.MintWithUnknownKid(ciClaims(nil)), "subject_token", "kid"},
			{"no matching conditions", f.rule.ID, f.iss.Mint(ciClaims(map[string]any{"repository": "mallory/infra"})), "conditions", "conditions"},
			{"people rule at the exchange", peopleRule.ID, f.iss.Mint(ciClaims(nil)), "kind", "people"},
			{"unknown rule", "fr_doesnotexist", f.iss.Mint(ciClaims(nil)), "", "no such federation rule"},
		}
		var description string
		for _, tc := range cases {
			h.remember(tc.token)
			r := h.exchange(tc.rule, tc.token)
			if r.Status != http.StatusBadRequest {
				t.Fatalf("%s: status %d, want 400: %s", tc.name, r.Status, r.Body)
			}
			e := oauthErrorOf(t, r)
			if e.Error != "invalid_grant" {
				t.Errorf("%s: error %q, want invalid_grant", tc.name, e.Error)
			}
			if description == "" {
				description = e.ErrorDescription
			} else if e.ErrorDescription != description {
				t.Errorf("%s: the description differs from another refusal's, so it tells checks apart: %q", tc.name, e.ErrorDescription)
			}
		}
		// Each refusal in a rule's organisation is an audit event naming the check; the unknown rule
		// has no organisation to record it in.
		var refused []api.AuditEvent
		for _, e := range auditEvents(t, h) {
			if e.Action == "token_exchange_refused" {
				refused = append(refused, e)
			}
		}
		if len(refused) != len(cases)-1 {
			t.Fatalf("%d token_exchange_refused events, want %d: %+v", len(refused), len(cases)-1, refused)
		}
		for i, e := range refused {
			tc := cases[i]
			if len(e.Fields) != 1 || e.Fields[0] != tc.check || e.ObjectID != tc.rule || !strings.Contains(e.Detail, tc.reason) {
				t.Errorf("%s: audit event %+v, want check %s on %s with a detail that says %q", tc.name, e, tc.check, tc.rule, tc.reason)
			}
			if !logHas(h, "token exchange refused", tc.rule, e.Detail) {
				t.Errorf("%s: no log line says why (%q)", tc.name, e.Detail)
			}
			if tc.check == "conditions" && e.ActorClaims["repository"] != "mallory/infra" {
				t.Errorf("%s: the refused token's verified claims are not recorded: %+v", tc.name, e.ActorClaims)
			}
			if tc.check == "subject_token" && len(e.ActorClaims) != 0 {
				t.Errorf("%s: claims of a token that did not verify are recorded as if they were true: %+v", tc.name, e.ActorClaims)
			}
		}

		if !logHas(h, "token exchange refused", "fr_doesnotexist", "no such federation rule") {
			t.Error("no log line says the unknown rule was refused")
		}
		// Malformed requests are invalid_request (or unsupported_grant_type), never a token.
		good := f.iss.Mint(ciClaims(nil))
		h.remember(good)
		for _, bad := range []struct {
			name, code string
			extra      []string
		}{
			{"no grant_type", "invalid_request", []string{"grant_type", ""}},
			{"another grant", "unsupported_grant_type", []string{"grant_type", "client_credentials"}},
			{"another token type", "invalid_request", []string{"subject_token_type", "urn:ietf:params:oauth:token-type:saml2"}},
			{"no rule", "invalid_request", []string{"federation_rule", ""}},
			{"delegation", "invalid_request", []string{"actor_token", "x.y.z"}},
		} {
			r := h.exchange(f.rule.ID, good, bad.extra...)
			if e := oauthErrorOf(t, r); r.Status != 400 || e.Error != bad.code {
				t.Errorf("%s: %d %s, want 400 %s", bad.name, r.Status, r.Body, bad.code)
			}
		}
		// A token in the URL would end up in access logs and histories: refused, body or not.
		r := h.do(http.MethodPost, "/v1/oauth/token?subject_token="+url.QueryEscape(good), "", nil, "Content-Type", "application/x-www-form-urlencoded")
		if e := oauthErrorOf(t, r); r.Status != 400 || e.Error != "invalid_request" {
			t.Errorf("token in the query: %d %s", r.Status, r.Body)
		}
		// JSON is not a form.
		r = h.do(http.MethodPost, "/v1/oauth/token", "", []byte(`{"grant_type":"x"}`))
		if e := oauthErrorOf(t, r); r.Status != 400 || e.Error != "invalid_request" {
			t.Errorf("JSON body: %d %s", r.Status, r.Body)
		}

		seedSealedSecret(t, h)
		// The same token is accepted by the right rule: the refusals were about the checks.
		if out := h.exchanged(f.rule.ID, good); !strings.HasPrefix(out.AccessToken, service.ExchangedTokenPrefix) {
			t.Errorf("exchanged token %q lacks the %s prefix", out.AccessToken[:4], service.ExchangedTokenPrefix)
		}
		h.scanForSecrets() // no subject token, no exchanged token in the database or the log
	})
}

// TestTokenExchangeScopedToken: an exchanged token acts with its rule's role, only in the rule's
// project; what it does is audited with the rule and the subject's claims as its actor, and the token
// itself is in no answer but the exchange's, no log line and no audit event.
func TestTokenExchangeScopedToken(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		h := newHarness(t, withFederationTest())
		proj, err := h.admin.CreateProject(ctx, api.ProjectCreate{Name: "ml"})
		if err != nil {
			t.Fatal(err)
		}
		other, err := h.admin.CreateProject(ctx, api.ProjectCreate{Name: "web"})
		if err != nil {
			t.Fatal(err)
		}
		noVerify := false
		orgCred, err := h.admin.CreateCredential(ctx, api.CredentialCreate{Name: "org-key", Provider: "openai", APIKey: ptr(h.secret("sk-")), Verify: &noVerify})
		if err != nil {
			t.Fatal(err)
		}
		otherCred, err := h.admin.CreateCredential(ctx, api.CredentialCreate{Name: "web-key", Provider: "openai", ProjectID: other.ID, APIKey: ptr(h.secret("sk-")), Verify: &noVerify})
		if err != nil {
			t.Fatal(err)
		}
		f := setupFederation(t, h, api.FederationRuleCreate{ProjectID: proj.ID, TokenTTL: "10m"})
		subject := f.iss.Mint(ciClaims(nil))
		r := h.exchange(f.rule.ID, subject)
		if r.Status != 200 || r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("exchange: %d %v %s", r.Status, r.Header, r.Body)
		}
		var out api.TokenExchangeResponse
		if err := json.Unmarshal(r.Body, &out); err != nil {
			t.Fatal(err)
		}
		h.remember(out.AccessToken)
		h.remember(subject)
		if out.TokenType != "Bearer" || out.IssuedTokenType != api.TokenTypeAccessToken || out.ExpiresIn < 590 || out.ExpiresIn > 600 {
			t.Errorf("answer %+v, want a Bearer access token for about 600 s", out)
		}
		ci := h.client(out.AccessToken)
		who, err := ci.WhoAmI(ctx)
		if err != nil || who.Role != api.RoleEditor || who.ProjectID != proj.ID || !strings.Contains(who.Actor, "repo:acme/infra:ref:refs/heads/main") || !strings.Contains(who.Actor, "ci-apply") {
			t.Fatalf("whoami = %+v, %v", who, err)
		}

		// In its project: read, create, change.
		cred, err := ci.CreateCredential(ctx, api.CredentialCreate{Name: "ml-key", Provider: "openai", ProjectID: proj.ID, APIKey: ptr(h.secret("sk-")), Verify: &noVerify})
		if err != nil {
			t.Fatalf("create in its project: %v", err)
		}
		if _, err := ci.GetProject(ctx, proj.ID); err != nil {
			t.Errorf("read its project: %v", err)
		}
		list, err := ci.ListCredentials(ctx, client.CredentialListOptions{})
		if err != nil || len(list.Items) != 1 || list.Items[0].ID != cred.ID {
			t.Errorf("its credential list = %+v, %v; want only %s", list, err, cred.ID)
		}
		// Outside it: another project's and the organisation's objects do not exist for it, and it
		// cannot write there.
		for _, id := range []string{orgCred.ID, otherCred.ID} {
			if _, err := ci.GetCredential(ctx, id); !client.IsNotFound(err) {
				t.Errorf("credential %s outside its project: %v, want 404", id, err)
			}
			if _, err := ci.UpdateCredential(ctx, id, api.CredentialPatch{Description: ptr("x")}, 0); !client.IsNotFound(err) {
				t.Errorf("update of credential %s outside its project: %v, want 404", id, err)
			}
			if err := ci.DeleteCredential(ctx, id, 0); !client.IsNotFound(err) {
				t.Errorf("delete of credential %s outside its project: %v, want 404", id, err)
			}
		}
		if _, err := ci.GetProject(ctx, other.ID); !client.IsNotFound(err) {
			t.Errorf("another project: %v, want 404", err)
		}
		if _, err := ci.CreateCredential(ctx, api.CredentialCreate{Name: "x", Provider: "openai", APIKey: ptr(h.secret("sk-")), Verify: &noVerify}); !client.IsForbidden(err) {
			t.Errorf("create in the organisation scope: %v, want 403", err)
		}
		if _, err := ci.CreateCredential(ctx, api.CredentialCreate{Name: "x", Provider: "openai", ProjectID: other.ID, APIKey: ptr(h.secret("sk-")), Verify: &noVerify}); !client.IsForbidden(err) {
			t.Errorf("create in another project: %v, want 403", err)
		}
		if _, err := ci.ListCredentials(ctx, client.CredentialListOptions{ProjectID: other.ID}); !client.IsForbidden(err) {
			t.Errorf("list another project: %v, want 403", err)
		}
		if _, err := ci.UpdateProject(ctx, proj.ID, api.ProjectPatch{Description: ptr("x")}, 0); !client.IsForbidden(err) {
			t.Errorf("change its project: %v, want 403 (read-only to it)", err)
		}
		if _, err := ci.GetModelPolicy(ctx, ""); !client.IsForbidden(err) {
			t.Errorf("the organisation's model policy: %v, want 403", err)
		}
		if _, err := ci.GetModelPolicy(ctx, proj.ID); err != nil {
			t.Errorf("its project's model policy: %v", err)
		}
		if _, err := ci.ListAuditEvents(ctx, 0, 10); !client.IsForbidden(err) {
			t.Errorf("the organisation's audit log: %v, want 403", err)
		}
		if _, err := ci.ListIdentityProviders(ctx, client.IdentityProviderListOptions{}); !client.IsForbidden(err) {
			t.Errorf("identity providers: %v, want 403", err)
		}
		if _, err := ci.CreateConnection(ctx, api.ConnectionCreate{Name: "c", CredentialID: orgCred.ID, Model: "gpt-4o", ProjectID: proj.ID}); !client.IsNotFound(err) {
			t.Errorf("a connection through an organisation credential: %v, want 404 (not visible to it)", err)
		}

		// The audit log names the rule and the subject's claims as the actor of what it did.
		var created *api.AuditEvent
		for _, e := range auditEvents(t, h) {
			if e.Action == "create" && e.ObjectID == cred.ID {
				created = &e
			}
		}
		if created == nil {
			t.Fatal("no audit event for the credential the exchanged token created")
		}
		want := map[string]string{"sub": "repo:acme/infra:ref:refs/heads/main", "repository": "acme/infra", "ref": "refs/heads/main",
			"workflow": "apply", "run_id": "9876543210123", "environment": "prod", "job_workflow_ref": "acme/infra/.github/workflows/apply.yml@refs/heads/main"}
		if created.ActorFederationRule != f.rule.ID {
			t.Errorf("actor_federation_rule = %q, want %s", created.ActorFederationRule, f.rule.ID)
		}
		for k, v := range want {
			if created.ActorClaims[k] != v {
				t.Errorf("actor_claims[%s] = %q, want %q (all: %v)", k, created.ActorClaims[k], v, created.ActorClaims)
			}
		}
		b, _ := json.Marshal(auditEvents(t, h))
		if strings.Contains(string(b), out.AccessToken) || strings.Contains(string(b), subject) {
			t.Error("an audit event holds a token")
		}
		h.scanForSecrets() // the log (captured slog output) and the database hold neither token
	})
}

// TestExchangedTokenEndsWithItsRule: a change of the rule, or its deletion, or a change of its
// identity provider, ends the tokens issued under it at once, also with the token cache on; a
// provider that rules trust is not deleted.
func TestExchangedTokenEndsWithItsRule(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		h := newHarness(t, withFederationTest(func(c *service.Config) { c.TokenCacheTTL = time.Minute }))
		f := setupFederation(t, h, api.FederationRuleCreate{})
		ci := h.client(h.exchanged(f.rule.ID, f.iss.Mint(ciClaims(nil))).AccessToken)
		if _, err := ci.WhoAmI(ctx); err != nil {
			t.Fatalf("fresh token: %v", err)
		}
		// A change of the rule (here only its ttl) ends the token, cached or not.
		rule, err := h.admin.UpdateFederationRule(ctx, f.rule.ID, api.FederationRulePatch{TokenTTL: ptr("5m")}, f.rule.Version)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ci.WhoAmI(ctx); !client.IsUnauthorized(err) {
			t.Errorf("token of a changed rule: %v, want 401", err)
		}
		// A new token under the changed rule works, until the rule is deleted mid-run.
		ci = h.client(h.exchanged(rule.ID, f.iss.Mint(ciClaims(nil))).AccessToken)
		if _, err := ci.ListCredentials(ctx, client.CredentialListOptions{}); err != nil {
			t.Fatalf("token of the changed rule: %v", err)
		}
		// A change of the provider's trust (here a second audience) ends the tokens verified under
		// the old one, too.
		if _, err := h.admin.UpdateIdentityProvider(ctx, f.provider.ID, api.IdentityProviderPatch{Audiences: &[]string{testAudience, "https://other.example.test"}}, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := ci.ListCredentials(ctx, client.CredentialListOptions{}); !client.IsUnauthorized(err) {
			t.Errorf("token verified with a changed provider: %v, want 401", err)
		}
		ci = h.client(h.exchanged(rule.ID, f.iss.Mint(ciClaims(nil))).AccessToken)
		if _, err := ci.ListCredentials(ctx, client.CredentialListOptions{}); err != nil {
			t.Fatalf("token of the changed provider: %v", err)
		}
		if err := h.admin.DeleteIdentityProvider(ctx, f.provider.ID, 0); !client.IsConflict(err) || !strings.Contains(err.Error(), rule.ID) {
			t.Errorf("delete of a provider a rule trusts: %v, want 409 naming %s", err, rule.ID)
		}
		if err := h.admin.DeleteFederationRule(ctx, rule.ID, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := ci.ListCredentials(ctx, client.CredentialListOptions{}); !client.IsUnauthorized(err) {
			t.Errorf("token of a deleted rule: %v, want 401", err)
		}
		if err := h.admin.DeleteIdentityProvider(ctx, f.provider.ID, 0); err != nil {
			t.Errorf("delete of a provider no rule trusts: %v", err)
		}
	})
}

// TestExchangedTokenEndsOnEveryReplica: behind a load balancer, a change on one replica ends the
// token on the others (without a token cache; with one, within its TTL).
func TestExchangedTokenEndsOnEveryReplica(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t, withReplicas(2), withFederationTest())
	f := setupFederation(t, h, api.FederationRuleCreate{})
	ci := h.client(h.exchanged(f.rule.ID, f.iss.Mint(ciClaims(nil))).AccessToken)
	for range 4 { // round robin: both replicas accept it
		if _, err := ci.WhoAmI(ctx); err != nil {
			t.Fatalf("fresh token: %v", err)
		}
	}
	if _, err := h.admin.UpdateFederationRule(ctx, f.rule.ID, api.FederationRulePatch{Conditions: &map[string]string{"repository": "acme/infra"}}, 0); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		if _, err := ci.WhoAmI(ctx); !client.IsUnauthorized(err) {
			t.Fatalf("token of a changed rule on a replica: %v, want 401", err)
		}
	}
}

// TestTokenExchangeFollowsKeyRotation: the issuer rotates its key; a token of the new key is
// accepted without a restart (its unknown kid makes the server fetch the keys again) and a token of
// the withdrawn key no longer is.
func TestTokenExchangeFollowsKeyRotation(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		h := newHarness(t, withFederationTest(), noAuthLimit())
		f := setupFederation(t, h, api.FederationRuleCreate{})
		old := f.iss.Mint(ciClaims(nil))
		h.exchanged(f.rule.ID, old)
		fetches := f.iss.JWKSFetches()
		f.iss.RotateKey()
		time.Sleep(5 * time.Millisecond) // past the test verifier's refetch interval
		h.exchanged(f.rule.ID, f.iss.Mint(ciClaims(nil)))
		if f.iss.JWKSFetches() <= fetches {
			t.Errorf("the new kid did not make the server fetch the keys again")
		}
		time.Sleep(5 * time.Millisecond)
		if r := h.exchange(f.rule.ID, old); r.Status != 400 {
			t.Errorf("token of the withdrawn key: %d %s, want 400", r.Status, r.Body)
		}
	})
}

// TestTokenExchangeFailedAuthLimit: refused exchanges use up the client address's failed
// authentications, as wrong tokens do; then even a good exchange gets 429 with Retry-After.
func TestTokenExchangeFailedAuthLimit(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		l := service.DefaultLimits()
		l.AuthFailures, l.AuthFailureRefill = 3, 0.001
		h := newHarness(t, withFederationTest(), withLimits(l))
		f := setupFederation(t, h, api.FederationRuleCreate{})
		good := f.iss.Mint(ciClaims(nil))
		h.exchanged(f.rule.ID, good) // a success uses nothing up
		for i := range 3 {
			if r := h.exchange(f.rule.ID, f.iss.MintWithUnknownKid(ciClaims(nil))); r.Status != 400 {
				t.Fatalf("refusal %d: %d %s", i, r.Status, r.Body)
			}
		}
		r := h.exchange(f.rule.ID, good)
		if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
			t.Fatalf("after 3 refusals: %d %v %s, want 429 with Retry-After", r.Status, r.Header, r.Body)
		}
		oauthErrorOf(t, r)
		// The API's token check shares the bucket.
		if resp := h.do(http.MethodGet, "/v1/whoami", h.tokens["admin"], nil); resp.Status != http.StatusTooManyRequests {
			t.Errorf("API request from the same address: %d, want 429", resp.Status)
		}
	})
}

// TestFederationAdminRules: only admins of the whole organisation manage trust; the fields are
// checked with field errors; the client secret is write-only.
func TestFederationAdminRules(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		h := newHarness(t) // serve's default egress policy: loopback refused
		if _, err := h.editor.CreateIdentityProvider(ctx, api.IdentityProviderCreate{Name: "x", Issuer: "https://idp.example.test", Audiences: []string{"a"}}); !client.IsForbidden(err) {
			t.Errorf("editor creates a provider: %v, want 403", err)
		}
		if _, err := h.viewer.ListFederationRules(ctx, client.FederationRuleListOptions{}); !client.IsForbidden(err) {
			t.Errorf("viewer lists rules: %v, want 403", err)
		}
		for _, tc := range []struct {
			name, field string
			in          api.IdentityProviderCreate
		}{
			{"http issuer", "issuer", api.IdentityProviderCreate{Name: "a", Issuer: "http://idp.example.test"}},
			{"loopback issuer the egress policy refuses", "issuer", api.IdentityProviderCreate{Name: "a", Issuer: "http://127.0.0.1:9"}},
			{"issuer with a query", "issuer", api.IdentityProviderCreate{Name: "a", Issuer: "https://idp.example.test/?x=1"}},
			{"private key in jwks_json", "jwks_json", api.IdentityProviderCreate{Name: "a", Issuer: "https://idp.example.test",
				JWKSJSON: `{"keys":[{"kty":"oct","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQ","kid":"k"}]}`}},
			{"not a key set", "jwks_json", api.IdentityProviderCreate{Name: "a", Issuer: "https://idp.example.test", JWKSJSON: `[1]`}},
			{"empty audience", "audiences[0]", api.IdentityProviderCreate{Name: "a", Issuer: "https://idp.example.test", Audiences: []string{""}}},
			{"secret without client", "client_secret", api.IdentityProviderCreate{Name: "a", Issuer: "https://idp.example.test", ClientSecret: ptr("a-client-secret-without-a-client")}},
			{"bad name", "name", api.IdentityProviderCreate{Name: "A B", Issuer: "https://idp.example.test"}},
		} {
			_, err := h.admin.CreateIdentityProvider(ctx, tc.in)
			if ae, ok := client.AsAPIError(err); !ok || ae.Status != 422 || len(ae.Problem.Errors) == 0 || ae.Problem.Errors[0].Field != tc.field {
				t.Errorf("%s: %v, want 422 on %s", tc.name, err, tc.field)
			}
		}
		secret := h.secret("idp-client-secret-")
		p, err := h.admin.CreateIdentityProvider(ctx, api.IdentityProviderCreate{Name: "sso", Issuer: "https://idp.example.test",
			Audiences: []string{"modelkeys"}, ClientID: "console", ClientSecret: &secret})
		if err != nil || !p.HasClientSecret {
			t.Fatalf("create with a client secret: %+v, %v", p, err)
		}
		if _, err := h.admin.CreateIdentityProvider(ctx, api.IdentityProviderCreate{Name: "sso", Issuer: "https://other.example.test"}); !client.IsConflict(err) {
			t.Errorf("a second provider named sso: %v, want 409", err)
		}
		proj, err := h.admin.CreateProject(ctx, api.ProjectCreate{Name: "ml"})
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name, field string
			in          api.FederationRuleCreate
		}{
			{"admin for a workload rule", "role", api.FederationRuleCreate{Role: api.RoleAdmin}},
			{"wildcards only", "conditions", api.FederationRuleCreate{Conditions: map[string]string{"sub": "*"}}},
			{"no conditions", "conditions", api.FederationRuleCreate{Conditions: map[string]string{}}},
			{"ttl over an hour", "token_ttl", api.FederationRuleCreate{TokenTTL: "2h"}},
			{"ttl not a duration", "token_ttl", api.FederationRuleCreate{TokenTTL: "15 minutes"}},
			{"unknown kind", "kind", api.FederationRuleCreate{Kind: "robots"}},
			{"missing project", "project_id", api.FederationRuleCreate{ProjectID: "proj_missing"}},
			{"missing provider", "identity_provider_id", api.FederationRuleCreate{IdentityProviderID: "idp_missing"}},
			{"missing credential", "credentials[0]", api.FederationRuleCreate{Credentials: []string{"cred_missing"}}},
			{"star with ids", "credentials[0]", api.FederationRuleCreate{Credentials: []string{"*", "cred_x"}}},
		} {
			in := tc.in
			in.Name = "r"
			if in.IdentityProviderID == "" {
				in.IdentityProviderID = p.ID
			}
			if in.Role == "" {
				in.Role = api.RoleViewer
			}
			if in.Conditions == nil {
				in.Conditions = map[string]string{"sub": "repo:acme/*"}
			}
			_, err := h.admin.CreateFederationRule(ctx, in)
			if ae, ok := client.AsAPIError(err); !ok || ae.Status != 422 || len(ae.Problem.Errors) == 0 || ae.Problem.Errors[0].Field != tc.field {
				t.Errorf("%s: %v, want 422 on %s", tc.name, err, tc.field)
			}
		}
		r, err := h.admin.CreateFederationRule(ctx, api.FederationRuleCreate{Name: "staff", IdentityProviderID: p.ID, Kind: api.FederationPeople,
			Role: api.RoleAdmin, Conditions: map[string]string{"groups": "platform"}, ProjectID: proj.ID})
		if err != nil || r.TokenTTL != "15m" || r.Version != 1 {
			t.Fatalf("people rule: %+v, %v", r, err)
		}
		if _, err := h.admin.UpdateFederationRule(ctx, r.ID, api.FederationRulePatch{Role: ptr(api.RoleViewer)}, 7); !client.IsPreconditionFailed(err) {
			t.Errorf("stale If-Match: %v, want 412", err)
		}
		// The project a rule confines its tokens to is not deleted under it; client_id is kept
		// while people rules need it.
		if err := h.admin.DeleteProject(ctx, proj.ID, 0); !client.IsConflict(err) || !strings.Contains(err.Error(), r.ID) {
			t.Errorf("delete of a project a rule names: %v, want 409 naming %s", err, r.ID)
		}
		if _, err := h.admin.UpdateIdentityProvider(ctx, p.ID, api.IdentityProviderPatch{ClientID: ptr(""), ClientSecret: ptr("")}, 0); !client.IsConflict(err) {
			t.Errorf("removing client_id under a people rule: %v, want 409", err)
		}
		// Every change is audited, never with the secret's value.
		var kinds []string
		for _, e := range auditEvents(t, h) {
			if e.ObjectType == "identity_provider" || e.ObjectType == "federation_rule" {
				kinds = append(kinds, e.ObjectType+":"+e.Action)
			}
		}
		if strings.Join(kinds, ",") != "identity_provider:create,federation_rule:create" {
			t.Errorf("audit events %v", kinds)
		}
		got, err := h.admin.GetIdentityProvider(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(got)
		if strings.Contains(string(b), secret) {
			t.Error("the client secret is in the provider's answer")
		}
		seedSealedSecret(t, h)
		// The console's sign-in reads it back, opened.
		if plain, err := h.srv.Service().IdentityProviderClientSecret(ctx, mustOrg(t, h), p.ID); err != nil || plain != secret {
			t.Errorf("IdentityProviderClientSecret = %v (ok=%v)", err, plain == secret)
		}
		h.scanForSecrets()
	})
}

// mustOrg is acme's organisation id.
func mustOrg(t *testing.T, h *harness) string {
	t.Helper()
	who, err := h.admin.WhoAmI(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return who.OrganizationID
}

// seedSealedSecret stores a credential with a key, so that the leak scan has sealed rows to look
// through beside the tokens and client secrets under test.
func seedSealedSecret(t *testing.T, h *harness) {
	t.Helper()
	noVerify := false
	if _, err := h.admin.CreateCredential(context.Background(), api.CredentialCreate{Name: "seed", Provider: "openai", APIKey: ptr(h.secret("sk-")), Verify: &noVerify}); err != nil {
		t.Fatal(err)
	}
}

// logHas reports whether one line of the server's JSON log has msg and every one of values among its
// attributes.
func logHas(h *harness, msg string, values ...string) bool {
	for _, line := range strings.Split(h.logs.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil || rec["msg"] != msg {
			continue
		}
		found := 0
		for _, v := range values {
			for _, a := range rec {
				if s, ok := a.(string); ok && s == v {
					found++
					break
				}
			}
		}
		if found == len(values) {
			return true
		}
	}
	return false
}

// TestFederatedSessionEndsWithItsRule: the console's sessions from people rules are exchanged tokens
// (IssueFederatedToken), so they carry the rule's role (admin is allowed there) and scope, and end
// when the rule changes, as the API's do.
func TestFederatedSessionEndsWithItsRule(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		h := newHarness(t, withFederationTest())
		svc := h.srv.Service()
		iss := federationtest.NewIssuer(t)
		p, err := h.admin.CreateIdentityProvider(ctx, api.IdentityProviderCreate{Name: "sso", Issuer: iss.URL(), ClientID: "console"})
		if err != nil {
			t.Fatal(err)
		}
		rule, err := h.admin.CreateFederationRule(ctx, api.FederationRuleCreate{Name: "platform", IdentityProviderID: p.ID, Kind: api.FederationPeople,
			Role: api.RoleAdmin, Conditions: map[string]string{"groups": "platform"}})
		if err != nil {
			t.Fatal(err)
		}
		claims := federation.Claims{"sub": "user-42", "email": "dev@example.com", "groups": []any{"platform"}}
		value, pr, expires, err := svc.IssueFederatedToken(ctx, mustOrg(t, h), *rule, p.Version, claims)
		if err != nil {
			t.Fatal(err)
		}
		h.remember(value)
		if pr.Role != api.RoleAdmin || pr.FederationRuleID != rule.ID || pr.Claims["email"] != "dev@example.com" || time.Until(expires) > 15*time.Minute {
			t.Errorf("principal %+v, expires %v", pr, expires)
		}
		// The console keeps the hash of the session's token, not the token.
		got, err := svc.PrincipalOfTokenHash(ctx, service.HashToken(value))
		if err != nil || got.Role != api.RoleAdmin || got.OrgID != pr.OrgID {
			t.Fatalf("session principal = %+v, %v", got, err)
		}
		if _, err := h.admin.UpdateFederationRule(ctx, rule.ID, api.FederationRulePatch{Role: ptr(api.RoleViewer)}, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.PrincipalOfTokenHash(ctx, service.HashToken(value)); err == nil {
			t.Error("a session of a changed rule still signs in")
		}
		var signIns int
		for _, e := range auditEvents(t, h) {
			if e.Action == "sign_in" && e.ActorFederationRule == rule.ID && e.ActorClaims["sub"] == "user-42" {
				signIns++
			}
		}
		if signIns != 1 {
			t.Errorf("%d sign_in audit events, want 1", signIns)
		}
	})
}

// TestTokenExchangeWithUploadedKeys: a provider with jwks_json verifies with the uploaded keys and
// never fetches discovery or keys from the issuer.
func TestTokenExchangeWithUploadedKeys(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		h := newHarness(t, withFederationTest())
		iss := federationtest.NewIssuer(t)
		p, err := h.admin.CreateIdentityProvider(ctx, api.IdentityProviderCreate{Name: "gitlab", Issuer: iss.URL(),
			Audiences: []string{testAudience}, JWKSJSON: iss.JWKSJSON()})
		if err != nil {
			t.Fatal(err)
		}
		rule, err := h.admin.CreateFederationRule(ctx, api.FederationRuleCreate{Name: "ci", IdentityProviderID: p.ID, Role: api.RoleViewer,
			Conditions: map[string]string{"namespace_path": "acme", "ref": "main"}})
		if err != nil {
			t.Fatal(err)
		}
		out := h.exchanged(rule.ID, iss.Mint(map[string]any{"aud": testAudience, "sub": "project_path:acme/infra:ref_type:branch:ref:main",
			"namespace_path": "acme", "ref": "main"}))
		who, err := h.client(out.AccessToken).WhoAmI(ctx)
		if err != nil || who.Role != api.RoleViewer {
			t.Fatalf("whoami = %+v, %v", who, err)
		}
		if iss.JWKSFetches()+iss.DiscoveryFetches() != 0 {
			t.Errorf("the issuer was asked for keys %d times and discovery %d times; uploaded keys need neither", iss.JWKSFetches(), iss.DiscoveryFetches())
		}
	})
}
