package console_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/console"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/secrets"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/server"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store/pgtest"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store/sqlstore"
)

// Known test keys: no page, header or redirect may ever hold them (or the tokens).
const (
	keyOpenAI    = "sk-console-openai-5f1d2c3b4a59687766554433SECRET1"
	keyAnthropic = "sk-ant-console-9a8b7c6d5e4f3a2b1c0d9e8fSECRET2"
	keyRotated   = "sk-console-rotated-0a1b2c3d4e5f60718293a4b5NEWKEY"
	keyRefused   = "sk-console-REFUSE-11223344556677889900aabbREFUSED"

	hostile = `<script>alert(1)</script>`
)

// fakeVerifier refuses keys containing "REFUSE" and accepts the rest.
type fakeVerifier struct {
	mu    sync.Mutex
	calls int
}

func (f *fakeVerifier) Verify(_ context.Context, _ api.Provider, _ map[string]string, sec map[string]string) api.VerifyResult {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if strings.Contains(sec[api.SecretAPIKey], "REFUSE") {
		return api.VerifyResult{Refused: true, Message: "HTTP 401: Incorrect API key provided"}
	}
	return api.VerifyResult{OK: true, Message: "listed 12 models"}
}

type harness struct {
	t       *testing.T
	srv     *server.Server
	st      *sqlstore.Store
	ts      *httptest.Server
	tokens  map[string]string // by role, and "hostile" (an admin named with markup)
	tokenID map[string]string
	admin   service.Principal
	orgCred api.Credential // openai-prod, organisation scope, managed by Terraform, hostile label
	prjCred api.Credential // claude, project scope
	project api.Project
	text    string // the text seeded into labels, descriptions and a token name: hostile unless friendly
}

type harnessOptions struct {
	friendly bool // seed with ordinary text instead of hostile markup (for screenshots)
	limits   *service.Limits
	console  console.Options
	tls      bool
	postgres bool // a fresh PostgreSQL database (pgtest) instead of SQLite; skips without PostgreSQL
	config   func(*service.Config)
}

func newHarness(t *testing.T, opts ...func(*harnessOptions)) *harness {
	t.Helper()
	var o harnessOptions
	for _, f := range opts {
		f(&o)
	}
	ctx := context.Background()
	var st *sqlstore.Store
	var err error
	if o.postgres {
		st, err = sqlstore.OpenPostgres(ctx, pgtest.Start(t))
	} else {
		st, err = sqlstore.OpenSQLite(ctx, filepath.Join(t.TempDir(), "modelkeys.db"))
	}
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	ring, err := secrets.NewKeyring(secrets.NewMasterKey())
	if err != nil {
		t.Fatal(err)
	}
	limits := service.DefaultLimits()
	if o.limits != nil {
		limits = *o.limits
	}
	cfg := service.Config{Store: st, Keyring: ring, Limits: limits, Verifier: &fakeVerifier{}, Version: "test"}
	if o.config != nil {
		o.config(&cfg)
	}
	srv, err := server.New(ctx, cfg)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	srv.Mount(console.Prefix, console.New(srv, o.console))
	h := &harness{t: t, srv: srv, st: st, tokens: map[string]string{}, tokenID: map[string]string{}, text: hostile}
	if o.friendly {
		h.text = "ml-platform"
	}
	if o.tls {
		h.ts = httptest.NewTLSServer(srv.Handler())
	} else {
		h.ts = httptest.NewServer(srv.Handler())
	}
	t.Cleanup(h.ts.Close)
	for role, name := range map[string]string{api.RoleAdmin: "alice", api.RoleEditor: "erin", api.RoleViewer: "victor", "hostile": "<b>mallory</b>" + hostile} {
		if role == "hostile" && o.friendly {
			name = "ci-bot"
		}
		r := role
		if role == "hostile" {
			r = api.RoleAdmin
		}
		value, tok, err := service.CreateToken(ctx, st, "acme", r, name, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		h.tokens[role], h.tokenID[role] = value, tok.ID
	}
	if h.admin, err = srv.Service().PrincipalOfTokenHash(ctx, service.HashToken(h.tokens[api.RoleAdmin])); err != nil {
		t.Fatal(err)
	}
	h.seed()
	return h
}

// seed makes a project, two credentials with known keys (one with hostile text), a connection and a
// project policy, through the service as the API would.
func (h *harness) seed() {
	t, ctx, svc := h.t, context.Background(), h.srv.Service()
	var err error
	if h.project, _, err = svc.CreateProject(ctx, h.admin, api.ProjectCreate{Name: "research", Description: "Research and evaluation " + h.text, InheritOrganizationCredentials: true}, nil); err != nil {
		t.Fatalf("project: %v", err)
	}
	k1, k2 := keyOpenAI, keyAnthropic
	if h.orgCred, _, err = svc.CreateCredential(ctx, h.admin, api.CredentialCreate{
		Name: "openai-prod", Provider: "openai", APIKey: &k1, Description: "Production key " + h.text,
		Labels: map[string]string{"team": h.text, "env": "prod"}, Settings: map[string]string{"organization_id": "org-" + h.settingText()},
		ManagedBy: api.ManagedByTerraform,
	}, nil); err != nil {
		t.Fatalf("credential: %v", err)
	}
	// The hostile admin makes the second credential, so its name is in the audit log and last change.
	hostileP, err := svc.PrincipalOfTokenHash(ctx, service.HashToken(h.tokens["hostile"]))
	if err != nil {
		t.Fatal(err)
	}
	if h.prjCred, _, err = svc.CreateCredential(ctx, hostileP, api.CredentialCreate{
		Name: "claude", Provider: "anthropic", APIKey: &k2, ProjectID: h.project.ID, Labels: map[string]string{"owner": "ml"},
	}, nil); err != nil {
		t.Fatalf("credential: %v", err)
	}
	if _, _, err = svc.CreateConnection(ctx, h.admin, api.ConnectionCreate{Name: "chat-" + "prod", CredentialID: h.orgCred.ID, Model: "gpt-4o-mini"}, nil); err != nil {
		t.Fatalf("connection: %v", err)
	}
	if _, err = svc.PutModelPolicy(ctx, h.admin, h.project.ID, api.ModelPolicyPut{Mode: api.PolicyDenylist, Models: []string{"anthropic/claude-opus-4-8"}}, 0); err != nil {
		t.Fatalf("policy: %v", err)
	}
}

// secretValues are the strings no answer may hold.
func (h *harness) secretValues() []string {
	out := []string{keyOpenAI, keyAnthropic, keyRotated, keyRefused}
	for _, k := range []string{keyOpenAI, keyAnthropic, keyRotated, keyRefused} {
		out = append(out, k[10:len(k)-8]) // the middle of each key, which no hint shows
	}
	for _, tok := range h.tokens {
		out = append(out, tok, tok[len(service.TokenPrefix):])
	}
	return out
}

// browser is a client with a cookie jar that does not follow redirects, so tests see them.
type browser struct {
	h *harness
	c *http.Client
}

func (h *harness) browser() *browser {
	jar, _ := cookiejar.New(nil)
	c := new(http.Client)
	*c = *h.ts.Client() // a copy: the test server hands out one shared client
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &browser{h: h, c: c}
}

type answer struct {
	status int
	header http.Header
	body   string
}

func (b *browser) do(req *http.Request) answer {
	b.h.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.h.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, body: string(body)}
	b.h.checkNoSecret(req.Method+" "+req.URL.Path, a)
	return a
}

func (b *browser) get(path string) answer {
	b.h.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.h.ts.URL+path, nil)
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) answer {
	b.h.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.h.ts.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, body string) string {
	t.Helper()
	m := csrfRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token in the page:\n%s", body)
	}
	return m[1]
}

// signIn opens the sign-in page and posts the token; it returns the POST's answer.
func (b *browser) signIn(token string) answer {
	b.h.t.Helper()
	page := b.get("/ui/login")
	if page.status != http.StatusOK {
		b.h.t.Fatalf("GET /ui/login: %d", page.status)
	}
	return b.post("/ui/login", url.Values{"csrf": {csrfOf(b.h.t, page.body)}, "token": {token}})
}

// signedIn is a browser with a session for role.
func (h *harness) signedIn(role string) *browser {
	h.t.Helper()
	b := h.browser()
	if a := b.signIn(h.tokens[role]); a.status != http.StatusSeeOther || a.header.Get("Location") != "/ui/credentials" {
		h.t.Fatalf("sign in as %s: %d %s\n%s", role, a.status, a.header.Get("Location"), a.body)
	}
	return b
}

// csrf is the session's CSRF token, read from a page.
func (b *browser) csrf() string {
	b.h.t.Helper()
	return csrfOf(b.h.t, b.get("/ui/credentials").body)
}

func (h *harness) checkNoSecret(what string, a answer) {
	h.t.Helper()
	var hdr strings.Builder
	_ = a.header.Write(&hdr)
	for _, s := range h.secretValues() {
		if strings.Contains(a.body, s) {
			h.t.Errorf("%s: the body holds a secret (%q)", what, s)
		}
		if strings.Contains(hdr.String(), s) {
			h.t.Errorf("%s: a header holds a secret (%q)", what, s)
		}
	}
}

func checkPageHeaders(t *testing.T, what string, a answer) {
	t.Helper()
	want := map[string]string{
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
		"X-Frame-Options":        "DENY",
		"Cache-Control":          "no-store",
	}
	for k, v := range want {
		if got := a.header.Get(k); got != v {
			t.Errorf("%s: %s = %q, want %q", what, k, got, v)
		}
	}
	csp := a.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("%s: Content-Security-Policy = %q", what, csp)
	}
}

func (h *harness) settingText() string {
	if h.text == hostile {
		return `"><img src=x onerror=alert(2)>`
	}
	return "acme-research"
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func regexpFind(expr, s string) string {
	if m := regexp.MustCompile(expr).FindStringSubmatch(s); m != nil {
		return m[1]
	}
	return ""
}
