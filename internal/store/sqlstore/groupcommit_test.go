package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// TestGroupCommitKeepsTransactionsApart fires many writers at once, so that they share commits, and
// checks that each still behaves as its own transaction: failures and panics undo only their own
// writes, and every successful write is there after a reopen.
func TestGroupCommitKeepsTransactionsApart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "g.db")
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	errBoom := errors.New("boom")
	const n = 90
	var wg sync.WaitGroup
	results := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if v := recover(); v != nil {
					results[i] = fmt.Errorf("panicked: %v", v)
				}
			}()
			results[i] = s.Tx(ctx, func(tx store.Tx) error {
				if err := tx.PutMeta(ctx, fmt.Sprintf("k%02d", i), "v"); err != nil {
					return err
				}
				switch i % 3 {
				case 1:
					return errBoom
				case 2:
					panic("boom")
				}
				return nil
			})
		}()
	}
	wg.Wait()
	for i, err := range results {
		switch i % 3 {
		case 0:
			if err != nil {
				t.Errorf("writer %d: %v", i, err)
			}
		case 1:
			if !errors.Is(err, errBoom) {
				t.Errorf("writer %d: err = %v, want its own error", i, err)
			}
		case 2:
			if err == nil || err.Error() != "panicked: boom" {
				t.Errorf("writer %d: err = %v, want its own panic re-raised", i, err)
			}
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.ReadTx(ctx, func(tx store.Tx) error {
		for i := range n {
			_, ok, err := tx.GetMeta(ctx, fmt.Sprintf("k%02d", i))
			if err != nil {
				return err
			}
			if ok != (i%3 == 0) {
				t.Errorf("key of writer %d present = %v", i, ok)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Tx(ctx, func(store.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	if err := s.Tx(ctx, func(store.Tx) error { return nil }); !errors.Is(err, errClosed) {
		t.Fatalf("Tx after Close: %v", err)
	}
}

// TestGroupCommitCancelledCallerLeavesOthersAlone: a caller whose context ends while its statement
// runs must not roll back the writes of the callers that share its commit (SQLite rolls back a whole
// transaction when a write is interrupted).
func TestGroupCommitCancelledCallerLeavesOthersAlone(t *testing.T) {
	ctx := context.Background()
	s, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Hold the writer so that A and B land in the same batch, A first.
	started := make(chan struct{})
	go func() {
		_ = s.Tx(ctx, func(store.Tx) error { close(started); time.Sleep(200 * time.Millisecond); return nil })
	}()
	<-started
	var wg sync.WaitGroup
	var errA error
	wg.Add(2)
	go func() {
		defer wg.Done()
		errA = s.Tx(ctx, func(tx store.Tx) error { return tx.PutMeta(ctx, "a", "1") })
	}()
	time.Sleep(50 * time.Millisecond)
	go func() {
		defer wg.Done()
		cctx, cancel := context.WithTimeout(ctx, 250*time.Millisecond) // ends during B's statement
		defer cancel()
		_ = s.Tx(cctx, func(t2 store.Tx) error {
			_, err := t2.(*tx).exec(cctx, `INSERT INTO meta(key, value) WITH RECURSIVE c(x) AS
				(SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 400000) SELECT 'b'||x, '' FROM c`)
			return err
		})
	}()
	wg.Wait()
	if errA != nil {
		t.Fatalf("A failed because B's context ended: %v", errA)
	}
	err = s.ReadTx(ctx, func(tx store.Tx) error {
		if _, ok, err := tx.GetMeta(ctx, "a"); err != nil || !ok {
			t.Errorf("A's committed write is gone (err %v)", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
