package sqlstore

import (
	"fmt"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

func TestPagination(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		org := ensureOrg(t, s, "acme")
		inTx(t, s, func(tx store.Tx) error {
			for i := range 130 {
				project := ""
				if i%3 == 0 {
					project = "proj_1"
				}
				c := newCredential(cid("cred", i), fmt.Sprintf("k%d", i), project)
				if i%2 == 0 {
					c.Provider = "anthropic"
				}
				if err := tx.InsertCredential(ctx, org, c); err != nil {
					return err
				}
			}
			return nil
		})
		list := func(f store.CredentialFilter) []api.Credential {
			t.Helper()
			var out []api.Credential
			inTx(t, s, func(tx store.Tx) (err error) {
				out, err = tx.ListCredentials(ctx, org, f)
				return err
			})
			return out
		}
		// Walk 130 in pages of 50.
		var seen []string
		after := ""
		for {
			page := list(store.CredentialFilter{AfterID: after, Limit: 50})
			if len(page) == 0 {
				break
			}
			for _, c := range page {
				seen = append(seen, c.ID)
			}
			after = page[len(page)-1].ID
		}
		if len(seen) != 130 {
			t.Fatalf("paged through %d credentials, want 130", len(seen))
		}
		for i, id := range seen {
			if id != cid("cred", i) {
				t.Fatalf("page order: position %d is %s", i, id)
			}
		}
		if n := len(list(store.CredentialFilter{})); n != DefaultLimit {
			t.Errorf("default page size %d, want %d", n, DefaultLimit)
		}
		if n := len(list(store.CredentialFilter{Limit: -1})); n != DefaultLimit {
			t.Errorf("negative limit page size %d, want %d", n, DefaultLimit)
		}
		for _, tc := range []struct {
			f    store.CredentialFilter
			want int
		}{
			{store.CredentialFilter{ProjectID: "proj_1", Limit: 1000}, 44},
			{store.CredentialFilter{ProjectID: OrgScope, Limit: 1000}, 86},
			{store.CredentialFilter{Provider: "anthropic", Limit: 1000}, 65},
			{store.CredentialFilter{ProjectID: "proj_1", Provider: "anthropic", Limit: 1000}, 22},
			{store.CredentialFilter{Name: "k7"}, 1},
			{store.CredentialFilter{Name: "nope"}, 0},
		} {
			got := list(tc.f)
			if len(got) != tc.want {
				t.Errorf("ListCredentials(%+v) returned %d, want %d", tc.f, len(got), tc.want)
			}
			if got == nil {
				t.Errorf("ListCredentials(%+v) returned nil, want an empty list", tc.f)
			}
		}
	})
}
