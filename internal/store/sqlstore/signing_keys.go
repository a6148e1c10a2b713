package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

const signingKeyColumns = "kid, alg, key_id, wrapped_key, ciphertext, public_jwk, created_at, not_before, retire_after"

// InsertSigningKey adds one signing key; ErrDuplicate when its kid is stored already.
func (t *tx) InsertSigningKey(ctx context.Context, k store.SigningKey) error {
	_, err := t.write(ctx, "INSERT INTO signing_keys ("+signingKeyColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
		k.KID, k.Alg, k.KeyID, nonNilBytes(k.WrappedKey), nonNilBytes(k.Ciphertext), k.PublicJWK,
		formatTime(k.CreatedAt), formatTime(k.NotBefore), formatTimePtr(k.RetireAfter))
	return t.d.mapErr(err, "signing key "+k.KID)
}

// ListSigningKeys lists every signing key, oldest not_before first.
func (t *tx) ListSigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	rows, err := t.query(ctx, "SELECT "+signingKeyColumns+" FROM signing_keys ORDER BY not_before, kid")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []store.SigningKey{}
	for rows.Next() {
		var k store.SigningKey
		var created, notBefore string
		var retire sql.NullString
		if err := rows.Scan(&k.KID, &k.Alg, &k.KeyID, &k.WrappedKey, &k.Ciphertext, &k.PublicJWK, &created, &notBefore, &retire); err != nil {
			return nil, err
		}
		if k.CreatedAt, err = parseTime(created); err != nil {
			return nil, err
		}
		if k.NotBefore, err = parseTime(notBefore); err != nil {
			return nil, err
		}
		if k.RetireAfter, err = parseTimePtr(retire); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RetireSigningKeys sets retire_after = at on the keys without one, except those named in keep.
func (t *tx) RetireSigningKeys(ctx context.Context, at time.Time, keep []string) (int, error) {
	q := "UPDATE signing_keys SET retire_after = ? WHERE retire_after IS NULL"
	args := []any{formatTime(at)}
	if len(keep) > 0 {
		q += " AND kid NOT IN (" + strings.TrimSuffix(strings.Repeat("?, ", len(keep)), ", ") + ")"
		for _, k := range keep {
			args = append(args, k)
		}
	}
	res, err := t.exec(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	n, err := affected(res)
	return int(n), err
}

// DeleteSigningKeysRetiredBefore removes the keys retired before t (timestamps sort as text).
func (t *tx) DeleteSigningKeysRetiredBefore(ctx context.Context, before time.Time) (int, error) {
	res, err := t.exec(ctx, "DELETE FROM signing_keys WHERE retire_after IS NOT NULL AND retire_after < ?", formatTime(before))
	if err != nil {
		return 0, err
	}
	n, err := affected(res)
	return int(n), err
}

// RewrapSigningKey is the compare-and-swap of master-key rotation (see RewrapSecret).
func (t *tx) RewrapSigningKey(ctx context.Context, k store.SigningKey, oldWrappedKey []byte) (bool, error) {
	res, err := t.exec(ctx, "UPDATE signing_keys SET key_id = ?, wrapped_key = ? WHERE kid = ? AND wrapped_key = ?",
		k.KeyID, nonNilBytes(k.WrappedKey), k.KID, nonNilBytes(oldWrappedKey))
	if err != nil {
		return false, err
	}
	n, err := affected(res)
	return n == 1, err
}

// CountSigningKeysNotWrappedBy counts the signing keys whose data key another master key wraps.
func (t *tx) CountSigningKeysNotWrappedBy(ctx context.Context, keyID string) (int, error) {
	var n int
	err := t.queryRow(ctx, "SELECT COUNT(*) FROM signing_keys WHERE key_id <> ?", keyID).Scan(&n)
	return n, err
}
