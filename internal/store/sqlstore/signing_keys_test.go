package sqlstore

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

func TestSigningKeys(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		key := func(kid string, notBefore int) store.SigningKey {
			return store.SigningKey{KID: kid, Alg: "ES256", KeyID: "mk1", WrappedKey: []byte{0, 1, 0xff}, Ciphertext: []byte("sealed-" + kid),
				PublicJWK: `{"kty":"EC","kid":"` + kid + `"}`, CreatedAt: at(notBefore), NotBefore: at(notBefore)}
		}
		inTx(t, s, func(tx store.Tx) error {
			for _, k := range []store.SigningKey{key("b", 2), key("a", 1), key("c", 3)} {
				if err := tx.InsertSigningKey(ctx, k); err != nil {
					return err
				}
			}
			if err := tx.InsertSigningKey(ctx, key("a", 9)); !errors.Is(err, store.ErrDuplicate) {
				return fmt.Errorf("second key with kid a: %v, want ErrDuplicate", err)
			}
			got, err := tx.ListSigningKeys(ctx)
			if err != nil {
				return err
			}
			if want := []store.SigningKey{key("a", 1), key("b", 2), key("c", 3)}; !reflect.DeepEqual(got, want) {
				return fmt.Errorf("ListSigningKeys\n got %+v\nwant %+v", got, want)
			}
			// A rotation retires every key but the new ones, once.
			if n, err := tx.RetireSigningKeys(ctx, at(100), []string{"c"}); err != nil || n != 2 {
				return fmt.Errorf("RetireSigningKeys = %d, %v; want 2", n, err)
			}
			if n, err := tx.RetireSigningKeys(ctx, at(200), []string{"c"}); err != nil || n != 0 {
				return fmt.Errorf("second RetireSigningKeys = %d, %v; want 0 (a retirement time is never moved)", n, err)
			}
			got, _ = tx.ListSigningKeys(ctx)
			if got[0].RetireAfter == nil || !got[0].RetireAfter.Equal(at(100)) || got[2].RetireAfter != nil {
				return fmt.Errorf("after retiring: %+v", got)
			}
			// Master-key rotation: a compare-and-swap on the wrapped key.
			re := got[2]
			re.KeyID, re.WrappedKey = "mk2", []byte("new")
			if ok, err := tx.RewrapSigningKey(ctx, re, []byte("stale")); err != nil || ok {
				return fmt.Errorf("rewrap with a stale wrapped key = %v, %v; want false", ok, err)
			}
			if ok, err := tx.RewrapSigningKey(ctx, re, got[2].WrappedKey); err != nil || !ok {
				return fmt.Errorf("rewrap = %v, %v; want true", ok, err)
			}
			if n, err := tx.CountSigningKeysNotWrappedBy(ctx, "mk2"); err != nil || n != 2 {
				return fmt.Errorf("CountSigningKeysNotWrappedBy = %d, %v; want 2", n, err)
			}
			// Retired keys go once their time has passed, and only then.
			if n, err := tx.DeleteSigningKeysRetiredBefore(ctx, at(100)); err != nil || n != 0 {
				return fmt.Errorf("delete before the retirement time = %d, %v; want 0", n, err)
			}
			if n, err := tx.DeleteSigningKeysRetiredBefore(ctx, at(101)); err != nil || n != 2 {
				return fmt.Errorf("delete after the retirement time = %d, %v; want 2", n, err)
			}
			got, _ = tx.ListSigningKeys(ctx)
			if len(got) != 1 || got[0].KID != "c" || got[0].KeyID != "mk2" || string(got[0].WrappedKey) != "new" {
				return fmt.Errorf("left: %+v", got)
			}
			return nil
		})
	})
}
