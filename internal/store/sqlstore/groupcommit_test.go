package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

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
