package service

import (
	"bytes"
	"context"
	"fmt"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/issuer"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/secrets"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// RotateMasterKey re-wraps every data key, the fingerprint key and the issuer's signing keys with
// ring's primary key, in one transaction: either every secret moves to the new key or none does.
// Ciphertexts and fingerprints stay as they are. ring must also hold the key (or keys) that wrapped
// the data keys now.
//
// Servers may run meanwhile. Each write of a secret holds the fingerprint key's row shared
// (checkMasterKeyCurrent) and the rotation takes it exclusive before it reads a secret: a write that
// began first is committed before the rotation reads, and one that begins later waits, then finds the
// new key and refuses to seal with the old one. Each rewrap is also a compare-and-swap on the wrapped
// key it read, and nothing commits while a secret is still wrapped by another key.
func RotateMasterKey(ctx context.Context, st store.Store, ring *secrets.Keyring) (int, error) {
	return rotateMasterKey(ctx, st, ring, nil)
}

// rotateMasterKey is RotateMasterKey with a hook that runs once the lock is held and the secrets are
// read (tests hold the rotation there to prove writers wait).
func rotateMasterKey(ctx context.Context, st store.Store, ring *secrets.Keyring, afterRead func()) (int, error) {
	n := 0
	err := st.Tx(ctx, func(tx store.Tx) error {
		n = 0 // a retried transaction counts again
		raw, ok, err := tx.LockMeta(ctx, metaFingerprintKey, true)
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
		if afterRead != nil {
			afterRead()
		}
		for _, ss := range all {
			b := secrets.Binding{OrgID: ss.OrgID, CredentialID: ss.CredentialID, Field: ss.Field}
			re, err := ring.Rewrap(secrets.Sealed{KeyID: ss.KeyID, WrappedKey: ss.WrappedKey, Ciphertext: ss.Ciphertext}, b)
			if err != nil {
				return fmt.Errorf("credential %s field %s: %w", ss.CredentialID, ss.Field, err)
			}
			old := bytes.Clone(ss.WrappedKey)
			ss.KeyID, ss.WrappedKey = re.KeyID, re.WrappedKey
			swapped, err := tx.RewrapSecret(ctx, ss, old)
			if err != nil {
				return err
			}
			if !swapped {
				// Deleted since it was read (deletes take no lock): nothing left to rewrap. Rewritten
				// since: the check below refuses to commit.
				continue
			}
			n++
		}
		// The issuer's signing keys are sealed like secrets: they move in the same transaction.
		signing, err := issuer.RewrapAll(ctx, tx, ring)
		if err != nil {
			return err
		}
		n += signing
		// Identity providers' client secrets, the same way (identity_providers.go).
		m, err := rewrapIdentityProviderSecrets(ctx, tx, ring)
		if err != nil {
			return err
		}
		n += m
		left, err := tx.CountSecretsNotWrappedBy(ctx, ring.PrimaryKeyID())
		if err != nil {
			return err
		}
		if left > 0 {
			return fmt.Errorf("%d secret(s) were written with another master key while the rotation ran, so nothing was rotated; run rotate-master-key again", left)
		}
		return nil
	})
	return n, err
}
