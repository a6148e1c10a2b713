// Package issuer makes modelkeys-server an OpenID issuer (serve --issuer-url): it keeps the JWT
// signing keys in the store, sealed under the master key like every secret, publishes their public
// halves (the discovery document and the JWKS), and signs the short-lived assertions that keyless
// credentials exchange at their vendor for a vendor token.
//
// Keys come in generations of two: ES256 (P-256), which signs by default, and RS256 (RSA 2048),
// which signs for Microsoft Entra ID, the one vendor whose documentation supports RS256 alone.
// A rotation adds a generation that signs from then on, and gives the keys it replaces a retirement
// time after which no token they signed is still valid; they leave the JWKS then. Every replica
// reads the keys again at most ReloadInterval after it last did, on its next use, so a rotation
// reaches all of them within a minute without a restart.
package issuer

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/sync/singleflight"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/secrets"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// The signing algorithms, by their JOSE names.
const (
	ES256 = "ES256"
	RS256 = "RS256"
)

// Algorithms are the algorithms every generation of keys has, in the order the discovery document
// lists them.
var Algorithms = []string{ES256, RS256}

const (
	// MaxLifetime is the longest an assertion is valid: its exp is at most this long after its iat.
	MaxLifetime = 5 * time.Minute
	// RetireDelay is how long a replaced key stays in the JWKS after its successor starts signing:
	// a replica may sign with it until it reloads (ReloadInterval), and a token it signed then is
	// valid for MaxLifetime; the rest is margin for clocks.
	RetireDelay = 10 * time.Minute
	// ReloadInterval bounds how stale a replica's keys are: the first use after it reads them again.
	ReloadInterval = 30 * time.Second
	// DiscoveryPath and JWKSPath are where the documents are served, under the issuer URL.
	DiscoveryPath = "/.well-known/openid-configuration"
	JWKSPath      = "/.well-known/jwks.json"
	// metaKeysCreated marks, in the meta table, that the first generation was written: a replica
	// starting beside another inserts it, and only the one whose insert succeeds writes keys.
	metaKeysCreated = "issuer_signing_keys"
)

// EntraAudiences are the audiences Microsoft Entra ID's federated identity credentials take (the
// public cloud and the national clouds). Entra documents only RS256 as supported for workload
// identity federation, so assertions for these audiences are signed with the RS256 key.
var EntraAudiences = []string{"api://AzureADTokenExchange", "api://AzureADTokenExchangeUSGov", "api://AzureADTokenExchangeChina"}

// AlgorithmFor is the algorithm an assertion for audience is signed with.
func AlgorithmFor(audience string) string {
	if slices.Contains(EntraAudiences, audience) {
		return RS256
	}
	return ES256
}

// ValidateURL checks an issuer URL and returns it without a trailing slash: https, or plain http
// only to a loopback host (local use and tests), with a host, and without user-info, query or
// fragment (the OpenID discovery rules for an issuer identifier).
func ValidateURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", fmt.Errorf("%q is not an absolute http(s) URL: give the server's public base URL, e.g. https://modelkeys.example.com", raw)
	}
	if u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", fmt.Errorf("%q has user-info, a query or a fragment, which an issuer URL cannot have", raw)
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return "", fmt.Errorf("%q is plain http: vendors fetch the issuer's keys only over https; plain http is allowed only for a loopback host (localhost, 127.0.0.1, ::1), for local use", raw)
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Config configures an Issuer.
type Config struct {
	// URL is the issuer identifier (iss), already checked with ValidateURL.
	URL     string
	Store   store.Store
	Keyring *secrets.Keyring
	Logger  *slog.Logger
	Now     func() time.Time
	// Guard runs first in every transaction that writes a sealed key (the service's check that the
	// master key is the database's current one, which also holds master-key rotation off).
	Guard func(ctx context.Context, tx store.Tx) error
}

// Issuer signs assertions and serves the public documents. It is safe for concurrent use.
type Issuer struct {
	cfg Config

	reloads singleflight.Group // one read of the keys at a time, whoever asks

	mu         sync.Mutex
	loadedAt   time.Time
	keys       []store.SigningKey       // as last read, oldest NotBefore first
	private    map[string]crypto.Signer // kid → opened private key (a key's private half never changes)
	unopenable map[string]bool          // kids whose private half this keyring cannot open (logged once)
}

// New opens the issuer: it writes the first generation of keys if the database has none (once,
// whichever replica comes first) and reads them.
func New(ctx context.Context, cfg Config) (*Issuer, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Guard == nil {
		cfg.Guard = func(context.Context, store.Tx) error { return nil }
	}
	i := &Issuer{cfg: cfg, private: map[string]crypto.Signer{}, unopenable: map[string]bool{}}
	if err := i.ensureFirstKeys(ctx); err != nil {
		return nil, fmt.Errorf("issuer signing keys: %w", err)
	}
	if err := i.reload(ctx); err != nil {
		return nil, fmt.Errorf("issuer signing keys: %w", err)
	}
	return i, nil
}

var errKeysExist = errors.New("signing keys exist")

func (i *Issuer) ensureFirstKeys(ctx context.Context) error {
	var have bool
	if err := i.cfg.Store.ReadTx(ctx, func(tx store.Tx) error {
		_, ok, err := tx.GetMeta(ctx, metaKeysCreated)
		have = ok
		return err
	}); err != nil || have {
		return err
	}
	// Generate outside the transaction (an RSA key takes a moment), then write only if this replica
	// is the first: the meta row's unique key lets one insert win.
	now := i.cfg.Now().UTC()
	gen, err := NewGeneration(i.cfg.Keyring, now, now)
	if err != nil {
		return err
	}
	err = i.cfg.Store.Tx(ctx, func(tx store.Tx) error {
		if err := i.cfg.Guard(ctx, tx); err != nil {
			return err
		}
		if err := tx.InsertMeta(ctx, metaKeysCreated, now.Format(time.RFC3339Nano)); errors.Is(err, store.ErrDuplicate) {
			return errKeysExist
		} else if err != nil {
			return err
		}
		for _, k := range gen {
			if err := tx.InsertSigningKey(ctx, k); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, errKeysExist) {
		return nil
	}
	if err == nil {
		i.cfg.Logger.Info("created the issuer's first signing keys", "kids", kids(gen))
	}
	return err
}

func kids(ks []store.SigningKey) []string {
	out := make([]string, len(ks))
	for n, k := range ks {
		out[n] = k.KID
	}
	return out
}

// URL is the issuer identifier.
func (i *Issuer) URL() string { return i.cfg.URL }

// JWKSURL is where the JWKS is published.
func (i *Issuer) JWKSURL() string { return i.cfg.URL + JWKSPath }

// DiscoveryURL is where the discovery document is published.
func (i *Issuer) DiscoveryURL() string { return i.cfg.URL + DiscoveryPath }

// Discovery is the OpenID Provider Metadata document: what vendors' validators read to find the
// keys. The issuer signs no ID tokens for people; response_types_supported and
// subject_types_supported are required members of the document, so they say what its assertions
// are (signed JWTs with a public subject).
func (i *Issuer) Discovery() []byte {
	b, _ := json.Marshal(map[string]any{
		"issuer":                                i.cfg.URL,
		"jwks_uri":                              i.JWKSURL(),
		"response_types_supported":              []string{"id_token"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": Algorithms,
		"claims_supported":                      []string{"iss", "sub", "aud", "exp", "iat", "nbf", "jti"},
	})
	return b
}

// JWKS is the public key set: every key that is not retired, those that will sign later included,
// so a vendor that caches the set already holds a key when it starts signing. Only public members
// are ever written (they come from the stored public JWKs, which never held a private one).
func (i *Issuer) JWKS(ctx context.Context) ([]byte, error) {
	keys, err := i.current(ctx)
	if err != nil {
		return nil, err
	}
	now := i.cfg.Now()
	set := struct {
		Keys []json.RawMessage `json:"keys"`
	}{Keys: []json.RawMessage{}}
	for _, k := range keys {
		if k.RetireAfter != nil && !now.Before(*k.RetireAfter) {
			continue
		}
		set.Keys = append(set.Keys, json.RawMessage(k.PublicJWK))
	}
	return json.Marshal(set)
}

// current returns the keys, read again when they are older than ReloadInterval.
func (i *Issuer) current(ctx context.Context) ([]store.SigningKey, error) {
	i.mu.Lock()
	stale := i.cfg.Now().Sub(i.loadedAt) >= ReloadInterval
	i.mu.Unlock()
	if stale {
		if _, err, _ := i.reloads.Do("keys", func() (any, error) { return nil, i.reload(ctx) }); err != nil {
			return nil, err
		}
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.keys, nil
}

// Reload reads the keys now (a test, or a command that just rotated them, does not wait).
func (i *Issuer) Reload(ctx context.Context) error { return i.reload(ctx) }

func (i *Issuer) reload(ctx context.Context) error {
	var keys []store.SigningKey
	if err := i.cfg.Store.ReadTx(ctx, func(tx store.Tx) error {
		var err error
		keys, err = tx.ListSigningKeys(ctx)
		return err
	}); err != nil {
		return err
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	for _, k := range keys {
		if _, ok := i.private[k.KID]; ok || i.unopenable[k.KID] {
			continue
		}
		signer, err := openKey(i.cfg.Keyring, k)
		if err != nil {
			// A master-key rotation re-wrapped it and this process still runs with the old key: it
			// keeps the keys it already opened, and signs with those until restarted.
			i.unopenable[k.KID] = true
			i.cfg.Logger.Warn("cannot open an issuer signing key with this server's master key; restart the server with the database's current master key", "kid", k.KID, "master_key", k.KeyID, "error", err)
			continue
		}
		i.private[k.KID] = signer
	}
	i.keys = keys
	i.loadedAt = i.cfg.Now()
	return nil
}

// ErrNoSigningKey means that no key of the algorithm may sign now: every one is retired, or sealed
// under a master key this server does not hold.
var ErrNoSigningKey = errors.New("the issuer has no signing key it can use")

// Mint signs an assertion: iss = the issuer URL, sub, aud, iat = nbf = now, exp = now + lifetime
// (MaxLifetime when lifetime is zero or longer), a fresh random jti, and the signing key's kid in
// the header. The key is the newest of the audience's algorithm (AlgorithmFor) that signs already
// and stays published for the token's whole life.
func (i *Issuer) Mint(ctx context.Context, subject, audience string, lifetime time.Duration) (string, error) {
	if subject == "" || audience == "" {
		return "", errors.New("an assertion needs a subject and an audience")
	}
	if lifetime <= 0 || lifetime > MaxLifetime {
		lifetime = MaxLifetime
	}
	keys, err := i.current(ctx)
	if err != nil {
		return "", err
	}
	at := i.cfg.Now().UTC()
	now := at.Truncate(time.Second) // NumericDate is whole seconds
	exp := now.Add(lifetime)
	alg := AlgorithmFor(audience)
	var use *store.SigningKey
	i.mu.Lock()
	var signer crypto.Signer
	for n := len(keys) - 1; n >= 0; n-- {
		k := keys[n]
		s, ok := i.private[k.KID]
		if k.Alg != alg || !ok || at.Before(k.NotBefore) || (k.RetireAfter != nil && k.RetireAfter.Before(exp)) {
			continue
		}
		use, signer = &keys[n], s
		break
	}
	i.mu.Unlock()
	if use == nil {
		return "", fmt.Errorf("%w for %s; run `modelkeys-server rotate-signing-key`, or restart this server with the database's current master key", ErrNoSigningKey, alg)
	}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: jose.JSONWebKey{Key: signer, KeyID: use.KID, Algorithm: alg}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", err
	}
	jti := make([]byte, 16)
	_, _ = rand.Read(jti) // crypto/rand never fails
	return jwt.Signed(sig).Claims(jwt.Claims{
		Issuer:    i.cfg.URL,
		Subject:   subject,
		Audience:  jwt.Audience{audience},
		IssuedAt:  jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now),
		Expiry:    jwt.NewNumericDate(exp),
		ID:        base64.RawURLEncoding.EncodeToString(jti),
	}).Serialize()
}

// binding is the row a signing key's private half is sealed to.
func binding(kid string) secrets.Binding {
	return secrets.Binding{OrgID: "-", CredentialID: kid, Field: "signing_key"}
}

// NewGeneration makes one key of each algorithm, sealed under ring's primary master key, signing
// from notBefore on.
func NewGeneration(ring *secrets.Keyring, now, notBefore time.Time) ([]store.SigningKey, error) {
	var out []store.SigningKey
	for _, alg := range Algorithms {
		var priv crypto.Signer
		var err error
		switch alg {
		case ES256:
			priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		case RS256:
			priv, err = rsa.GenerateKey(rand.Reader, 2048)
		}
		if err != nil {
			return nil, err
		}
		k, err := sealKey(ring, alg, priv, now, notBefore)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, nil
}

func sealKey(ring *secrets.Keyring, alg string, priv crypto.Signer, now, notBefore time.Time) (store.SigningKey, error) {
	pub := jose.JSONWebKey{Key: priv.Public(), Algorithm: alg, Use: "sig"}
	thumb, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return store.SigningKey{}, err
	}
	pub.KeyID = base64.RawURLEncoding.EncodeToString(thumb)
	pubJSON, err := pub.MarshalJSON()
	if err != nil {
		return store.SigningKey{}, err
	}
	full := jose.JSONWebKey{Key: priv, KeyID: pub.KeyID, Algorithm: alg, Use: "sig"}
	privJSON, err := full.MarshalJSON()
	if err != nil {
		return store.SigningKey{}, err
	}
	sealed, err := ring.Seal(privJSON, binding(pub.KeyID))
	clear(privJSON)
	if err != nil {
		return store.SigningKey{}, err
	}
	return store.SigningKey{KID: pub.KeyID, Alg: alg, KeyID: sealed.KeyID, WrappedKey: sealed.WrappedKey, Ciphertext: sealed.Ciphertext,
		PublicJWK: string(pubJSON), CreatedAt: now.UTC(), NotBefore: notBefore.UTC()}, nil
}

func openKey(ring *secrets.Keyring, k store.SigningKey) (crypto.Signer, error) {
	plain, err := ring.Open(secrets.Sealed{KeyID: k.KeyID, WrappedKey: k.WrappedKey, Ciphertext: k.Ciphertext}, binding(k.KID))
	if err != nil {
		return nil, err
	}
	defer clear(plain)
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(plain); err != nil {
		return nil, fmt.Errorf("signing key %s: %w", k.KID, err)
	}
	signer, ok := jwk.Key.(crypto.Signer)
	if !ok || jwk.IsPublic() || jwk.KeyID != k.KID || jwk.Algorithm != k.Alg {
		return nil, fmt.Errorf("signing key %s: the sealed key is not the private key of that kid and algorithm", k.KID)
	}
	return signer, nil
}

// Rotate adds a new generation of keys that signs from now+activateIn on (0: at once; a delay lets
// vendors that cache the JWKS see the new keys before they sign anything), and retires the keys it
// replaces RetireDelay after that, when every token they signed has expired. Keys retired before
// now go. Rotations exclude each other. guard runs first in the transaction (see Config.Guard).
func Rotate(ctx context.Context, st store.Store, ring *secrets.Keyring, now time.Time, activateIn time.Duration, guard func(context.Context, store.Tx) error) ([]store.SigningKey, error) {
	if activateIn < 0 {
		return nil, errors.New("the activation delay cannot be negative")
	}
	now = now.UTC()
	gen, err := NewGeneration(ring, now, now.Add(activateIn))
	if err != nil {
		return nil, err
	}
	err = st.Tx(ctx, func(tx store.Tx) error {
		if guard != nil {
			if err := guard(ctx, tx); err != nil {
				return err
			}
		}
		// The marker row serialises rotations (and a first start) where transactions run side by side.
		if _, ok, err := tx.LockMeta(ctx, metaKeysCreated, true); err != nil {
			return err
		} else if !ok {
			if err := tx.InsertMeta(ctx, metaKeysCreated, now.Format(time.RFC3339Nano)); err != nil {
				return err
			}
		}
		// The newest generation signs: keep this one after every stored one, even on a clock that
		// has not moved since the last (a coarse clock, or a test's).
		existing, err := tx.ListSigningKeys(ctx)
		if err != nil {
			return err
		}
		notBefore := now.Add(activateIn)
		for _, k := range existing {
			if !notBefore.After(k.NotBefore) {
				notBefore = k.NotBefore.Add(time.Microsecond)
			}
		}
		for n := range gen {
			gen[n].NotBefore = notBefore
			if err := tx.InsertSigningKey(ctx, gen[n]); err != nil {
				return err
			}
		}
		if _, err := tx.RetireSigningKeys(ctx, notBefore.Add(RetireDelay), kids(gen)); err != nil {
			return err
		}
		_, err = tx.DeleteSigningKeysRetiredBefore(ctx, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return gen, nil
}

// List reads every stored key (for the rotate command's report).
func List(ctx context.Context, st store.Store) ([]store.SigningKey, error) {
	var keys []store.SigningKey
	err := st.ReadTx(ctx, func(tx store.Tx) error {
		var err error
		keys, err = tx.ListSigningKeys(ctx)
		return err
	})
	return keys, err
}

// RewrapAll re-wraps every signing key's data key with ring's primary master key, in tx (the
// master-key rotation's transaction), each as a compare-and-swap; it returns how many it re-wrapped
// and fails when a key is left under another master key.
func RewrapAll(ctx context.Context, tx store.Tx, ring *secrets.Keyring) (int, error) {
	keys, err := tx.ListSigningKeys(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, k := range keys {
		re, err := ring.Rewrap(secrets.Sealed{KeyID: k.KeyID, WrappedKey: k.WrappedKey, Ciphertext: k.Ciphertext}, binding(k.KID))
		if err != nil {
			return n, fmt.Errorf("issuer signing key %s: %w", k.KID, err)
		}
		old := k.WrappedKey
		k.KeyID, k.WrappedKey = re.KeyID, re.WrappedKey
		ok, err := tx.RewrapSigningKey(ctx, k, old)
		if err != nil {
			return n, err
		}
		if ok {
			n++
		}
	}
	left, err := tx.CountSigningKeysNotWrappedBy(ctx, ring.PrimaryKeyID())
	if err != nil {
		return n, err
	}
	if left > 0 {
		return n, fmt.Errorf("%d issuer signing key(s) were written with another master key while the rotation ran, so nothing was rotated; run rotate-master-key again", left)
	}
	return n, nil
}
