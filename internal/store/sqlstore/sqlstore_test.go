package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

var ctx = context.Background()

func TestRebind(t *testing.T) {
	for _, tc := range []struct {
		d    dialect
		in   string
		want string
	}{
		{sqliteDialect, "SELECT ? , ?", "SELECT ? , ?"},
		{postgresDialect, "SELECT a FROM t WHERE a = ? AND b IN (?, ?)", "SELECT a FROM t WHERE a = $1 AND b IN ($2, $3)"},
		{postgresDialect, "SELECT 1", "SELECT 1"},
	} {
		if got := tc.d.rebind(tc.in); got != tc.want {
			t.Errorf("%s rebind(%q) = %q, want %q", tc.d.name, tc.in, got, tc.want)
		}
	}
}

func TestOpenDispatch(t *testing.T) {
	dir := t.TempDir()
	for _, dsn := range []string{
		filepath.Join(dir, "a", "plain.db"),
		"file:" + filepath.Join(dir, "b", "file.db"),
		"file://" + filepath.Join(dir, "c", "url.db"),
		// Characters that mean something in a SQLite URI must not.
		filepath.Join(dir, "odd dir %41", "a?b#c.db"),
	} {
		s := openStore(t, dsn)
		if s.Dialect() != DialectSQLite {
			t.Errorf("%s: dialect %s", dsn, s.Dialect())
		}
		if err := s.Ping(ctx); err != nil {
			t.Errorf("%s: ping: %v", dsn, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "odd dir %41", "a?b#c.db")); err != nil {
		t.Errorf("odd path: %v", err)
	}
	p := filepath.Join(dir, "a", "plain.db")
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s mode %v, want 0600", p, fi.Mode().Perm())
	}
	// The pragmas took effect.
	s := openStore(t, p)
	var mode string
	var fk, syncMode int
	if err := s.db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode %q, %v", mode, err)
	}
	if err := s.db.QueryRow("PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
		t.Errorf("foreign_keys %d, %v", fk, err)
	}
	if err := s.db.QueryRow("PRAGMA synchronous").Scan(&syncMode); err != nil || syncMode != 2 {
		t.Errorf("synchronous %d, %v (want 2, FULL)", syncMode, err)
	}
}

func TestMigrationsIdempotent(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			dsn := b.newDSN(t)
			s := openStore(t, dsn)
			org := ensureOrg(t, s, "acme")
			_ = s.Close()

			for range 2 {
				s = openStore(t, dsn)
				if got := ensureOrg(t, s, "acme"); got != org {
					t.Fatalf("org id after reopen %s, want %s", got, org)
				}
				var n, max int
				if err := s.db.QueryRow("SELECT COUNT(*), MAX(version) FROM schema_migrations").Scan(&n, &max); err != nil {
					t.Fatal(err)
				}
				if n != SchemaVersion() || max != SchemaVersion() {
					t.Fatalf("schema_migrations has %d rows up to %d, want %d", n, max, SchemaVersion())
				}
				_ = s.Close()
			}
		})
	}
}

// TestConcurrentOpen is several replicas (or an embedded provider and a server) starting together on
// a new database: one migrates, the others wait and find the schema in place.
func TestConcurrentOpen(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			dsn := b.newDSN(t)
			var wg sync.WaitGroup
			errs := make(chan error, 5)
			for range 5 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					s, err := Open(ctx, dsn)
					if err != nil {
						errs <- err
						return
					}
					errs <- s.Close()
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Error(err)
				}
			}
		})
	}
}

func TestSchemaTooNew(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			dsn := b.newDSN(t)
			s := openStore(t, dsn)
			next := SchemaVersion() + 1
			if _, err := s.db.Exec(s.d.rebind("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"),
				next, "from_the_future.sql", "2099-01-01T00:00:00.000000000Z"); err != nil {
				t.Fatal(err)
			}
			_ = s.Close()

			s2, err := Open(ctx, dsn)
			if err == nil {
				_ = s2.Close()
				t.Fatal("opened a database with a newer schema")
			}
			if !errors.Is(err, store.ErrSchemaTooNew) || !strings.Contains(err.Error(), "upgrade modelkeys") {
				t.Fatalf("error %q: want ErrSchemaTooNew saying to upgrade modelkeys", err)
			}
		})
	}
}

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
			downgrade := []string{
				"DROP TRIGGER credentials_counted_on_insert", "DROP TRIGGER credentials_counted_on_delete",
				"ALTER TABLE organizations DROP COLUMN credential_count",
			}
			if b.name == DialectPostgres {
				downgrade = []string{"DROP TRIGGER credentials_counted ON credentials", "DROP FUNCTION modelkeys_count_credentials",
					"ALTER TABLE organizations DROP COLUMN credential_count"}
			}
			downgrade = append(downgrade, "ALTER TABLE audit_events DROP COLUMN changes") // migration 0003
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

func TestSecrets(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		org := ensureOrg(t, s, "acme")
		other := ensureOrg(t, s, "globex")
		sec := func(field, key string) store.SealedSecret {
			return store.SealedSecret{OrgID: org, CredentialID: "cred_1", Field: field, KeyID: key,
				WrappedKey: []byte{0, 1, 2, 0xff}, Ciphertext: []byte("sealed-" + field)}
		}
		inTx(t, s, func(tx store.Tx) error {
			if err := tx.InsertCredential(ctx, org, newCredential("cred_1", "a", "")); err != nil {
				return err
			}
			if err := tx.PutSecret(ctx, sec(api.SecretAPIKey, "k1")); err != nil {
				return err
			}
			if err := tx.PutSecret(ctx, sec(api.SecretAuthToken, "k1")); err != nil {
				return err
			}
			// Replace in place.
			if err := tx.PutSecret(ctx, sec(api.SecretAPIKey, "k2")); err != nil {
				return err
			}
			// Another organisation cannot write, read or delete them.
			wrong := sec(api.SecretAPIKey, "evil")
			wrong.OrgID = other
			if err := tx.PutSecret(ctx, wrong); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("PutSecret from another organisation: %v", err)
			}
			if l, err := tx.GetSecrets(ctx, other, "cred_1"); err != nil || len(l) != 0 {
				return fmt.Errorf("GetSecrets from another organisation = %v, %v", l, err)
			}
			if err := tx.DeleteSecret(ctx, other, "cred_1", api.SecretAPIKey); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("DeleteSecret from another organisation: %v", err)
			}

			got, err := tx.GetSecrets(ctx, org, "cred_1")
			if err != nil {
				return err
			}
			want := []store.SealedSecret{sec(api.SecretAPIKey, "k2"), sec(api.SecretAuthToken, "k1")}
			if !reflect.DeepEqual(got, want) {
				return fmt.Errorf("GetSecrets\n got %+v\nwant %+v", got, want)
			}
			c, err := tx.GetCredential(ctx, org, "cred_1")
			if err != nil {
				return err
			}
			if !c.HasAPIKey || !c.HasAuthToken {
				return fmt.Errorf("HasAPIKey %v HasAuthToken %v, want both", c.HasAPIKey, c.HasAuthToken)
			}
			if err := tx.DeleteSecret(ctx, org, "cred_1", api.SecretAuthToken); err != nil {
				return err
			}
			if err := tx.DeleteSecret(ctx, org, "cred_1", api.SecretAuthToken); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("second DeleteSecret: %v", err)
			}
			c, err = tx.GetCredential(ctx, org, "cred_1")
			if err != nil {
				return err
			}
			if !c.HasAPIKey || c.HasAuthToken {
				return fmt.Errorf("after delete: HasAPIKey %v HasAuthToken %v", c.HasAPIKey, c.HasAuthToken)
			}
			all, err := tx.ListAllSecrets(ctx)
			if err != nil || len(all) != 1 {
				return fmt.Errorf("ListAllSecrets = %v, %v", all, err)
			}
			// Deleting the credential takes its secrets with it.
			if err := tx.DeleteCredential(ctx, org, "cred_1"); err != nil {
				return err
			}
			all, err = tx.ListAllSecrets(ctx)
			if err != nil || len(all) != 0 {
				return fmt.Errorf("secrets after credential delete = %v, %v", all, err)
			}
			return nil
		})
	})
}

func TestOrgIsolation(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		a := ensureOrg(t, s, "acme")
		b := ensureOrg(t, s, "globex")
		inTx(t, s, func(tx store.Tx) error {
			if err := tx.InsertCredential(ctx, a, newCredential("cred_1", "k", "")); err != nil {
				return err
			}
			if err := tx.InsertConnection(ctx, a, newConnection("conn_1", "c", "cred_1", "")); err != nil {
				return err
			}
			if err := tx.InsertProject(ctx, a, newProject("proj_1", "p")); err != nil {
				return err
			}
			if err := tx.PutModelPolicy(ctx, a, api.ModelPolicy{Mode: api.PolicyDenylist, Version: 1, UpdatedAt: at(0)}, 0); err != nil {
				return err
			}
			if err := tx.InsertIdempotency(ctx, store.Idempotency{OrgID: a, Key: "k", RequestHash: "h", ObjectType: "credential", ObjectID: "cred_1", CreatedAt: at(0)}); err != nil {
				return err
			}
			if err := tx.InsertAudit(ctx, a, api.AuditEvent{Time: at(0), Actor: "t", Action: "create", ObjectType: "credential", ObjectID: "cred_1"}); err != nil {
				return err
			}
			// The same names are free in another organisation.
			if err := tx.InsertCredential(ctx, b, newCredential("cred_2", "k", "")); err != nil {
				return err
			}
			if err := tx.InsertProject(ctx, b, newProject("proj_2", "p")); err != nil {
				return err
			}
			return nil
		})

		notFound := map[string]func(tx store.Tx) error{
			"GetCredential": func(tx store.Tx) error { _, err := tx.GetCredential(ctx, b, "cred_1"); return err },
			"UpdateCredential": func(tx store.Tx) error {
				return tx.UpdateCredential(ctx, b, newCredential("cred_1", "k2", ""), 1)
			},
			"DeleteCredential": func(tx store.Tx) error { return tx.DeleteCredential(ctx, b, "cred_1") },
			"GetConnection":    func(tx store.Tx) error { _, err := tx.GetConnection(ctx, b, "conn_1"); return err },
			"UpdateConnection": func(tx store.Tx) error {
				return tx.UpdateConnection(ctx, b, newConnection("conn_1", "c", "cred_2", ""), 1)
			},
			"DeleteConnection": func(tx store.Tx) error { return tx.DeleteConnection(ctx, b, "conn_1") },
			"GetProject":       func(tx store.Tx) error { _, err := tx.GetProject(ctx, b, "proj_1"); return err },
			"UpdateProject":    func(tx store.Tx) error { return tx.UpdateProject(ctx, b, newProject("proj_1", "q"), 1) },
			"DeleteProject":    func(tx store.Tx) error { return tx.DeleteProject(ctx, b, "proj_1") },
			"GetModelPolicy":   func(tx store.Tx) error { _, err := tx.GetModelPolicy(ctx, b, ""); return err },
			"DeleteModelPolicy": func(tx store.Tx) error {
				return tx.DeleteModelPolicy(ctx, b, "")
			},
			"GetIdempotency": func(tx store.Tx) error { _, err := tx.GetIdempotency(ctx, b, "k"); return err },
		}
		for name, fn := range notFound {
			if err := txErr(s, fn); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s across organisations: %v, want ErrNotFound", name, err)
			}
		}
		inTx(t, s, func(tx store.Tx) error {
			creds, err := tx.ListCredentials(ctx, b, store.CredentialFilter{})
			if err != nil || len(creds) != 1 || creds[0].ID != "cred_2" {
				return fmt.Errorf("ListCredentials(b) = %+v, %v", creds, err)
			}
			conns, err := tx.ListConnections(ctx, b, store.ConnectionFilter{})
			if err != nil || len(conns) != 0 {
				return fmt.Errorf("ListConnections(b) = %+v, %v", conns, err)
			}
			projects, err := tx.ListProjects(ctx, b, "", "", 0)
			if err != nil || len(projects) != 1 || projects[0].ID != "proj_2" {
				return fmt.Errorf("ListProjects(b) = %+v, %v", projects, err)
			}
			audit, err := tx.ListAudit(ctx, b, 0, 0)
			if err != nil || len(audit) != 0 {
				return fmt.Errorf("ListAudit(b) = %+v, %v", audit, err)
			}
			if n, err := tx.CountCredentials(ctx, b); n != 1 || err != nil {
				return fmt.Errorf("CountCredentials(b) = %d, %v", n, err)
			}
			refs, err := tx.ListAllCredentialRefs(ctx)
			if err != nil || len(refs) != 2 {
				return fmt.Errorf("ListAllCredentialRefs = %+v, %v", refs, err)
			}
			// Organisation a's objects are intact.
			if _, err := tx.GetCredential(ctx, a, "cred_1"); err != nil {
				return err
			}
			_, err = tx.GetConnection(ctx, a, "conn_1")
			return err
		})
	})
}

func TestDuplicates(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		org := ensureOrg(t, s, "acme")
		inTx(t, s, func(tx store.Tx) error {
			for _, c := range []api.Credential{
				newCredential("cred_1", "k", ""),
				newCredential("cred_2", "k", "proj_1"), // same name, other scope
				newCredential("cred_3", "k2", ""),
			} {
				if err := tx.InsertCredential(ctx, org, c); err != nil {
					return err
				}
			}
			if err := tx.InsertProject(ctx, org, newProject("proj_1", "p")); err != nil {
				return err
			}
			if err := tx.InsertProject(ctx, org, newProject("proj_2", "p2")); err != nil {
				return err
			}
			if err := tx.InsertConnection(ctx, org, newConnection("conn_1", "c", "cred_1", "")); err != nil {
				return err
			}
			if err := tx.InsertConnection(ctx, org, newConnection("conn_2", "c", "cred_1", "proj_1")); err != nil {
				return err
			}
			return tx.InsertConnection(ctx, org, newConnection("conn_3", "c2", "cred_1", ""))
		})
		renamed := newCredential("cred_3", "k", "")
		renamed.Version = 2
		renamedProject := newProject("proj_2", "p")
		renamedProject.Version = 2
		renamedConn := newConnection("conn_3", "c", "cred_1", "")
		renamedConn.Version = 2
		for name, fn := range map[string]func(tx store.Tx) error{
			"credential":        func(tx store.Tx) error { return tx.InsertCredential(ctx, org, newCredential("cred_9", "k", "")) },
			"credential id":     func(tx store.Tx) error { return tx.InsertCredential(ctx, org, newCredential("cred_1", "new", "")) },
			"credential rename": func(tx store.Tx) error { return tx.UpdateCredential(ctx, org, renamed, 1) },
			"project":           func(tx store.Tx) error { return tx.InsertProject(ctx, org, newProject("proj_9", "p")) },
			"project rename":    func(tx store.Tx) error { return tx.UpdateProject(ctx, org, renamedProject, 1) },
			"connection": func(tx store.Tx) error {
				return tx.InsertConnection(ctx, org, newConnection("conn_9", "c", "cred_3", ""))
			},
			"connection rename": func(tx store.Tx) error { return tx.UpdateConnection(ctx, org, renamedConn, 1) },
			"connection project": func(tx store.Tx) error {
				return tx.InsertConnection(ctx, org, newConnection("conn_9", "c", "cred_3", "proj_1"))
			},
		} {
			err := txErr(s, fn)
			if !errors.Is(err, store.ErrDuplicate) {
				t.Errorf("%s: %v, want ErrDuplicate", name, err)
			}
		}
	})
}

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

func TestProjects(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		org := ensureOrg(t, s, "acme")
		inTx(t, s, func(tx store.Tx) error {
			p := newProject("proj_1", "ml")
			p.InheritOrganizationCredentials = true
			if err := tx.InsertProject(ctx, org, p); err != nil {
				return err
			}
			if err := tx.InsertProject(ctx, org, newProject("proj_2", "web")); err != nil {
				return err
			}
			got, err := tx.GetProject(ctx, org, "proj_1")
			if err != nil || !reflect.DeepEqual(got, p) {
				return fmt.Errorf("GetProject = %+v, %v; want %+v", got, err, p)
			}
			p.Name, p.InheritOrganizationCredentials, p.Version, p.UpdatedAt = "ml2", false, 2, at(30)
			if err := tx.UpdateProject(ctx, org, p, 1); err != nil {
				return err
			}
			if err := tx.UpdateProject(ctx, org, p, 1); !errors.Is(err, store.ErrVersionMismatch) {
				return fmt.Errorf("stale project update: %v", err)
			}
			got, err = tx.GetProject(ctx, org, "proj_1")
			if err != nil || !reflect.DeepEqual(got, p) {
				return fmt.Errorf("after update GetProject = %+v, %v; want %+v", got, err, p)
			}
			byName, err := tx.ListProjects(ctx, org, "web", "", 0)
			if err != nil || len(byName) != 1 || byName[0].ID != "proj_2" {
				return fmt.Errorf("ListProjects(name) = %+v, %v", byName, err)
			}
			page, err := tx.ListProjects(ctx, org, "", "proj_1", 10)
			if err != nil || len(page) != 1 || page[0].ID != "proj_2" {
				return fmt.Errorf("ListProjects(after) = %+v, %v", page, err)
			}

			// A project holding objects cannot be deleted; its policy goes with it.
			if err := tx.InsertCredential(ctx, org, newCredential("cred_1", "k", "proj_1")); err != nil {
				return err
			}
			if err := tx.PutModelPolicy(ctx, org, api.ModelPolicy{ProjectID: "proj_1", Mode: api.PolicyAll, Version: 1, UpdatedAt: at(0)}, 0); err != nil {
				return err
			}
			if err := tx.DeleteProject(ctx, org, "proj_1"); !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), "cred_1") {
				return fmt.Errorf("delete of a project in use: %v", err)
			}
			if err := tx.DeleteCredential(ctx, org, "cred_1"); err != nil {
				return err
			}
			if err := tx.DeleteProject(ctx, org, "proj_1"); err != nil {
				return err
			}
			if _, err := tx.GetModelPolicy(ctx, org, "proj_1"); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("project policy after project delete: %v", err)
			}
			if err := tx.DeleteProject(ctx, org, "proj_1"); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("second project delete: %v", err)
			}
			return nil
		})
	})
}

func TestModelPolicy(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		org := ensureOrg(t, s, "acme")
		inTx(t, s, func(tx store.Tx) error {
			if _, err := tx.GetModelPolicy(ctx, org, ""); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("policy never set: %v", err)
			}
			p := api.ModelPolicy{Mode: api.PolicyAll, Version: 1, UpdatedAt: at(0)} // nil lists
			if err := tx.PutModelPolicy(ctx, org, p, 3); !errors.Is(err, store.ErrVersionMismatch) {
				return fmt.Errorf("If-Match on a scope with no policy: %v", err)
			}
			if err := tx.PutModelPolicy(ctx, org, p, 0); err != nil {
				return err
			}
			got, err := tx.GetModelPolicy(ctx, org, "")
			if err != nil {
				return err
			}
			p.Models, p.Publishers = []string{}, []string{}
			if !reflect.DeepEqual(got, p) {
				return fmt.Errorf("GetModelPolicy\n got %+v\nwant %+v", got, p)
			}
			p2 := api.ModelPolicy{Mode: api.PolicyAllowlist, Models: []string{"openai/gpt-4o", "anthropic/claude"},
				Publishers: []string{"meta"}, Version: 2, UpdatedAt: at(5)}
			if err := tx.PutModelPolicy(ctx, org, p2, 1); err != nil {
				return err
			}
			if err := tx.PutModelPolicy(ctx, org, p2, 1); !errors.Is(err, store.ErrVersionMismatch) {
				return fmt.Errorf("stale policy put: %v", err)
			}
			proj := api.ModelPolicy{ProjectID: "proj_1", Mode: api.PolicyDenylist, Models: []string{"x/y"}, Version: 1, UpdatedAt: at(6)}
			if err := tx.PutModelPolicy(ctx, org, proj, 0); err != nil {
				return err
			}
			got, err = tx.GetModelPolicy(ctx, org, "")
			if err != nil || !reflect.DeepEqual(got, p2) {
				return fmt.Errorf("organisation policy = %+v, %v; want %+v", got, err, p2)
			}
			got, err = tx.GetModelPolicy(ctx, org, "proj_1")
			proj.Publishers = []string{}
			if err != nil || !reflect.DeepEqual(got, proj) {
				return fmt.Errorf("project policy = %+v, %v; want %+v", got, err, proj)
			}
			// An unconditional put replaces whatever is there.
			p3 := api.ModelPolicy{Mode: api.PolicyAll, Models: []string{}, Publishers: []string{}, Version: 3, UpdatedAt: at(7)}
			if err := tx.PutModelPolicy(ctx, org, p3, 0); err != nil {
				return err
			}
			if got, err := tx.GetModelPolicy(ctx, org, ""); err != nil || !reflect.DeepEqual(got, p3) {
				return fmt.Errorf("after unconditional put = %+v, %v", got, err)
			}
			if err := tx.DeleteModelPolicy(ctx, org, ""); err != nil {
				return err
			}
			if err := tx.DeleteModelPolicy(ctx, org, ""); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("second policy delete: %v", err)
			}
			if _, err := tx.GetModelPolicy(ctx, org, "proj_1"); err != nil {
				return fmt.Errorf("project policy after organisation policy delete: %v", err)
			}
			return nil
		})
	})
}

func TestIdempotency(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		a := ensureOrg(t, s, "acme")
		b := ensureOrg(t, s, "globex")
		i := store.Idempotency{OrgID: a, Key: "key-1", RequestHash: "h", ObjectType: "credential", ObjectID: "cred_1", CreatedAt: at(0)}
		inTx(t, s, func(tx store.Tx) error {
			if _, err := tx.GetIdempotency(ctx, a, "key-1"); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("unused key: %v", err)
			}
			if err := tx.InsertIdempotency(ctx, i); err != nil {
				return err
			}
			got, err := tx.GetIdempotency(ctx, a, "key-1")
			if err != nil || !reflect.DeepEqual(got, i) {
				return fmt.Errorf("GetIdempotency = %+v, %v; want %+v", got, err, i)
			}
			// The same key in another organisation is another key.
			j := i
			j.OrgID = b
			return tx.InsertIdempotency(ctx, j)
		})
		// A refused insert leaves the transaction usable on both backends (a savepoint on PostgreSQL),
		// so the service can look the first answer up right away.
		inTx(t, s, func(tx store.Tx) error {
			if err := tx.InsertIdempotency(ctx, i); !errors.Is(err, store.ErrDuplicate) {
				return fmt.Errorf("second insert of a key: %v", err)
			}
			got, err := tx.GetIdempotency(ctx, a, "key-1")
			if err != nil || got.ObjectID != "cred_1" {
				return fmt.Errorf("lookup after the refused insert = %+v, %v", got, err)
			}
			return nil
		})
	})
}

func TestAudit(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		a := ensureOrg(t, s, "acme")
		b := ensureOrg(t, s, "globex")
		inTx(t, s, func(tx store.Tx) error {
			for i := range 7 {
				org := a
				if i%3 == 2 {
					org = b
				}
				e := api.AuditEvent{ID: 999, Time: at(i), Actor: "token:ci", Action: "update", ObjectType: "credential",
					ObjectID: cid("cred", i), Fields: []string{"name", "api_key"}}
				if i == 0 {
					e.Fields = nil
				}
				if err := tx.InsertAudit(ctx, org, e); err != nil {
					return err
				}
			}
			return nil
		})
		var all []api.AuditEvent
		var after int64
		for {
			var page []api.AuditEvent
			inTx(t, s, func(tx store.Tx) (err error) {
				page, err = tx.ListAudit(ctx, a, after, 2)
				return err
			})
			if len(page) == 0 {
				break
			}
			if len(page) > 2 {
				t.Fatalf("page of %d, limit 2", len(page))
			}
			all = append(all, page...)
			after = page[len(page)-1].ID
		}
		var objs []string
		for k, e := range all {
			objs = append(objs, e.ObjectID)
			if k > 0 && e.ID <= all[k-1].ID {
				t.Errorf("ids not increasing: %d after %d", e.ID, all[k-1].ID)
			}
		}
		want := []string{cid("cred", 0), cid("cred", 1), cid("cred", 3), cid("cred", 4), cid("cred", 6)}
		if !reflect.DeepEqual(objs, want) {
			t.Fatalf("organisation a's events %v, want %v", objs, want)
		}
		if all[0].Fields == nil || len(all[0].Fields) != 0 {
			t.Errorf("nil fields came back as %#v, want []", all[0].Fields)
		}
		if !all[1].Time.Equal(at(1)) || all[1].Time != at(1) || !reflect.DeepEqual(all[1].Fields, []string{"name", "api_key"}) {
			t.Errorf("event round trip: %+v", all[1])
		}
	})
}

// On PostgreSQL a transaction can take an audit id before another and commit after it. Paging by
// "after" must still return every event once.
func TestAuditPagingSkipsNothingAcrossConcurrentTransactions(t *testing.T) {
	b := backends(t)[1]
	if b.name != DialectPostgres {
		t.Fatal("backends(t)[1] is not PostgreSQL")
	}
	s := openStore(t, b.newDSN(t))
	org := ensureOrg(t, s, "acme")
	event := func(obj string) api.AuditEvent {
		return api.AuditEvent{Time: at(0), Actor: "token:ci", Action: "update", ObjectType: "credential", ObjectID: obj}
	}
	var seen []string
	var after int64
	readAll := func() {
		t.Helper()
		if err := s.ReadTx(ctx, func(tx store.Tx) error {
			page, err := tx.ListAudit(ctx, org, after, 100)
			for _, e := range page {
				seen = append(seen, e.ObjectID)
				after = e.ID
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}

	// The slow transaction writes its event first and holds it uncommitted while the fast one writes
	// and tries to commit.
	inserted, release := make(chan struct{}), make(chan struct{})
	slowDone, fastDone := make(chan error, 1), make(chan error, 1)
	go func() {
		slowDone <- s.Tx(ctx, func(tx store.Tx) error {
			if err := tx.InsertAudit(ctx, org, event("slow")); err != nil {
				return err
			}
			close(inserted)
			<-release
			return nil
		})
	}()
	<-inserted
	go func() {
		fastDone <- s.Tx(ctx, func(tx store.Tx) error { return tx.InsertAudit(ctx, org, event("fast")) })
	}()
	time.Sleep(300 * time.Millisecond) // time for the fast one to commit, were nothing holding it
	readAll()
	close(release)
	for _, done := range []chan error{slowDone, fastDone} {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	readAll()
	if want := []string{"slow", "fast"}; !reflect.DeepEqual(seen, want) {
		t.Fatalf("paging by after= returned %v, want %v: an event was skipped or repeated", seen, want)
	}
}

func TestTxRollback(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		org := ensureOrg(t, s, "acme")
		boom := errors.New("boom")
		err := txErr(s, func(tx store.Tx) error {
			if err := tx.InsertCredential(ctx, org, newCredential("cred_1", "k", "")); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Tx returned %v, want fn's error", err)
		}
		func() {
			defer func() {
				if r := recover(); r != "panic in fn" {
					t.Fatalf("recovered %v, want the panic to go on", r)
				}
			}()
			_ = txErr(s, func(tx store.Tx) error {
				if err := tx.InsertCredential(ctx, org, newCredential("cred_2", "k2", "")); err != nil {
					return err
				}
				panic("panic in fn")
			})
		}()
		inTx(t, s, func(tx store.Tx) error {
			if n, err := tx.CountCredentials(ctx, org); n != 0 || err != nil {
				return fmt.Errorf("after rollbacks CountCredentials = %d, %v", n, err)
			}
			return nil
		})
	})
}

// TestConcurrentWriters is Terraform's default parallelism, doubled: 20 goroutines creating and
// updating at once must all succeed (on SQLite: no SQLITE_BUSY).
func TestConcurrentWriters(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		const workers, each = 20, 10
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					err := s.Tx(ctx, func(tx store.Tx) error {
						// Everyone races to create the same organisation, too.
						o, err := tx.EnsureOrganization(ctx, "acme")
						if err != nil {
							return err
						}
						id := fmt.Sprintf("cred_%02d_%02d", w, i)
						c := newCredential(id, id, "")
						if err := tx.InsertCredential(ctx, o.ID, c); err != nil {
							return err
						}
						c.Version = 2
						if err := tx.UpdateCredential(ctx, o.ID, c, 1); err != nil {
							return err
						}
						return tx.InsertAudit(ctx, o.ID, api.AuditEvent{Time: at(i), Actor: "t", Action: "create", ObjectType: "credential", ObjectID: id})
					})
					if err != nil {
						errs <- fmt.Errorf("worker %d, write %d: %w", w, i, err)
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		org := ensureOrg(t, s, "acme")
		inTx(t, s, func(tx store.Tx) error {
			if n, err := tx.CountCredentials(ctx, org); n != workers*each || err != nil {
				return fmt.Errorf("CountCredentials = %d, %v; want %d", n, err, workers*each)
			}
			return nil
		})
	})
}

// TestTwoSQLiteHandles is an embedded provider and a server on the same file: both write at once
// and each sees the other's rows.
func TestTwoSQLiteHandles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	h1 := openStore(t, path)
	h2 := openStore(t, path)
	org := ensureOrg(t, h1, "acme")
	if got := ensureOrg(t, h2, "acme"); got != org {
		t.Fatalf("second handle sees organisation %s, want %s", got, org)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*10*5)
	for h, s := range []*Store{h1, h2} {
		for w := range 5 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 10 {
					id := fmt.Sprintf("cred_%d_%d_%02d", h, w, i)
					if err := s.Tx(ctx, func(tx store.Tx) error {
						return tx.InsertCredential(ctx, org, newCredential(id, id, ""))
					}); err != nil {
						errs <- fmt.Errorf("handle %d: %w", h, err)
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for h, s := range []*Store{h1, h2} {
		inTx(t, s, func(tx store.Tx) error {
			if n, err := tx.CountCredentials(ctx, org); n != 100 || err != nil {
				return fmt.Errorf("handle %d: CountCredentials = %d, %v; want 100", h, n, err)
			}
			return nil
		})
	}
}

// An event keeps the destination settings' old and new values; one without them reads back without.
func TestAuditChangesRoundTrip(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		org := ensureOrg(t, s, "acme")
		moved := []api.AuditChange{{Field: "settings.base_url", From: "https://a.example/v1", To: "https://b.example/v1"}}
		inTx(t, s, func(tx store.Tx) error {
			if err := tx.InsertAudit(ctx, org, api.AuditEvent{Time: at(0), Actor: "t", Action: "update", ObjectType: "credential", ObjectID: "cred_1", Fields: []string{"settings.base_url"}, Changes: moved}); err != nil {
				return err
			}
			return tx.InsertAudit(ctx, org, api.AuditEvent{Time: at(1), Actor: "t", Action: "update", ObjectType: "credential", ObjectID: "cred_1", Fields: []string{"name"}})
		})
		inTx(t, s, func(tx store.Tx) error {
			events, err := tx.ListAudit(ctx, org, 0, 10)
			if err != nil {
				return err
			}
			if len(events) != 2 || !reflect.DeepEqual(events[0].Changes, moved) || events[1].Changes != nil {
				t.Errorf("events %+v: want the first with changes %+v and the second with none", events, moved)
			}
			return nil
		})
	})
}

// RewrapSecret swaps only a secret still wrapped as it was read; CountSecretsNotWrappedBy finds what a
// rotation missed.
func TestRewrapSecretCompareAndSwap(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		org := ensureOrg(t, s, "acme")
		sec := store.SealedSecret{OrgID: org, CredentialID: "cred_1", Field: api.SecretAPIKey, KeyID: "k1", WrappedKey: []byte("w1"), Ciphertext: []byte("c")}
		inTx(t, s, func(tx store.Tx) error {
			if err := tx.InsertCredential(ctx, org, newCredential("cred_1", "a", "")); err != nil {
				return err
			}
			return tx.PutSecret(ctx, sec)
		})
		inTx(t, s, func(tx store.Tx) error {
			next := sec
			next.KeyID, next.WrappedKey = "k2", []byte("w2")
			if ok, err := tx.RewrapSecret(ctx, next, []byte("stale")); err != nil || ok {
				t.Errorf("rewrap of a secret rewritten since it was read: ok %v, err %v; want false, nil", ok, err)
			}
			if n, err := tx.CountSecretsNotWrappedBy(ctx, "k2"); err != nil || n != 1 {
				t.Errorf("secrets not wrapped by k2: %d, %v; want 1", n, err)
			}
			if ok, err := tx.RewrapSecret(ctx, next, []byte("w1")); err != nil || !ok {
				t.Errorf("rewrap of the secret as read: ok %v, err %v; want true, nil", ok, err)
			}
			if n, err := tx.CountSecretsNotWrappedBy(ctx, "k2"); err != nil || n != 0 {
				t.Errorf("secrets not wrapped by k2 after the rewrap: %d, %v; want 0", n, err)
			}
			got, err := tx.GetSecrets(ctx, org, "cred_1")
			if err != nil || len(got) != 1 || got[0].KeyID != "k2" || string(got[0].WrappedKey) != "w2" || string(got[0].Ciphertext) != "c" {
				t.Errorf("after the rewrap: %+v, %v", got, err)
			}
			v, ok, err := tx.LockMeta(ctx, "missing", true)
			if err != nil || ok || v != "" {
				t.Errorf("LockMeta of a missing key: %q %v %v", v, ok, err)
			}
			return nil
		})
	})
}
