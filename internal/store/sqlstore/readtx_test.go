package sqlstore

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// TestSQLiteReadTxRunsBesideTheWriter: a read does not queue behind a write transaction, sees what was
// committed, and cannot write.
func TestSQLiteReadTxRunsBesideTheWriter(t *testing.T) {
	ctx := context.Background()
	s, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Tx(ctx, func(tx store.Tx) error { return tx.PutMeta(ctx, "k", "committed") }); err != nil {
		t.Fatal(err)
	}

	holding, release := make(chan struct{}), make(chan struct{})
	writeDone := make(chan error, 1)
	go func() {
		writeDone <- s.Tx(ctx, func(tx store.Tx) error {
			if err := tx.PutMeta(ctx, "k", "uncommitted"); err != nil {
				return err
			}
			close(holding)
			<-release
			return nil
		})
	}()
	<-holding

	readCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var got string
	err = s.ReadTx(readCtx, func(tx store.Tx) error {
		v, _, err := tx.GetMeta(readCtx, "k")
		got = v
		return err
	})
	close(release)
	if err != nil {
		t.Fatalf("read while a write transaction is open: %v", err)
	}
	if got != "committed" {
		t.Fatalf("read saw %q, want the committed value", got)
	}
	if err := <-writeDone; err != nil {
		t.Fatal(err)
	}

	err = s.ReadTx(ctx, func(tx store.Tx) error { return tx.PutMeta(ctx, "k", "sneaky") })
	if err == nil {
		t.Fatal("a write through ReadTx succeeded")
	}
}
