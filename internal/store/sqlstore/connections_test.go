package sqlstore

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

func TestConnectionsAndConnectionIDs(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		org := ensureOrg(t, s, "acme")
		other := ensureOrg(t, s, "globex")
		inTx(t, s, func(tx store.Tx) error {
			for _, c := range []api.Credential{newCredential("cred_a", "a", ""), newCredential("cred_b", "b", ""), newCredential("cred_c", "c", "")} {
				if err := tx.InsertCredential(ctx, org, c); err != nil {
					return err
				}
			}
			x := newCredential("cred_x", "x", "")
			x.Provider = "anthropic"
			if err := tx.InsertCredential(ctx, other, x); err != nil {
				return err
			}
			// Inserted out of id order: ConnectionIDs must still come sorted.
			for _, n := range []api.Connection{
				newConnection("conn_3", "three", "cred_a", ""),
				newConnection("conn_1", "one", "cred_a", ""),
				newConnection("conn_2", "two", "cred_b", "proj_1"),
			} {
				if err := tx.InsertConnection(ctx, org, n); err != nil {
					return err
				}
			}
			// A credential of another organisation, or none, is not found.
			if err := tx.InsertConnection(ctx, org, newConnection("conn_9", "nine", "cred_x", "")); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("connection to another organisation's credential: %v", err)
			}
			if err := tx.InsertConnection(ctx, org, newConnection("conn_9", "nine", "cred_none", "")); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("connection to a missing credential: %v", err)
			}
			return nil
		})

		inTx(t, s, func(tx store.Tx) error {
			got, err := tx.GetConnection(ctx, org, "conn_1")
			if err != nil {
				return err
			}
			want := newConnection("conn_1", "one", "cred_a", "")
			want.Provider = "openai" // from the credential
			if !reflect.DeepEqual(got, want) {
				return fmt.Errorf("GetConnection\n got %+v\nwant %+v", got, want)
			}

			a, err := tx.GetCredential(ctx, org, "cred_a")
			if err != nil {
				return err
			}
			if !reflect.DeepEqual(a.ConnectionIDs, []string{"conn_1", "conn_3"}) {
				return fmt.Errorf("cred_a ConnectionIDs = %v", a.ConnectionIDs)
			}
			list, err := tx.ListCredentials(ctx, org, store.CredentialFilter{})
			if err != nil {
				return err
			}
			ids := map[string][]string{}
			for _, c := range list {
				ids[c.ID] = c.ConnectionIDs
			}
			wantIDs := map[string][]string{"cred_a": {"conn_1", "conn_3"}, "cred_b": {"conn_2"}, "cred_c": {}}
			if !reflect.DeepEqual(ids, wantIDs) {
				return fmt.Errorf("listed ConnectionIDs = %v, want %v", ids, wantIDs)
			}

			// Re-point a connection in place, with version checks.
			got.CredentialID, got.Enabled, got.Parameters, got.Version, got.UpdatedAt = "cred_c", false, "", 2, at(20)
			got.Status, got.StatusMessage = api.ConnectionBlocked, "policy"
			if err := tx.UpdateConnection(ctx, org, got, 1); err != nil {
				return err
			}
			if err := tx.UpdateConnection(ctx, org, got, 1); !errors.Is(err, store.ErrVersionMismatch) {
				return fmt.Errorf("stale connection update: %v", err)
			}
			bad := got
			bad.CredentialID = "cred_x"
			if err := tx.UpdateConnection(ctx, org, bad, 2); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("re-point to another organisation's credential: %v", err)
			}
			again, err := tx.GetConnection(ctx, org, "conn_1")
			if err != nil {
				return err
			}
			if !reflect.DeepEqual(again, got) {
				return fmt.Errorf("after update\n got %+v\nwant %+v", again, got)
			}

			// Filters.
			for _, tc := range []struct {
				f    store.ConnectionFilter
				want []string
			}{
				{store.ConnectionFilter{}, []string{"conn_1", "conn_2", "conn_3"}},
				{store.ConnectionFilter{ProjectID: OrgScope}, []string{"conn_1", "conn_3"}},
				{store.ConnectionFilter{ProjectID: "proj_1"}, []string{"conn_2"}},
				{store.ConnectionFilter{CredentialID: "cred_c"}, []string{"conn_1"}},
				{store.ConnectionFilter{Name: "three"}, []string{"conn_3"}},
				{store.ConnectionFilter{AfterID: "conn_1", Limit: 1}, []string{"conn_2"}},
			} {
				l, err := tx.ListConnections(ctx, org, tc.f)
				if err != nil {
					return err
				}
				var got []string
				for _, c := range l {
					got = append(got, c.ID)
				}
				if !reflect.DeepEqual(got, tc.want) {
					return fmt.Errorf("ListConnections(%+v) = %v, want %v", tc.f, got, tc.want)
				}
			}
			return nil
		})

		// A credential in use cannot be deleted; once free it can.
		err := txErr(s, func(tx store.Tx) error { return tx.DeleteCredential(ctx, org, "cred_a") })
		if !errors.Is(err, ErrInUse) || errors.Is(err, store.ErrDuplicate) {
			t.Fatalf("delete of a credential in use: %v", err)
		}
		inTx(t, s, func(tx store.Tx) error {
			for _, id := range []string{"conn_1", "conn_2", "conn_3"} {
				if err := tx.DeleteConnection(ctx, org, id); err != nil {
					return err
				}
			}
			if err := tx.DeleteConnection(ctx, org, "conn_1"); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("second connection delete: %v", err)
			}
			return tx.DeleteCredential(ctx, org, "cred_a")
		})
	})
}

// A credential deleted with force leaves its connections without one (NULL): migration 0006 lets the
// column be NULL on a database that had rows, keeps them and their foreign key, and the store reads
// and writes such connections.
func TestConnectionWithoutCredential(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			dsn := b.newDSN(t)
			s := openStore(t, dsn)
			org := ensureOrg(t, s, "acme")
			inTx(t, s, func(tx store.Tx) error {
				for _, c := range []api.Credential{newCredential("cred_a", "a", ""), newCredential("cred_b", "b", "")} {
					if err := tx.InsertCredential(ctx, org, c); err != nil {
						return err
					}
				}
				for _, n := range []api.Connection{newConnection("conn_1", "one", "cred_a", ""), newConnection("conn_2", "two", "cred_a", "proj_1")} {
					if err := tx.InsertConnection(ctx, org, n); err != nil {
						return err
					}
				}
				return nil
			})

			// Take the table back to before 0006 (credential_id NOT NULL), then open again to migrate.
			downgrade := []string{"ALTER TABLE connections ALTER COLUMN credential_id SET NOT NULL"}
			if b.name == DialectSQLite {
				m, err := migrationFS.ReadFile("migrations/sqlite/0006_connection_without_credential.sql")
				if err != nil {
					t.Fatal(err)
				}
				rebuild := strings.Replace(string(m), "credential_id  TEXT,", "credential_id  TEXT    NOT NULL,", 1)
				if rebuild == string(m) {
					t.Fatal("migration 0006 no longer declares credential_id as expected; update this test")
				}
				downgrade = []string{rebuild}
			}
			for _, q := range append(append(downgrade0007, downgrade...), "DELETE FROM schema_migrations WHERE version >= 6") {
				if _, err := s.db.Exec(q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			if err := txErr(s, func(tx store.Tx) error {
				c, err := tx.GetConnection(ctx, org, "conn_1")
				if err != nil {
					return err
				}
				c.CredentialID, c.Version = "", 2
				return tx.UpdateConnection(ctx, org, c, 1)
			}); err == nil {
				t.Fatal("the downgraded table took a NULL credential_id: the downgrade did not work")
			}
			_ = s.Close()
			s = openStore(t, dsn)

			inTx(t, s, func(tx store.Tx) error {
				want := newConnection("conn_2", "two", "cred_a", "proj_1")
				want.Provider = "openai"
				if got, err := tx.GetConnection(ctx, org, "conn_2"); err != nil || !reflect.DeepEqual(got, want) {
					return fmt.Errorf("after the migration conn_2 is %+v (%v), want %+v", got, err, want)
				}
				// Detach both, as a forced delete does; the credential can then go.
				for _, id := range []string{"conn_1", "conn_2"} {
					c, err := tx.GetConnection(ctx, org, id)
					if err != nil {
						return err
					}
					c.CredentialID, c.Status, c.StatusMessage, c.Version = "", api.ConnectionInvalid, "its credential was deleted", 2
					if err := tx.UpdateConnection(ctx, org, c, 1); err != nil {
						return fmt.Errorf("detach %s: %w", id, err)
					}
				}
				if err := tx.DeleteCredential(ctx, org, "cred_a"); err != nil {
					return fmt.Errorf("delete the detached credential: %w", err)
				}
				got, err := tx.GetConnection(ctx, org, "conn_1")
				if err != nil {
					return err
				}
				if got.CredentialID != "" || got.Provider != "" || got.Status != api.ConnectionInvalid || got.StatusMessage != "its credential was deleted" {
					return fmt.Errorf("detached connection: %+v", got)
				}
				all, err := tx.ListConnections(ctx, org, store.ConnectionFilter{})
				if err != nil || len(all) != 2 {
					return fmt.Errorf("list with detached connections: %+v %v", all, err)
				}
				// The foreign key still holds for a credential id that is set.
				got.CredentialID, got.Version = "cred_gone", 3
				if err := tx.UpdateConnection(ctx, org, got, 2); !errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("re-point at a missing credential: %v, want ErrNotFound", err)
				}
				got.CredentialID = "cred_b"
				if err := tx.UpdateConnection(ctx, org, got, 2); err != nil {
					return err
				}
				b, err := tx.GetCredential(ctx, org, "cred_b")
				if err != nil || !reflect.DeepEqual(b.ConnectionIDs, []string{"conn_1"}) {
					return fmt.Errorf("cred_b's connections after re-pointing: %v %v", b.ConnectionIDs, err)
				}
				return nil
			})
		})
	}
}
