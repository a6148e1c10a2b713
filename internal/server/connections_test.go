package server

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
)

func TestConnectionsAndPolicies(t *testing.T) { forEachBackend(t, testConnectionsAndPolicies) }

func testConnectionsAndPolicies(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	cred := h.mustCreate(h.admin, openAICred("openai", h.secret("sk-")))

	conn, err := h.editor.CreateConnection(ctx, api.ConnectionCreate{Name: "chat", CredentialID: cred.ID, Model: "gpt-4.1",
		Parameters: `{"temperature": 0.2, "max_tokens": 100}`})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(conn.ID, "conn_") || conn.Status != api.ConnectionReady || conn.Provider != "openai" || !conn.Enabled {
		t.Errorf("new connection: %+v", conn)
	}
	if conn.Parameters != `{"max_tokens":100,"temperature":0.2}` {
		t.Errorf("parameters not normalised: %q", conn.Parameters)
	}
	// The credential lists the connection that uses it.
	if got, _ := h.viewer.GetCredential(ctx, cred.ID); !slices.Equal(got.ConnectionIDs, []string{conn.ID}) {
		t.Errorf("credential connection_ids %v, want [%s]", got.ConnectionIDs, conn.ID)
	}

	// A model neither the catalog nor the provider's list knows is refused, with the nearest known
	// names: a typo must not be stored as ready (issue 38)...
	_, err = h.editor.CreateConnection(ctx, api.ConnectionCreate{Name: "typo", CredentialID: cred.ID, Model: "gpt-4o-mni"})
	fe := fieldError(t, apiError(t, err, http.StatusUnprocessableEntity).Problem, "model")
	for _, want := range []string{`model "gpt-4o-mni" is not a model of openai: the modelkeys catalog does not list it`, `Did you mean "gpt-4o-mini"`, "allow_unknown_model = true"} {
		if !strings.Contains(fe.Message, want) {
			t.Errorf("unknown model refusal %q lacks %q", fe.Message, want)
		}
	}
	// ...unless the request allows it, for a model released after the catalog.
	fresh, err := h.editor.CreateConnection(ctx, api.ConnectionCreate{Name: "fresh", CredentialID: cred.ID, Model: "gpt-99", AllowUnknownModel: true})
	if err != nil {
		t.Fatalf("a model missing from the catalog was refused with allow_unknown_model: %v", err)
	}
	if fresh.Status != api.ConnectionReady {
		t.Errorf("fresh connection: %+v", fresh)
	}
	// Changing the model to an unknown one is refused the same way, and allowed the same way.
	_, err = h.editor.UpdateConnection(ctx, fresh.ID, api.ConnectionPatch{Model: ptr("gpt-4o-mni")}, 0)
	fe = fieldError(t, apiError(t, err, http.StatusUnprocessableEntity).Problem, "model")
	if !strings.Contains(fe.Message, `Did you mean "gpt-4o-mini"`) {
		t.Errorf("unknown model refusal on update: %q", fe.Message)
	}
	if _, err := h.editor.UpdateConnection(ctx, fresh.ID, api.ConnectionPatch{Model: ptr("gpt-100"), AllowUnknownModel: true}, 0); err != nil {
		t.Fatalf("update to an unknown model with allow_unknown_model: %v", err)
	}
	// Renaming leaves the (unknown) model alone and needs no allowance.
	if _, err := h.editor.UpdateConnection(ctx, fresh.ID, api.ConnectionPatch{Name: ptr("fresh2")}, 0); err != nil {
		t.Fatalf("rename of a connection to an unknown model: %v", err)
	}
	if err := h.editor.DeleteConnection(ctx, fresh.ID, 0); err != nil {
		t.Fatal(err)
	}
	// Bad parameters are refused.
	_, err = h.editor.CreateConnection(ctx, api.ConnectionCreate{Name: "bad", CredentialID: cred.ID, Model: "gpt-4.1", Parameters: "[1]"})
	fieldError(t, apiError(t, err, http.StatusUnprocessableEntity).Problem, "parameters")
	_, err = h.editor.CreateConnection(ctx, api.ConnectionCreate{Name: "chat", CredentialID: cred.ID, Model: "gpt-4o-mini"})
	apiError(t, err, http.StatusConflict)

	// A denylist refuses new connections to the model with a 422 naming the rule...
	pol, err := h.admin.PutModelPolicy(ctx, "", api.ModelPolicyPut{Mode: api.PolicyDenylist, Models: []string{"openai/gpt-4.1"}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.editor.CreateConnection(ctx, api.ConnectionCreate{Name: "chat2", CredentialID: cred.ID, Model: "gpt-4.1"})
	fe = fieldError(t, apiError(t, err, http.StatusUnprocessableEntity).Problem, "model")
	if !strings.Contains(fe.Message, "organisation model policy denies model \"openai/gpt-4.1\"") {
		t.Errorf("refusal does not name the rule: %q", fe.Message)
	}
	// ...and flips the existing connection to blocked, in GET and in lists.
	got, err := h.viewer.GetConnection(ctx, conn.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != api.ConnectionBlocked || !strings.Contains(got.StatusMessage, "denies model") {
		t.Errorf("after denylist: status %q %q, want blocked", got.Status, got.StatusMessage)
	}
	list, err := h.viewer.ListAllConnections(ctx, client.ConnectionListOptions{CredentialID: cred.ID})
	if err != nil || len(list) != 1 || list[0].Status != api.ConnectionBlocked {
		t.Errorf("list after denylist: %+v %v", list, err)
	}
	// Other models stay allowed.
	if _, err := h.editor.CreateConnection(ctx, api.ConnectionCreate{Name: "mini", CredentialID: cred.ID, Model: "gpt-4o-mini"}); err != nil {
		t.Errorf("gpt-4o-mini under a gpt-4.1 denylist: %v", err)
	}
	// Stale If-Match on the policy.
	_, err = h.admin.PutModelPolicy(ctx, "", api.ModelPolicyPut{Mode: api.PolicyAll}, pol.Version+5)
	apiError(t, err, http.StatusPreconditionFailed)

	// Resetting the policy (destroy) unblocks it.
	if err := h.admin.DeleteModelPolicy(ctx, "", 0); err != nil {
		t.Fatal(err)
	}
	if got, _ := h.viewer.GetConnection(ctx, conn.ID); got.Status != api.ConnectionReady {
		t.Errorf("after reset: status %q, want ready", got.Status)
	}
	if p, _ := h.viewer.GetModelPolicy(ctx, ""); p.Mode != api.PolicyAll {
		t.Errorf("after reset the policy reads mode %q", p.Mode)
	}
	// An allowlist of publishers blocks other publishers.
	if _, err := h.admin.PutModelPolicy(ctx, "", api.ModelPolicyPut{Mode: api.PolicyAllowlist, Publishers: []string{"anthropic"}}, 0); err != nil {
		t.Fatal(err)
	}
	if got, _ := h.viewer.GetConnection(ctx, conn.ID); got.Status != api.ConnectionBlocked || !strings.Contains(got.StatusMessage, "allowlist") {
		t.Errorf("under an anthropic allowlist: %q %q", got.Status, got.StatusMessage)
	}
	models, err := h.viewer.ListModels(ctx, client.ModelFilter{Provider: "anthropic"})
	if err != nil || len(models) == 0 {
		t.Fatalf("models: %v", err)
	}
	for _, m := range models {
		if !m.Allowed {
			t.Errorf("anthropic model %s not allowed under an anthropic allowlist", m.ID)
		}
	}
	models, _ = h.viewer.ListModels(ctx, client.ModelFilter{Provider: "openai"})
	for _, m := range models {
		if m.Allowed {
			t.Errorf("openai model %s allowed under an anthropic allowlist", m.ID)
		}
	}
	// Bad policies are 422 on the field.
	_, err = h.admin.PutModelPolicy(ctx, "", api.ModelPolicyPut{Mode: "some"}, 0)
	fieldError(t, apiError(t, err, http.StatusUnprocessableEntity).Problem, "mode")
	_, err = h.admin.PutModelPolicy(ctx, "", api.ModelPolicyPut{Mode: api.PolicyDenylist, Models: []string{"gpt-4o"}}, 0)
	fieldError(t, apiError(t, err, http.StatusUnprocessableEntity).Problem, "models")
	_, err = h.admin.PutModelPolicy(ctx, "", api.ModelPolicyPut{Mode: api.PolicyAll, Publishers: []string{"openai"}}, 0)
	fieldError(t, apiError(t, err, http.StatusUnprocessableEntity).Problem, "mode")
	_ = h.admin.DeleteModelPolicy(ctx, "", 0)

	// Deleting a credential in use is refused with the connections listed.
	mini, err := h.viewer.ListAllConnections(ctx, client.ConnectionListOptions{Name: "mini"})
	if err != nil || len(mini) != 1 {
		t.Fatalf("list by name: %v %v", mini, err)
	}
	err = h.admin.DeleteCredential(ctx, cred.ID, 0)
	ae := apiError(t, err, http.StatusConflict)
	slices.Sort(ae.Problem.Conflicts)
	want := []string{conn.ID, mini[0].ID}
	slices.Sort(want)
	if !slices.Equal(ae.Problem.Conflicts, want) {
		t.Errorf("409 conflicts %v, want %v", ae.Problem.Conflicts, want)
	}
	for _, id := range want {
		if !strings.Contains(ae.Problem.Detail, id) {
			t.Errorf("409 detail does not list %s: %q", id, ae.Problem.Detail)
		}
	}
	if _, err := h.viewer.GetCredential(ctx, cred.ID); err != nil {
		t.Fatalf("refused delete removed the credential: %v", err)
	}
	// Re-pointing a connection moves it in place; once unused, the credential goes.
	cred2 := h.mustCreate(h.admin, openAICred("openai-2", h.secret("sk-")))
	for _, id := range want {
		c, err := h.editor.UpdateConnection(ctx, id, api.ConnectionPatch{CredentialID: &cred2.ID}, 0)
		if err != nil || c.ID != id || c.CredentialID != cred2.ID || c.Version != 2 {
			t.Fatalf("re-point %s: %+v %v", id, c, err)
		}
	}
	if err := h.admin.DeleteCredential(ctx, cred.ID, 0); err != nil {
		t.Fatalf("delete unused credential: %v", err)
	}
	_, err = h.editor.UpdateConnection(ctx, conn.ID, api.ConnectionPatch{Enabled: ptr(false)}, 1)
	apiError(t, err, http.StatusPreconditionFailed)
	if err := h.editor.DeleteConnection(ctx, conn.ID, 2); err != nil {
		t.Fatal(err)
	}
	if _, err := h.viewer.GetConnection(ctx, conn.ID); !client.IsNotFound(err) {
		t.Errorf("deleted connection: %v", err)
	}
}

func TestProjectsAndInheritance(t *testing.T) { forEachBackend(t, testProjectsAndInheritance) }

func testProjectsAndInheritance(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	orgCred := h.mustCreate(h.admin, openAICred("org-key", h.secret("sk-")))
	p, err := h.editor.CreateProject(ctx, api.ProjectCreate{Name: "team", Description: "a team"})
	if err != nil {
		t.Fatal(err)
	}
	if p.InheritOrganizationCredentials || p.Version != 1 || !strings.HasPrefix(p.ID, "proj_") {
		t.Errorf("new project %+v", p)
	}
	_, err = h.editor.CreateProject(ctx, api.ProjectCreate{Name: "team"})
	apiError(t, err, http.StatusConflict)
	if list, err := h.viewer.ListAllProjects(ctx, client.ProjectListOptions{Name: "team"}); err != nil || len(list) != 1 {
		t.Errorf("list projects by name: %v %v", list, err)
	}

	// Without inheritance a project connection may not use an organisation credential.
	_, err = h.editor.CreateConnection(ctx, api.ConnectionCreate{Name: "c", CredentialID: orgCred.ID, Model: "gpt-4.1", ProjectID: p.ID})
	fe := fieldError(t, apiError(t, err, http.StatusUnprocessableEntity).Problem, "credential_id")
	if !strings.Contains(fe.Message, "inherit_organization_credentials") {
		t.Errorf("message should say how to fix it: %q", fe.Message)
	}
	// A project credential works.
	in := openAICred("proj-key", h.secret("sk-"))
	in.ProjectID = p.ID
	projCred := h.mustCreate(h.editor, in)
	if _, err := h.editor.CreateConnection(ctx, api.ConnectionCreate{Name: "own", CredentialID: projCred.ID, Model: "gpt-4.1", ProjectID: p.ID}); err != nil {
		t.Fatalf("project credential in its project: %v", err)
	}
	// An organisation connection may not use a project's credential.
	_, err = h.editor.CreateConnection(ctx, api.ConnectionCreate{Name: "x", CredentialID: projCred.ID, Model: "gpt-4.1"})
	fieldError(t, apiError(t, err, http.StatusUnprocessableEntity).Problem, "credential_id")

	// Turning inheritance on lets it use the organisation's.
	p2, err := h.editor.UpdateProject(ctx, p.ID, api.ProjectPatch{InheritOrganizationCredentials: ptr(true)}, p.Version)
	if err != nil || !p2.InheritOrganizationCredentials || p2.Version != 2 {
		t.Fatalf("inherit on: %+v %v", p2, err)
	}
	inherited, err := h.editor.CreateConnection(ctx, api.ConnectionCreate{Name: "c", CredentialID: orgCred.ID, Model: "gpt-4.1", ProjectID: p.ID})
	if err != nil {
		t.Fatalf("inherited credential: %v", err)
	}
	// Turning it off while in use is refused, naming the connection.
	_, err = h.editor.UpdateProject(ctx, p.ID, api.ProjectPatch{InheritOrganizationCredentials: ptr(false)}, 0)
	if ae := apiError(t, err, http.StatusConflict); !slices.Contains(ae.Problem.Conflicts, inherited.ID) {
		t.Errorf("conflicts %v lack %s", ae.Problem.Conflicts, inherited.ID)
	}

	// The project's policy is intersected with the organisation's.
	if _, err := h.admin.PutModelPolicy(ctx, p.ID, api.ModelPolicyPut{Mode: api.PolicyDenylist, Models: []string{"openai/gpt-4.1"}}, 0); err != nil {
		t.Fatal(err)
	}
	if got, _ := h.viewer.GetConnection(ctx, inherited.ID); got.Status != api.ConnectionBlocked || !strings.Contains(got.StatusMessage, "project "+p.ID) {
		t.Errorf("project denylist: %q %q", got.Status, got.StatusMessage)
	}
	orgConn, err := h.editor.CreateConnection(ctx, api.ConnectionCreate{Name: "org-level", CredentialID: orgCred.ID, Model: "gpt-4.1"})
	if err != nil {
		t.Fatalf("a project policy must not affect the organisation scope: %v", err)
	}
	models, _ := h.viewer.ListModels(ctx, client.ModelFilter{Provider: "openai", ProjectID: p.ID})
	for _, m := range models {
		if (m.ID == "gpt-4.1") == m.Allowed {
			t.Errorf("project models: %s allowed=%v", m.ID, m.Allowed)
		}
	}
	if _, err := h.viewer.GetModelPolicy(ctx, "proj_missing"); !client.IsNotFound(err) {
		t.Errorf("policy of a missing project: %v", err)
	}

	// A project with things in it cannot be deleted; an empty one can, with its policy.
	err = h.editor.DeleteProject(ctx, p.ID, 0)
	if ae := apiError(t, err, http.StatusConflict); !slices.Contains(ae.Problem.Conflicts, projCred.ID) {
		t.Errorf("project delete conflicts %v lack %s", ae.Problem.Conflicts, projCred.ID)
	}
	empty, _ := h.editor.CreateProject(ctx, api.ProjectCreate{Name: "empty"})
	if _, err := h.admin.PutModelPolicy(ctx, empty.ID, api.ModelPolicyPut{Mode: api.PolicyAllowlist, Publishers: []string{"openai"}}, 0); err != nil {
		t.Fatal(err)
	}
	apiError(t, h.editor.DeleteProject(ctx, empty.ID, 7), http.StatusPreconditionFailed)
	if err := h.editor.DeleteProject(ctx, empty.ID, 1); err != nil {
		t.Fatalf("delete empty project: %v", err)
	}
	if _, err := h.viewer.GetProject(ctx, empty.ID); !client.IsNotFound(err) {
		t.Errorf("deleted project: %v", err)
	}
	_ = orgConn
}
