package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// The inheritance switch goes through UpdateProject (audited), is bound to the version shown, and the
// project page lists the keys the project then uses.
func TestConsoleProjectInheritance(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	path := "/ui/projects/" + h.project.ID
	v := h.signedIn(api.RoleViewer)
	page := v.get(path)
	if page.status != http.StatusOK || !strings.Contains(page.body, ">openai-prod</a>") || !strings.Contains(page.body, ">claude</a>") {
		t.Fatalf("project page: %d\n%s", page.status, page.body)
	}
	if strings.Contains(page.body, "/inherit") {
		t.Error("a viewer is offered the switch")
	}
	if a := v.post(path+"/inherit", url.Values{"csrf": {csrfOf(t, page.body)}, "version": {itoa(h.project.Version)}, "inherit": {"false"}}); a.status != http.StatusForbidden {
		t.Errorf("viewer POST: %d", a.status)
	}
	e := h.signedIn(api.RoleEditor)
	page = e.get(path)
	csrf := csrfOf(t, page.body)
	// Without CSRF: refused.
	if a := e.post(path+"/inherit", url.Values{"version": {itoa(h.project.Version)}, "inherit": {"false"}}); a.status != http.StatusForbidden {
		t.Errorf("no CSRF: %d", a.status)
	}
	a := e.post(path+"/inherit", url.Values{"csrf": {csrf}, "version": {itoa(h.project.Version)}, "inherit": {"false"}})
	if a.status != http.StatusSeeOther {
		t.Fatalf("flip: %d", a.status)
	}
	page = e.get(path)
	if !strings.Contains(page.body, "no longer uses the organisation") || strings.Contains(page.body, ">openai-prod</a>") || !strings.Contains(page.body, "does not inherit") {
		t.Errorf("after turning inheritance off:\n%s", page.body)
	}
	if ev := h.lastAudit(); ev.Action != "update" || ev.ObjectID != h.project.ID || ev.Actor != "erin" {
		t.Errorf("audit: %+v", ev)
	}
	// The old version again: a conflict, not a silent change.
	e.post(path+"/inherit", url.Values{"csrf": {csrf}, "version": {itoa(h.project.Version)}, "inherit": {"true"}})
	if p := e.get(path); !strings.Contains(p.body, "someone changed this project") {
		t.Error("a stale switch is not refused")
	}
	if pr, _ := h.srv.Service().GetProject(context.Background(), h.admin, h.project.ID); pr.InheritOrganizationCredentials {
		t.Error("a stale switch changed the project")
	}
	if p := e.get("/ui/projects"); !strings.Contains(p.body, "not inherited") {
		t.Error("the projects list does not show the switch's state")
	}
}

// Connect a model to a credential, disable, enable and delete it: the service's rules (the model
// policy among them) and audit.
func TestConsoleConnections(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	e := h.signedIn(api.RoleEditor)
	form := e.get("/ui/connections/new?credential=" + h.prjCred.ID)
	if form.status != http.StatusOK || !strings.Contains(form.body, `<select id="n-model" name="model"`) {
		t.Fatalf("connect form: %d\n%s", form.status, form.body)
	}
	csrf := csrfOf(t, form.body)
	// The project's policy denies claude-opus-4-8: the service refuses, the form says so.
	a := e.post("/ui/connections/new", url.Values{"csrf": {csrf}, "credential_id": {h.prjCred.ID}, "name": {"opus"}, "model": {"claude-opus-4-8"}, "enabled": {"true"}})
	if a.status != http.StatusUnprocessableEntity || !strings.Contains(a.body, "Not connected") || !strings.Contains(a.body, `value="opus"`) {
		t.Errorf("a denied model: %d\n%s", a.status, a.body)
	}
	models := h.srv.Service()
	list, _ := models.ListModels(context.Background(), h.admin, serviceModelFilter(h.project.ID, "anthropic"))
	var allowed string
	for _, m := range list.Items {
		if m.Allowed {
			allowed = m.ID
			break
		}
	}
	a = e.post("/ui/connections/new", url.Values{"csrf": {csrf}, "credential_id": {h.prjCred.ID}, "name": {"sonnet"}, "model": {allowed}, "enabled": {"true"}})
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/ui/credentials/"+h.prjCred.ID {
		t.Fatalf("connect: %d %s\n%s", a.status, a.header.Get("Location"), a.body)
	}
	conns, _ := models.ListConnections(context.Background(), h.admin, store.ConnectionFilter{CredentialID: h.prjCred.ID})
	if len(conns.Items) != 1 || conns.Items[0].Name != "sonnet" || !conns.Items[0].Enabled {
		t.Fatalf("connections: %+v", conns.Items)
	}
	cn := conns.Items[0]
	if ev := h.lastAudit(); ev.Action != "create" || ev.ObjectID != cn.ID || ev.Actor != "erin" {
		t.Errorf("audit: %+v", ev)
	}
	page := e.get("/ui/credentials/" + h.prjCred.ID)
	if !strings.Contains(page.body, "/ui/connections/"+cn.ID+"/disable") {
		t.Fatal("the credential page offers no disable")
	}
	a = e.post("/ui/connections/"+cn.ID+"/disable", url.Values{"csrf": {csrf}, "version": {itoa(cn.Version)}, "back_credential": {h.prjCred.ID}})
	if a.status != http.StatusSeeOther {
		t.Fatalf("disable: %d", a.status)
	}
	if got, _ := models.GetConnection(context.Background(), h.admin, cn.ID); got.Enabled {
		t.Error("still enabled")
	}
	// The stale version: a conflict.
	e.post("/ui/connections/"+cn.ID+"/enable", url.Values{"csrf": {csrf}, "version": {itoa(cn.Version)}})
	if p := e.get("/ui/connections"); !strings.Contains(p.body, "someone changed this connection") {
		t.Error("a stale enable is not refused")
	}
	v := h.signedIn(api.RoleViewer)
	if p := v.get("/ui/connections"); strings.Contains(p.body, "/disable") || strings.Contains(p.body, "/delete") {
		t.Error("a viewer is offered connection actions")
	}
	if a := v.post("/ui/connections/"+cn.ID+"/delete", url.Values{"csrf": {v.csrf()}, "version": {itoa(cn.Version + 1)}}); a.status != http.StatusForbidden {
		t.Errorf("viewer delete: %d", a.status)
	}
	if a := v.get("/ui/connections/new?credential=" + h.prjCred.ID); a.status != http.StatusForbidden {
		t.Errorf("viewer connect form: %d", a.status)
	}
	a = e.post("/ui/connections/"+cn.ID+"/delete", url.Values{"csrf": {csrf}, "version": {itoa(cn.Version + 1)}})
	if a.status != http.StatusSeeOther {
		t.Fatalf("delete: %d", a.status)
	}
	if _, err := models.GetConnection(context.Background(), h.admin, cn.ID); err == nil {
		t.Error("still there")
	}
	if ev := h.lastAudit(); ev.Action != "delete" || ev.ObjectID != cn.ID {
		t.Errorf("audit: %+v", ev)
	}
}

func serviceModelFilter(projectID, provider string) service.ModelFilter {
	return service.ModelFilter{ProjectID: projectID, Provider: provider}
}
