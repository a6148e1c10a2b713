package federation_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/federation"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/federation/federationtest"
)

// attackerKeys serves an attacker's key set on loopback and counts the requests it gets: a header
// that names a key URL (jku, x5u) must never make the verifier fetch it.
type attackerKeys struct {
	key  *rsa.PrivateKey
	srv  *httptest.Server
	hits atomic.Int64
}

func newAttackerKeys(t *testing.T) *attackerKeys {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	a := &attackerKeys{key: key}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		a.hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "attacker", Algorithm: "RS256", Use: "sig"}}})
	}))
	t.Cleanup(a.srv.Close)
	return a
}

// sign signs claims with the attacker's key under kid, with extra headers and, when embed, the
// attacker's public key in the header (jwk).
func (a *attackerKeys) sign(t *testing.T, claims map[string]any, kid string, headers map[string]any, embed bool) string {
	t.Helper()
	opts := (&jose.SignerOptions{EmbedJWK: embed}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	for k, v := range headers {
		opts = opts.WithHeader(jose.HeaderKey(k), v)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: a.key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Header tricks: whatever a token's header says about where its key is (jku, x5u, an embedded jwk)
// or what must be understood (crit), only the identity provider's own keys verify it, and no URL
// of the header is fetched.
func TestVerifyIgnoresKeysTheHeaderOffers(t *testing.T) {
	iss := federationtest.NewIssuer(t)
	v := verifier(iss)
	atk := newAttackerKeys(t)
	claims := iss.Claims(map[string]any{"aud": "modelkeys", "sub": "repo:acme/infra:ref:refs/heads/main"})
	cfg := federation.Issuer{URL: iss.URL()}
	// Warm the cache so that an unknown kid is the only reason to fetch, and the fetch counts stay
	// meaningful.
	if _, err := v.Verify(context.Background(), cfg, aud, iss.Mint(map[string]any{"aud": "modelkeys"})); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, token, want string
	}{
		{"jku to the attacker's keys", atk.sign(t, claims, "attacker", map[string]any{"jku": atk.srv.URL + "/jwks"}, false), `no RS256 key with kid "attacker"`},
		{"x5u to the attacker's keys", atk.sign(t, claims, "attacker", map[string]any{"x5u": atk.srv.URL + "/cert"}, false), `no RS256 key with kid "attacker"`},
		{"embedded jwk under the issuer's kid", atk.sign(t, claims, iss.KeyID(), nil, true), "does not verify"},
		{"embedded jwk without a kid", atk.sign(t, claims, "", nil, true), "does not verify"},
		{"unknown crit header", iss.MintWithHeaders(map[string]any{"aud": "modelkeys"}, map[string]any{"crit": []string{"x-policy"}, "x-policy": "lax"}), "does not verify"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := v.Verify(context.Background(), cfg, aud, tc.token)
			refused(t, c, err, tc.token, tc.want)
		})
	}
	if n := atk.hits.Load(); n != 0 {
		t.Errorf("the verifier fetched a URL a token's header named (%d requests)", n)
	}
	// jku and x5u on a token the issuer really signed change nothing: the issuer's keys verify it.
	tok := iss.MintWithHeaders(map[string]any{"aud": "modelkeys"}, map[string]any{"jku": atk.srv.URL + "/jwks", "x5u": atk.srv.URL + "/cert"})
	if _, err := v.Verify(context.Background(), cfg, aud, tok); err != nil {
		t.Fatalf("a good token with ignored jku/x5u headers: %v", err)
	}
	if n := atk.hits.Load(); n != 0 {
		t.Errorf("the verifier fetched a URL a token's header named (%d requests)", n)
	}
}

// Shapes a token must not have, and claim values at their edges.
func TestVerifyRefusesOddShapesAndEdges(t *testing.T) {
	iss := federationtest.NewIssuer(t)
	clock := newClock()
	v := verifier(iss, federation.WithClock(clock.Now))
	cfg := federation.Issuer{URL: iss.URL()}
	now := clock.Now()
	enc := base64.RawURLEncoding
	inner := iss.Mint(map[string]any{"aud": "modelkeys"})
	jwe := enc.EncodeToString([]byte(`{"alg":"RSA-OAEP","enc":"A256GCM"}`)) + ".a.b.c.d"
	cases := []struct {
		name, token, want string
	}{
		{"a JWE (nested or not)", jwe, "not a signed JWT"},
		{"a signed token whose payload is a JWT (nested JWS)", iss.MintPayload([]byte(`"`+inner+`"`), map[string]any{"cty": "JWT"}), "not a JSON object of claims"},
		{"claims followed by more JSON", iss.MintPayload([]byte(`{"iss":"`+iss.URL()+`","aud":"modelkeys","exp":`+itoa(now.Add(time.Minute).Unix())+`} {"sub":"admin"}`), nil), "data after its claims"},
		{"huge token", "eyJhbGciOiJSUzI1NiJ9." + strings.Repeat("A", 17<<10) + ".sig", "longer than"},
		{"aud as a number", iss.Mint(map[string]any{"aud": 1}), "none of the accepted audiences"},
		{"aud as a list of objects", iss.Mint(map[string]any{"aud": []any{map[string]any{"aud": "modelkeys"}}}), "none of the accepted audiences"},
		{"aud differing in case", iss.Mint(map[string]any{"aud": "ModelKeys"}), "none of the accepted audiences"},
		{"iss differing in case", iss.Mint(map[string]any{"aud": "modelkeys", "iss": strings.ToUpper(iss.URL())}), "is not the identity provider's issuer"},
		{"iss as a list", iss.Mint(map[string]any{"aud": "modelkeys", "iss": []string{iss.URL()}}), "is not the identity provider's issuer"},
		{"exp exactly now", iss.Mint(map[string]any{"aud": "modelkeys", "iat": now.Add(-time.Minute).Unix(), "exp": now.Unix()}), "expired"},
		{"exp as a string of digits", iss.Mint(map[string]any{"aud": "modelkeys", "exp": "9999999999"}), "not a number"},
		{"exp negative", iss.Mint(map[string]any{"aud": "modelkeys", "exp": -1}), "out of range"},
		{"exp far beyond any date", iss.Mint(map[string]any{"aud": "modelkeys", "exp": 1e300}), "out of range"},
		{"nbf a second past the skew", iss.Mint(map[string]any{"aud": "modelkeys", "nbf": now.Add(61 * time.Second).Unix()}), "not valid before"},
		{"24 h and a second", iss.Mint(map[string]any{"aud": "modelkeys", "iat": now.Unix(), "exp": now.Add(24*time.Hour + time.Second).Unix()}), "more than the 24h0m0s"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := v.Verify(context.Background(), cfg, aud, tc.token)
			refused(t, c, err, tc.token, tc.want)
		})
	}
	// Exactly 24 h is accepted: the cap is "more than".
	tok := iss.Mint(map[string]any{"aud": "modelkeys", "iat": now.Unix(), "exp": now.Add(24 * time.Hour).Unix()})
	if _, err := v.Verify(context.Background(), cfg, aud, tok); err != nil {
		t.Fatalf("a token valid for exactly 24 h: %v", err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
