package console_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/console"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

func (h *harness) pages() []string {
	return []string{"/ui/credentials", "/ui/credentials/" + h.orgCred.ID, "/ui/credentials/" + h.prjCred.ID, "/ui/connections",
		"/ui/models", "/ui/models?project=" + h.project.ID, "/ui/projects", "/ui/policies", "/ui/audit",
		"/ui/credentials?provider=openai", "/ui/credentials?status=verified&project=-", "/ui/credentials?project=" + h.project.ID,
		"/ui/credentials?q=prod&lifecycle=ok&violations=yes&sort=rotated", "/ui/projects/" + h.project.ID, "/ui/permissions",
		"/ui/permissions?project=" + h.project.ID, "/ui/audit?object=" + h.orgCred.ID + "&actor=alice&action=create&type=credential"}
}

// writePages are the pages of the write forms, which only editors and admins open.
func (h *harness) writePages() []string {
	return []string{"/ui/credentials/new", "/ui/credentials/new?provider=custom", "/ui/credentials/new?provider=vertex_ai",
		"/ui/credentials/new?provider=azure_openai", "/ui/credentials/" + h.orgCred.ID + "/edit", "/ui/credentials/" + h.prjCred.ID + "/edit",
		"/ui/credentials/" + h.orgCred.ID + "/delete", "/ui/connections/new?credential=" + h.orgCred.ID}
}

// Every page answers every role, with the security headers, the lang attribute and no secret (the
// browser helper checks every answer's body and headers for the test keys and tokens).
func TestConsolePagesEveryRole(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, role := range []string{api.RoleAdmin, api.RoleEditor, api.RoleViewer} {
		b := h.signedIn(role)
		for _, path := range h.pages() {
			a := b.get(path)
			if a.status != http.StatusOK {
				t.Errorf("%s GET %s: %d\n%s", role, path, a.status, a.body)
				continue
			}
			checkPageHeaders(t, path, a)
			if ct := a.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("%s: Content-Type %q", path, ct)
			}
			for _, want := range []string{`<html lang="en">`, "<h1>", `href="/ui/static/console.css"`, `action="/ui/logout"`} {
				if !strings.Contains(a.body, want) {
					t.Errorf("%s GET %s: no %q", role, path, want)
				}
			}
			if inlineScript(a.body) || strings.Contains(a.body, " style=") {
				t.Errorf("%s GET %s: inline script or style, which the CSP forbids", role, path)
			}
		}
	}
}

// The pages show what the issue asks for.
func TestConsolePageContents(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.signedIn(api.RoleViewer)
	check := func(path string, wants ...string) {
		t.Helper()
		a := b.get(path)
		for _, w := range wants {
			if !strings.Contains(a.body, w) {
				t.Errorf("GET %s: no %q", path, w)
			}
		}
	}
	check("/ui/credentials", `data-label="Scope">Organisation<`, `data-label="Scope">Project research<`, "openai-prod", "claude",
		h.orgCred.SecretHint, h.prjCred.SecretHint, "verified", "create by alice", "Terraform", `<th scope="col">Connections</th>`,
		`<th scope="col">Lifecycle</th>`, `lifecycle-ok">ok<`)
	check("/ui/credentials?provider=anthropic", "claude", "1 credential on this page, matching the filter")
	if a := b.get("/ui/credentials?provider=anthropic"); strings.Contains(a.body, "openai-prod") {
		t.Error("the provider filter kept openai-prod")
	}
	if a := b.get("/ui/credentials?project=-"); strings.Contains(a.body, ">claude<") {
		t.Error("the organisation filter kept a project credential")
	}
	if a := b.get("/ui/credentials?status=invalid"); !strings.Contains(a.body, "No credentials match the filter") {
		t.Error("the status filter kept verified credentials")
	}
	check("/ui/credentials/"+h.orgCred.ID, "Managed by Terraform", "drift", h.orgCred.SecretFingerprint, "Secret version</dt><dd>1",
		"Endpoints using this key", "chat-prod", "gpt-4o-mini", "organization_id", "History", "alice", "env",
		"Lifecycle</dt>", "no rotation period", "no expiry set")
	if a := b.get("/ui/credentials/" + h.prjCred.ID); strings.Contains(a.body, "Managed by Terraform") {
		t.Error("a credential Terraform does not manage has the Terraform notice")
	}
	check("/ui/connections", "chat-prod", "openai/gpt-4o-mini", "openai-prod")
	check("/ui/models", "gpt-4o-mini", "allowed", "chat-prod")
	check("/ui/models?project="+h.project.ID+"&provider=anthropic&allowed=no", "claude-opus-4-8", "blocked", "project: denylist")
	check("/ui/projects", "research", "inherited", "denylist")
	check("/ui/policies", "Organisation", "Project research", "denylist", "anthropic/claude-opus-4-8")
	check("/ui/audit", "create", "credential", "model_policy", "newest first")
}

// Hostile text (labels, descriptions, settings, token names) is escaped everywhere.
func TestConsoleEscapesHostileText(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.signedIn(api.RoleAdmin)
	for _, path := range h.pages() {
		a := b.get(path)
		for _, raw := range []string{hostile, "<b>mallory</b>", `"><img src=x onerror=alert(2)>`, "<img"} {
			if strings.Contains(a.body, raw) {
				t.Errorf("GET %s: unescaped %q", path, raw)
			}
		}
	}
	a := b.get("/ui/credentials/" + h.orgCred.ID)
	if !strings.Contains(a.body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("the hostile label is not shown escaped:\n%s", a.body)
	}
	if a := b.get("/ui/audit"); !strings.Contains(a.body, "&lt;b&gt;mallory&lt;/b&gt;") {
		t.Error("the hostile actor is not shown escaped in the audit log")
	}
}

func TestConsoleSignInAndOut(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	// Without a session: pages go to sign-in, and /ui/ too.
	anon := h.browser()
	for _, path := range append(h.pages(), "/ui/") {
		a := anon.get(path)
		if a.status != http.StatusSeeOther || a.header.Get("Location") != "/ui/login" {
			t.Errorf("anonymous GET %s: %d %q", path, a.status, a.header.Get("Location"))
		}
	}
	login := anon.get("/ui/login")
	checkPageHeaders(t, "/ui/login", login)
	for _, want := range []string{`<label for="token">`, `id="token" name="token" type="password"`, `<html lang="en">`} {
		if !strings.Contains(login.body, want) {
			t.Errorf("sign-in page: no %q", want)
		}
	}

	// A wrong token: an error, 401, and no session cookie.
	a := anon.signIn("mkt_wrong-token-value-000000000000")
	if a.status != http.StatusUnauthorized || !strings.Contains(a.body, "not valid") {
		t.Errorf("wrong token: %d\n%s", a.status, a.body)
	}
	for _, ck := range a.header.Values("Set-Cookie") {
		if strings.HasPrefix(ck, "modelkeys_session=") {
			t.Errorf("wrong token set a session cookie: %s", ck)
		}
	}
	if strings.Contains(a.body, "mkt_wrong-token-value") {
		t.Error("the wrong token is echoed back")
	}
	// A sign-in without the form's CSRF token is refused.
	if a := anon.post("/ui/login", url.Values{"token": {h.tokens[api.RoleAdmin]}}); a.status != http.StatusForbidden {
		t.Errorf("sign-in without CSRF: %d", a.status)
	}

	// The right token: a session cookie, HttpOnly, SameSite=Strict, not Secure over plain HTTP.
	b := h.browser()
	a = b.signIn(h.tokens[api.RoleEditor])
	if a.status != http.StatusSeeOther {
		t.Fatalf("sign in: %d", a.status)
	}
	ck := sessionCookieOf(t, a)
	if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Secure || ck.Path != "/ui/" || ck.MaxAge <= 0 {
		t.Errorf("session cookie %+v", ck)
	}
	if ck.Value == h.tokens[api.RoleEditor] || strings.Contains(ck.Value, service.HashToken(h.tokens[api.RoleEditor])) {
		t.Error("the session cookie carries the token")
	}
	if a := b.get("/ui/"); a.header.Get("Location") != "/ui/credentials" {
		t.Errorf("/ui/ with a session goes to %q", a.header.Get("Location"))
	}
	page := b.get("/ui/credentials")
	if !strings.Contains(page.body, "erin") || !strings.Contains(page.body, "editor") {
		t.Error("the page does not say who is signed in")
	}

	// Sign out needs the CSRF token, then ends the session.
	if a := b.post("/ui/logout", nil); a.status != http.StatusForbidden {
		t.Errorf("sign out without CSRF: %d", a.status)
	}
	a = b.post("/ui/logout", url.Values{"csrf": {csrfOf(t, page.body)}})
	if a.status != http.StatusSeeOther || !strings.HasPrefix(a.header.Get("Location"), "/ui/login") {
		t.Errorf("sign out: %d %q", a.status, a.header.Get("Location"))
	}
	// The old cookie no longer opens anything.
	replay := h.browser()
	u, _ := url.Parse(h.ts.URL + "/ui/")
	replay.c.Jar.SetCookies(u, []*http.Cookie{{Name: "modelkeys_session", Value: ck.Value, Path: "/ui/"}})
	if a := replay.get("/ui/credentials"); a.status != http.StatusSeeOther || a.header.Get("Location") != "/ui/login" {
		t.Errorf("a signed-out session still works: %d", a.status)
	}
}

func sessionCookieOf(t *testing.T, a answer) *http.Cookie {
	t.Helper()
	resp := http.Response{Header: a.header}
	for _, ck := range resp.Cookies() {
		if (ck.Name == "modelkeys_session" || ck.Name == "__Host-modelkeys_session") && ck.Value != "" {
			return ck
		}
	}
	t.Fatalf("no session cookie in %v", a.header.Values("Set-Cookie"))
	return nil
}

// Over TLS, and with SecureCookies behind a proxy, the cookies are Secure.
func TestConsoleSecureCookies(t *testing.T) {
	t.Parallel()
	for name, opt := range map[string]func(*harnessOptions){
		"tls":   func(o *harnessOptions) { o.tls = true },
		"proxy": func(o *harnessOptions) { o.console = console.Options{SecureCookies: true} },
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, opt)
			b := h.browser()
			login := b.get("/ui/login")
			for _, c := range (&http.Response{Header: login.header}).Cookies() {
				if !c.Secure {
					t.Errorf("sign-in cookie %s is not Secure", c.Name)
				}
			}
			if name == "tls" {
				if ck := sessionCookieOf(t, b.post("/ui/login", url.Values{"csrf": {csrfOf(t, login.body)}, "token": {h.tokens[api.RoleViewer]}})); !ck.Secure {
					t.Error("the session cookie is not Secure over TLS")
				}
			}
		})
	}
}

// Revoking the token ends its sessions at the next request.
func TestConsoleRevokedTokenEndsSession(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.signedIn(api.RoleEditor)
	if a := b.get("/ui/credentials"); a.status != http.StatusOK {
		t.Fatalf("before revocation: %d", a.status)
	}
	ctx := context.Background()
	if err := h.st.Tx(ctx, func(tx store.Tx) error { return tx.RevokeToken(ctx, h.tokenID[api.RoleEditor], time.Now()) }); err != nil {
		t.Fatal(err)
	}
	a := b.get("/ui/credentials")
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/ui/login?ended=revoked" {
		t.Fatalf("after revocation: %d %q", a.status, a.header.Get("Location"))
	}
	if a := b.get("/ui/login?ended=revoked"); !strings.Contains(a.body, "no longer valid") {
		t.Error("the sign-in page does not say why the session ended")
	}
	if a := b.get("/ui/credentials"); a.status != http.StatusSeeOther {
		t.Errorf("the session survived: %d", a.status)
	}
	// And a revoked token cannot sign in.
	if a := h.browser().signIn(h.tokens[api.RoleEditor]); a.status != http.StatusUnauthorized {
		t.Errorf("sign in with a revoked token: %d", a.status)
	}
}

// Failed sign-ins use up the same per-address budget as failed API authentications.
func TestConsoleSignInFailuresAreLimited(t *testing.T) {
	t.Parallel()
	lim := service.DefaultLimits()
	lim.AuthFailures, lim.AuthFailureRefill = 3, 0.001
	h := newHarness(t, func(o *harnessOptions) { o.limits = &lim })
	b := h.browser()
	for i := range 3 {
		if a := b.signIn("mkt_guess-" + string(rune('a'+i)) + "-000000000000000000"); a.status != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i+1, a.status)
		}
	}
	a := b.signIn(h.tokens[api.RoleAdmin])
	if a.status != http.StatusTooManyRequests || a.header.Get("Retry-After") == "" {
		t.Errorf("after 3 failures a sign-in gets %d (Retry-After %q), want 429", a.status, a.header.Get("Retry-After"))
	}
	for _, ck := range a.header.Values("Set-Cookie") {
		if strings.HasPrefix(ck, "modelkeys_session=") {
			t.Error("a limited sign-in set a session cookie")
		}
	}
	// The API shares the budget: its requests from this address are refused too.
	req, _ := http.NewRequest(http.MethodGet, h.ts.URL+"/v1/credentials", nil)
	req.Header.Set("Authorization", "Bearer "+h.tokens[api.RoleAdmin])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("API after console failures: %d, want 429", resp.StatusCode)
	}
}

// Every POST needs the session's CSRF token; the actions need an editor or admin.
func TestConsoleActionsCSRFAndRoles(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.orgCred.ID
	actions := map[string]url.Values{
		"/ui/credentials/" + id + "/verify": {},
		"/ui/credentials/" + id + "/rotate": {"api_key": {keyRotated}, "version": {"1"}, "confirm_destination": {"yes"}, "confirm_drift": {"yes"}},
	}
	// No session at all.
	for path, form := range actions {
		if a := h.browser().post(path, form); a.status != http.StatusForbidden {
			t.Errorf("anonymous POST %s: %d", path, a.status)
		}
	}
	editor := h.signedIn(api.RoleEditor)
	other := h.signedIn(api.RoleAdmin)
	for path, form := range actions {
		for name, csrf := range map[string]string{"none": "", "wrong": "x" + editor.csrf()[1:], "another session's": other.csrf()} {
			f := url.Values{}
			for k, v := range form {
				f[k] = v
			}
			if csrf != "" {
				f.Set("csrf", csrf)
			}
			if a := editor.post(path, f); a.status != http.StatusForbidden {
				t.Errorf("POST %s with %s CSRF token: %d", path, name, a.status)
			}
		}
	}
	viewer := h.signedIn(api.RoleViewer)
	page := viewer.get("/ui/credentials/" + id)
	if strings.Contains(page.body, "/rotate") || strings.Contains(page.body, "/verify") {
		t.Error("a viewer's page offers the actions")
	}
	for path, form := range actions {
		f := url.Values{"csrf": {csrfOf(t, page.body)}}
		for k, v := range form {
			f[k] = v
		}
		if a := viewer.post(path, f); a.status != http.StatusForbidden || !strings.Contains(a.body, "viewer") {
			t.Errorf("viewer POST %s: %d", path, a.status)
		}
	}
	// Nothing changed.
	cur, err := h.srv.Service().GetCredential(context.Background(), h.admin, id)
	if err != nil {
		t.Fatal(err)
	}
	if cur.SecretVersion != 1 || cur.Version != h.orgCred.Version {
		t.Errorf("a refused action changed the credential: %+v", cur)
	}
}

// An editor rotates a key: the API's rules apply (a refused key is refused), the audit log records it,
// the new hint shows, and the key appears nowhere.
func TestConsoleRotateAndVerify(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.signedIn(api.RoleEditor)
	id := h.orgCred.ID
	path := "/ui/credentials/" + id
	csrf := csrfOf(t, b.get(path).body)

	// Empty: nothing happens.
	a := b.post(path+"/rotate", url.Values{"csrf": {csrf}})
	if a.status != http.StatusSeeOther || a.header.Get("Location") != path {
		t.Fatalf("empty rotate: %d %q", a.status, a.header.Get("Location"))
	}
	if page := b.get(path); !strings.Contains(page.body, "Paste the new key") {
		t.Error("no message for an empty rotation")
	}

	// A key the provider refuses: the API's 422, shown on the page, without the key.
	a = b.post(path+"/rotate", url.Values{"csrf": {csrf}, "api_key": {keyRefused}, "version": {"1"}, "confirm_destination": {"yes"}, "confirm_drift": {"yes"}})
	if a.status != http.StatusSeeOther {
		t.Fatalf("refused rotate: %d\n%s", a.status, a.body)
	}
	page := b.get(path)
	if !strings.Contains(page.body, "Not done") || !strings.Contains(page.body, "Incorrect API key") {
		t.Errorf("the refusal is not shown:\n%s", page.body)
	}
	if cur, _ := h.srv.Service().GetCredential(context.Background(), h.admin, id); cur.SecretVersion != 1 {
		t.Errorf("a refused key was stored (secret version %d)", cur.SecretVersion)
	}
	// The mask is refused too (the API's rule against echoing a hint back as a key).
	b.post(path+"/rotate", url.Values{"csrf": {csrf}, "api_key": {h.orgCred.SecretHint}, "version": {"1"}, "confirm_destination": {"yes"}, "confirm_drift": {"yes"}})
	if page := b.get(path); !strings.Contains(page.body, "masked hint") {
		t.Error("rotating to the hint is not refused")
	}

	// A good key.
	a = b.post(path+"/rotate", url.Values{"csrf": {csrf}, "api_key": {keyRotated}, "version": {"1"}, "confirm_destination": {"yes"}, "confirm_drift": {"yes"}})
	if a.status != http.StatusSeeOther || a.header.Get("Location") != path {
		t.Fatalf("rotate: %d %q", a.status, a.header.Get("Location"))
	}
	cur, err := h.srv.Service().GetCredential(context.Background(), h.admin, id)
	if err != nil {
		t.Fatal(err)
	}
	if cur.SecretVersion != 2 || cur.SecretHint == h.orgCred.SecretHint || cur.Status != api.StatusVerified {
		t.Fatalf("after rotation: %+v", cur)
	}
	page = b.get(path)
	for _, want := range []string{"Key rotated", cur.SecretHint, "Secret version</dt><dd>2", "drift"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("after rotation the page has no %q", want)
		}
	}
	audit, err := h.srv.Service().ListAudit(context.Background(), h.admin, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	last := audit.Items[len(audit.Items)-1]
	if last.Actor != "erin" || last.Action != "update" || last.ObjectID != id || strings.Join(last.Fields, ",") != "api_key" {
		t.Errorf("audit event of the rotation: %+v", last)
	}
	if list := b.get("/ui/credentials"); !strings.Contains(list.body, cur.SecretHint) || !strings.Contains(list.body, "update by erin") {
		t.Error("the list does not show the new hint and who changed it")
	}

	// Re-verify.
	a = b.post(path+"/verify", url.Values{"csrf": {csrf}})
	if a.status != http.StatusSeeOther {
		t.Fatalf("verify: %d", a.status)
	}
	if page := b.get(path); !strings.Contains(page.body, "Checked with the provider: the key is verified") {
		t.Error("no message after re-verification")
	}
	// The flash shows once.
	if page := b.get(path); strings.Contains(page.body, "Checked with the provider") {
		t.Error("the message shows twice")
	}
}

func TestConsoleNotFoundAndStatic(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.signedIn(api.RoleViewer)
	if a := b.get("/ui/credentials/cred_missing"); a.status != http.StatusNotFound || !strings.Contains(a.body, "<h1>") {
		t.Errorf("missing credential: %d", a.status)
	}
	if a := b.get("/ui/nothing-here"); a.status != http.StatusNotFound {
		t.Errorf("unknown page: %d", a.status)
	}
	if a := b.get("/ui/audit?before=x"); a.status != http.StatusBadRequest {
		t.Errorf("bad audit page: %d", a.status)
	}
	css := b.get("/ui/static/console.css")
	if css.status != http.StatusOK || !strings.HasPrefix(css.header.Get("Content-Type"), "text/css") || !strings.Contains(css.body, "@media") {
		t.Errorf("stylesheet: %d %q", css.status, css.header.Get("Content-Type"))
	}
	if css.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("the stylesheet has no nosniff")
	}
	// The API is untouched by the mount.
	if a := b.get("/healthz"); a.status != http.StatusOK {
		t.Errorf("/healthz: %d", a.status)
	}
}

// managed_by is stored, returned, changed by a patch and checked.
func TestManagedByRoundTrip(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx, svc := context.Background(), h.srv.Service()
	got, err := svc.GetCredential(ctx, h.admin, h.orgCred.ID)
	if err != nil || got.ManagedBy != api.ManagedByTerraform {
		t.Fatalf("stored managed_by: %q, %v", got.ManagedBy, err)
	}
	if got, _ := svc.GetCredential(ctx, h.admin, h.prjCred.ID); got.ManagedBy != "" {
		t.Errorf("unmarked credential has managed_by %q", got.ManagedBy)
	}
	empty := ""
	upd, err := svc.UpdateCredential(ctx, h.admin, h.orgCred.ID, api.CredentialPatch{ManagedBy: &empty}, 0)
	if err != nil || upd.ManagedBy != "" || upd.Version != got.Version+1 {
		t.Fatalf("clear managed_by: %+v, %v", upd, err)
	}
	bad := "terraform\nnot"
	if _, err := svc.UpdateCredential(ctx, h.admin, h.orgCred.ID, api.CredentialPatch{ManagedBy: &bad}, 0); err == nil {
		t.Error("a managed_by with a newline was accepted")
	}
}

// The audit log pages newest first, 50 events a page.
func TestConsoleAuditPaging(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx, svc := context.Background(), h.srv.Service()
	for i := range 60 {
		labels := map[string]string{"n": strings.Repeat("x", i+1)}
		if _, err := svc.UpdateCredential(ctx, h.admin, h.prjCred.ID, api.CredentialPatch{Labels: &labels}, 0); err != nil {
			t.Fatal(err)
		}
	}
	all, err := svc.ListAudit(ctx, h.admin, 0, 500)
	if err != nil {
		t.Fatal(err)
	}
	total := len(all.Items)
	newest, oldest := all.Items[total-1].ID, all.Items[0].ID
	b := h.signedIn(api.RoleViewer)
	first := b.get("/ui/audit")
	if n := strings.Count(first.body, "<tr>") - 1; n != 50 {
		t.Errorf("first page: %d rows, want 50", n)
	}
	if !strings.Contains(first.body, `<td data-label="#" class="num">`+itoa(newest)+`</td>`) {
		t.Error("the first page does not start with the newest event")
	}
	m := regexpFind(`href="(/ui/audit\?before=\d+)" rel="next"`, first.body)
	if m == "" {
		t.Fatalf("no link to older events:\n%s", first.body)
	}
	second := b.get(m)
	if n := strings.Count(second.body, "<tr>") - 1; n != total-50 {
		t.Errorf("second page: %d rows, want %d", n, total-50)
	}
	if !strings.Contains(second.body, `<td data-label="#" class="num">`+itoa(oldest)+`</td>`) || strings.Contains(second.body, `rel="next"`) {
		t.Error("the last page does not end with the oldest event, or offers more")
	}
	if !strings.Contains(second.body, `href="/ui/audit">Newest`) {
		t.Error("no way back to the newest events")
	}
}

// Control characters in the address are refused before they reach the store.
func TestConsoleRefusesControlCharacters(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.signedIn(api.RoleViewer)
	for _, path := range []string{"/ui/credentials/cred%00x", "/ui/credentials?project=a%00b", "/ui/models?provider=%0a"} {
		if a := b.get(path); a.status != http.StatusBadRequest {
			t.Errorf("GET %s: %d, want 400", path, a.status)
		}
	}
}

// A credential's rotation schedule and expiry are on its page and in the list, with how urgent they are.
func TestConsoleShowsLifecycle(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	key := "sk-proj-LIFECYCLEKEYLIFECYCLE01"
	expires := time.Now().Add(3 * 24 * time.Hour).UTC().Format(time.RFC3339)
	c, _, err := h.srv.Service().CreateCredential(context.Background(), h.admin, api.CredentialCreate{
		Name: "expiring-soon", Provider: "mistral", APIKey: &key, RotationPeriod: "90d", ExpiresAt: expires, Verify: ptr(false)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := h.signedIn(api.RoleViewer)
	for _, path := range []string{"/ui/credentials", "/ui/credentials/" + c.ID} {
		a := b.get(path)
		for _, want := range []string{`lifecycle-expiring">expiring<`, "rotate by", "expires"} {
			if !strings.Contains(a.body, want) {
				t.Errorf("GET %s: no %q", path, want)
			}
		}
		if strings.Contains(a.body, key) {
			t.Fatalf("GET %s holds the key", path)
		}
	}
}

// A connection whose credential an admin deleted with force shows as invalid, with no credential link.
func TestConsoleDetachedConnection(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	if err := h.srv.Service().DeleteCredential(context.Background(), h.admin, h.orgCred.ID, 0, true); err != nil {
		t.Fatal(err)
	}
	a := h.signedIn(api.RoleViewer).get("/ui/connections")
	for _, want := range []string{"chat-prod", "none: deleted", "invalid"} {
		if !strings.Contains(a.body, want) {
			t.Errorf("connections page: no %q", want)
		}
	}
	if strings.Contains(a.body, `href="/ui/credentials/"`) {
		t.Error("connections page links to a credential without an id")
	}
}

// A new key goes only to the destination the page showed: the rotate form says where the key goes and
// who set that, carries the version it was made for (a change in between is a conflict, never a retry),
// and asks the person to confirm a destination another token set. The admin who set it is not asked.
func TestConsoleRotateIsBoundToTheDestinationShown(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	svc := h.srv.Service()
	id := h.orgCred.ID
	path := "/ui/credentials/" + id
	secretVersion := func() int64 {
		cur, err := svc.GetCredential(ctx, h.admin, id)
		if err != nil {
			t.Fatal(err)
		}
		return cur.SecretVersion
	}

	b := h.signedIn(api.RoleEditor)
	page := b.get(path)
	for _, want := range []string{`id="rotate-destination"`, "api.openai.com", "not by you", `name="version" value="1"`, `id="confirm-destination"`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the editor's rotate form has no %q", want)
		}
	}
	csrf := csrfOf(t, page.body)
	tries := []struct {
		form url.Values
		want string
	}{
		{url.Values{"api_key": {keyRotated}, "version": {"1"}}, "someone else set where this key goes"},
		{url.Values{"api_key": {keyRotated}, "confirm_destination": {"yes"}}, "does not say which version"},
	}
	for _, try := range tries {
		try.form.Set("csrf", csrf)
		b.post(path+"/rotate", try.form)
		if page := b.get(path); !strings.Contains(page.body, try.want) {
			t.Errorf("%v: the page does not say %q", try.form, try.want)
		}
	}
	// Someone changes the credential after the page was shown.
	if _, err := svc.UpdateCredential(ctx, h.admin, id, api.CredentialPatch{Description: ptr("moved on")}, 0); err != nil {
		t.Fatal(err)
	}
	b.post(path+"/rotate", url.Values{"csrf": {csrf}, "api_key": {keyRotated}, "version": {"1"}, "confirm_destination": {"yes"}, "confirm_drift": {"yes"}})
	if page := b.get(path); !strings.Contains(page.body, "it changed since you read it") {
		t.Error("a rotation for a version the credential no longer has is not refused as a conflict")
	}
	if v := secretVersion(); v != 1 {
		t.Fatalf("a refused rotation stored the key (secret version %d)", v)
	}

	// The admin set the destination: no confirmation asked, the version is enough.
	a := h.signedIn(api.RoleAdmin)
	page = a.get(path)
	if strings.Contains(page.body, `id="confirm-destination"`) || strings.Contains(page.body, "not by you") {
		t.Error("the admin who set the destination is asked to confirm it")
	}
	a.post(path+"/rotate", url.Values{"csrf": {csrfOf(t, page.body)}, "api_key": {keyRotated}, "version": {"2"}, "confirm_drift": {"yes"}})
	if v := secretVersion(); v != 2 {
		t.Fatalf("the admin's rotation did not apply (secret version %d)", v)
	}
}

// inlineScript reports a <script> that is not an empty element loading a file of the console's own
// static directory (which the CSP's script-src 'self' allows).
func inlineScript(body string) bool {
	for rest := body; ; {
		i := strings.Index(rest, "<script")
		if i < 0 {
			return false
		}
		rest = rest[i:]
		end := strings.Index(rest, "</script>")
		if end < 0 || !regexp.MustCompile(`^<script src="/ui/static/[a-z]+\.js"( defer)?></script>$`).MatchString(rest[:end+len("</script>")]) {
			return true
		}
		rest = rest[end:]
	}
}
