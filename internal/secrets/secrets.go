// Package secrets does the envelope encryption of credential secrets: every secret gets its own random
// AES-256-GCM data key, the data key is wrapped by the master key, and both layers are bound to the row
// they belong to (organisation, credential, field) as associated data, so a ciphertext copied to another
// row does not decrypt.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// KeySize is the length of master and data keys in bytes (AES-256).
const KeySize = 32

// ErrDecrypt hides why a decryption failed: a wrong key, a tampered ciphertext and a ciphertext moved to
// another row all look the same to a caller, as they should.
var ErrDecrypt = errors.New("secret does not decrypt with the configured master key (wrong key, or data moved between rows)")

// Binding names the row a secret belongs to. It is the associated data of both encryption layers.
type Binding struct {
	OrgID        string
	CredentialID string
	Field        string
}

func (b Binding) aad(layer string) []byte {
	// Length-prefixed so that no two different bindings can produce the same bytes.
	return fmt.Appendf(nil, "modelkeys/%s/%d:%s/%d:%s/%d:%s", layer,
		len(b.OrgID), b.OrgID, len(b.CredentialID), b.CredentialID, len(b.Field), b.Field)
}

// Sealed is an encrypted secret as stored: the id of the master key that wrapped the data key, the
// wrapped data key and the ciphertext (each nonce-prefixed).
type Sealed struct {
	KeyID      string
	WrappedKey []byte
	Ciphertext []byte
}

// Keyring holds the master key that seals new secrets and, during a rotation, older ones that may
// still open existing secrets.
type Keyring struct {
	primary string
	keys    map[string][]byte
}

// NewKeyring makes a keyring whose first key is the primary; the others only open.
func NewKeyring(primary []byte, older ...[]byte) (*Keyring, error) {
	k := &Keyring{keys: map[string][]byte{}}
	for i, key := range append([][]byte{primary}, older...) {
		if len(key) != KeySize {
			return nil, fmt.Errorf("master key must be %d bytes, got %d", KeySize, len(key))
		}
		id := KeyID(key)
		if i == 0 {
			k.primary = id
		}
		k.keys[id] = append([]byte(nil), key...)
	}
	return k, nil
}

// KeyID names a master key without revealing it: the first 16 hex digits of its SHA-256.
func KeyID(key []byte) string {
	sum := sha256.Sum256(append([]byte("modelkeys-master-key-id:"), key...))
	return hex.EncodeToString(sum[:8])
}

// PrimaryKeyID is the id of the key that seals new secrets.
func (k *Keyring) PrimaryKeyID() string { return k.primary }

// Seal encrypts plaintext for the row b under a fresh data key wrapped by the primary master key.
func (k *Keyring) Seal(plaintext []byte, b Binding) (Sealed, error) {
	dataKey := make([]byte, KeySize)
	if _, err := io.ReadFull(rand.Reader, dataKey); err != nil {
		return Sealed{}, err
	}
	ct, err := seal(dataKey, plaintext, b.aad("data"))
	if err != nil {
		return Sealed{}, err
	}
	wrapped, err := seal(k.keys[k.primary], dataKey, b.aad("key"))
	if err != nil {
		return Sealed{}, err
	}
	return Sealed{KeyID: k.primary, WrappedKey: wrapped, Ciphertext: ct}, nil
}

// Open decrypts a secret sealed for the row b.
func (k *Keyring) Open(s Sealed, b Binding) ([]byte, error) {
	dataKey, err := k.unwrap(s, b)
	if err != nil {
		return nil, err
	}
	return open(dataKey, s.Ciphertext, b.aad("data"))
}

// Rewrap re-wraps the data key of s with the primary master key. The ciphertext is unchanged.
func (k *Keyring) Rewrap(s Sealed, b Binding) (Sealed, error) {
	dataKey, err := k.unwrap(s, b)
	if err != nil {
		return Sealed{}, err
	}
	wrapped, err := seal(k.keys[k.primary], dataKey, b.aad("key"))
	if err != nil {
		return Sealed{}, err
	}
	return Sealed{KeyID: k.primary, WrappedKey: wrapped, Ciphertext: s.Ciphertext}, nil
}

func (k *Keyring) unwrap(s Sealed, b Binding) ([]byte, error) {
	master, ok := k.keys[s.KeyID]
	if !ok {
		return nil, fmt.Errorf("secret was wrapped by master key %s, which is not configured: start with that key or finish the rotation with rotate-master-key", s.KeyID)
	}
	return open(master, s.WrappedKey, b.aad("key"))
}

// fingerprintBinding is the row that the wrapped fingerprint key is bound to.
var fingerprintBinding = Binding{OrgID: "-", CredentialID: "-", Field: "fingerprint_key"}

// NewFingerprintKey makes a random fingerprint key and returns it sealed for storage. The key is random
// rather than derived from the master key so that fingerprints survive a master-key rotation: only its
// wrapping changes.
func (k *Keyring) NewFingerprintKey() (Sealed, error) {
	key := make([]byte, KeySize)
	if _, err := io.ReadFull(rand.Reader, key); err != nil {
		return Sealed{}, err
	}
	return k.Seal(key, fingerprintBinding)
}

// OpenFingerprintKey unseals a stored fingerprint key.
func (k *Keyring) OpenFingerprintKey(s Sealed) (*Fingerprinter, error) {
	key, err := k.Open(s, fingerprintBinding)
	if err != nil {
		return nil, err
	}
	return &Fingerprinter{key: key}, nil
}

// RewrapFingerprintKey re-wraps a stored fingerprint key with the primary master key.
func (k *Keyring) RewrapFingerprintKey(s Sealed) (Sealed, error) {
	return k.Rewrap(s, fingerprintBinding)
}

// Fingerprinter computes keyed HMAC-SHA256 fingerprints of secrets. Without the key a fingerprint says
// nothing about the secret, yet equal secrets have equal fingerprints, which is what drift detection needs.
type Fingerprinter struct{ key []byte }

// FingerprintScheme prefixes every fingerprint Fingerprint makes. Fingerprints are keyed per
// organisation (HKDF of the fingerprint key and the organisation id), so the same key has unrelated
// fingerprints in two organisations and nobody can confirm a guess against another organisation's
// state. LegacyFingerprintScheme marks the fingerprints of one key for the whole database, which
// older servers made; a client that sees the scheme change with the same secret_version knows that
// the secret did not.
const (
	FingerprintScheme       = "hmac-sha256-org:"
	LegacyFingerprintScheme = "hmac-sha256:"
)

// Fingerprint of a credential's secrets in organisation orgID; fields maps field name to value, empty
// values are absent. The result is FingerprintScheme and 32 hex digits, or "" when there is no secret.
func (f *Fingerprinter) Fingerprint(orgID string, fields map[string]string) string {
	key, err := hkdf.Key(sha256.New, f.key, nil, "modelkeys secret fingerprint, organisation "+orgID, sha256.Size)
	if err != nil {
		panic(err) // only for a length above 255 hash sizes
	}
	mac := hmac.New(sha256.New, key)
	has := false
	for _, name := range []string{"api_key", "auth_token"} {
		v := fields[name]
		if v == "" {
			continue
		}
		has = true
		_, _ = fmt.Fprintf(mac, "%d:%s%d:%s", len(name), name, len(v), v)
	}
	if !has {
		return ""
	}
	return FingerprintScheme + hex.EncodeToString(mac.Sum(nil)[:16])
}

// Keyed hashes a value with the fingerprint key; the server uses it for idempotency request hashes so
// that a stored hash of a body that held a secret cannot be attacked offline.
func (f *Fingerprinter) Keyed(domain string, value []byte) string {
	mac := hmac.New(sha256.New, f.key)
	_, _ = fmt.Fprintf(mac, "%d:%s", len(domain), domain)
	_, _ = mac.Write(value)
	return hex.EncodeToString(mac.Sum(nil))
}

// Hint shows a person which key this is without revealing it: a well-known public prefix such as
// "sk-" or "sk-ant-" when there is one, then "..." and at most the last 4 characters. Keys shorter than
// 16 characters show no characters at all, since 4 of them would be a real part of the secret.
func Hint(secret string) string {
	if secret == "" {
		return ""
	}
	s := strings.TrimSpace(secret)
	if strings.HasPrefix(s, "{") {
		return "{json}" // a service-account document: its tail is "}" and says nothing
	}
	n := utf8.RuneCountInString(s)
	if n < 16 {
		return "****"
	}
	runes := []rune(s)
	return publicPrefix(s) + "..." + string(runes[n-4:])
}

// publicPrefix returns the vendor prefix of a key ("sk-", "sk-proj-", "sk-ant-", "AIza", "xai-"),
// which identifies the kind of key and is the same for every customer.
func publicPrefix(s string) string {
	for _, p := range []string{"sk-ant-", "sk-proj-", "sk-or-", "sk-", "xai-", "pplx-", "fw_", "dapi", "AIza", "gsk_"} {
		if strings.HasPrefix(s, p) {
			return p
		}
	}
	return ""
}

// ParseMasterKey decodes a master key written as base64 (standard or URL alphabet, padded or not).
func ParseMasterKey(text string) ([]byte, error) {
	text = strings.TrimSpace(text)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if key, err := enc.DecodeString(text); err == nil {
			if len(key) != KeySize {
				return nil, fmt.Errorf("master key must decode to %d bytes, got %d: make one with `head -c 32 /dev/urandom | base64`", KeySize, len(key))
			}
			return key, nil
		}
	}
	return nil, errors.New("master key is not valid base64: make one with `head -c 32 /dev/urandom | base64`")
}

// ReadMasterKeyFile reads a base64 master key from a file, refusing files that others can read.
func ReadMasterKeyFile(path string) ([]byte, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("master key file: %w", err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("master key file %s is readable by other users (mode %o): run chmod 600 %s", path, info.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("master key file: %w", err)
	}
	key, err := ParseMasterKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("master key file %s: %w", path, err)
	}
	return key, nil
}

// NewMasterKey returns a new random master key of KeySize bytes.
func NewMasterKey() []byte {
	key := make([]byte, KeySize)
	_, _ = rand.Read(key) // crypto/rand never fails: it panics rather than return an error
	return key
}

// EnsureMasterKeyFile reads the key file at path, creating it with a new random key (mode 0600) when it
// does not exist. created says whether it was made now.
func EnsureMasterKeyFile(path string) (key []byte, created bool, err error) {
	if _, err := os.Stat(path); err == nil {
		key, err := ReadMasterKeyFile(path)
		return key, false, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, err
	}
	key = NewMasterKey()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) { // another process made it first: use theirs
			key, err := ReadMasterKeyFile(path)
			return key, false, err
		}
		return nil, false, err
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n"); err != nil {
		_ = f.Close()
		return nil, false, err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return nil, false, err
	}
	return key, true, f.Close()
}

func seal(key, plaintext, aad []byte) ([]byte, error) {
	gcm, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, gcm.NonceSize(), gcm.NonceSize()+len(plaintext)+gcm.Overhead())
	if _, err := io.ReadFull(rand.Reader, nonce); err != nil {
		return nil, err
	}
	return gcm.Seal(nonce, nonce, plaintext, aad), nil
}

func open(key, sealed, aad []byte) ([]byte, error) {
	gcm, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	if len(sealed) < gcm.NonceSize() {
		return nil, ErrDecrypt
	}
	pt, err := gcm.Open(nil, sealed[:gcm.NonceSize()], sealed[gcm.NonceSize():], aad)
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// KeyFileFor is where the master key of a SQLite database lives when nobody configured one: beside the
// database, named after it (modelkeys.db → modelkeys.master.key). The server's --dev mode and the
// Terraform provider's embedded mode both use it, so either can open what the other wrote.
func KeyFileFor(dbPath string) string {
	base := filepath.Base(dbPath)
	base = strings.TrimSuffix(base, filepath.Ext(base))
	return filepath.Join(filepath.Dir(dbPath), base+".master.key")
}
