package service

import (
	"context"
	"errors"
	"strings"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/secrets"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// metaFingerprintScheme records that every stored fingerprint uses secrets.FingerprintScheme, so the
// upgrade below runs once per database, not at every start.
const metaFingerprintScheme = "fingerprint_scheme"

// upgradeFingerprints recomputes the fingerprints that older servers made with one key for the whole
// database (secrets.LegacyFingerprintScheme) in the per-organisation scheme. Neither the credential's
// version nor its secret_version changes: the secret did not, and the provider, seeing only the
// scheme change, refreshes quietly instead of reporting drift.
func (s *Service) upgradeFingerprints(ctx context.Context) error {
	return s.store.Tx(ctx, func(tx store.Tx) error {
		if _, done, err := tx.GetMeta(ctx, metaFingerprintScheme); err != nil || done {
			return err
		}
		refs, err := tx.ListAllCredentialRefs(ctx)
		if err != nil {
			return err
		}
		skipped := 0
		for _, ref := range refs {
			c, err := tx.GetCredential(ctx, ref.OrgID, ref.ID)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if !strings.HasPrefix(c.SecretFingerprint, secrets.LegacyFingerprintScheme) {
				continue
			}
			sealed, err := tx.GetSecrets(ctx, ref.OrgID, ref.ID)
			if err != nil {
				return err
			}
			plain, err := s.openSecrets(ctx, ref.ID, sealed)
			if err != nil {
				// Left as it is (it answers 500 until the right master key is back); the next start tries again.
				skipped++
				continue
			}
			c.SecretFingerprint = s.fp.Fingerprint(ref.OrgID, plain)
			if err := tx.UpdateCredential(ctx, ref.OrgID, c, c.Version); err != nil {
				return err
			}
		}
		if skipped > 0 {
			s.log.WarnContext(ctx, "fingerprints left in the legacy scheme: their secrets do not decrypt with this server's master key", "credentials", skipped)
			return nil
		}
		return tx.PutMeta(ctx, metaFingerprintScheme, strings.TrimSuffix(secrets.FingerprintScheme, ":"))
	})
}
