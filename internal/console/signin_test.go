package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/console"
)

// signInForm opens the sign-in page in b and returns the nonce cookie it set and the form's CSRF token.
func signInForm(t *testing.T, b *browser) (*http.Cookie, string) {
	t.Helper()
	page := b.get("/ui/login")
	for _, ck := range (&http.Response{Header: page.header}).Cookies() {
		if strings.HasSuffix(ck.Name, "modelkeys_login") && ck.Value != "" {
			return ck, csrfOf(t, page.body)
		}
	}
	t.Fatalf("the sign-in page set no nonce cookie: %v", page.header.Values("Set-Cookie"))
	return nil, ""
}

// postLogin posts a sign-in with exactly the given cookie (none if nil) and form, as an attacker who
// planted the cookie in the victim's browser would.
func postLogin(t *testing.T, h *harness, ck *http.Cookie, form url.Values, header http.Header) answer {
	t.Helper()
	b := h.browser()
	req, _ := http.NewRequest(http.MethodPost, h.ts.URL+"/ui/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	if ck != nil {
		req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	}
	return b.do(req)
}

func signedInBy(a answer) bool {
	for _, ck := range (&http.Response{Header: a.header}).Cookies() {
		if strings.HasSuffix(ck.Name, "modelkeys_session") && ck.Value != "" {
			return true
		}
	}
	return false
}

// Login CSRF by cookie tossing: the sign-in form's token is an HMAC under a key of this process, so a
// value planted in both the cookie and the form (curl -b modelkeys_login=AAA -d 'csrf=AAA') is refused,
// as is a pair from another server and a pair older than an hour. A real sign-in still works.
func TestConsoleSignInRefusesPlantedCSRFToken(t *testing.T) {
	t.Parallel()
	var now atomic.Int64
	now.Store(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC).Unix())
	clock := func() time.Time { return time.Unix(now.Load(), 0) }
	h := newHarness(t, func(o *harnessOptions) { o.console = console.Options{Now: clock} })
	attackerToken := h.tokens[api.RoleViewer]

	refused := func(what string, a answer) {
		t.Helper()
		if a.status != http.StatusForbidden || signedInBy(a) {
			t.Errorf("%s: %d (session cookie set: %v), want 403 and no session", what, a.status, signedInBy(a))
		}
	}
	for _, v := range []string{"AAA", "", "AAA.1777636800"} {
		refused("planted cookie and form value "+v, postLogin(t, h, &http.Cookie{Name: "modelkeys_login", Value: v},
			url.Values{"csrf": {v}, "token": {attackerToken}}, nil))
	}

	// A pair the sign-in page of another server handed out does not work here.
	other := newHarness(t, func(o *harnessOptions) { o.console = console.Options{Now: clock} })
	ck, csrf := signInForm(t, other.browser())
	refused("a pair from another server", postLogin(t, h, ck, url.Values{"csrf": {csrf}, "token": {attackerToken}}, nil))

	// A pair from this server works for an hour.
	ck, csrf = signInForm(t, h.browser())
	refused("the form token with another nonce", postLogin(t, h, &http.Cookie{Name: ck.Name, Value: ck.Value + "x"},
		url.Values{"csrf": {csrf}, "token": {attackerToken}}, nil))
	now.Add(int64(61 * time.Minute / time.Second))
	refused("a pair older than an hour", postLogin(t, h, ck, url.Values{"csrf": {csrf}, "token": {attackerToken}}, nil))

	// A person who opens the page and signs in gets a session.
	b := h.browser()
	if a := b.signIn(h.tokens[api.RoleEditor]); a.status != http.StatusSeeOther || !signedInBy(a) {
		t.Fatalf("a real sign-in: %d\n%s", a.status, a.body)
	}
	if a := b.get("/ui/credentials"); a.status != http.StatusOK {
		t.Errorf("after sign-in: %d", a.status)
	}
}

// Under TLS (and with SecureCookies behind a TLS proxy) the console's cookies are __Host- prefixed,
// Secure, Path=/ and without Domain, so a sibling subdomain cannot set them; a cookie of the bare
// name, which it can set, is not read, even carrying a pair this server signed.
func TestConsoleCookiesAreHostPrefixedUnderTLS(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(o *harnessOptions) { o.tls = true })
	check := func(what string, a answer, name string) {
		t.Helper()
		found := false
		for _, ck := range (&http.Response{Header: a.header}).Cookies() {
			if strings.HasSuffix(ck.Name, name) {
				found = true
				if ck.Name != "__Host-"+name || !ck.Secure || ck.Path != "/" || ck.Domain != "" || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode {
					t.Errorf("%s: cookie %+v, want __Host-%s, Secure, Path=/, no Domain, HttpOnly, SameSite=Strict", what, ck, name)
				}
			}
		}
		if !found {
			t.Errorf("%s set no %s cookie: %v", what, name, a.header.Values("Set-Cookie"))
		}
	}
	b := h.browser()
	check("the sign-in page", b.get("/ui/login"), "modelkeys_login")
	a := b.signIn(h.tokens[api.RoleAdmin])
	if a.status != http.StatusSeeOther {
		t.Fatalf("sign in over TLS: %d\n%s", a.status, a.body)
	}
	check("the sign-in", a, "modelkeys_session")
	page := b.get("/ui/credentials")
	if page.status != http.StatusOK {
		t.Fatalf("a page after sign-in over TLS: %d", page.status)
	}
	if a := b.post("/ui/logout", url.Values{"csrf": {csrfOf(t, page.body)}}); a.status != http.StatusSeeOther {
		t.Errorf("sign out: %d", a.status)
	} else {
		check("the sign-out", a, "modelkeys_session")
	}

	// The attacker fetches a valid pair and tosses its nonce under the bare name (a subdomain can set
	// that one for the parent domain): refused.
	ck, csrf := signInForm(t, h.browser())
	if ck.Name != "__Host-modelkeys_login" {
		t.Fatalf("nonce cookie %q", ck.Name)
	}
	tossed := postLogin(t, h, &http.Cookie{Name: "modelkeys_login", Value: ck.Value}, url.Values{"csrf": {csrf}, "token": {h.tokens[api.RoleViewer]}}, nil)
	if tossed.status != http.StatusForbidden || signedInBy(tossed) {
		t.Errorf("a tossed bare-name cookie over TLS: %d", tossed.status)
	}
	// The same pair under its own name is valid (what the browser that fetched it sends).
	if a := postLogin(t, h, ck, url.Values{"csrf": {csrf}, "token": {h.tokens[api.RoleViewer]}}, nil); a.status != http.StatusSeeOther {
		t.Errorf("the pair under its __Host- name: %d", a.status)
	}
	// A session cookie under the bare name opens nothing either.
	sess := postLogin(t, h, ck, url.Values{"csrf": {csrf}, "token": {h.tokens[api.RoleViewer]}}, nil)
	for _, c := range (&http.Response{Header: sess.header}).Cookies() {
		if c.Name == "__Host-modelkeys_session" {
			bare := h.browser()
			req, _ := http.NewRequest(http.MethodGet, h.ts.URL+"/ui/credentials", nil)
			req.AddCookie(&http.Cookie{Name: "modelkeys_session", Value: c.Value})
			if a := bare.do(req); a.status != http.StatusSeeOther {
				t.Errorf("a session cookie under the bare name over TLS: %d", a.status)
			}
		}
	}
}

// A form posted from another origin (a sibling subdomain is the same site to SameSite, not the same
// origin) is refused before its token is checked; the same form from the console's own page is not.
func TestConsoleRefusesCrossOriginPosts(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, tc := range []struct {
		header http.Header
		want   int
	}{
		{http.Header{"Sec-Fetch-Site": {"same-site"}}, http.StatusForbidden},
		{http.Header{"Sec-Fetch-Site": {"cross-site"}}, http.StatusForbidden},
		{http.Header{"Origin": {"http://evil.example"}}, http.StatusForbidden},
		{http.Header{"Sec-Fetch-Site": {"same-origin"}}, http.StatusSeeOther},
	} {
		ck, csrf := signInForm(t, h.browser())
		a := postLogin(t, h, ck, url.Values{"csrf": {csrf}, "token": {h.tokens[api.RoleViewer]}}, tc.header)
		if a.status != tc.want {
			t.Errorf("sign-in with %v: %d, want %d", tc.header, a.status, tc.want)
		}
	}
}
