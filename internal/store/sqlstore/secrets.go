package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// PutSecret inserts or replaces one secret field of a credential of s.OrgID (ErrNotFound when the
// organisation has no such credential).
func (t *tx) PutSecret(ctx context.Context, s store.SealedSecret) error {
	// Check the owner first: the upsert's conflict target (credential_id, field) would otherwise let
	// a caller with the wrong organisation reach another organisation's row.
	var one int
	err := t.queryRow(ctx, "SELECT 1 FROM credentials WHERE id = ? AND org_id = ?", s.CredentialID, s.OrgID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("credential %s: %w", s.CredentialID, store.ErrNotFound)
	}
	if err != nil {
		return err
	}
	_, err = t.write(ctx, `INSERT INTO credential_secrets (org_id, credential_id, field, key_id, wrapped_key, ciphertext)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (credential_id, field) DO UPDATE SET
			key_id = excluded.key_id, wrapped_key = excluded.wrapped_key, ciphertext = excluded.ciphertext`,
		s.OrgID, s.CredentialID, s.Field, s.KeyID, nonNilBytes(s.WrappedKey), nonNilBytes(s.Ciphertext))
	if t.d.violation(err) == violationForeignKey {
		return fmt.Errorf("credential %s: %w", s.CredentialID, store.ErrNotFound)
	}
	return err
}

// nonNilBytes keeps an empty value from being stored as NULL (the columns are NOT NULL).
func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

const secretColumns = "org_id, credential_id, field, key_id, wrapped_key, ciphertext"

// GetSecrets returns the credential's secret fields, by field name; none is an empty list.
func (t *tx) GetSecrets(ctx context.Context, orgID, credentialID string) ([]store.SealedSecret, error) {
	rows, err := t.query(ctx, "SELECT "+secretColumns+" FROM credential_secrets WHERE org_id = ? AND credential_id = ? ORDER BY field",
		orgID, credentialID)
	if err != nil {
		return nil, err
	}
	return scanSecrets(rows)
}

// DeleteSecret removes one secret field; ErrNotFound when the credential has no such field.
func (t *tx) DeleteSecret(ctx context.Context, orgID, credentialID, field string) error {
	res, err := t.exec(ctx, "DELETE FROM credential_secrets WHERE org_id = ? AND credential_id = ? AND field = ?",
		orgID, credentialID, field)
	if err != nil {
		return err
	}
	n, err := affected(res)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("secret %s of credential %s: %w", field, credentialID, store.ErrNotFound)
	}
	return nil
}

// RewrapSecret replaces the key id and wrapped data key of one secret, if its wrapped key is still
// oldWrappedKey (a compare-and-swap: a secret rewritten since it was read is never put back). ok is
// false when it was not, or when the secret is gone.
func (t *tx) RewrapSecret(ctx context.Context, s store.SealedSecret, oldWrappedKey []byte) (bool, error) {
	res, err := t.exec(ctx, `UPDATE credential_secrets SET key_id = ?, wrapped_key = ?
		WHERE org_id = ? AND credential_id = ? AND field = ? AND wrapped_key = ?`,
		s.KeyID, nonNilBytes(s.WrappedKey), s.OrgID, s.CredentialID, s.Field, nonNilBytes(oldWrappedKey))
	if err != nil {
		return false, err
	}
	n, err := affected(res)
	return n == 1, err
}

// CountSecretsNotWrappedBy counts the secrets whose data key another master key than keyID wraps.
func (t *tx) CountSecretsNotWrappedBy(ctx context.Context, keyID string) (int, error) {
	var n int
	err := t.queryRow(ctx, "SELECT COUNT(*) FROM credential_secrets WHERE key_id <> ?", keyID).Scan(&n)
	return n, err
}

// ListAllSecrets lists every organisation's secrets (master key rotation), by credential then field.
func (t *tx) ListAllSecrets(ctx context.Context) ([]store.SealedSecret, error) {
	rows, err := t.query(ctx, "SELECT "+secretColumns+" FROM credential_secrets ORDER BY credential_id, field")
	if err != nil {
		return nil, err
	}
	return scanSecrets(rows)
}

func scanSecrets(rows *sql.Rows) ([]store.SealedSecret, error) {
	defer rows.Close()
	out := []store.SealedSecret{}
	for rows.Next() {
		var s store.SealedSecret
		if err := rows.Scan(&s.OrgID, &s.CredentialID, &s.Field, &s.KeyID, &s.WrappedKey, &s.Ciphertext); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
