package sqlstore

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

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
