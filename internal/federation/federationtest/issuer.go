// Package federationtest runs an OpenID issuer on loopback for tests: keys generated per run,
// discovery and JWKS served over httptest, and tokens minted on demand, good and forged.
package federationtest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Issuer is an OpenID issuer on 127.0.0.1.
type Issuer struct {
	srv *httptest.Server
	t   testing.TB

	mu      sync.Mutex
	current *signingKey
	// published are the keys in the JWKS (the current one first).
	published []*signingKey
	stranger  *signingKey // signs the tokens of unknown kids

	flow codeFlow

	jwksFetches      atomic.Int64
	discoveryFetches atomic.Int64
	n                atomic.Int64
}

type signingKey struct {
	kid string
	key *rsa.PrivateKey
}

// NewIssuer starts an issuer, stopped when the test ends.
func NewIssuer(t testing.TB) *Issuer {
	t.Helper()
	i := &Issuer{t: t}
	i.flow = codeFlow{clients: map[string]string{}, codes: map[string]grant{}}
	i.current = i.newKey()
	i.published = []*signingKey{i.current}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		i.discoveryFetches.Add(1)
		doc := map[string]any{
			"issuer":                                i.URL(),
			"jwks_uri":                              i.URL() + "/jwks",
			"authorization_endpoint":                i.URL() + "/authorize",
			"token_endpoint":                        i.URL() + "/token",
			"response_types_supported":              []string{"code", "id_token"},
			"subject_types_supported":               []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
			"code_challenge_methods_supported":      []string{"S256"},
		}
		if m := i.tokenAuthMethods(); len(m) > 0 {
			doc["token_endpoint_auth_methods_supported"] = m
		}
		writeJSON(w, doc)
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		i.jwksFetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(i.JWKSJSON()))
	})
	mux.HandleFunc("GET /authorize", i.authorize)
	mux.HandleFunc("POST /token", i.token)
	i.srv = httptest.NewServer(mux)
	t.Cleanup(i.srv.Close)
	return i
}

func writeJSON(w http.ResponseWriter, v any) { writeJSONStatus(w, http.StatusOK, v) }

func writeJSONStatus(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (i *Issuer) newKey() *signingKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		i.t.Fatalf("federationtest: generating a key: %v", err)
	}
	return &signingKey{kid: fmt.Sprintf("key-%d-%d", time.Now().UnixNano(), i.n.Add(1)), key: k}
}

// URL is the issuer's URL (`iss` of its tokens), http://127.0.0.1:port.
func (i *Issuer) URL() string { return i.srv.URL }

// Client is an HTTP client for the issuer.
func (i *Issuer) Client() *http.Client { return i.srv.Client() }

// KeyID is the kid of the current signing key.
func (i *Issuer) KeyID() string {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.current.kid
}

// JWKSFetches counts the requests for the key set.
func (i *Issuer) JWKSFetches() int { return int(i.jwksFetches.Load()) }

// DiscoveryFetches counts the requests for the discovery document.
func (i *Issuer) DiscoveryFetches() int { return int(i.discoveryFetches.Load()) }

// JWKSJSON is the published key set, as it would be uploaded.
func (i *Issuer) JWKSJSON() string {
	i.mu.Lock()
	defer i.mu.Unlock()
	set := jose.JSONWebKeySet{}
	for _, k := range i.published {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.key.PublicKey, KeyID: k.kid, Algorithm: string(jose.RS256), Use: "sig"})
	}
	b, err := json.Marshal(set)
	if err != nil {
		i.t.Fatalf("federationtest: encoding the key set: %v", err)
	}
	return string(b)
}

// RotateKey makes a new signing key current and publishes only it: tokens of the old key no longer
// verify once the verifier has fetched the new set.
func (i *Issuer) RotateKey() {
	k := i.newKey()
	i.mu.Lock()
	defer i.mu.Unlock()
	i.current = k
	i.published = []*signingKey{k}
}

// Claims fills the defaults a token gets: iss (the issuer), sub, iat (now), exp (in 5 minutes).
// A claim given as nil is left out (to mint a token without exp, say).
func (i *Issuer) Claims(claims map[string]any) map[string]any {
	now := time.Now()
	out := map[string]any{
		"iss": i.URL(),
		"sub": "test-subject",
		"iat": now.Unix(),
		"exp": now.Add(5 * time.Minute).Unix(),
	}
	for k, v := range claims {
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	return out
}

// Mint signs a token with the current key (RS256, kid set) over the claims with defaults filled.
func (i *Issuer) Mint(claims map[string]any) string {
	i.mu.Lock()
	k := i.current
	i.mu.Unlock()
	return i.sign(jose.SigningKey{Algorithm: jose.RS256, Key: k.key}, k.kid, i.Claims(claims))
}

// MintWithHeaders signs with the current key (RS256, kid set) and adds headers to the protected
// header (crit, jku, x5u, jwk, ...), to test that none of them changes what verifies.
func (i *Issuer) MintWithHeaders(claims map[string]any, headers map[string]any) string {
	i.mu.Lock()
	k := i.current
	i.mu.Unlock()
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", k.kid)
	for name, v := range headers {
		opts = opts.WithHeader(jose.HeaderKey(name), v)
	}
	return i.signWith(jose.SigningKey{Algorithm: jose.RS256, Key: k.key}, opts, i.Claims(claims))
}

// MintPayload signs payload as it is (not necessarily a JSON object of claims) with the current
// key, with extra protected headers.
func (i *Issuer) MintPayload(payload []byte, headers map[string]any) string {
	i.mu.Lock()
	k := i.current
	i.mu.Unlock()
	opts := (&jose.SignerOptions{}).WithHeader("kid", k.kid)
	for name, v := range headers {
		opts = opts.WithHeader(jose.HeaderKey(name), v)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: k.key}, opts)
	if err != nil {
		i.t.Fatalf("federationtest: signer: %v", err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		i.t.Fatalf("federationtest: signing: %v", err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		i.t.Fatalf("federationtest: %v", err)
	}
	return s
}

// MintWithUnknownKid signs with a key the issuer never published, under a new kid nobody knows.
func (i *Issuer) MintWithUnknownKid(claims map[string]any) string {
	i.mu.Lock()
	if i.stranger == nil {
		i.stranger = i.newKey() // one key for all: generating RSA keys is slow, and only the kid matters
	}
	k := i.stranger
	i.mu.Unlock()
	return i.sign(jose.SigningKey{Algorithm: jose.RS256, Key: k.key}, "unknown-"+randomID(), i.Claims(claims))
}

// MintHS256WithPublicKey forges a token the classic way: HS256 "signed" with the issuer's public
// key (its PEM text, as an attacker reads it from the JWKS) as the HMAC secret, under the current kid.
func (i *Issuer) MintHS256WithPublicKey(claims map[string]any) string {
	i.mu.Lock()
	k := i.current
	i.mu.Unlock()
	der, err := x509.MarshalPKIXPublicKey(&k.key.PublicKey)
	if err != nil {
		i.t.Fatalf("federationtest: %v", err)
	}
	secret := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	return i.sign(jose.SigningKey{Algorithm: jose.HS256, Key: secret}, k.kid, i.Claims(claims))
}

// MintAlgNone builds an unsigned token (`alg: none`, empty signature) under the current kid.
func (i *Issuer) MintAlgNone(claims map[string]any) string {
	header, _ := json.Marshal(map[string]string{"alg": "none", "typ": "JWT", "kid": i.KeyID()})
	payload, err := json.Marshal(i.Claims(claims))
	if err != nil {
		i.t.Fatalf("federationtest: %v", err)
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString(header) + "." + enc.EncodeToString(payload) + "."
}

func (i *Issuer) sign(key jose.SigningKey, kid string, claims map[string]any) string {
	return i.signWith(key, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid), claims)
}

func (i *Issuer) signWith(key jose.SigningKey, opts *jose.SignerOptions, claims map[string]any) string {
	signer, err := jose.NewSigner(key, opts)
	if err != nil {
		i.t.Fatalf("federationtest: signer: %v", err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		i.t.Fatalf("federationtest: claims: %v", err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		i.t.Fatalf("federationtest: signing: %v", err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		i.t.Fatalf("federationtest: %v", err)
	}
	return s
}

func randomID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
