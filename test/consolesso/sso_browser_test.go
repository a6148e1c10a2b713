// Package consolesso signs in to the modelkeys console in headless Chromium through a real OpenID
// provider that nobody on this project wrote: zitadel/oidc's example provider (an OpenID-certified
// library), run in-process on loopback with its in-memory storage.
package consolesso

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/console"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/secrets"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/server"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store/sqlstore"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/verify"
)

const (
	clientID     = "modelkeys-console"
	clientSecret = "zitadel-example-client-secret-for-modelkeys"
	// The example provider's users (storage.NewUserStore): id1 signs in as test-user@HOST, id2 as
	// test-user2; both with this password.
	password = "verysecure"
)

func chromiumPath() string {
	if p := os.Getenv("MODELKEYS_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// startProvider runs the example OpenID provider on 127.0.0.1, under the name localhost: another
// site than the console's 127.0.0.1, as an identity provider is, so the browser treats the way back
// as a cross-site navigation (SameSite cookies included).
func startProvider(t *testing.T, redirectURI string) (issuer string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer = "http://localhost:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	storage.RegisterClients(storage.WebClient(clientID, clientSecret, redirectURI))
	st := storage.NewStorage(storage.NewUserStore(issuer))
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	prev := slog.Default()
	router := exampleop.SetupServer(issuer, st, logger, false) // it sets the default logger: put it back
	slog.SetDefault(prev)
	hs := &http.Server{Handler: router, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { _ = hs.Close() })
	return issuer
}

type modelkeys struct {
	ts    *httptest.Server
	svc   *service.Service
	admin service.Principal
}

// startModelkeys runs modelkeys-server's handler with the console, its egress policy opening
// loopback only (the operator's --egress-allow 127.0.0.0/8,::1/128), as serve wires it.
func startModelkeys(t *testing.T) *modelkeys {
	t.Helper()
	ctx := context.Background()
	st, err := sqlstore.OpenSQLite(ctx, filepath.Join(t.TempDir(), "modelkeys.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	ring, err := secrets.NewKeyring(secrets.NewMasterKey())
	if err != nil {
		t.Fatal(err)
	}
	egress := verify.ServerEgress([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")})
	srv, err := server.New(ctx, service.Config{Store: st, Keyring: ring, Limits: service.DefaultLimits(), Version: "test", Egress: egress})
	if err != nil {
		t.Fatal(err)
	}
	srv.Mount(console.Prefix, console.New(srv, console.Options{SSO: console.SSOOptions{HTTPClient: egress.HTTPClient(15 * time.Second)}}))
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	value, _, err := service.CreateToken(ctx, st, "acme", api.RoleAdmin, "alice", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	admin, err := srv.Service().PrincipalOfTokenHash(ctx, service.HashToken(value))
	if err != nil {
		t.Fatal(err)
	}
	return &modelkeys{ts: ts, svc: srv.Service(), admin: admin}
}

// TestConsoleSSOInBrowser: an admin trusts the example provider for people with one rule (sub id1
// is an editor); in Chromium, id1 clicks "Sign in with ...", signs in on the provider's own login
// page and lands in the console as an editor; id2, whom no rule admits, gets the refusal page.
func TestConsoleSSOInBrowser(t *testing.T) {
	exe := chromiumPath()
	if exe == "" {
		t.Skip("headless Chromium is not installed (apt-get install -y chromium, or set MODELKEYS_CHROMIUM); the console's single sign-on browser test needs it")
	}
	mk := startModelkeys(t)
	issuer := startProvider(t, mk.ts.URL+"/ui/login/oidc/callback")
	ctx := context.Background()
	secret := clientSecret
	idp, _, err := mk.svc.CreateIdentityProvider(ctx, mk.admin, api.IdentityProviderCreate{
		Name: "zitadel-example", Issuer: issuer, ClientID: clientID, ClientSecret: &secret}, nil) // people only: no workload audience
	if err != nil {
		t.Fatalf("identity provider: %v", err)
	}
	if _, _, err := mk.svc.CreateFederationRule(ctx, mk.admin, api.FederationRuleCreate{Name: "test-user-edits", IdentityProviderID: idp.ID,
		Kind: api.FederationPeople, Conditions: map[string]string{"sub": "id1"}, Role: api.RoleEditor}, nil); err != nil {
		t.Fatalf("rule: %v", err)
	}

	actx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true), chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	defer cancelBrowser()
	bctx, cancel := context.WithTimeout(bctx, 2*time.Minute)
	defer cancel()
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	location := func() string {
		t.Helper()
		u, err := chromedp.Run(bctx, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	signInAt := func(user string) {
		t.Helper()
		do("open the console's sign-in page",
			chromedp.Navigate(mk.ts.URL+"/ui/login"),
			chromedp.WaitVisible(chromedp.CSS(`a.sso-link`)),
		)
		if link := text("a.sso-link"); link != "Sign in with zitadel-example" {
			t.Fatalf("the sign-in link reads %q", link)
		}
		do("go to the identity provider", chromedp.Click(chromedp.CSS(`a.sso-link`)), chromedp.WaitVisible(chromedp.ID("username")))
		if at := location(); !strings.HasPrefix(at, issuer+"/login/username") {
			t.Fatalf("the sign-in link led to %s, not the provider's login page", at)
		}
		do("sign in at the identity provider",
			chromedp.SendKeys(chromedp.ID("username"), user),
			chromedp.SendKeys(chromedp.ID("password"), password),
			chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		)
	}

	signInAt("test-user@localhost")
	do("land in the console", chromedp.WaitVisible(chromedp.CSS(`span.role`)))
	if at := location(); at != mk.ts.URL+"/ui/credentials" {
		t.Errorf("after sign-in the browser is at %s", at)
	}
	if role := text("span.role"); role != api.RoleEditor {
		t.Errorf("signed in with role %q, want the rule's %q", role, api.RoleEditor)
	}
	if who := text("span.who"); !strings.Contains(who, "id1 via federation rule test-user-edits") {
		t.Errorf("signed in as %q", who)
	}
	body, err := chromedp.Run(bctx, chromedp.OuterHTML(chromedp.CSS("html")))
	if err != nil || strings.Contains(body, clientSecret) {
		t.Errorf("the console page holds the client secret (%v)", err)
	}

	do("sign out", chromedp.Click(chromedp.CSS(`form.signout button`)), chromedp.WaitVisible(chromedp.CSS(`a.sso-link`)))
	signInAt("test-user2")
	do("see the refusal", chromedp.WaitVisible(chromedp.ID("sso-error")))
	if msg := text("#sso-error"); !strings.Contains(msg, `"id2"`) || !strings.Contains(msg, "no federation rule") {
		t.Errorf("the refusal page says %q", msg)
	}
	if err := chromedp.Do(bctx, chromedp.Navigate(mk.ts.URL+"/ui/credentials"), chromedp.WaitVisible(chromedp.CSS(`a.sso-link`))); err != nil {
		t.Errorf("after the refusal the console is open: %v", err)
	}
}
