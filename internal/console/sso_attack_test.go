package console_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
)

// Login CSRF through a sign-in link: a page on another site links (or redirects) the victim's
// browser to /ui/login/oidc/{id} of an identity provider the attacker controls (an admin of another
// organisation on a shared server registers one). Without a question the provider would answer at
// once and the victim would land, signed in, in the attacker's organisation, where a key they add is
// the attacker's to read. A cross-site start asks first and starts no flow; the console's own links
// and a typed address start at once.
func TestConsoleSSOCrossSiteStartAsksFirst(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t)
	path := "/ui/login/oidc/" + e.provider.ID
	for _, site := range []string{"cross-site", "same-site"} {
		t.Run(site, func(t *testing.T) {
			b := e.browser()
			req, _ := http.NewRequest(http.MethodGet, e.ts.URL+path, nil)
			req.Header.Set("Sec-Fetch-Site", site)
			a := b.do(req)
			if a.status != http.StatusOK || a.header.Get("Location") != "" || flowCookieOf(a) != nil {
				t.Fatalf("a %s start: %d, Location %q, flow cookie %v; want the question, no flow", site, a.status, a.header.Get("Location"), flowCookieOf(a))
			}
			if !strings.Contains(a.body, `id="sso-confirm"`) || !strings.Contains(a.body, `href="`+path+`"`) || !strings.Contains(a.body, e.iss.URL()) {
				t.Fatalf("the question names no provider or continue link:\n%s", a.body)
			}
		})
	}
	for _, site := range []string{"same-origin", "none", ""} {
		t.Run("start from "+site, func(t *testing.T) {
			b := e.browser()
			req, _ := http.NewRequest(http.MethodGet, e.ts.URL+path, nil)
			if site != "" {
				req.Header.Set("Sec-Fetch-Site", site)
			}
			a := b.do(req)
			if a.status != http.StatusSeeOther || !strings.HasPrefix(a.header.Get("Location"), e.iss.URL()+"/authorize?") {
				t.Fatalf("a %q start: %d %q; want the redirect to the provider", site, a.status, a.header.Get("Location"))
			}
		})
	}
}

// Mix-up (RFC 9207): the answer names the issuer that sent it; one that names another issuer than
// the one this browser's flow went to is refused before the code is sent anywhere.
func TestConsoleSSORefusesAnAnswerOfAnotherIssuer(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t)

	b := e.browser()
	back, _ := url.Parse(e.authorize(b, e.start(b)))
	q := back.Query()
	q.Set("iss", "https://evil.example")
	a := b.get(back.Path + "?" + q.Encode())
	if a.status != http.StatusForbidden || signedInBy(a) || !strings.Contains(a.body, "its iss differs") {
		t.Fatalf("an answer naming another issuer: %d %v\n%s", a.status, signedInBy(a), a.body)
	}

	// The right issuer named is a sign-in as usual.
	b = e.browser()
	back, _ = url.Parse(e.authorize(b, e.start(b)))
	q = back.Query()
	q.Set("iss", e.iss.URL())
	if a := b.get(back.Path + "?" + q.Encode()); !signedInBy(a) {
		t.Fatalf("an answer naming the right issuer: %d\n%s", a.status, a.body)
	}
}

// The sign-in link is open to anyone: when the identity provider cannot be reached, its page says
// so without the URLs and network details of the failure (which address a name resolves to, what
// the egress policy refused), which go to the server's log for the operator.
func TestConsoleSSOUnreachableProviderPageHidesNetworkDetails(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	e := newSSOEnv(t, func(o *harnessOptions) {
		prev := o.config
		o.config = func(c *service.Config) {
			prev(c)
			c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
		}
	})
	closed := httptest.NewServer(http.NotFoundHandler())
	issuer := closed.URL
	closed.Close() // nothing listens there now
	port := issuer[strings.LastIndex(issuer, ":")+1:]
	ip, _, err := e.srv.Service().CreateIdentityProvider(context.Background(), e.admin, api.IdentityProviderCreate{
		Name: "gone-sso", Issuer: issuer, Audiences: []string{"modelkeys"}, ClientID: "console"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := e.browser().get("/ui/login/oidc/" + ip.ID)
	if a.status != http.StatusBadGateway || !strings.Contains(a.body, "could not read its discovery document") {
		t.Fatalf("%d\n%s", a.status, a.body)
	}
	for _, detail := range []string{":" + port, "connection refused", "/.well-known/"} {
		if strings.Contains(a.body, detail) {
			t.Errorf("the page anyone may open shows %q:\n%s", detail, a.body)
		}
	}
	if out := logs.String(); !strings.Contains(out, ":"+port) {
		t.Errorf("the log does not say what failed:\n%s", out)
	}
}

// An address the identity provider says it has not verified admits nobody: many providers let a
// person type any email into their profile, and the people rule pins email = "*@acme.example".
func TestConsoleSSOUnverifiedEmailMatchesNoRule(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t)
	for _, tc := range []struct {
		verified any
		admitted bool
	}{{false, false}, {"false", false}, {true, true}, {"true", true}} {
		e.iss.SignInAs(map[string]any{"sub": "user-mallory", "email": "mallory@acme.example", "email_verified": tc.verified})
		a := e.signIn(e.browser())
		if signedInBy(a) != tc.admitted {
			t.Errorf("email_verified %#v: signed in %v, want %v (%d)\n%s", tc.verified, signedInBy(a), tc.admitted, a.status, a.body)
		}
	}
	// A provider that says nothing of verification is taken at its word (the env's default person).
	e.iss.SignInAs(map[string]any{"sub": "user-dana", "email": ssoEmail})
	if a := e.signIn(e.browser()); !signedInBy(a) {
		t.Errorf("no email_verified: %d\n%s", a.status, a.body)
	}
}
