package sqlstore

import (
	"context"
	"testing"
	"time"
)

// TestTryLeaderLock: on PostgreSQL one store (one replica) at a time holds a name, released on
// release or when its session ends; on SQLite, served by one process, it is always granted.
func TestTryLeaderLock(t *testing.T) {
	ctx := context.Background()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			dsn := b.newDSN(t)
			a := openStore(t, dsn)
			relA, ok, err := a.TryLeaderLock(ctx, "reverify")
			if err != nil || !ok {
				t.Fatalf("first lock: ok %v, %v", ok, err)
			}
			if b.name == DialectSQLite {
				relA()
				return
			}
			other := openStore(t, dsn)
			if _, ok, err := other.TryLeaderLock(ctx, "reverify"); err != nil || ok {
				t.Fatalf("a second replica took a held lock: ok %v, %v", ok, err)
			}
			relOther, ok, err := other.TryLeaderLock(ctx, "another-job")
			if err != nil || !ok {
				t.Fatalf("a lock of another name: ok %v, %v", ok, err)
			}
			relOther()
			relA()
			relA() // twice is harmless
			relB, ok, err := other.TryLeaderLock(ctx, "reverify")
			if err != nil || !ok {
				t.Fatalf("lock after release: ok %v, %v", ok, err)
			}
			// A holder whose session ends (its replica crashed) frees the lock: end it from outside.
			if _, err := a.db.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks
				WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`); err != nil {
				t.Fatal(err)
			}
			defer relB() // on a dead session: must not panic or hang
			deadline := 50
			for {
				rel, ok, err := a.TryLeaderLock(ctx, "reverify")
				if err != nil {
					t.Fatal(err)
				}
				if ok {
					rel()
					break
				}
				if deadline--; deadline == 0 {
					t.Fatal("the lock of a dead session was never freed")
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}
