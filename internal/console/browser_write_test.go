package console_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// TestConsoleWritesInBrowser adds, edits, rotates and deletes a key, edits model permissions and
// flips a project's inheritance in headless Chromium, by clicking and typing as a person would. No step
// uses a script of the console's: every form is plain HTML (the only script, copy.js, adds copy
// buttons to the HCL blocks), so the same clicks work with JavaScript off. Screenshots go where
// TestConsoleInBrowser's go; with MODELKEYS_AXE set, axe-core checks every page visited.
func TestConsoleWritesInBrowser(t *testing.T) {
	exe := chromiumPath()
	if exe == "" {
		t.Skip("headless Chromium is not installed (apt-get install -y chromium, or set MODELKEYS_CHROMIUM)")
	}
	shots := os.Getenv("MODELKEYS_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	var axe []byte
	if p := os.Getenv("MODELKEYS_AXE"); p != "" {
		var err error
		if axe, err = os.ReadFile(p); err != nil {
			t.Fatal(err)
		}
	}
	h := newHarness(t, func(o *harnessOptions) { o.friendly = true })
	ctx := context.Background()
	svc := h.srv.Service()

	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-extensions", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	defer cancelBrowser()
	bctx, cancel := context.WithTimeout(bctx, 3*time.Minute)
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
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, "console-"+name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// waitFlash waits for the page after a form to show its message: the page the form was on may
	// show another message, so waiting for any message could read the old page.
	waitFlash := func(what, want string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			got, err := chromedp.Run(bctx, chromedp.Evaluate[string](`(document.querySelector('p.flash.ok') || {}).textContent || ""`))
			if err == nil && strings.Contains(got, want) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: no message %q (last %q, %v)", what, want, got, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	// checkPage runs axe-core (when given) and checks the page does not scroll sideways on a phone.
	checkPage := func(what string) {
		t.Helper()
		if axe != nil {
			if _, err := chromedp.Run(bctx, chromedp.Evaluate[bool](string(axe)+";true")); err != nil {
				t.Fatalf("load axe-core: %v", err)
			}
			found, err := chromedp.Run(bctx, chromedp.Evaluate[string](`axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
				.then(r => r.passes.length + " rules pass\n" + r.violations.map(v => v.id + ": " + v.help + " at " + v.nodes.map(n => n.target.join(" ")).join(", ")).join("\n"))`, chromedp.EvalAwaitPromise))
			if err != nil {
				t.Fatalf("axe on %s: %v", what, err)
			}
			if summary, problems, _ := strings.Cut(found, "\n"); problems != "" {
				t.Errorf("accessibility problems on %s (%s):\n%s", what, summary, problems)
			}
		}
		do("phone "+what, chromedp.EmulateViewport(390, 844))
		width, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
		if err != nil || width > 400 {
			t.Errorf("%s on a 390px screen is %dpx wide, so it scrolls sideways (%v)", what, width, err)
		}
		do("desktop "+what, chromedp.EmulateViewport(1280, 900))
	}

	do("sign in",
		chromedp.Navigate(h.ts.URL+"/ui/"),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), h.tokens[api.RoleEditor]),
		chromedp.Click(chromedp.ID("signin")),
		chromedp.WaitVisible(chromedp.ID("add-key")),
	)
	checkPage("the credentials list")

	// Add a key: pick the provider, fill the catalog's form; first with a refused key, then a good one.
	do("pick a provider",
		chromedp.Click(chromedp.ID("add-key")),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/ui/credentials/new?provider=openai"]`)),
	)
	checkPage("the provider picker")
	do("open OpenAI's form",
		chromedp.Click(chromedp.CSS(`a[href="/ui/credentials/new?provider=openai"]`)),
		chromedp.WaitVisible(chromedp.ID("f-name")),
		chromedp.SendKeys(chromedp.ID("f-name"), "openai-batch"),
		chromedp.SendKeys(chromedp.ID("f-description"), "Nightly batch jobs"),
		chromedp.SendKeys(chromedp.ID("f-labels"), "team=data"),
		chromedp.SendKeys(chromedp.ID("f-api-key"), keyRefused),
		chromedp.Click(chromedp.ID("save")),
		chromedp.WaitVisible(chromedp.CSS(".field-error")),
	)
	if got := text(".field-error"); !strings.Contains(got, "Incorrect API key") {
		t.Errorf("the refusal beside the key field: %q", got)
	}
	kept, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.getElementById('f-name').value + "|" + document.getElementById('f-labels').value + "|" + document.getElementById('f-api-key').value`))
	if err != nil || strings.TrimSpace(kept) != "openai-batch|team=data|" {
		t.Errorf("after a refusal the form holds %q (%v): the name and labels kept, the key not", kept, err)
	}
	shot("add-key")
	checkPage("the refused add form")
	do("add with a good key",
		chromedp.SendKeys(chromedp.ID("f-api-key"), keyRotated),
		chromedp.Click(chromedp.ID("save")),
	)
	waitFlash("add", "Added openai-batch")
	list, _ := svc.ListCredentials(ctx, h.admin, store.CredentialFilter{Name: "openai-batch"})
	if len(list.Items) != 1 {
		t.Fatalf("the key was not added: %+v", list)
	}
	added := list.Items[0]
	checkPage("the new credential")

	// Edit its description, then rotate it with the existing form, then delete it.
	do("edit",
		chromedp.Click(chromedp.ID("edit")),
		chromedp.WaitVisible(chromedp.ID("f-description")),
		chromedp.Clear(chromedp.ID("f-description")),
		chromedp.SendKeys(chromedp.ID("f-description"), "Nightly and weekly batch jobs"),
	)
	shot("edit-key")
	checkPage("the edit form")
	do("save the edit", chromedp.Click(chromedp.ID("save")))
	waitFlash("edit", "Saved openai-batch")
	if cur, _ := svc.GetCredential(ctx, h.admin, added.ID); cur.Description != "Nightly and weekly batch jobs" {
		t.Errorf("the edit was not saved: %q", cur.Description)
	}
	do("rotate",
		chromedp.SendKeys(chromedp.ID("secret"), "sk-console-browser-rotated-00112233445566778899"),
		chromedp.Click(chromedp.ID("rotate")),
	)
	waitFlash("rotate", "Key rotated")
	if cur, _ := svc.GetCredential(ctx, h.admin, added.ID); cur.SecretVersion != 2 {
		t.Errorf("not rotated: secret version %d", cur.SecretVersion)
	}
	do("delete",
		chromedp.Click(chromedp.ID("delete-link")),
		chromedp.WaitVisible(chromedp.ID("delete")),
	)
	checkPage("the delete page")
	do("confirm the delete", chromedp.Click(chromedp.ID("delete")))
	waitFlash("delete", "Deleted openai-batch")
	if _, err := svc.GetCredential(ctx, h.admin, added.ID); err == nil {
		t.Error("the key was not deleted")
	}

	// Model permissions: only Anthropic's models in the organisation; the preview names chat-prod.
	do("open permissions",
		chromedp.Navigate(h.ts.URL+"/ui/policies"),
		chromedp.WaitVisible(chromedp.ID("edit-permissions")),
		chromedp.Click(chromedp.ID("edit-permissions")),
		chromedp.WaitVisible(chromedp.ID("choice-selected")),
		chromedp.Click(chromedp.ID("choice-selected")),
		chromedp.Click(chromedp.ID("pub-anthropic")),
		chromedp.Click(chromedp.ID("preview")),
		chromedp.WaitVisible(chromedp.ID("save-permissions")),
	)
	if got := text("main"); !strings.Contains(got, "1 connection would be blocked") || !strings.Contains(got, "chat-prod") {
		t.Errorf("the preview:\n%s", got)
	}
	shot("permissions")
	checkPage("the permissions preview")
	do("save permissions", chromedp.Click(chromedp.ID("save-permissions")))
	waitFlash("save permissions", "Saved the model permissions")
	if pol, _ := svc.GetModelPolicy(ctx, h.admin, ""); pol.Mode != api.PolicyAllowlist || strings.Join(pol.Publishers, ",") != "anthropic" {
		t.Errorf("the permissions were not saved: %+v", pol)
	}

	// Inheritance: the research project stops using the organisation's keys.
	do("open the project",
		chromedp.Navigate(h.ts.URL+"/ui/projects"),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/ui/projects/`+h.project.ID+`"]`)),
		chromedp.Click(chromedp.CSS(`a[href="/ui/projects/`+h.project.ID+`"]`)),
		chromedp.WaitVisible(chromedp.ID("flip-inherit")),
	)
	checkPage("the project page")
	do("flip inheritance", chromedp.Click(chromedp.ID("flip-inherit")))
	waitFlash("flip inheritance", "no longer uses the organisation")
	if pr, _ := svc.GetProject(ctx, h.admin, h.project.ID); pr.InheritOrganizationCredentials {
		t.Error("the project still inherits")
	}
	shot("project")
	do("audit", chromedp.Navigate(h.ts.URL+"/ui/audit?actor=erin"), chromedp.WaitVisible(chromedp.CSS("table")))
	// The deleted key's events show its id (a deleted object has no name left); the project is named.
	if got := text("main"); !strings.Contains(got, added.ID) || !strings.Contains(got, "project research") {
		t.Errorf("the audit log filtered by actor does not show what erin changed:\n%s", got)
	}
	checkPage("the audit log")
	t.Logf("screenshots in %s", shots)
}
