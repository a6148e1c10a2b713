package service

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store/sqlstore"
)

// A token confined to a project (a federation rule with project_id) cannot have keys minted with
// an admin credential it cannot see: to it the organisation's admin credentials, and any other
// credential of the organisation, do not exist, and the refusal names only the id it sent.
func TestManagedCredentialAdminIsInTheCallersScope(t *testing.T) {
	e := newRotEnv(t, "openai", sqlstore.DialectSQLite)
	ctx := context.Background()
	orgAdmin := e.createAdmin()
	pr, _, err := e.svc.CreateProject(ctx, e.admin, api.ProjectCreate{Name: "team-a"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	key := "sk-other-0123456789abcdefghijkl"
	other, _, err := e.svc.CreateCredential(ctx, e.admin, api.CredentialCreate{Name: "org-secret-name", Provider: "openai", APIKey: &key,
		Settings: e.settings(), Verify: ptr(false)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	scoped := Principal{OrgID: e.admin.OrgID, Actor: "ci via rule", Role: api.RoleEditor, TokenID: "xt_1", ProjectID: pr.ID, FederationRuleID: "fr_1"}
	if _, err := e.svc.GetCredential(ctx, scoped, orgAdmin.ID); err == nil {
		t.Fatal("the confined token sees the organisation's admin credential; the test's premise is wrong")
	}
	managed := func(p Principal, name, adminID string) (api.Credential, error) {
		c, _, err := e.svc.CreateCredential(ctx, p, api.CredentialCreate{Name: name, Provider: "openai", ProjectID: pr.ID, Settings: e.settings(),
			Rotation: &api.CredentialRotation{Mode: api.RotationModeManaged, AdminCredentialID: adminID, Overlap: "1h"}}, nil)
		return c, err
	}
	refusal := func(err error, id string) string {
		t.Helper()
		var se *Error
		if !errors.As(err, &se) || se.Status != StatusUnprocessable || len(se.Fields) != 1 || se.Fields[0].Field != "rotation.admin_credential_id" {
			t.Fatalf("err = %v, want a 422 on rotation.admin_credential_id", err)
		}
		msg := se.Fields[0].Message
		for _, leak := range []string{orgAdmin.Name, other.Name, "admin\" holding", "has purpose"} {
			if strings.Contains(msg, leak) {
				t.Errorf("refusal %q tells the confined token %q of a credential it cannot see", msg, leak)
			}
		}
		if !strings.Contains(msg, id) {
			t.Errorf("refusal %q does not name the id sent, %s", msg, id)
		}
		return strings.ReplaceAll(msg, id, "ID")
	}

	_, err = managed(scoped, "app", orgAdmin.ID)
	hidden := refusal(err, orgAdmin.ID)
	_, err = managed(scoped, "app2", other.ID)
	hiddenOther := refusal(err, other.ID)
	_, err = managed(scoped, "app3", "cred_doesnotexist00000")
	missing := refusal(err, "cred_doesnotexist00000")
	if hidden != missing || hiddenOther != missing {
		t.Errorf("a hidden credential is told apart from a missing one:\n%s\n%s\n%s", hidden, hiddenOther, missing)
	}
	list, err := e.svc.ListCredentials(ctx, e.admin, store.CredentialFilter{ProjectID: pr.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 0 {
		t.Fatalf("the refused creates left %d credentials in the project", len(list.Items))
	}

	// An admin credential of the token's own project is the project's to use.
	pkey := e.fake.AdminKey
	projAdmin, _, err := e.svc.CreateCredential(ctx, e.admin, api.CredentialCreate{Name: "team-a-admin", Provider: "openai", ProjectID: pr.ID,
		Purpose: api.PurposeAdmin, APIKey: &pkey, Settings: map[string]string{"base_url": e.fake.URL()}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := managed(scoped, "app4", projAdmin.ID); err != nil || c.Status != api.StatusVerified {
		t.Fatalf("confined token with its project's admin credential: status %q, err %v", c.Status, err)
	}

	// A binding made by someone of the whole organisation stays usable: the confined token may
	// change the overlap of a project credential that uses the organisation's admin credential.
	orgEditor := Principal{OrgID: e.admin.OrgID, Actor: "org-editor", Role: api.RoleEditor, TokenID: "tok_editor"}
	bound, err := managed(orgEditor, "app5", orgAdmin.ID)
	if err != nil {
		t.Fatalf("an editor of the organisation binding its admin credential: %v", err)
	}
	if _, err := e.svc.UpdateCredential(ctx, scoped, bound.ID, api.CredentialPatch{
		Rotation: &api.CredentialRotation{Mode: api.RotationModeManaged, AdminCredentialID: orgAdmin.ID, Overlap: "2h"}}, 0); err != nil {
		t.Fatalf("the confined token changing the overlap of a binding it kept: %v", err)
	}
	// ... but not move it to another credential it cannot see.
	_, err = e.svc.UpdateCredential(ctx, scoped, bound.ID, api.CredentialPatch{
		Rotation: &api.CredentialRotation{Mode: api.RotationModeManaged, AdminCredentialID: other.ID, Overlap: "2h"}}, 0)
	if got := refusal(err, other.ID); got != missing {
		t.Errorf("patch refusal %q, want the create's %q", got, missing)
	}
}
