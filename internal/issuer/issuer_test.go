package issuer

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/secrets"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store/pgtest"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store/sqlstore"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const testURL = "http://127.0.0.1:8080"

// clock is a settable clock shared by the issuers of a test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newClock() *clock { return &clock{t: time.Date(2026, 12, 7, 12, 0, 0, 500, time.UTC)} }

// backends yields a way to open a store on one fresh database, more than once (replicas): a SQLite
// file, and PostgreSQL (skipped where it is not installed).
func backends(t *testing.T) map[string]func(t *testing.T) func() store.Store {
	return map[string]func(t *testing.T) func() store.Store{
		"sqlite": func(t *testing.T) func() store.Store {
			path := filepath.Join(t.TempDir(), "modelkeys.db")
			return func() store.Store { return open(t, path) }
		},
		"postgres": func(t *testing.T) func() store.Store {
			dsn := pgtest.Start(t)
			return func() store.Store { return open(t, dsn) }
		},
	}
}

func open(t *testing.T, dsn string) store.Store {
	t.Helper()
	st, err := sqlstore.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func newRing(t *testing.T, keys ...[]byte) *secrets.Keyring {
	t.Helper()
	if len(keys) == 0 {
		keys = [][]byte{secrets.NewMasterKey()}
	}
	ring, err := secrets.NewKeyring(keys[0], keys[1:]...)
	if err != nil {
		t.Fatal(err)
	}
	return ring
}

func newIssuer(t *testing.T, st store.Store, ring *secrets.Keyring, c *clock) *Issuer {
	t.Helper()
	iss, err := New(context.Background(), Config{URL: testURL, Store: st, Keyring: ring, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	return iss
}

// verify checks a token as a vendor would, against the issuer's published JWKS at time now: the
// header's kid names a published key of the header's algorithm, the signature holds, and iss, aud
// and the times are right. It returns the claims and the header.
func verify(t *testing.T, jwks []byte, token, audience string, now time.Time) (jwt.Claims, jose.Header, error) {
	t.Helper()
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(jwks, &set); err != nil {
		t.Fatalf("JWKS: %v", err)
	}
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if err != nil {
		return jwt.Claims{}, jose.Header{}, err
	}
	h := tok.Headers[0]
	keys := set.Key(h.KeyID)
	if len(keys) != 1 {
		return jwt.Claims{}, h, errors.New("kid " + h.KeyID + " is not in the JWKS")
	}
	if keys[0].Algorithm != h.Algorithm {
		return jwt.Claims{}, h, errors.New("the key's alg is not the header's")
	}
	var c jwt.Claims
	if err := tok.Claims(keys[0].Key, &c); err != nil {
		return c, h, err
	}
	return c, h, c.ValidateWithLeeway(jwt.Expected{Issuer: testURL, AnyAudience: jwt.Audience{audience}, Time: now}, 0)
}

func TestValidateURL(t *testing.T) {
	for raw, want := range map[string]string{
		"https://modelkeys.example.com":       "https://modelkeys.example.com",
		"https://modelkeys.example.com/":      "https://modelkeys.example.com",
		"https://example.com/modelkeys":       "https://example.com/modelkeys",
		"http://127.0.0.1:8080":               "http://127.0.0.1:8080",
		"http://localhost:9000/":              "http://localhost:9000",
		"http://[::1]:8080":                   "http://[::1]:8080",
		"http://modelkeys.example.com":        "plain http",
		"http://10.0.0.5":                     "plain http",
		"ftp://example.com":                   "not an absolute",
		"modelkeys.example.com":               "not an absolute",
		"https://user:pw@example.com":         "user-info",
		"https://example.com/?a=b":            "query",
		"https://example.com/#frag":           "fragment",
		"https://example.com/.well-known/x?":  "query",
		"":                                    "not an absolute",
		"https://":                            "not an absolute",
		"https://modelkeys.example.com:8443/": "https://modelkeys.example.com:8443",
	} {
		got, err := ValidateURL(raw)
		if strings.HasPrefix(want, "http") {
			if err != nil || got != want {
				t.Errorf("ValidateURL(%q) = %q, %v; want %q", raw, got, err, want)
			}
		} else if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ValidateURL(%q) = %q, %v; want an error about %q", raw, got, err, want)
		}
	}
}

// Replicas starting together on a new database end up with one generation of keys, whichever
// writes first, and all sign with it.
func TestFirstStartMakesOneGeneration(t *testing.T) {
	for name, b := range backends(t) {
		t.Run(name, func(t *testing.T) {
			opener := b(t)
			ring, c := newRing(t), newClock()
			const replicas = 4
			issuers := make([]*Issuer, replicas)
			errs := make([]error, replicas)
			var wg sync.WaitGroup
			for n := range replicas {
				st := opener()
				wg.Add(1)
				go func() {
					defer wg.Done()
					issuers[n], errs[n] = New(context.Background(), Config{URL: testURL, Store: st, Keyring: ring, Now: c.Now})
				}()
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			keys, err := List(context.Background(), opener())
			if err != nil {
				t.Fatal(err)
			}
			if len(keys) != len(Algorithms) {
				t.Fatalf("%d replicas starting together stored %d keys, want one generation of %d", replicas, len(keys), len(Algorithms))
			}
			for _, iss := range issuers {
				tok, err := iss.Mint(context.Background(), "sub", "aud", 0)
				if err != nil {
					t.Fatal(err)
				}
				_, h, _ := verify(t, mustJWKS(t, iss), tok, "aud", c.Now())
				if !slices.ContainsFunc(keys, func(k store.SigningKey) bool { return k.KID == h.KeyID }) {
					t.Fatalf("a replica signed with %s, which is not stored", h.KeyID)
				}
			}
		})
	}
}

func mustJWKS(t *testing.T, iss *Issuer) []byte {
	t.Helper()
	b, err := iss.JWKS(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The JWKS holds public keys only: no private member of any key type, whatever the key.
func TestJWKSHasOnlyPublicKeys(t *testing.T) {
	st := open(t, filepath.Join(t.TempDir(), "m.db"))
	ring, c := newRing(t), newClock()
	iss := newIssuer(t, st, ring, c)
	if _, err := Rotate(context.Background(), st, ring, c.Now(), 0, nil); err != nil {
		t.Fatal(err)
	}
	_ = iss.Reload(context.Background())
	var raw struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(mustJWKS(t, iss), &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw.Keys) != 2*len(Algorithms) {
		t.Fatalf("JWKS has %d keys, want %d (two generations, one being retired)", len(raw.Keys), 2*len(Algorithms))
	}
	public := []string{"kty", "kid", "alg", "use", "crv", "x", "y", "n", "e"}
	for _, k := range raw.Keys {
		for member := range k {
			if !slices.Contains(public, member) {
				t.Errorf("JWKS key %v has member %q, which is not a public-key member", k["kid"], member)
			}
		}
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"} {
			if _, ok := k[private]; ok {
				t.Errorf("JWKS key %v has the private member %q", k["kid"], private)
			}
		}
		if k["use"] != "sig" || k["kid"] == "" {
			t.Errorf("JWKS key %v: use %v, want sig, and a kid", k["kid"], k["use"])
		}
	}
	// The stored rows: the private key only sealed, the public JWK public.
	keys, _ := List(context.Background(), st)
	for _, k := range keys {
		if strings.Contains(k.PublicJWK, `"d"`) || strings.Contains(string(k.Ciphertext), `"d"`) {
			t.Errorf("key %s: a private member is stored in the clear", k.KID)
		}
	}
}

func TestMintClaims(t *testing.T) {
	st := open(t, filepath.Join(t.TempDir(), "m.db"))
	ring, c := newRing(t), newClock()
	iss := newIssuer(t, st, ring, c)
	ctx := context.Background()
	sub := "modelkeys:org:org_1:credential:cred_1"
	seen := map[string]bool{}
	for _, tc := range []struct {
		aud, alg string
		lifetime time.Duration
		want     time.Duration
	}{
		{"https://api.openai.com/v1", ES256, 0, MaxLifetime},
		{"openrouter", ES256, time.Hour, MaxLifetime}, // never longer than MaxLifetime
		{"anthropic", ES256, time.Minute, time.Minute},
		{"api://AzureADTokenExchange", RS256, 0, MaxLifetime}, // Entra documents RS256 only
		{"api://AzureADTokenExchangeUSGov", RS256, 0, MaxLifetime},
	} {
		tok, err := iss.Mint(ctx, sub, tc.aud, tc.lifetime)
		if err != nil {
			t.Fatal(err)
		}
		claims, h, err := verify(t, mustJWKS(t, iss), tok, tc.aud, c.Now())
		if err != nil {
			t.Fatalf("%s: %v", tc.aud, err)
		}
		if h.Algorithm != tc.alg || h.ExtraHeaders["typ"] != "JWT" {
			t.Errorf("%s: alg %s typ %v, want %s JWT", tc.aud, h.Algorithm, h.ExtraHeaders["typ"], tc.alg)
		}
		if claims.Subject != sub || claims.Issuer != testURL || len(claims.Audience) != 1 || claims.Audience[0] != tc.aud {
			t.Errorf("%s: claims %+v", tc.aud, claims)
		}
		if life := claims.Expiry.Time().Sub(claims.IssuedAt.Time()); life != tc.want {
			t.Errorf("%s: exp - iat = %s, want %s", tc.aud, life, tc.want)
		}
		if exp := claims.Expiry.Time(); exp.After(c.Now().Add(MaxLifetime)) {
			t.Errorf("%s: exp %s is more than %s ahead", tc.aud, exp, MaxLifetime)
		}
		if claims.NotBefore == nil || claims.IssuedAt == nil || claims.NotBefore.Time().After(c.Now()) {
			t.Errorf("%s: nbf %v iat %v", tc.aud, claims.NotBefore, claims.IssuedAt)
		}
		if claims.ID == "" || seen[claims.ID] {
			t.Errorf("%s: jti %q is empty or repeated", tc.aud, claims.ID)
		}
		seen[claims.ID] = true
		// It expires: a vendor refuses it after exp.
		if _, _, err := verify(t, mustJWKS(t, iss), tok, tc.aud, claims.Expiry.Time().Add(time.Second)); !errors.Is(err, jwt.ErrExpired) {
			t.Errorf("%s: after exp: %v, want expired", tc.aud, err)
		}
		// It is for its audience only.
		if _, _, err := verify(t, mustJWKS(t, iss), tok, "another-vendor", c.Now()); !errors.Is(err, jwt.ErrInvalidAudience) {
			t.Errorf("%s: for another audience: %v, want invalid audience", tc.aud, err)
		}
	}
	if _, err := iss.Mint(ctx, "", "aud", 0); err == nil {
		t.Error("an assertion without a subject was minted")
	}
	if _, err := iss.Mint(ctx, sub, "", 0); err == nil {
		t.Error("an assertion without an audience was minted")
	}
}

// A rotation: the new key signs from then on; a replica that read the keys before picks the new
// one up within ReloadInterval; tokens of the old key verify until they expire, and the old key
// leaves the JWKS once none it signed can still be valid.
func TestRotationAcrossReplicas(t *testing.T) {
	for name, b := range backends(t) {
		t.Run(name, func(t *testing.T) {
			opener := b(t)
			ring, c := newRing(t), newClock()
			ctx := context.Background()
			a := newIssuer(t, opener(), ring, c)
			bb := newIssuer(t, opener(), ring, c)
			oldTok, _ := a.Mint(ctx, "s", "aud", 0)
			_, oldH, err := verify(t, mustJWKS(t, a), oldTok, "aud", c.Now())
			if err != nil {
				t.Fatal(err)
			}

			c.Add(time.Second)
			gen, err := Rotate(ctx, opener(), ring, c.Now(), 0, nil)
			if err != nil {
				t.Fatal(err)
			}
			newKID := gen[slices.IndexFunc(gen, func(k store.SigningKey) bool { return k.Alg == ES256 })].KID

			// Replica b read the keys a second ago: it still signs with the old key, which is still published.
			tok, _ := bb.Mint(ctx, "s", "aud", 0)
			if _, h, err := verify(t, mustJWKS(t, a), tok, "aud", c.Now()); err != nil || h.KeyID != oldH.KeyID {
				t.Fatalf("before reloading: kid %s, %v; want the old key %s", h.KeyID, err, oldH.KeyID)
			}
			// Within ReloadInterval every replica signs with the new key, without a restart.
			c.Add(ReloadInterval)
			for n, iss := range []*Issuer{a, bb} {
				tok, err := iss.Mint(ctx, "s", "aud", 0)
				if err != nil {
					t.Fatal(err)
				}
				if _, h, err := verify(t, mustJWKS(t, iss), tok, "aud", c.Now()); err != nil || h.KeyID != newKID {
					t.Fatalf("replica %d after %s: kid %s, %v; want the new key %s", n, ReloadInterval, h.KeyID, err, newKID)
				}
			}
			// The token of the old key still verifies against the published keys until it expires.
			if _, _, err := verify(t, mustJWKS(t, bb), oldTok, "aud", c.Now()); err != nil {
				t.Fatalf("a token of the old key, before it expires: %v", err)
			}
			// Once every token the old key signed has expired, it leaves the JWKS.
			c.Add(RetireDelay)
			jwks := mustJWKS(t, a)
			if strings.Contains(string(jwks), oldH.KeyID) {
				t.Fatalf("the old key is still published %s after the rotation", RetireDelay+ReloadInterval)
			}
			if !strings.Contains(string(jwks), newKID) {
				t.Fatal("the new key is not published")
			}
			// A later rotation removes the retired rows.
			if _, err := Rotate(ctx, opener(), ring, c.Now(), 0, nil); err != nil {
				t.Fatal(err)
			}
			keys, _ := List(ctx, opener())
			if slices.ContainsFunc(keys, func(k store.SigningKey) bool { return k.KID == oldH.KeyID }) || len(keys) != 2*len(Algorithms) {
				t.Fatalf("after a second rotation: %d keys stored, the first generation among them: %v", len(keys), kids(keys))
			}
		})
	}
}

// A replica never signs a token that would outlive its key's publication: a key retiring before
// the token's exp is passed over.
func TestMintNeverOutlivesTheKey(t *testing.T) {
	st := open(t, filepath.Join(t.TempDir(), "m.db"))
	ring, c := newRing(t), newClock()
	ctx := context.Background()
	iss := newIssuer(t, st, ring, c)
	if _, err := Rotate(ctx, st, ring, c.Now(), 0, nil); err != nil {
		t.Fatal(err)
	}
	// A replica that knows only the retiring generation (it lagged behind), with its retirement
	// closer than MaxLifetime.
	if err := iss.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	c.Add(RetireDelay - MaxLifetime + time.Second)
	iss.mu.Lock()
	iss.loadedAt = c.Now() // no reload
	var fresh []store.SigningKey
	for _, k := range iss.keys {
		if k.RetireAfter != nil {
			fresh = append(fresh, k)
		}
	}
	iss.keys = fresh
	iss.mu.Unlock()
	if _, err := iss.Mint(ctx, "s", "aud", 0); !errors.Is(err, ErrNoSigningKey) {
		t.Fatalf("Mint with only a key retiring in less than %s: %v, want ErrNoSigningKey", MaxLifetime, err)
	}
	// A shorter token fits.
	if _, err := iss.Mint(ctx, "s", "aud", time.Minute); err != nil {
		t.Fatalf("a one-minute token with the retiring key: %v", err)
	}
}

// With an activation delay the new keys are published at once and sign only from then on, so a
// vendor that caches the JWKS already has them.
func TestRotationWithActivationDelay(t *testing.T) {
	st := open(t, filepath.Join(t.TempDir(), "m.db"))
	ring, c := newRing(t), newClock()
	ctx := context.Background()
	iss := newIssuer(t, st, ring, c)
	tok, _ := iss.Mint(ctx, "s", "aud", 0)
	_, oldH, _ := verify(t, mustJWKS(t, iss), tok, "aud", c.Now())
	gen, err := Rotate(ctx, st, ring, c.Now(), 10*time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = iss.Reload(ctx)
	for _, k := range gen {
		if !strings.Contains(string(mustJWKS(t, iss)), k.KID) {
			t.Fatalf("new key %s is not published before it signs", k.KID)
		}
	}
	tok, _ = iss.Mint(ctx, "s", "aud", 0)
	if _, h, _ := verify(t, mustJWKS(t, iss), tok, "aud", c.Now()); h.KeyID != oldH.KeyID {
		t.Fatalf("signed with %s before the new key's activation; want the old key", h.KeyID)
	}
	c.Add(10 * time.Minute)
	tok, _ = iss.Mint(ctx, "s", "aud", 0)
	if _, h, err := verify(t, mustJWKS(t, iss), tok, "aud", c.Now()); err != nil || h.KeyID == oldH.KeyID {
		t.Fatalf("after activation: kid %s, %v; want a new key", h.KeyID, err)
	}
	if _, err := Rotate(ctx, st, ring, c.Now(), -time.Second, nil); err == nil {
		t.Fatal("a negative activation delay was accepted")
	}
}

// Signing keys are sealed under the master key: a server with another master key cannot sign
// with them (and says how to fix it), and a master-key rotation re-wraps them all.
func TestSigningKeysSealedUnderTheMasterKey(t *testing.T) {
	st := open(t, filepath.Join(t.TempDir(), "m.db"))
	oldKey, newKey := secrets.NewMasterKey(), secrets.NewMasterKey()
	c := newClock()
	ctx := context.Background()
	newIssuer(t, st, newRing(t, oldKey), c)

	stranger := newIssuer(t, st, newRing(t), c)
	if _, err := stranger.Mint(ctx, "s", "aud", 0); !errors.Is(err, ErrNoSigningKey) || !strings.Contains(err.Error(), "master key") {
		t.Fatalf("Mint with another master key: %v", err)
	}

	rotated := newRing(t, newKey, oldKey)
	var n int
	if err := st.Tx(ctx, func(tx store.Tx) error {
		var err error
		n, err = RewrapAll(ctx, tx, rotated)
		return err
	}); err != nil || n != len(Algorithms) {
		t.Fatalf("RewrapAll = %d, %v; want %d", n, err, len(Algorithms))
	}
	// The new key alone opens them now; the old one does not.
	if _, err := newIssuer(t, st, newRing(t, newKey), c).Mint(ctx, "s", "aud", 0); err != nil {
		t.Fatalf("with the new master key: %v", err)
	}
	if _, err := newIssuer(t, st, newRing(t, oldKey), c).Mint(ctx, "s", "aud", 0); !errors.Is(err, ErrNoSigningKey) {
		t.Fatalf("with the old master key after the rotation: %v", err)
	}
	// A rotation whose keyring lacks the wrapping key fails and changes nothing.
	if err := st.Tx(ctx, func(tx store.Tx) error {
		_, err := RewrapAll(ctx, tx, newRing(t))
		return err
	}); err == nil {
		t.Fatal("RewrapAll without the key that wraps the signing keys succeeded")
	}
}

// A private signing key is never in the clear: not in the database file, not in the log, not in
// the JWKS, not in an assertion.
func TestPrivateKeysNeverInTheClear(t *testing.T) {
	dir := t.TempDir()
	st := open(t, filepath.Join(dir, "m.db"))
	ring, c := newRing(t), newClock()
	ctx := context.Background()
	var logs strings.Builder
	var mu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return logs.Write(p) }), &slog.HandlerOptions{Level: slog.LevelDebug}))
	iss, err := New(ctx, Config{URL: testURL, Store: st, Keyring: ring, Now: c.Now, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Rotate(ctx, st, ring, c.Now(), 0, nil); err != nil {
		t.Fatal(err)
	}
	_ = iss.Reload(ctx)
	// Someone without the master key: the log of a server that cannot open the keys.
	if _, err := New(ctx, Config{URL: testURL, Store: st, Keyring: newRing(t), Now: c.Now, Logger: logger}); err != nil {
		t.Fatal(err)
	}
	var tokens []string
	for _, aud := range []string{"a", EntraAudiences[0]} {
		tok, err := iss.Mint(ctx, "s", aud, 0)
		if err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, tok)
	}
	keys, _ := List(ctx, st)
	_ = st.Close()
	var db []byte
	for _, suffix := range []string{"", "-wal", "-shm"} {
		b, _ := os.ReadFile(filepath.Join(dir, "m.db"+suffix))
		db = append(db, b...)
	}
	places := map[string]string{"the database": string(db), "the log": logs.String(), "the JWKS": string(mustJWKS(t, iss)), "an assertion": strings.Join(tokens, "\n")}
	for _, k := range keys {
		signer, err := openKey(ring, k)
		if err != nil {
			t.Fatal(err)
		}
		var private []byte
		switch p := signer.(type) {
		case *ecdsa.PrivateKey:
			private = p.D.Bytes()
		case *rsa.PrivateKey:
			private = p.D.Bytes()
		}
		for _, enc := range []string{base64.RawURLEncoding.EncodeToString(private), base64.StdEncoding.EncodeToString(private), hex.EncodeToString(private)} {
			for where, text := range places {
				if strings.Contains(text, enc) {
					t.Errorf("the private key %s is in %s", k.KID, where)
				}
			}
		}
		if bytes.Contains(db, private) {
			t.Errorf("the private key %s is in the database as raw bytes", k.KID)
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
