package console_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

// chromiumPath finds headless Chromium: $MODELKEYS_CHROMIUM, or chromium on PATH (Debian's package).
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

// TestConsoleInBrowser drives the console in headless Chromium, without JavaScript of its own: sign
// in, list the credentials, open one, rotate its key and see the new hint. It writes screenshots into
// $MODELKEYS_SCREENSHOTS when set (MODELKEYS_SCREENSHOTS=$PWD/docs/images refreshes the README's),
// otherwise into a temporary directory.
func TestConsoleInBrowser(t *testing.T) {
	exe := chromiumPath()
	if exe == "" {
		t.Skip("headless Chromium is not installed (apt-get install -y chromium, or set MODELKEYS_CHROMIUM); the console's browser test needs it")
	}
	shots := os.Getenv("MODELKEYS_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}

	h := newHarness(t, func(o *harnessOptions) { o.friendly = true })
	ctx := context.Background()
	svc := h.srv.Service()
	noVerify := false
	for _, c := range []api.CredentialCreate{
		{Name: "mistral-eval", Provider: "mistral", APIKey: ptr("mistral-console-key-1234567890abcdef"), Verify: &noVerify, Labels: map[string]string{"team": "evals"}},
		{Name: "gemini-research", Provider: "gemini", APIKey: ptr("AIzaConsoleKey-1234567890abcdefghij"), ProjectID: h.project.ID},
	} {
		if _, _, err := svc.CreateCredential(ctx, h.admin, c, nil); err != nil {
			t.Fatalf("seed %s: %v", c.Name, err)
		}
	}

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	defer cancelBrowser()
	bctx, cancel := context.WithTimeout(bctx, 2*time.Minute)
	defer cancel()

	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100)) // quality 100: PNG
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, "console-"+name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
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
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

	do("sign in",
		chromedp.Navigate(h.ts.URL+"/ui/"),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), h.tokens[api.RoleEditor]),
		chromedp.Click(chromedp.ID("signin")),
		chromedp.WaitVisible(chromedp.CSS("table")),
	)
	listText := text("main")
	for _, want := range []string{"openai-prod", "claude", "mistral-eval", "gemini-research", h.orgCred.SecretHint, "verified", "unverified"} {
		if !strings.Contains(listText, want) {
			t.Errorf("the credentials page shows no %q:\n%s", want, listText)
		}
	}
	// The stylesheet loads under the Content-Security-Policy.
	cssColor, err := chromedp.Run(bctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector('header.top')).backgroundColor`))
	if err != nil || cssColor != "rgb(31, 41, 51)" {
		t.Errorf("the stylesheet did not apply (header background %q, %v)", cssColor, err)
	}
	shot("credentials")

	do("open the credential",
		chromedp.Click(chromedp.CSS(`a[href="/ui/credentials/`+h.orgCred.ID+`"]`)),
		chromedp.WaitVisible(chromedp.ID("secret")),
	)
	if detail := text("main"); !strings.Contains(detail, "Managed by Terraform") || !strings.Contains(detail, "Endpoints using this key") {
		t.Errorf("the credential page:\n%s", detail)
	}
	// The form says where the key goes and who set that; the admin did, so the editor confirms it.
	if dest := text("#rotate-destination"); !strings.Contains(dest, "api.openai.com") || !strings.Contains(dest, "not by you") {
		t.Errorf("the rotate form does not show the destination and its setter: %q", dest)
	}
	do("rotate",
		chromedp.SendKeys(chromedp.ID("secret"), keyRotated),
		chromedp.Click(chromedp.ID("confirm-destination")),
		chromedp.Click(chromedp.ID("confirm-drift")),
		chromedp.Click(chromedp.ID("rotate")),
		chromedp.WaitVisible(chromedp.CSS("p.flash.ok")),
	)
	flash := text("p.flash.ok")
	cur, err := svc.GetCredential(ctx, h.admin, h.orgCred.ID)
	if err != nil {
		t.Fatal(err)
	}
	if cur.SecretVersion != 2 || !strings.Contains(flash, "Key rotated") || !strings.Contains(flash, cur.SecretHint) {
		t.Errorf("after rotating: flash %q, credential %+v", flash, cur)
	}
	if left, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.querySelector('input#secret').value`)); err != nil || left != "" {
		t.Errorf("the key field holds %q after the rotation (%v)", left, err)
	}
	if body, err := chromedp.Run(bctx, chromedp.OuterHTML(chromedp.CSS("html"))); err != nil || strings.Contains(body, keyRotated) {
		t.Errorf("the page after the rotation holds the key (%v)", err)
	}
	shot("credential")

	// A phone-sized screen: the list still reads (the table scrolls inside its box).
	do("phone",
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(h.ts.URL+"/ui/credentials"),
		chromedp.WaitVisible(chromedp.CSS("table")),
	)
	width, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if err != nil || width > 400 {
		t.Errorf("on a 390px screen the page is %dpx wide, so it scrolls sideways (%v)", width, err)
	}
	shot("phone")
	// With MODELKEYS_AXE=path/to/axe.min.js (npm install axe-core), every page passes axe-core's WCAG 2
	// A and AA rules: labels, headings, table headers, lang, contrast. DevTools evaluation is not
	// subject to the page's CSP, so the script needs no exception in it.
	if axePath := os.Getenv("MODELKEYS_AXE"); axePath != "" {
		axe, err := os.ReadFile(axePath)
		if err != nil {
			t.Fatal(err)
		}
		do("desktop again", chromedp.EmulateViewport(1280, 900))
		for _, path := range []string{"/ui/credentials", "/ui/credentials/" + h.orgCred.ID, "/ui/connections", "/ui/models?project=" + h.project.ID,
			"/ui/projects", "/ui/policies", "/ui/audit", "/ui/login"} {
			if path == "/ui/login" {
				do("sign out", chromedp.Click(chromedp.CSS(`form.signout button`)), chromedp.WaitVisible(chromedp.ID("token")))
			} else {
				do("open "+path, chromedp.Navigate(h.ts.URL+path), chromedp.WaitVisible(chromedp.CSS("h1")))
			}
			if _, err := chromedp.Run(bctx, chromedp.Evaluate[bool](string(axe)+";true")); err != nil {
				t.Fatalf("load axe-core: %v", err)
			}
			found, err := chromedp.Run(bctx, chromedp.Evaluate[string](`axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
				.then(r => r.passes.length + " rules pass\n" + r.violations.map(v => v.id + ": " + v.help + " at " + v.nodes.map(n => n.target.join(" ")).join(", ")).join("\n"))`, chromedp.EvalAwaitPromise))
			if err != nil {
				t.Fatalf("axe on %s: %v", path, err)
			}
			summary, problems, _ := strings.Cut(found, "\n")
			if problems != "" || strings.HasPrefix(summary, "0 ") {
				t.Errorf("accessibility problems on %s (%s):\n%s", path, summary, problems)
			}
			t.Logf("axe-core on %s: %s", path, summary)
		}
	} else {
		t.Log("MODELKEYS_AXE is not set: the axe-core accessibility check is skipped")
	}
	t.Logf("screenshots in %s", shots)
}

func ptr[T any](v T) *T { return &v }
