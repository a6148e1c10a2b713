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

// lastAudit is the newest audit event.
func (h *harness) lastAudit() api.AuditEvent {
	h.t.Helper()
	got, err := h.srv.Service().SearchAudit(context.Background(), h.admin, store.AuditQuery{Limit: 1})
	if err != nil || len(got.Items) == 0 {
		h.t.Fatalf("SearchAudit: %v %+v", err, got)
	}
	return got.Items[0]
}

func (h *harness) credentialNamed(name string) (api.Credential, bool) {
	h.t.Helper()
	got, err := h.srv.Service().ListCredentials(context.Background(), h.admin, store.CredentialFilter{Name: name})
	if err != nil {
		h.t.Fatal(err)
	}
	if len(got.Items) == 0 {
		return api.Credential{}, false
	}
	return got.Items[0], true
}

// Adding a key: the picker groups providers by category, the form is the catalog's, a refusal comes
// back beside its field with everything typed but the secret, and success goes through the API's
// create (verified, audited).
func TestConsoleAddKey(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.signedIn(api.RoleEditor)

	list := b.get("/ui/credentials")
	if !strings.Contains(list.body, `href="/ui/credentials/new"`) {
		t.Error("the list offers no “Add a key” to an editor")
	}
	pick := b.get("/ui/credentials/new")
	for _, want := range []string{"Model providers", "Cloud platforms", "Gateways", "Your own server", "/ui/credentials/new?provider=openai"} {
		if !strings.Contains(pick.body, want) {
			t.Errorf("the picker has no %q", want)
		}
	}
	form := b.get("/ui/credentials/new?provider=custom")
	if form.status != http.StatusOK {
		t.Fatalf("form: %d\n%s", form.status, form.body)
	}
	for _, want := range []string{`name="settings.base_url"`, `name="api_key"`, `name="auth_token"`, "(required)", `name="csrf"`, "The organisation holds 2 of at most 200 credentials."} {
		if !strings.Contains(form.body, want) {
			t.Errorf("the custom server's form has no %q", want)
		}
	}
	if vertex := b.get("/ui/credentials/new?provider=vertex_ai"); !strings.Contains(vertex.body, `<textarea id="f-api-key" name="api_key"`) {
		t.Error("Vertex AI's key file is not a multi-line field")
	}
	if a := b.get("/ui/credentials/new?provider=nope"); a.status != http.StatusNotFound {
		t.Errorf("unknown provider: %d", a.status)
	}
	csrf := csrfOf(t, form.body)

	// The provider refuses the key: 422, the form again with the name kept and the key gone.
	a := b.post("/ui/credentials/new", url.Values{"csrf": {csrf}, "provider": {"openai"}, "name": {"new-key"},
		"description": {"kept " + h.text}, "labels": {"team=ml"}, "api_key": {keyRefused}, "verify": {"true"}})
	if a.status != http.StatusUnprocessableEntity {
		t.Fatalf("refused key: %d\n%s", a.status, a.body)
	}
	for _, want := range []string{`value="new-key"`, "team=ml", "Incorrect API key", `class="field-error"`} {
		if !strings.Contains(a.body, want) {
			t.Errorf("the refused form has no %q", want)
		}
	}
	if _, ok := h.credentialNamed("new-key"); ok {
		t.Fatal("a refused key was stored")
	}
	// A bad name: the catalog's words beside the name.
	a = b.post("/ui/credentials/new", url.Values{"csrf": {csrf}, "provider": {"openai"}, "name": {"bad name!"}, "api_key": {keyRotated}, "verify": {"true"}})
	if a.status != http.StatusUnprocessableEntity || !strings.Contains(a.body, `id="f-name-err"`) {
		t.Errorf("bad name: %d\n%s", a.status, a.body)
	}
	// Bad labels are refused before anything is sent.
	a = b.post("/ui/credentials/new", url.Values{"csrf": {csrf}, "provider": {"openai"}, "name": {"x"}, "labels": {"no equals sign"}, "api_key": {keyRotated}})
	if a.status != http.StatusUnprocessableEntity || !strings.Contains(a.body, "is not key=value") {
		t.Errorf("bad labels: %d", a.status)
	}

	// A good key.
	a = b.post("/ui/credentials/new", url.Values{"csrf": {csrf}, "provider": {"openai"}, "name": {"new-key"},
		"project_id": {h.project.ID}, "labels": {"team=ml\nenv=dev"}, "api_key": {keyRotated}, "verify": {"true"}, "rotation_period": {"90d"}})
	if a.status != http.StatusSeeOther {
		t.Fatalf("create: %d\n%s", a.status, a.body)
	}
	cr, ok := h.credentialNamed("new-key")
	if !ok || cr.ProjectID != h.project.ID || cr.Labels["env"] != "dev" || cr.Status != api.StatusVerified || cr.RotationPeriod == "" {
		t.Fatalf("created: %+v", cr)
	}
	if a.header.Get("Location") != "/ui/credentials/"+cr.ID {
		t.Errorf("redirect to %q", a.header.Get("Location"))
	}
	if e := h.lastAudit(); e.Actor != "erin" || e.Action != "create" || e.ObjectID != cr.ID {
		t.Errorf("audit: %+v", e)
	}
	if page := b.get("/ui/credentials/" + cr.ID); !strings.Contains(page.body, "Added new-key") {
		t.Error("no message after adding")
	}
}

// Viewers see no write forms, and a forged POST is refused; every write form needs the session's
// CSRF token.
func TestConsoleWriteFormsRolesAndCSRF(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.orgCred.ID
	v := h.signedIn(api.RoleViewer)
	page := v.get("/ui/credentials/" + id)
	for _, s := range []string{"/edit", "/delete", "/ui/credentials/new"} {
		if strings.Contains(page.body, s) || strings.Contains(v.get("/ui/credentials").body, `href="/ui/credentials/new"`) {
			t.Errorf("a viewer is offered %s", s)
		}
	}
	for _, p := range []string{"/ui/credentials/new", "/ui/credentials/new?provider=openai", "/ui/credentials/" + id + "/edit", "/ui/credentials/" + id + "/delete"} {
		if a := v.get(p); a.status != http.StatusForbidden {
			t.Errorf("viewer GET %s: %d", p, a.status)
		}
	}
	csrf := csrfOf(t, page.body)
	posts := map[string]url.Values{
		"/ui/credentials/new":               {"provider": {"openai"}, "name": {"forged"}, "api_key": {keyRotated}},
		"/ui/credentials/" + id + "/edit":   {"version": {itoa(h.orgCred.Version)}, "name": {"forged"}, "confirm_drift": {"yes"}},
		"/ui/credentials/" + id + "/delete": {"version": {itoa(h.orgCred.Version)}, "confirm_drift": {"yes"}, "force": {"true"}},
	}
	for p, f := range posts {
		f.Set("csrf", csrf)
		if a := v.post(p, f); a.status != http.StatusForbidden {
			t.Errorf("viewer POST %s: %d", p, a.status)
		}
	}
	e := h.signedIn(api.RoleEditor)
	for p, f := range posts {
		f.Del("csrf")
		if a := e.post(p, f); a.status != http.StatusForbidden {
			t.Errorf("POST %s without CSRF: %d", p, a.status)
		}
	}
	if _, ok := h.credentialNamed("forged"); ok {
		t.Error("a refused POST wrote")
	}
	if cur, err := h.srv.Service().GetCredential(context.Background(), h.admin, id); err != nil || cur.Version != h.orgCred.Version {
		t.Errorf("a refused POST changed the credential: %v %+v", err, cur)
	}
}

// Editing: everything but the provider; Terraform-managed needs a confirmation; the form is bound to
// the version shown; a destination change asks for the secret again (the API's rule).
func TestConsoleEditKey(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.signedIn(api.RoleEditor)
	id := h.prjCred.ID // not managed by Terraform
	path := "/ui/credentials/" + id + "/edit"
	form := b.get(path)
	if form.status != http.StatusOK || !strings.Contains(form.body, `value="claude"`) || strings.Contains(form.body, `name="provider"`) {
		t.Fatalf("edit form: %d\n%s", form.status, form.body)
	}
	csrf := csrfOf(t, form.body)
	ver := itoa(h.prjCred.Version)
	a := b.post(path, url.Values{"csrf": {csrf}, "version": {ver}, "name": {"claude-renamed"}, "description": {"now described"}, "labels": {"owner=ml\nteam=research"}, "verify": {"true"}})
	if a.status != http.StatusSeeOther {
		t.Fatalf("save: %d\n%s", a.status, a.body)
	}
	cur, _ := h.srv.Service().GetCredential(context.Background(), h.admin, id)
	if cur.Name != "claude-renamed" || cur.Description != "now described" || cur.Labels["team"] != "research" || cur.SecretVersion != 1 {
		t.Fatalf("after save: %+v", cur)
	}
	if e := h.lastAudit(); e.Actor != "erin" || e.Action != "update" || e.ObjectID != id {
		t.Errorf("audit: %+v", e)
	}
	// The same form again: its version is stale, a clear conflict, nothing saved.
	a = b.post(path, url.Values{"csrf": {csrf}, "version": {ver}, "name": {"stale"}, "verify": {"true"}})
	if a.status != http.StatusUnprocessableEntity || !strings.Contains(a.body, "Someone changed this credential") {
		t.Errorf("stale form: %d\n%s", a.status, a.body)
	}
	// A new destination without the key: asked for, nothing sent.
	ver = itoa(cur.Version)
	a = b.post(path, url.Values{"csrf": {csrf}, "version": {ver}, "name": {"claude-renamed"}, "verify": {"true"}, "settings.base_url": {"https://proxy.example.test/v1"}})
	if a.status != http.StatusUnprocessableEntity || !strings.Contains(a.body, "paste the API key again") {
		t.Errorf("destination change without the key: %d\n%s", a.status, a.body)
	}
	if now, _ := h.srv.Service().GetCredential(context.Background(), h.admin, id); now.Version != cur.Version {
		t.Error("the destination changed without the key")
	}

	// Terraform's credential needs the drift confirmation.
	tf := "/ui/credentials/" + h.orgCred.ID + "/edit"
	if page := b.get(tf); !strings.Contains(page.body, "shows as drift") || !strings.Contains(page.body, `name="confirm_drift"`) {
		t.Error("the Terraform credential's form does not warn of drift")
	}
	f := url.Values{"csrf": {csrf}, "version": {itoa(h.orgCred.Version)}, "name": {"openai-prod"}, "description": {"edited"}, "verify": {"true"},
		"settings.organization_id": {h.orgCred.Settings["organization_id"]}, "labels": {"env=prod"}}
	if a := b.post(tf, f); a.status != http.StatusUnprocessableEntity || !strings.Contains(a.body, "tick the box") {
		t.Errorf("unconfirmed Terraform edit: %d", a.status)
	}
	f.Set("confirm_drift", "yes")
	if a := b.post(tf, f); a.status != http.StatusSeeOther {
		t.Fatalf("confirmed Terraform edit: %d\n%s", a.status, a.body)
	}
	if page := b.get("/ui/credentials/" + h.orgCred.ID); !strings.Contains(page.body, "next plan shows the change as drift") {
		t.Error("no drift notice after the edit")
	}
}

// Deleting lists the connections first; an editor cannot delete a key in use, an admin can with force.
func TestConsoleDeleteKey(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	e := h.signedIn(api.RoleEditor)
	id := h.orgCred.ID // used by chat-prod, managed by Terraform
	page := e.get("/ui/credentials/" + id + "/delete")
	if !strings.Contains(page.body, "chat-prod") || !strings.Contains(page.body, "would break") || strings.Contains(page.body, `name="force"`) {
		t.Errorf("the editor's delete page:\n%s", page.body)
	}
	csrf := csrfOf(t, page.body)
	ver := itoa(h.orgCred.Version)
	a := e.post("/ui/credentials/"+id+"/delete", url.Values{"csrf": {csrf}, "version": {ver}, "confirm_drift": {"yes"}})
	if a.status != http.StatusSeeOther {
		t.Fatalf("delete in use: %d", a.status)
	}
	if p := e.get("/ui/credentials/" + id + "/delete"); !strings.Contains(p.body, "Not deleted") {
		t.Error("no refusal shown")
	}
	// force from an editor is the API's 403.
	if a := e.post("/ui/credentials/"+id+"/delete", url.Values{"csrf": {csrf}, "version": {ver}, "confirm_drift": {"yes"}, "force": {"true"}}); a.status != http.StatusForbidden {
		t.Errorf("editor force: %d", a.status)
	}
	adm := h.signedIn(api.RoleAdmin)
	page = adm.get("/ui/credentials/" + id + "/delete")
	if !strings.Contains(page.body, `name="force"`) {
		t.Error("the admin is not offered force")
	}
	acsrf := csrfOf(t, page.body)
	// Without the Terraform confirmation: not deleted.
	adm.post("/ui/credentials/"+id+"/delete", url.Values{"csrf": {acsrf}, "version": {ver}, "force": {"true"}})
	if _, err := h.srv.Service().GetCredential(context.Background(), h.admin, id); err != nil {
		t.Fatal("deleted without the Terraform confirmation")
	}
	a = adm.post("/ui/credentials/"+id+"/delete", url.Values{"csrf": {acsrf}, "version": {ver}, "force": {"true"}, "confirm_drift": {"yes"}})
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/ui/credentials" {
		t.Fatalf("force delete: %d %s", a.status, a.header.Get("Location"))
	}
	if _, err := h.srv.Service().GetCredential(context.Background(), h.admin, id); err == nil {
		t.Fatal("still there")
	}
	if ev := h.lastAudit(); ev.Action != "delete" || ev.Actor != "alice" || ev.ObjectID != id {
		t.Errorf("audit: %+v", ev)
	}
	// A project key nobody uses: an editor deletes it.
	pid := h.prjCred.ID
	if a := e.post("/ui/credentials/"+pid+"/delete", url.Values{"csrf": {csrf}, "version": {itoa(h.prjCred.Version)}}); a.status != http.StatusSeeOther {
		t.Errorf("editor delete: %d", a.status)
	}
	if _, err := h.srv.Service().GetCredential(context.Background(), h.admin, pid); err == nil {
		t.Error("the unused key is still there")
	}
}

// A provider the server allows once per organisation says so in the picker, and on its form.
func TestConsoleAddKeyShowsOnePerProvider(t *testing.T) {
	t.Parallel()
	limits := service.DefaultLimits()
	limits.OnePerProvider = []string{"anthropic", "mistral"}
	h := newHarness(t, func(o *harnessOptions) { o.limits = &limits })
	b := h.signedIn(api.RoleEditor)
	pick := b.get("/ui/credentials/new")
	if !strings.Contains(pick.body, "One per organisation: the organisation has one (claude).") || !strings.Contains(pick.body, "One per organisation.</small>") {
		t.Errorf("the picker does not show the one-per-provider limit:\n%s", pick.body)
	}
	if form := b.get("/ui/credentials/new?provider=mistral"); !strings.Contains(form.body, "allows one Mistral") {
		t.Error("the form does not show the one-per-provider limit")
	}
	// The service's refusal of a second one appears on the form.
	a := b.post("/ui/credentials/new", url.Values{"csrf": {csrfOf(t, pick.body)}, "provider": {"anthropic"}, "name": {"claude-2"}, "api_key": {keyRotated}, "verify": {"true"}})
	if a.status != http.StatusUnprocessableEntity && a.status != http.StatusConflict {
		t.Errorf("a second anthropic key: %d", a.status)
	}
	if !strings.Contains(a.body, "Not saved") {
		t.Errorf("the refusal is not shown:\n%s", a.body)
	}
}

// Rotating a key Terraform manages needs the drift confirmation too; without it nothing is sent.
func TestConsoleRotateTerraformNeedsConfirmation(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.signedIn(api.RoleAdmin)
	path := "/ui/credentials/" + h.orgCred.ID
	page := b.get(path)
	if !strings.Contains(page.body, `id="confirm-drift" name="confirm_drift"`) {
		t.Fatal("the rotate form of a Terraform credential has no drift confirmation")
	}
	b.post(path+"/rotate", url.Values{"csrf": {csrfOf(t, page.body)}, "api_key": {keyRotated}, "version": {itoa(h.orgCred.Version)}})
	if p := b.get(path); !strings.Contains(p.body, "Terraform manages this credential, so its next plan will show a new key as drift") {
		t.Error("no refusal without the confirmation")
	}
	if cur, _ := h.srv.Service().GetCredential(context.Background(), h.admin, h.orgCred.ID); cur.SecretVersion != 1 {
		t.Error("rotated without the confirmation")
	}
	if p := b.get("/ui/credentials/" + h.prjCred.ID); strings.Contains(p.body, `id="confirm-drift"`) {
		t.Error("a credential Terraform does not manage asks for the drift confirmation")
	}
}

// A credential that holds both secrets has a rotate form for each; the auth token's replaces only it.
func TestConsoleRotateEachSecret(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	svc := h.srv.Service()
	key, tok := "sk-console-custom-0011223344556677889900aa", "tok-console-custom-99887766554433221100bb"
	noVerify := false
	cr, _, err := svc.CreateCredential(context.Background(), h.admin, api.CredentialCreate{Name: "gpu-box", Provider: "custom", APIKey: &key, AuthToken: &tok,
		Verify: &noVerify, Settings: map[string]string{"base_url": "http://127.0.0.1:8000/v1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := h.signedIn(api.RoleAdmin)
	path := "/ui/credentials/" + cr.ID
	page := b.get(path)
	if !strings.Contains(page.body, `id="secret" name="api_key"`) || !strings.Contains(page.body, `id="secret-auth-token" name="auth_token"`) {
		t.Fatalf("not a form per secret:\n%s", page.body)
	}
	newTok := "tok-console-custom-rotated-0a0b0c0d0e0f1a1b"
	a := b.post(path+"/rotate", url.Values{"csrf": {csrfOf(t, page.body)}, "field": {"auth_token"}, "auth_token": {newTok}, "version": {itoa(cr.Version)}})
	if a.status != http.StatusSeeOther {
		t.Fatalf("rotate the auth token: %d", a.status)
	}
	if e := h.lastAudit(); strings.Join(e.Fields, ",") != "auth_token" || e.ObjectID != cr.ID {
		t.Errorf("audit of the token's rotation: %+v", e)
	}
	if p := b.get(path); strings.Contains(p.body, newTok) || strings.Contains(p.body, tok) || !strings.Contains(p.body, "Key rotated") {
		t.Error("after rotating the token: a secret on the page, or no message")
	}
}
