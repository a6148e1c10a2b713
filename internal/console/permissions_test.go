package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

// Model permissions: the current policy shown as enabled and disabled lists, a preview of the
// connections a change blocks (nothing saved), then the save through PutModelPolicy (audited, bound
// to the version shown).
func TestConsoleModelPermissions(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx, svc := context.Background(), h.srv.Service()
	e := h.signedIn(api.RoleEditor)
	page := e.get("/ui/permissions?project=" + h.project.ID)
	if page.status != http.StatusOK || !strings.Contains(page.body, "<code>anthropic/claude-opus-4-8</code>") || !strings.Contains(page.body, `id="choice-all" name="choice" value="all" checked`) ||
		!strings.Contains(page.body, `value="anthropic/claude-opus-4-8" checked`) {
		t.Fatalf("the project's denylist is not shown as a disabled model:\n%s", page.body)
	}
	csrf := csrfOf(t, page.body)
	form := url.Values{"csrf": {csrf}, "project": {""}, "version": {"0"}, "choice": {"selected"}, "publisher": {"anthropic"}, "action": {"preview"}}
	a := e.post("/ui/permissions", form)
	if a.status != http.StatusOK || !strings.Contains(a.body, "1 connection would be blocked, 1 of them newly") || !strings.Contains(a.body, "chat-prod") ||
		!strings.Contains(a.body, `id="save-permissions"`) {
		t.Fatalf("preview:\n%s", a.body)
	}
	if pol, _ := svc.GetModelPolicy(ctx, h.admin, ""); pol.Mode != api.PolicyAll {
		t.Fatalf("a preview saved: %+v", pol)
	}
	// A save without the preview first only previews.
	form.Set("action", "save")
	if a := e.post("/ui/permissions", form); !strings.Contains(a.body, "What this change blocks") {
		t.Error("a save without a preview did not preview")
	}
	if pol, _ := svc.GetModelPolicy(ctx, h.admin, ""); pol.Mode != api.PolicyAll {
		t.Fatal("saved without a preview")
	}
	form.Set("previewed", "yes")
	a = e.post("/ui/permissions", form)
	if a.status != http.StatusSeeOther {
		t.Fatalf("save: %d\n%s", a.status, a.body)
	}
	pol, _ := svc.GetModelPolicy(ctx, h.admin, "")
	if pol.Mode != api.PolicyAllowlist || strings.Join(pol.Publishers, ",") != "anthropic" {
		t.Fatalf("saved: %+v", pol)
	}
	if ev := h.lastAudit(); ev.ObjectType != "model_policy" || ev.Actor != "erin" {
		t.Errorf("audit: %+v", ev)
	}
	if p := e.get("/ui/permissions"); !strings.Contains(p.body, "Only selected models and publishers") || !strings.Contains(p.body, "<code>anthropic</code>") {
		t.Error("the saved permissions are not shown")
	}
	// The form of before (version 0 → now 1): a stale save of an existing policy is refused.
	stale := url.Values{"csrf": {csrf}, "project": {""}, "version": {itoa(pol.Version)}, "choice": {"all"}, "action": {"save"}, "previewed": {"yes"}}
	if a := e.post("/ui/permissions", stale); a.status != http.StatusSeeOther {
		t.Fatalf("back to all: %d\n%s", a.status, a.body)
	}
	if a := e.post("/ui/permissions", stale); a.status != http.StatusConflict || !strings.Contains(a.body, "Someone changed this policy") {
		t.Errorf("stale save: %d", a.status)
	}
	// A model reference the service refuses: its words, nothing saved.
	bad := url.Values{"csrf": {csrf}, "project": {""}, "choice": {"all"}, "other_models": {"not a model"}, "action": {"preview"}}
	if a := e.post("/ui/permissions", bad); a.status != http.StatusUnprocessableEntity || !strings.Contains(a.body, "Not saved") {
		t.Errorf("bad model: %d\n%s", a.status, a.body)
	}
	// Viewers see no form; a forged POST is refused.
	v := h.signedIn(api.RoleViewer)
	vp := v.get("/ui/permissions")
	if strings.Contains(vp.body, `action="/ui/permissions"`) && strings.Contains(vp.body, `method="post" action="/ui/permissions"`) {
		t.Error("a viewer is offered the form")
	}
	if a := v.post("/ui/permissions", url.Values{"csrf": {csrfOf(t, vp.body)}, "choice": {"selected"}, "action": {"save"}, "previewed": {"yes"}}); a.status != http.StatusForbidden {
		t.Errorf("viewer POST: %d", a.status)
	}
	if a := e.post("/ui/permissions", url.Values{"choice": {"selected"}, "action": {"save"}, "previewed": {"yes"}}); a.status != http.StatusForbidden {
		t.Errorf("POST without CSRF: %d", a.status)
	}
}
