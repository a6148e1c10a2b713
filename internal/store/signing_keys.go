package store

import (
	"context"
	"time"
)

// SigningKey is one of the issuer's JWT signing keys: its private half sealed under the master key
// like every secret (bound to the row "-" / kid / "signing_key"), its public half as a JWK for the
// JWKS document. A key signs from NotBefore on and is published until RetireAfter (nil: while it
// is current).
type SigningKey struct {
	KID        string // RFC 7638 thumbprint of the public key
	Alg        string // ES256 or RS256
	KeyID      string // the master key that wrapped the data key
	WrappedKey []byte
	Ciphertext []byte
	PublicJWK  string // the public key as JSON (never a private member)
	CreatedAt  time.Time
	NotBefore  time.Time
	// RetireAfter is when the key leaves the JWKS: set by a rotation to a time after which no token
	// it signed is still valid.
	RetireAfter *time.Time
}

// SigningKeys store the issuer's signing keys (modelkeys-server --issuer-url). Embedded in Tx.
type SigningKeys interface {
	// InsertSigningKey adds a key; ErrDuplicate when its kid exists.
	InsertSigningKey(ctx context.Context, k SigningKey) error
	// ListSigningKeys lists every stored key, oldest NotBefore first (kid breaks ties).
	ListSigningKeys(ctx context.Context) ([]SigningKey, error)
	// RetireSigningKeys sets RetireAfter to at on every key that has none and whose kid is not in
	// keep; it returns how many it retired.
	RetireSigningKeys(ctx context.Context, at time.Time, keep []string) (int, error)
	// DeleteSigningKeysRetiredBefore removes the keys whose RetireAfter is before t.
	DeleteSigningKeysRetiredBefore(ctx context.Context, t time.Time) (int, error)
	// RewrapSigningKey swaps in a key's new master key id and wrapped data key if its wrapped key is
	// still oldWrappedKey; false when it is not (or the key is gone).
	RewrapSigningKey(ctx context.Context, k SigningKey, oldWrappedKey []byte) (bool, error)
	// CountSigningKeysNotWrappedBy counts the keys that a master key other than keyID wraps.
	CountSigningKeysNotWrappedBy(ctx context.Context, keyID string) (int, error)
}
