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

func TestForceDeleteCredential(t *testing.T) { forEachBackend(t, testForceDeleteCredential) }

// A credential in use goes only with force=true from an admin; its connections stay, invalid and
// without a credential, until they are pointed at another one.
func testForceDeleteCredential(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	cred := h.mustCreate(h.editor, openAICred("doomed", h.secret("sk-proj-")))
	var conns []api.Connection
	for _, name := range []string{"chat", "mini"} {
		c, err := h.editor.CreateConnection(ctx, api.ConnectionCreate{Name: name, CredentialID: cred.ID, Model: "gpt-4.1"})
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, *c)
	}
	ids := []string{conns[0].ID, conns[1].ID}
	slices.Sort(ids)

	// Without force it stays a 409 that names the connections and says how to force it.
	ae := apiError(t, h.admin.DeleteCredential(ctx, cred.ID, 0), http.StatusConflict)
	slices.Sort(ae.Problem.Conflicts)
	if !slices.Equal(ae.Problem.Conflicts, ids) || !strings.Contains(ae.Problem.Detail, "force=true") {
		t.Errorf("409 without force: conflicts %v, detail %q", ae.Problem.Conflicts, ae.Problem.Detail)
	}
	// Forcing is for admins, and force must be a boolean.
	apiError(t, h.editor.ForceDeleteCredential(ctx, cred.ID, 0), http.StatusForbidden)
	if r := h.do("DELETE", "/v1/credentials/"+cred.ID+"?force=yes", h.tokens["admin"], nil); r.Status != http.StatusBadRequest {
		t.Errorf("force=yes: %d %s, want 400", r.Status, r.Body)
	}
	apiError(t, h.admin.ForceDeleteCredential(ctx, cred.ID, cred.Version+1), http.StatusPreconditionFailed)
	if _, err := h.viewer.GetCredential(ctx, cred.ID); err != nil {
		t.Fatalf("a refused delete removed the credential: %v", err)
	}

	if err := h.admin.ForceDeleteCredential(ctx, cred.ID, cred.Version); err != nil {
		t.Fatalf("forced delete: %v", err)
	}
	apiError(t, getErr(h.viewer.GetCredential(ctx, cred.ID)), http.StatusNotFound)
	db, rebind := h.rawDB()
	var sealed int
	if err := db.QueryRow(rebind("SELECT COUNT(*) FROM credential_secrets WHERE credential_id = ?"), cred.ID).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if sealed != 0 {
		t.Errorf("%d sealed secrets of the deleted credential remain", sealed)
	}

	listed, err := h.viewer.ListAllConnections(ctx, client.ConnectionListOptions{})
	if err != nil || len(listed) != 2 {
		t.Fatalf("connections after the forced delete: %+v %v", listed, err)
	}
	for i, c := range listed {
		got, err := h.viewer.GetConnection(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []api.Connection{listed[i], *got} {
			if c.Status != api.ConnectionInvalid || c.CredentialID != "" || c.Provider != "" || c.Version != 2 ||
				!strings.Contains(c.StatusMessage, `"doomed"`) || !strings.Contains(c.StatusMessage, "deleted") {
				t.Errorf("detached connection %s: %+v", c.ID, c)
			}
		}
	}

	// A detached connection can be disabled, but not moved to another model without a credential.
	if _, err := h.editor.UpdateConnection(ctx, conns[0].ID, api.ConnectionPatch{Enabled: ptr(false)}, 0); err != nil {
		t.Fatalf("disable a detached connection: %v", err)
	}
	_, err = h.editor.UpdateConnection(ctx, conns[0].ID, api.ConnectionPatch{Model: ptr("gpt-4o")}, 0)
	fieldError(t, apiError(t, err, http.StatusUnprocessableEntity).Problem, "credential_id")
	// Pointed at another credential, it is ready again.
	other := h.mustCreate(h.editor, openAICred("replacement", h.secret("sk-proj-")))
	back, err := h.editor.UpdateConnection(ctx, conns[1].ID, api.ConnectionPatch{CredentialID: &other.ID}, 0)
	if err != nil || back.Status != api.ConnectionReady || back.CredentialID != other.ID || back.Provider != "openai" {
		t.Fatalf("re-pointed connection: %+v %v", back, err)
	}
	if c, _ := h.viewer.GetCredential(ctx, other.ID); !slices.Equal(c.ConnectionIDs, []string{conns[1].ID}) {
		t.Errorf("replacement's connection_ids: %v", c.ConnectionIDs)
	}

	// The audit log has each detached connection, then the forced delete.
	var detached []string
	var deleted *api.AuditEvent
	for _, e := range allAudit(t, h.viewer) {
		switch {
		case e.ObjectType == "connection" && e.Action == "update" && slices.Equal(e.Fields, []string{"credential_id"}) &&
			len(e.Changes) == 1 && e.Changes[0] == (api.AuditChange{Field: "credential_id", From: cred.ID, To: ""}):
			if deleted != nil {
				t.Errorf("connection %s detached after the credential's delete event", e.ObjectID)
			}
			detached = append(detached, e.ObjectID)
		case e.ObjectType == "credential" && e.Action == "delete" && e.ObjectID == cred.ID:
			deleted = &e
		}
	}
	slices.Sort(detached)
	if !slices.Equal(detached, ids) {
		t.Errorf("audited detachments %v, want %v", detached, ids)
	}
	if deleted == nil || !slices.Equal(deleted.Fields, []string{"force"}) || deleted.Actor != "acme-admin" {
		t.Errorf("audited delete: %+v", deleted)
	}
}

// getErr keeps the error of a (value, error) pair.
func getErr[T any](_ T, err error) error { return err }
