package server

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

func TestWhoAmI(t *testing.T) { forEachBackend(t, testWhoAmI) }

// testWhoAmI: any role learns its organisation, role and name; every token of one server sees the
// same store id, and a token that is wrong is a 401, as on every /v1 route.
func testWhoAmI(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()

	viewer, err := h.viewer.WhoAmI(ctx)
	if err != nil {
		t.Fatalf("viewer: %v", err)
	}
	if viewer.Organization != "acme" || viewer.Role != api.RoleViewer || viewer.OrganizationID == "" || viewer.Actor == "" {
		t.Errorf("viewer's whoami = %+v, want organisation acme, role viewer, an id and a name", viewer)
	}
	if !strings.HasPrefix(viewer.StoreID, "store_") {
		t.Errorf("store id %q, want a store_ id", viewer.StoreID)
	}
	other, err := h.other.WhoAmI(ctx)
	if err != nil {
		t.Fatalf("other: %v", err)
	}
	if other.Organization != "other" || other.Role != api.RoleAdmin || other.OrganizationID == viewer.OrganizationID {
		t.Errorf("other's whoami = %+v, want organisation other, role admin", other)
	}
	if other.StoreID != viewer.StoreID {
		t.Errorf("one database, two store ids: %q and %q", viewer.StoreID, other.StoreID)
	}
	if r := h.do("GET", "/v1/whoami", "", nil, "Authorization", "Bearer mkt_doesnotexist"); r.Status != http.StatusUnauthorized {
		t.Errorf("unknown token: %d, want 401", r.Status)
	}
}

// TestWhoAmIStoreIDSurvivesRestart: the store id is kept in the database, so a restarted server (or
// another replica) answers the same one, and another database another.
func TestWhoAmIStoreIDSurvivesRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t)
	first, err := h.admin.WhoAmI(ctx)
	if err != nil {
		t.Fatal(err)
	}
	again := newHarness(t, func(o *harnessOptions) { o.dbPath, o.masterKey = h.dbPath, h.key })
	second, err := again.admin.WhoAmI(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if second.StoreID != first.StoreID {
		t.Errorf("store id after a restart = %q, want %q", second.StoreID, first.StoreID)
	}
	fresh, err := newHarness(t).admin.WhoAmI(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if fresh.StoreID == first.StoreID {
		t.Errorf("two databases share store id %q", fresh.StoreID)
	}
}
