package server

import (
	"context"
	"fmt"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/secrets"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// RotateMasterKey re-wraps every data key, and the fingerprint key, with ring's primary key, in one
// transaction: either every secret moves to the new key or none does. Ciphertexts and fingerprints stay
// as they are. ring must also hold the key (or keys) that wrapped the data keys now.
func RotateMasterKey(ctx context.Context, st store.Store, ring *secrets.Keyring) (int, error) {
	n := 0
	err := st.Tx(ctx, func(tx store.Tx) error {
		raw, ok, err := tx.GetMeta(ctx, metaFingerprintKey)
		if err != nil {
			return err
		}
		if ok {
			sealed, err := decodeSealed(raw)
			if err != nil {
				return err
			}
			if sealed, err = ring.RewrapFingerprintKey(sealed); err != nil {
				return fmt.Errorf("fingerprint key: %w", err)
			}
			if err := tx.PutMeta(ctx, metaFingerprintKey, encodeSealed(sealed)); err != nil {
				return err
			}
			n++
		}
		all, err := tx.ListAllSecrets(ctx)
		if err != nil {
			return err
		}
		for _, ss := range all {
			b := secrets.Binding{OrgID: ss.OrgID, CredentialID: ss.CredentialID, Field: ss.Field}
			re, err := ring.Rewrap(secrets.Sealed{KeyID: ss.KeyID, WrappedKey: ss.WrappedKey, Ciphertext: ss.Ciphertext}, b)
			if err != nil {
				return fmt.Errorf("credential %s field %s: %w", ss.CredentialID, ss.Field, err)
			}
			ss.KeyID, ss.WrappedKey = re.KeyID, re.WrappedKey
			if err := tx.PutSecret(ctx, ss); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}
