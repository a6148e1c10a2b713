package sqlstore

import (
	"errors"
	"fmt"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

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
