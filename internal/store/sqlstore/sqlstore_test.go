package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

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
