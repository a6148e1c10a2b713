package server

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
)

// allAudit pages through every audit event of c's organisation with small pages.
func allAudit(t testing.TB, c *client.Client) []api.AuditEvent {
	t.Helper()
	var out []api.AuditEvent
	var after int64
	for range 1000 {
		page, err := c.ListAuditEvents(context.Background(), after, 2)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Items...)
		if page.NextPageToken == "" {
			return out
		}
		if len(page.Items) == 0 {
			t.Fatal("empty page with a next_page_token")
		}
		after = page.Items[len(page.Items)-1].ID
	}
	t.Fatal("audit paging does not end")
	return nil
}

func TestAuditTrail(t *testing.T) { forEachBackend(t, testAuditTrail) }

func testAuditTrail(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	key := h.secret("sk-proj-")
	in := openAICred("audited", key)
	in.Description = "DESCRIPTION-VALUE"
	in.Labels = map[string]string{"env": "LABEL-VALUE"}
	c := h.mustCreate(h.editor, in)
	newKey := h.secret("sk-proj-")
	if _, err := h.admin.UpdateCredential(ctx, c.ID, api.CredentialPatch{
		APIKey:   &newKey,
		Settings: &map[string]string{"organization_id": "ORG-VALUE-2", "project": "PROJECT-VALUE"},
	}, 0); err != nil {
		t.Fatal(err)
	}
	if err := h.admin.DeleteCredential(ctx, c.ID, 0); err != nil {
		t.Fatal(err)
	}
	// Refused requests are not changes.
	_, _ = h.viewer.CreateCredential(ctx, openAICred("refused", h.secret("sk-")))
	_, _ = h.admin.CreateCredential(ctx, api.CredentialCreate{Name: "invalid", Provider: "nope"})
	// Another organisation's events stay with it.
	h.mustCreate(h.other, openAICred("elsewhere", h.secret("sk-")))

	events := allAudit(t, h.viewer)
	if len(events) != 3 {
		t.Fatalf("%d audit events, want create, update, delete: %+v", len(events), events)
	}
	for i := 1; i < len(events); i++ {
		if events[i].ID <= events[i-1].ID {
			t.Fatalf("audit ids not increasing: %d then %d", events[i-1].ID, events[i].ID)
		}
	}
	want := []struct {
		actor, action string
		fields        []string
	}{
		{"acme-editor", "create", []string{"name", "provider", "description", "api_key", "settings.organization_id", "labels.env"}},
		{"acme-admin", "update", []string{"settings.organization_id", "settings.project", "api_key"}},
		{"acme-admin", "delete", nil},
	}
	for i, w := range want {
		e := events[i]
		if e.Actor != w.actor || e.Action != w.action || e.ObjectType != "credential" || e.ObjectID != c.ID {
			t.Errorf("event %d: %+v, want %s %s credential %s", i, e, w.actor, w.action, c.ID)
		}
		if e.Time.IsZero() {
			t.Errorf("event %d has no time", i)
		}
		for _, f := range w.fields {
			if !slices.Contains(e.Fields, f) {
				t.Errorf("event %d (%s) fields %v lack %q", i, e.Action, e.Fields, f)
			}
		}
		if e.Fields == nil {
			t.Errorf("event %d: fields is null, want a list", i)
		}
	}
	raw := mustJSON(t, events)
	if leaked, ok := containsAny(raw, []string{key, newKey, "DESCRIPTION-VALUE", "LABEL-VALUE", "ORG-VALUE-2", "PROJECT-VALUE", "org-test"}); ok {
		t.Errorf("audit events hold the value %q; they must name fields only", leaked)
	}

	// Paging by after: the page after the second event holds only the third.
	page, err := h.viewer.ListAuditEvents(ctx, events[1].ID, 10)
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != events[2].ID || page.NextPageToken != "" {
		t.Fatalf("after=%d: %+v %v", events[1].ID, page, err)
	}
	page, err = h.viewer.ListAuditEvents(ctx, 0, 2)
	if err != nil || len(page.Items) != 2 || page.NextPageToken == "" {
		t.Fatalf("first page of 2: %+v %v", page, err)
	}
	if r := h.do("GET", "/v1/audit-events?after=abc", h.tokens["viewer"], nil); r.Status != http.StatusBadRequest {
		t.Errorf("after=abc: %d, want 400", r.Status)
	}
	other := allAudit(t, h.other)
	if len(other) != 1 || other[0].Actor != "other-admin" {
		t.Errorf("other organisation's audit: %+v", other)
	}
}

func TestAuditOfProjectsConnectionsPolicies(t *testing.T) {
	forEachBackend(t, testAuditOfProjectsConnectionsPolicies)
}

func testAuditOfProjectsConnectionsPolicies(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	p, err := h.admin.CreateProject(ctx, api.ProjectCreate{Name: "proj", InheritOrganizationCredentials: true})
	if err != nil {
		t.Fatal(err)
	}
	cred := h.mustCreate(h.admin, openAICred("k", h.secret("sk-")))
	conn, err := h.admin.CreateConnection(ctx, api.ConnectionCreate{Name: "chat", CredentialID: cred.ID, Model: "gpt-4.1", ProjectID: p.ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.admin.PutModelPolicy(ctx, "", api.ModelPolicyPut{Mode: api.PolicyDenylist, Publishers: []string{"meta"}}, 0); err != nil {
		t.Fatal(err)
	}
	if err := h.admin.DeleteConnection(ctx, conn.ID, 0); err != nil {
		t.Fatal(err)
	}
	type key struct{ action, typ, id string }
	got := map[key]bool{}
	for _, e := range allAudit(t, h.admin) {
		got[key{e.Action, e.ObjectType, e.ObjectID}] = true
	}
	for _, k := range []key{
		{"create", "project", p.ID}, {"create", "credential", cred.ID}, {"create", "connection", conn.ID},
		{"update", "model_policy", "organization"}, {"delete", "connection", conn.ID},
	} {
		if !got[k] {
			t.Errorf("no audit event %+v", k)
		}
	}
}
