package sqlstore

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

func TestCredentialCRUD(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		org := ensureOrg(t, s, "acme")
		c := newCredential("cred_1", "prod", "")
		verified := at(3)
		c.VerifiedAt = &verified
		inTx(t, s, func(tx store.Tx) error { return tx.InsertCredential(ctx, org, c) })

		inTx(t, s, func(tx store.Tx) error {
			got, err := tx.GetCredential(ctx, org, "cred_1")
			if err != nil {
				return err
			}
			if !reflect.DeepEqual(got, c) {
				return fmt.Errorf("GetCredential\n got %+v\nwant %+v", got, c)
			}
			if n, err := tx.CountCredentials(ctx, org); n != 1 || err != nil {
				return fmt.Errorf("CountCredentials = %d, %v", n, err)
			}

			up := got
			up.Name, up.Description, up.Settings, up.Labels = "prod2", "", nil, map[string]string{}
			up.Status, up.StatusMessage, up.VerifiedAt = api.StatusInvalid, "401 from provider", nil
			up.SecretVersion, up.Version, up.UpdatedAt = 2, 2, at(10)
			up.Provider, up.ProjectID = "anthropic", "proj_ignored" // immutable: not written
			if err := tx.UpdateCredential(ctx, org, up, 1); err != nil {
				return err
			}
			got, err = tx.GetCredential(ctx, org, "cred_1")
			if err != nil {
				return err
			}
			want := up
			want.Settings = map[string]string{} // nil comes back empty, not nil
			want.Provider, want.ProjectID = "openai", ""
			if !reflect.DeepEqual(got, want) {
				return fmt.Errorf("after update\n got %+v\nwant %+v", got, want)
			}

			if err := tx.UpdateCredential(ctx, org, up, 1); !errors.Is(err, store.ErrVersionMismatch) {
				return fmt.Errorf("stale update: %v", err)
			}
			missing := up
			missing.ID = "cred_missing"
			if err := tx.UpdateCredential(ctx, org, missing, 2); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("update of a missing credential: %v", err)
			}
			return nil
		})

		inTx(t, s, func(tx store.Tx) error {
			if err := tx.DeleteCredential(ctx, org, "cred_1"); err != nil {
				return err
			}
			if _, err := tx.GetCredential(ctx, org, "cred_1"); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("get after delete: %v", err)
			}
			if err := tx.DeleteCredential(ctx, org, "cred_1"); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("second delete: %v", err)
			}
			return nil
		})
	})
}

// The per-organisation count behind the credential limit follows inserts, deletes and rollbacks,
// stays per organisation, and is filled in for credentials that predate it (migration 0002).
func TestCredentialCount(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			dsn := b.newDSN(t)
			s := openStore(t, dsn)
			org, other := ensureOrg(t, s, "acme"), ensureOrg(t, s, "globex")
			count := func(s *Store, org string) int {
				t.Helper()
				var n int
				inTx(t, s, func(tx store.Tx) (err error) { n, err = tx.CountCredentials(ctx, org); return err })
				return n
			}
			for i := range 3 {
				inTx(t, s, func(tx store.Tx) error {
					return tx.InsertCredential(ctx, org, newCredential(fmt.Sprintf("cred_%d", i), fmt.Sprintf("c%d", i), ""))
				})
			}
			inTx(t, s, func(tx store.Tx) error { return tx.InsertCredential(ctx, other, newCredential("cred_o", "o", "")) })
			inTx(t, s, func(tx store.Tx) error { return tx.DeleteCredential(ctx, org, "cred_0") })
			rollback := errors.New("roll back")
			if err := txErr(s, func(tx store.Tx) error {
				if err := tx.InsertCredential(ctx, org, newCredential("cred_r", "r", "")); err != nil {
					return err
				}
				return rollback
			}); !errors.Is(err, rollback) {
				t.Fatalf("rolled-back insert: %v", err)
			}
			if got := count(s, org); got != 2 {
				t.Errorf("acme has %d credentials counted, want 2", got)
			}
			if got := count(s, other); got != 1 {
				t.Errorf("globex has %d credentials counted, want 1", got)
			}
			if err := txErr(s, func(tx store.Tx) error { _, err := tx.CountCredentials(ctx, "org_missing"); return err }); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("count of a missing organisation: %v, want ErrNotFound", err)
			}

			// Take the database back to schema version 1, as a server before this change left it.
			// Newest first: migrations 0011 down to 0007, then the older ones.
			downgrade := append([]string{}, downgrade0007...)
			if b.name == DialectPostgres {
				downgrade = append(downgrade, "DROP TRIGGER credentials_counted ON credentials", "DROP FUNCTION modelkeys_count_credentials",
					"ALTER TABLE organizations DROP COLUMN credential_count")
			} else {
				downgrade = append(downgrade, "DROP TRIGGER credentials_counted_on_insert", "DROP TRIGGER credentials_counted_on_delete",
					"ALTER TABLE organizations DROP COLUMN credential_count")
			}
			downgrade = append(downgrade, "ALTER TABLE audit_events DROP COLUMN changes")                                                          // migration 0003
			downgrade = append(downgrade, "ALTER TABLE credentials DROP COLUMN managed_by")                                                        // migration 0004
			downgrade = append(downgrade, "ALTER TABLE credentials DROP COLUMN rotation_period", "ALTER TABLE credentials DROP COLUMN expires_at", // migration 0005
				"ALTER TABLE credentials DROP COLUMN rotated_at", "ALTER TABLE credentials DROP COLUMN lifecycle_status", "DROP TABLE credential_policies")
			for _, q := range append(downgrade, "DELETE FROM schema_migrations WHERE version > 1") {
				if _, err := s.db.Exec(q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			_ = s.Close()
			upgraded := openStore(t, dsn)
			if got := count(upgraded, org); got != 2 {
				t.Errorf("after the upgrade acme has %d credentials counted, want 2", got)
			}
			if got := count(upgraded, other); got != 1 {
				t.Errorf("after the upgrade globex has %d credentials counted, want 1", got)
			}
		})
	}
}

// TestUnmarshalMap: a stored map reads back non-nil whatever text holds it, and each read is a map of
// its own (the empty-map shortcut must not hand out a shared one).
func TestUnmarshalMap(t *testing.T) {
	for text, want := range map[string]map[string]string{
		"": {}, "{}": {}, "null": {}, `{"team":"ml"}`: {"team": "ml"},
	} {
		got, err := unmarshalMap(text)
		if err != nil || got == nil || !reflect.DeepEqual(got, want) {
			t.Errorf("unmarshalMap(%q) = %#v, %v; want %#v", text, got, err, want)
		}
	}
	a, _ := unmarshalMap("{}")
	b, _ := unmarshalMap("{}")
	a["k"] = "v"
	if len(b) != 0 {
		t.Fatal("two empty stored maps share one map")
	}
	if _, err := unmarshalMap("{"); err == nil {
		t.Fatal("a corrupt stored map read without error")
	}
}
