package sqlstore

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

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
