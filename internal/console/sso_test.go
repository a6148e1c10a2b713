package console_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/console"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/federation"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/federation/federationtest"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/verify"
)

const (
	ssoClientID     = "modelkeys-console"
	ssoClientSecret = "console-client-secret-5c4b3a29180716253443SECRET"
	ssoEmail        = "dana@acme.example"
)

type ssoEnv struct {
	*harness
	iss      *federationtest.Issuer
	provider api.IdentityProvider
	rule     api.FederationRule
}

// newSSOEnv starts a loopback issuer, a server whose egress policy opens loopback, an identity
// provider with a client_id and secret, and a people rule giving viewers to acme.example addresses.
func newSSOEnv(t *testing.T, opts ...func(*harnessOptions)) *ssoEnv {
	t.Helper()
	iss := federationtest.NewIssuer(t)
	iss.RegisterClient(ssoClientID, ssoClientSecret)
	iss.SignInAs(map[string]any{"sub": "user-dana", "email": ssoEmail, "groups": []string{"staff"}})
	all := append([]func(*harnessOptions){func(o *harnessOptions) {
		o.config = func(c *service.Config) {
			c.Egress = verify.ServerEgress([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")})
			c.Federation = federation.NewVerifier(iss.Client())
		}
		o.console.SSO.HTTPClient = iss.Client()
	}}, opts...)
	h := newHarness(t, all...)
	env := &ssoEnv{harness: h, iss: iss}
	ctx, svc := context.Background(), h.srv.Service()
	var err error
	secret := ssoClientSecret
	env.provider, _, err = svc.CreateIdentityProvider(ctx, h.admin, api.IdentityProviderCreate{
		Name: "acme-sso", Issuer: iss.URL(), Audiences: []string{"modelkeys"}, ClientID: ssoClientID, ClientSecret: &secret}, nil)
	if err != nil {
		t.Fatalf("identity provider: %v", err)
	}
	env.rule = env.addRule("staff", map[string]string{"email": "*@acme.example"}, api.RoleViewer)
	return env
}

func (e *ssoEnv) addRule(name string, cond map[string]string, role string) api.FederationRule {
	e.t.Helper()
	r, _, err := e.srv.Service().CreateFederationRule(context.Background(), e.admin, api.FederationRuleCreate{
		Name: name, IdentityProviderID: e.provider.ID, Kind: api.FederationPeople, Conditions: cond, Role: role}, nil)
	if err != nil {
		e.t.Fatalf("rule %s: %v", name, err)
	}
	return r
}

func (h *harness) secretValuesSSO() []string {
	return []string{ssoClientSecret, ssoClientSecret[10:40]}
}

// getURL follows an absolute URL (the identity provider's) with the browser's cookies.
func (b *browser) getURL(u string) answer {
	b.h.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return b.do(req)
}

// start opens the sign-in link and returns the authorization request it redirects to.
func (e *ssoEnv) start(b *browser) *url.URL {
	e.t.Helper()
	a := b.get("/ui/login/oidc/" + e.provider.ID)
	if a.status != http.StatusSeeOther {
		e.t.Fatalf("start: %d\n%s", a.status, a.body)
	}
	u, err := url.Parse(a.header.Get("Location"))
	if err != nil || !strings.HasPrefix(u.String(), e.iss.URL()+"/authorize?") {
		e.t.Fatalf("start redirects to %q, not the issuer's authorization endpoint", a.header.Get("Location"))
	}
	return u
}

// authorize lets the issuer sign the person in and returns the callback path (with query) it sends
// the browser back to.
func (e *ssoEnv) authorize(b *browser, authURL *url.URL) string {
	e.t.Helper()
	a := b.getURL(authURL.String())
	if a.status != http.StatusFound {
		e.t.Fatalf("authorize: %d %s", a.status, a.body)
	}
	back, err := url.Parse(a.header.Get("Location"))
	if err != nil || back.Path != "/ui/login/oidc/callback" {
		e.t.Fatalf("the issuer sends the browser to %q", a.header.Get("Location"))
	}
	return back.RequestURI()
}

// signIn runs the whole flow and returns the callback's answer.
func (e *ssoEnv) signIn(b *browser) answer {
	e.t.Helper()
	return b.get(e.authorize(b, e.start(b)))
}

func flowCookieOf(a answer) *http.Cookie {
	for _, ck := range (&http.Response{Header: a.header}).Cookies() {
		if strings.HasSuffix(ck.Name, "modelkeys_oidc") {
			return ck
		}
	}
	return nil
}

func TestConsoleSSOSignsInWithTheRulesRole(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t)
	b := e.browser()
	login := b.get("/ui/login")
	if !strings.Contains(login.body, `href="/ui/login/oidc/`+e.provider.ID+`"`) || !strings.Contains(login.body, "Sign in with acme-sso") {
		t.Fatalf("the sign-in page offers no sign-in with the provider:\n%s", login.body)
	}
	if !strings.Contains(login.body, `id="token"`) {
		t.Error("token sign-in (break-glass) is gone by default")
	}

	start := b.get("/ui/login/oidc/" + e.provider.ID)
	checkPageHeaders(t, "start", start)
	ck := flowCookieOf(start)
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.MaxAge <= 0 || ck.MaxAge > 600 {
		t.Fatalf("flow cookie %+v: want HttpOnly, SameSite=Lax, at most 10 minutes", ck)
	}
	auth, _ := url.Parse(start.header.Get("Location"))
	q := auth.Query()
	for k, want := range map[string]string{"response_type": "code", "client_id": ssoClientID, "code_challenge_method": "S256",
		"redirect_uri": e.ts.URL + "/ui/login/oidc/callback"} {
		if q.Get(k) != want {
			t.Errorf("authorization request %s = %q, want %q", k, q.Get(k), want)
		}
	}
	for _, k := range []string{"state", "nonce", "code_challenge"} {
		if len(q.Get(k)) < 43 {
			t.Errorf("authorization request %s = %q: want 256 random bits", k, q.Get(k))
		}
	}
	if !strings.Contains(" "+q.Get("scope")+" ", " openid ") {
		t.Errorf("scope %q lacks openid", q.Get("scope"))
	}
	if strings.Contains(auth.String(), ssoClientSecret) || strings.Contains(ck.Value, q.Get("state")) {
		t.Error("the authorization request holds the client secret, or the flow cookie holds the state in clear")
	}

	done := b.get(e.authorize(b, auth))
	if done.status != http.StatusOK || !signedInBy(done) || !strings.Contains(done.body, `http-equiv="refresh"`) {
		t.Fatalf("callback: %d, session cookie %v\n%s", done.status, signedInBy(done), done.body)
	}
	if c := flowCookieOf(done); c == nil || c.MaxAge >= 0 {
		t.Errorf("the callback does not clear the flow cookie: %+v", c)
	}
	for _, s := range e.secretValuesSSO() {
		if strings.Contains(done.body, s) {
			t.Error("the callback page holds the client secret")
		}
	}
	page := b.get("/ui/credentials")
	if page.status != http.StatusOK || !strings.Contains(page.body, `<span class="role">viewer</span>`) || !strings.Contains(page.body, "user-dana via federation rule staff") {
		t.Fatalf("after SSO: %d\n%s", page.status, page.body)
	}
	// A viewer session: writes are refused, as for a viewer token.
	csrf := csrfOf(t, page.body)
	if a := b.post("/ui/credentials/"+e.orgCred.ID+"/verify", url.Values{"csrf": {csrf}}); a.status != http.StatusForbidden {
		t.Errorf("a viewer SSO session verified a key: %d", a.status)
	}
	if e.iss.TokenRequests() != 1 {
		t.Errorf("token endpoint asked %d times, want 1", e.iss.TokenRequests())
	}
}

func TestConsoleSSOFirstMatchingRuleGivesTheRole(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t)
	// Rules are tried in creation order: "staff" (viewer) came first and matches, so the later admin
	// rule does not apply; a rule that matches nobody is skipped.
	e.addRule("platform-admins", map[string]string{"groups": "staff"}, api.RoleAdmin)
	b := e.browser()
	e.signIn(b)
	if page := b.get("/ui/credentials"); !strings.Contains(page.body, `<span class="role">viewer</span>`) {
		t.Fatalf("want the first matching rule's role (viewer):\n%s", page.body)
	}
	ctx := context.Background()
	if err := e.srv.Service().DeleteFederationRule(ctx, e.admin, e.rule.ID, 0); err != nil {
		t.Fatal(err)
	}
	b2 := e.browser()
	e.signIn(b2)
	if page := b2.get("/ui/credentials"); !strings.Contains(page.body, `<span class="role">admin</span>`) {
		t.Fatalf("with the viewer rule gone, the admin rule (groups contains staff) applies:\n%s", page.body)
	}
}

func TestConsoleSSORefusals(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t)

	t.Run("state differs", func(t *testing.T) {
		b := e.browser()
		back := e.authorize(b, e.start(b))
		u, _ := url.Parse(back)
		q := u.Query()
		q.Set("state", "attacker-state")
		a := b.get(u.Path + "?" + q.Encode())
		if a.status != http.StatusForbidden || signedInBy(a) || !strings.Contains(a.body, "state differs") {
			t.Fatalf("%d %v\n%s", a.status, signedInBy(a), a.body)
		}
	})

	t.Run("no flow cookie (a code sent to another browser)", func(t *testing.T) {
		b := e.browser()
		back := e.authorize(b, e.start(b))
		victim := e.browser()
		a := victim.get(back)
		if a.status != http.StatusBadRequest || signedInBy(a) || !strings.Contains(a.body, "no matching start in this browser") {
			t.Fatalf("%d %v\n%s", a.status, signedInBy(a), a.body)
		}
	})

	t.Run("replayed callback", func(t *testing.T) {
		b := e.browser()
		start := b.get("/ui/login/oidc/" + e.provider.ID)
		ck := flowCookieOf(start)
		auth, _ := url.Parse(start.header.Get("Location"))
		back := e.authorize(b, auth)
		if a := b.get(back); !signedInBy(a) {
			t.Fatalf("first callback: %d\n%s", a.status, a.body)
		}
		// The same answer again, with the flow cookie put back: refused.
		replay := e.browser()
		req, _ := http.NewRequest(http.MethodGet, e.ts.URL+back, nil)
		req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
		a := replay.do(req)
		if a.status != http.StatusForbidden || signedInBy(a) || !strings.Contains(a.body, "finished already") {
			t.Fatalf("replay: %d %v\n%s", a.status, signedInBy(a), a.body)
		}
	})

	t.Run("wrong nonce", func(t *testing.T) {
		e.iss.OnIDToken(func(c map[string]any) { c["nonce"] = "nonce-of-another-sign-in" })
		defer e.iss.OnIDToken(nil)
		b := e.browser()
		a := e.signIn(b)
		if a.status != http.StatusUnauthorized || signedInBy(a) || !strings.Contains(a.body, "nonce") {
			t.Fatalf("%d %v\n%s", a.status, signedInBy(a), a.body)
		}
	})

	t.Run("ID token for another client", func(t *testing.T) {
		e.iss.OnIDToken(func(c map[string]any) { c["aud"] = "another-app" })
		defer e.iss.OnIDToken(nil)
		a := e.signIn(e.browser())
		if a.status != http.StatusUnauthorized || signedInBy(a) || !strings.Contains(a.body, "none of the accepted audiences") {
			t.Fatalf("%d %v\n%s", a.status, signedInBy(a), a.body)
		}
	})

	t.Run("no matching rule", func(t *testing.T) {
		e.iss.SignInAs(map[string]any{"sub": "user-eve", "email": "eve@elsewhere.example", "groups": []string{"contractors"}})
		defer e.iss.SignInAs(map[string]any{"sub": "user-dana", "email": ssoEmail, "groups": []string{"staff"}})
		a := e.signIn(e.browser())
		if a.status != http.StatusForbidden || signedInBy(a) || !strings.Contains(a.body, "No access") || !strings.Contains(a.body, "user-eve") {
			t.Fatalf("%d %v\n%s", a.status, signedInBy(a), a.body)
		}
		// Only the subject is shown, no other claim.
		for _, claim := range []string{"eve@elsewhere.example", "contractors"} {
			if strings.Contains(a.body, claim) {
				t.Errorf("the refusal page shows the claim %q", claim)
			}
		}
	})

	t.Run("the identity provider refuses", func(t *testing.T) {
		e.iss.SignInAs(nil) // /authorize answers error=access_denied
		defer e.iss.SignInAs(map[string]any{"sub": "user-dana", "email": ssoEmail, "groups": []string{"staff"}})
		a := e.signIn(e.browser())
		if a.status != http.StatusUnauthorized || signedInBy(a) || !strings.Contains(a.body, "access_denied") {
			t.Fatalf("%d %v\n%s", a.status, signedInBy(a), a.body)
		}
	})

	t.Run("unknown provider", func(t *testing.T) {
		a := e.browser().get("/ui/login/oidc/idp_doesnotexist")
		if a.status != http.StatusNotFound || flowCookieOf(a) != nil {
			t.Fatalf("%d\n%s", a.status, a.body)
		}
	})
}

func TestConsoleSSOFlowExpires(t *testing.T) {
	t.Parallel()
	var now atomic.Int64
	now.Store(time.Now().Unix())
	e := newSSOEnv(t, func(o *harnessOptions) { o.console.Now = func() time.Time { return time.Unix(now.Load(), 0) } })
	b := e.browser()
	back := e.authorize(b, e.start(b))
	now.Add(11 * 60)
	if a := b.get(back); a.status != http.StatusBadRequest || signedInBy(a) {
		t.Fatalf("a callback 11 minutes after the start: %d\n%s", a.status, a.body)
	}
}

// A session opened by SSO keeps the hash of a token issued under its rule: changing or deleting the
// rule ends it at the next request.
func TestConsoleSSOSessionEndsWithItsRule(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t)
	ctx, svc := context.Background(), e.srv.Service()
	for _, tc := range []struct {
		name   string
		change func(api.FederationRule)
	}{
		{"rule changed", func(r api.FederationRule) {
			role := api.RoleEditor
			if _, err := svc.UpdateFederationRule(ctx, e.admin, r.ID, api.FederationRulePatch{Role: &role}, 0); err != nil {
				t.Fatal(err)
			}
		}},
		{"rule deleted", func(r api.FederationRule) {
			if err := svc.DeleteFederationRule(ctx, e.admin, r.ID, 0); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rule := e.addRule("rule-"+strings.ReplaceAll(tc.name, " ", "-"), map[string]string{"sub": "user-dana"}, api.RoleViewer)
			// Only this rule matches: the default one is out of the way.
			if err := svc.DeleteFederationRule(ctx, e.admin, e.rule.ID, 0); err != nil && !strings.Contains(err.Error(), "not exist") {
				t.Fatal(err)
			}
			b := e.browser()
			if a := e.signIn(b); !signedInBy(a) {
				t.Fatalf("sign in: %d\n%s", a.status, a.body)
			}
			if a := b.get("/ui/credentials"); a.status != http.StatusOK {
				t.Fatalf("signed in: %d", a.status)
			}
			tc.change(rule)
			a := b.get("/ui/credentials")
			if a.status != http.StatusSeeOther || a.header.Get("Location") != "/ui/login?ended=sso&via="+e.provider.ID {
				t.Fatalf("after the rule changed: %d %s", a.status, a.header.Get("Location"))
			}
			if a := b.get(a.header.Get("Location")); !strings.Contains(a.body, "single sign-on session ended") ||
				!strings.Contains(a.body, `id="sso-again" href="/ui/login/oidc/`+e.provider.ID+`"`) {
				t.Errorf("the sign-in page does not say why, or offers no way back:\n%s", a.body)
			}
			_ = svc.DeleteFederationRule(ctx, e.admin, rule.ID, 0)
		})
	}
}

func TestConsoleTokenSignInCanBeTurnedOff(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t, func(o *harnessOptions) { o.console.NoTokenSignIn = true })
	b := e.browser()
	page := b.get("/ui/login")
	if strings.Contains(page.body, `id="token"`) || !strings.Contains(page.body, "Sign in with acme-sso") {
		t.Fatalf("the sign-in page with token sign-in off:\n%s", page.body)
	}
	// A valid admin token posted anyway is refused before anything else is looked at.
	a := postLogin(t, e.harness, nil, url.Values{"csrf": {"x"}, "token": {e.tokens[api.RoleAdmin]}}, nil)
	if a.status != http.StatusForbidden || signedInBy(a) || !strings.Contains(a.body, "turned off") {
		t.Fatalf("token sign-in while off: %d %v\n%s", a.status, signedInBy(a), a.body)
	}
	// SSO still works.
	if a := e.signIn(b); !signedInBy(a) {
		t.Fatalf("SSO with token sign-in off: %d\n%s", a.status, a.body)
	}
}

func TestConsoleSSOListCanBeHidden(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t, func(o *harnessOptions) { o.console.SSO.HideProviders = true })
	b := e.browser()
	if page := b.get("/ui/login"); strings.Contains(page.body, "acme-sso") || strings.Contains(page.body, e.provider.ID) {
		t.Fatalf("the hidden list shows the provider:\n%s", page.body)
	}
	if a := e.signIn(b); !signedInBy(a) {
		t.Fatalf("the direct link no longer works: %d\n%s", a.status, a.body)
	}
}

func TestConsoleSSOPublicURL(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t, func(o *harnessOptions) { o.console.SSO.PublicURL = "https://keys.acme.example/" })
	auth := e.start(e.browser())
	if got := auth.Query().Get("redirect_uri"); got != "https://keys.acme.example/ui/login/oidc/callback" {
		t.Fatalf("redirect_uri = %q", got)
	}
}

func TestCheckPublicURL(t *testing.T) {
	for raw, ok := range map[string]bool{"": true, "https://keys.acme.example": true, "https://keys.acme.example/": true, "http://127.0.0.1:8080": true,
		"http://keys.acme.example": false, "https://keys.acme.example/console": false, "https://keys.acme.example/?x=1": false, "keys.acme.example": false} {
		if err := console.CheckPublicURL(raw); (err == nil) != ok {
			t.Errorf("CheckPublicURL(%q) = %v", raw, err)
		}
	}
}

// The client authenticates at the token endpoint as the provider says it may: HTTP Basic by default,
// the secret in the body where discovery lists only client_secret_post, and a public client (no
// secret) by its client_id and PKCE alone.
func TestConsoleSSOClientAuthentication(t *testing.T) {
	t.Parallel()
	t.Run("client_secret_post only", func(t *testing.T) {
		e := newSSOEnv(t)
		e.iss.TokenAuthMethods("client_secret_post")
		if a := e.signIn(e.browser()); !signedInBy(a) {
			t.Fatalf("%d\n%s", a.status, a.body)
		}
	})
	t.Run("public client", func(t *testing.T) {
		e := newSSOEnv(t)
		e.iss.RegisterClient(ssoClientID, "")
		e.iss.TokenAuthMethods("none")
		none := ""
		if _, err := e.srv.Service().UpdateIdentityProvider(context.Background(), e.admin, e.provider.ID, api.IdentityProviderPatch{ClientSecret: &none}, 0); err != nil {
			t.Fatal(err)
		}
		if a := e.signIn(e.browser()); !signedInBy(a) {
			t.Fatalf("%d\n%s", a.status, a.body)
		}
	})
	t.Run("wrong secret", func(t *testing.T) {
		e := newSSOEnv(t)
		e.iss.RegisterClient(ssoClientID, "another-secret")
		a := e.signIn(e.browser())
		if a.status != http.StatusBadGateway || signedInBy(a) || !strings.Contains(a.body, "HTTP 401") || !strings.Contains(a.body, "invalid_client") {
			t.Fatalf("%d\n%s", a.status, a.body)
		}
	})
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The server's log of sign-ins, refused or not, holds no client secret, authorization code, PKCE
// verifier or ID token (a JWT starts "eyJ").
func TestConsoleSSOLogsHoldNoSecret(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	e := newSSOEnv(t, func(o *harnessOptions) {
		prev := o.config
		o.config = func(c *service.Config) {
			prev(c)
			c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		}
	})
	var codes []string
	run := func() answer {
		b := e.browser()
		back := e.authorize(b, e.start(b))
		u, _ := url.Parse(back)
		codes = append(codes, u.Query().Get("code"))
		return b.get(back)
	}
	run() // signed in
	e.iss.OnIDToken(func(c map[string]any) { c["nonce"] = "other" })
	run() // refused: the nonce
	e.iss.OnIDToken(nil)
	e.iss.SignInAs(map[string]any{"sub": "user-eve", "email": "eve@elsewhere.example"})
	run() // refused: no rule
	e.iss.RegisterClient(ssoClientID, "another-secret")
	run() // refused: the client's secret
	out := logs.String()
	if !strings.Contains(out, "no people rule matches") || !strings.Contains(out, "ID token refused") || !strings.Contains(out, "code exchange failed") {
		t.Fatalf("the log lacks the refusals:\n%s", out)
	}
	for _, s := range append([]string{ssoClientSecret, "another-secret", "eyJ"}, codes...) {
		if s != "" && strings.Contains(out, s) {
			t.Errorf("the log holds %q:\n%s", s, out)
		}
	}
}

// The sign-in page's list and the whole flow on PostgreSQL (skipped where it is not installed).
func TestConsoleSSOOnPostgres(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t, func(o *harnessOptions) { o.postgres = true })
	b := e.browser()
	if page := b.get("/ui/login"); !strings.Contains(page.body, "Sign in with acme-sso") {
		t.Fatalf("no provider listed:\n%s", page.body)
	}
	if a := e.signIn(b); !signedInBy(a) {
		t.Fatalf("%d\n%s", a.status, a.body)
	}
	if page := b.get("/ui/credentials"); !strings.Contains(page.body, `<span class="role">viewer</span>`) {
		t.Fatalf("after SSO:\n%s", page.body)
	}
}
