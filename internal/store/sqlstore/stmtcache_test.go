package sqlstore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// cached waits for q's first use to finish preparing in the background and reports whether c then
// holds a statement for it (false: it failed to prepare).
func cached(t *testing.T, c *stmtCache, q string) bool {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		c.mu.Lock()
		s, known := c.stmts[q]
		c.mu.Unlock()
		if known {
			return s != nil
		}
	}
	t.Fatalf("%q was never prepared", q)
	return false
}

// waitForWriterStatements waits until the writer has prepared statements of its own.
func waitForWriterStatements(t *testing.T, c *stmtCache) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		c.mu.Lock()
		n, pending := len(c.stmts), len(c.pending)
		c.mu.Unlock()
		if n > 0 && pending == 0 {
			return
		}
	}
	t.Fatal("the writer prepared no statement")
}

// Reads and writes give the same answers before and after their statements are prepared, and a
// query SQLite refuses keeps failing with its own error rather than being cached.
func TestStatementCache(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "modelkeys.db"))
	org := ensureOrg(t, s, "acme")
	const get = "SELECT credential_count FROM organizations WHERE id = ?"
	for i := range 3 {
		inTx(t, s, func(tx store.Tx) error {
			return tx.InsertCredential(ctx, org, newCredential(fmt.Sprintf("cred_%d", i), fmt.Sprintf("c%d", i), ""))
		})
		if i == 0 {
			waitForWriterStatements(t, s.stmts)
		}
		var n int
		if err := s.ReadTx(ctx, func(st store.Tx) error { return st.(*tx).queryRow(ctx, get, org).Scan(&n) }); err != nil {
			t.Fatal(err)
		}
		if n != i+1 {
			t.Fatalf("after %d inserts the count reads %d", i+1, n)
		}
		if i == 0 && !cached(t, s.rstmts, get) {
			t.Fatal("the count query did not prepare")
		}
	}

	// A list of several credentials looks up their connections with an IN list as long as the page:
	// such texts run unprepared instead of filling the cache, one per length.
	if err := s.ReadTx(ctx, func(tx store.Tx) error {
		_, err := tx.ListCredentials(ctx, org, store.CredentialFilter{})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	s.rstmts.mu.Lock()
	for q := range s.rstmts.stmts {
		if strings.Contains(q, "IN (?, ?") {
			t.Errorf("the cache keeps a per-length IN list: %s", q)
		}
	}
	for q := range s.rstmts.pending {
		if strings.Contains(q, "IN (?, ?") {
			t.Errorf("the cache prepares a per-length IN list: %s", q)
		}
	}
	s.rstmts.mu.Unlock()

	const bad = "SELECT nope FROM nowhere"
	for range 2 {
		err := s.ReadTx(ctx, func(st store.Tx) error {
			rows, err := st.(*tx).query(ctx, bad)
			if err == nil {
				rows.Close()
			}
			return err
		})
		if err == nil {
			t.Fatal("a query of a missing table succeeded")
		}
	}
	if cached(t, s.rstmts, bad) {
		t.Error("a query that cannot prepare was cached")
	}
}

// Close returns only once no connection of the store is left open: a statement still being prepared
// in the background would otherwise open one (and SQLite's -wal and -shm files) after Close, which
// left a test's temporary directory impossible to remove.
func TestCloseWaitsForBackgroundPrepares(t *testing.T) {
	for i := range 20 {
		dir := t.TempDir()
		path := filepath.Join(dir, "modelkeys.db")
		s, err := OpenSQLite(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		org := ensureOrg(t, s, fmt.Sprintf("acme-%d", i)) // a first query: its statement is prepared in the background
		inTx(t, s, func(tx store.Tx) error { _, err := tx.GetOrganization(context.Background(), org); return err })
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		for _, leftover := range []string{path + "-wal", path + "-shm"} {
			if _, err := os.Stat(leftover); err == nil {
				t.Fatalf("run %d: %s exists after Close: a connection outlived it", i, filepath.Base(leftover))
			}
		}
	}
}
