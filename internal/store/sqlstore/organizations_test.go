package sqlstore

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

func TestOrganizationsTokensMeta(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		inTx(t, s, func(tx store.Tx) error {
			a, err := tx.EnsureOrganization(ctx, "acme")
			if err != nil {
				return err
			}
			again, err := tx.EnsureOrganization(ctx, "acme")
			if err != nil {
				return err
			}
			if again != a || !strings.HasPrefix(a.ID, "org_") || a.Name != "acme" {
				return fmt.Errorf("EnsureOrganization: %+v then %+v", a, again)
			}
			got, err := tx.GetOrganization(ctx, a.ID)
			if err != nil || got != a {
				return fmt.Errorf("GetOrganization = %+v, %v; want %+v", got, err, a)
			}
			if _, err := tx.GetOrganization(ctx, "org_missing"); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("GetOrganization(missing): %v", err)
			}

			tk := store.Token{ID: "tok_1", OrgID: a.ID, Name: "ci", Role: api.RoleAdmin, Hash: "h1", CreatedAt: at(0)}
			if err := tx.InsertToken(ctx, tk); err != nil {
				return err
			}
			if err := tx.InsertToken(ctx, store.Token{ID: "tok_2", OrgID: a.ID, Name: "x", Role: api.RoleViewer, Hash: "h1", CreatedAt: at(0)}); !errors.Is(err, store.ErrDuplicate) {
				return fmt.Errorf("token with a used hash: %v", err)
			}
			if err := tx.InsertToken(ctx, store.Token{ID: "tok_3", OrgID: "org_nope", Name: "x", Role: api.RoleViewer, Hash: "h3", CreatedAt: at(0)}); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("token of a missing organisation: %v", err)
			}
			byHash, err := tx.TokenByHash(ctx, "h1")
			if err != nil || !reflect.DeepEqual(byHash, tk) {
				return fmt.Errorf("TokenByHash = %+v, %v; want %+v", byHash, err, tk)
			}
			if _, err := tx.TokenByHash(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("TokenByHash(missing): %v", err)
			}
			if err := tx.RevokeToken(ctx, "tok_1", at(5)); err != nil {
				return err
			}
			if err := tx.RevokeToken(ctx, "tok_1", at(9)); err != nil {
				return err
			}
			if err := tx.RevokeToken(ctx, "tok_missing", at(9)); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("RevokeToken(missing): %v", err)
			}
			list, err := tx.ListTokens(ctx)
			if err != nil {
				return err
			}
			if len(list) != 1 || list[0].RevokedAt == nil || !list[0].RevokedAt.Equal(at(5)) {
				return fmt.Errorf("ListTokens after revoke = %+v (want the first revocation time kept)", list)
			}

			if _, ok, err := tx.GetMeta(ctx, "k"); ok || err != nil {
				return fmt.Errorf("GetMeta(missing) = %v, %v", ok, err)
			}
			for _, v := range []string{"v1", "v2"} {
				if err := tx.PutMeta(ctx, "k", v); err != nil {
					return err
				}
				if got, ok, err := tx.GetMeta(ctx, "k"); got != v || !ok || err != nil {
					return fmt.Errorf("GetMeta = %q, %v, %v; want %q", got, ok, err, v)
				}
			}
			return nil
		})
	})
}

// Organisation ids come from the same generator as the server's: org_ then 24 characters of
// lower-case base32hex, in creation order.
func TestOrganizationIDsSortInCreationOrder(t *testing.T) {
	orgID := regexp.MustCompile(`^org_[0-9a-v]{24}$`)
	eachBackend(t, func(t *testing.T, s *Store) {
		var prev string
		for i := range 20 {
			id := ensureOrg(t, s, fmt.Sprintf("org-%02d", i))
			if !orgID.MatchString(id) || id <= prev {
				t.Fatalf("organisation %d has id %q after %q: want org_ and 24 of 0-9a-v, sorting later", i, id, prev)
			}
			prev = id
		}
	})
}
