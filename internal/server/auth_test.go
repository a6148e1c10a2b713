package server

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

func TestAuthentication(t *testing.T) { forEachBackend(t, testAuthentication) }

func testAuthentication(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()

	for name, header := range map[string]string{
		"no header":     "",
		"not bearer":    "Basic " + h.tokens["admin"],
		"empty bearer":  "Bearer ",
		"unknown token": "Bearer mkt_doesnotexist",
	} {
		r := h.do("GET", "/v1/credentials", "", nil, "Authorization", header)
		if r.Status != http.StatusUnauthorized {
			t.Errorf("%s: %d, want 401", name, r.Status)
			continue
		}
		if p := r.problem(t); p.Type != "https://modelkeys.dev/problems/unauthorized" {
			t.Errorf("%s: problem type %q", name, p.Type)
		}
	}
	// A write without a token never reaches the handler's body decoding.
	if r := h.do("POST", "/v1/credentials", "", []byte(`{}`)); r.Status != http.StatusUnauthorized {
		t.Errorf("POST without token: %d", r.Status)
	}

	// A revoked token stops working at once.
	value, tok, err := service.CreateToken(ctx, h.store, "acme", api.RoleAdmin, "soon-revoked", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	c := h.client(value)
	if _, err := c.ListCredentials(ctx, client.CredentialListOptions{}); err != nil {
		t.Fatalf("fresh token: %v", err)
	}
	if err := h.store.Tx(ctx, func(tx store.Tx) error { return tx.RevokeToken(ctx, tok.ID, time.Now()) }); err != nil {
		t.Fatal(err)
	}
	_, err = c.ListCredentials(ctx, client.CredentialListOptions{})
	if !client.IsUnauthorized(err) {
		t.Fatalf("revoked token: %v, want 401", err)
	}

	// Tokens are stored hashed: the database holds the hash, not the value.
	err = h.store.Tx(ctx, func(tx store.Tx) error {
		toks, err := tx.ListTokens(ctx)
		for _, tk := range toks {
			if tk.Hash == value || strings.Contains(tk.Hash, value) {
				t.Errorf("token %s stored in clear", tk.Name)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := service.CreateToken(ctx, h.store, "acme", "owner", "x", time.Now()); err == nil {
		t.Error("CreateToken accepted role owner")
	}
}

func TestAuthorization(t *testing.T) { forEachBackend(t, testAuthorization) }

func testAuthorization(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	cred := h.mustCreate(h.editor, openAICred("by-editor", h.secret("sk-")))

	// Viewers read but never write.
	if _, err := h.viewer.GetCredential(ctx, cred.ID); err != nil {
		t.Fatalf("viewer read: %v", err)
	}
	_, err := h.viewer.CreateCredential(ctx, openAICred("by-viewer", h.secret("sk-")))
	ae := apiError(t, err, http.StatusForbidden)
	if !strings.Contains(ae.Problem.Detail, "viewer") {
		t.Errorf("403 should say the role: %q", ae.Problem.Detail)
	}
	_, err = h.viewer.UpdateCredential(ctx, cred.ID, api.CredentialPatch{Description: ptr("x")}, 0)
	apiError(t, err, http.StatusForbidden)
	apiError(t, h.viewer.DeleteCredential(ctx, cred.ID, 0), http.StatusForbidden)
	_, err = h.viewer.CreateProject(ctx, api.ProjectCreate{Name: "p"})
	apiError(t, err, http.StatusForbidden)
	_, err = h.viewer.PutModelPolicy(ctx, "", api.ModelPolicyPut{Mode: api.PolicyDenylist, Publishers: []string{"openai"}}, 0)
	apiError(t, err, http.StatusForbidden)
	_, err = h.viewer.CreateConnection(ctx, api.ConnectionCreate{Name: "c", CredentialID: cred.ID, Model: "gpt-4.1"})
	apiError(t, err, http.StatusForbidden)
	if got, _ := h.admin.GetCredential(ctx, cred.ID); got.Description != "" || got.Version != 1 {
		t.Error("a viewer's refused write changed the credential")
	}

	// Another organisation's objects do not exist for it: 404 on every verb, and absent from lists.
	_, err = h.other.GetCredential(ctx, cred.ID)
	apiError(t, err, http.StatusNotFound)
	_, err = h.other.UpdateCredential(ctx, cred.ID, api.CredentialPatch{Description: ptr("pwned")}, 0)
	apiError(t, err, http.StatusNotFound)
	apiError(t, h.other.DeleteCredential(ctx, cred.ID, 0), http.StatusNotFound)
	list, err := h.other.ListAllCredentials(ctx, client.CredentialListOptions{})
	if err != nil || len(list) != 0 {
		t.Fatalf("other org lists %d credentials (%v), want 0", len(list), err)
	}
	_, err = h.other.CreateConnection(ctx, api.ConnectionCreate{Name: "steal", CredentialID: cred.ID, Model: "gpt-4.1"})
	fieldError(t, apiError(t, err, http.StatusUnprocessableEntity).Problem, "credential_id")
	if _, err := h.admin.GetCredential(ctx, cred.ID); err != nil {
		t.Fatalf("credential gone after another org's attempts: %v", err)
	}
}

func TestBootstrapToken(t *testing.T) { forEachBackend(t, testBootstrapToken) }

func testBootstrapToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	const boot = "bootstrap-token-for-ci-0123456789"
	for range 2 { // idempotent: a restart with the same value is fine
		if err := service.EnsureToken(ctx, h.store, "default", api.RoleAdmin, "bootstrap", boot, time.Now()); err != nil {
			t.Fatalf("EnsureToken: %v", err)
		}
	}
	c := h.client(boot)
	created, err := c.CreateCredential(ctx, openAICred("from-bootstrap", h.secret("sk-")))
	if err != nil {
		t.Fatalf("bootstrap token cannot write: %v", err)
	}
	// It belongs to organisation "default", not acme.
	if _, err := h.admin.GetCredential(ctx, created.ID); !client.IsNotFound(err) {
		t.Errorf("acme sees default's credential: %v", err)
	}
	n := 0
	_ = h.store.Tx(ctx, func(tx store.Tx) error {
		toks, err := tx.ListTokens(ctx)
		for _, tk := range toks {
			if tk.Name == "bootstrap" {
				n++
			}
		}
		return err
	})
	if n != 1 {
		t.Errorf("%d bootstrap tokens stored, want 1", n)
	}
	if err := service.EnsureToken(ctx, h.store, "default", api.RoleAdmin, "bootstrap", "short", time.Now()); err == nil {
		t.Error("EnsureToken accepted a 5-character token")
	}
}
