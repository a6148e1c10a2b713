package federation

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/sync/singleflight"
)

// Limits of what a token may claim and of how a token is read.
const (
	// MaxSkew is the clock difference allowed for `nbf` and `iat`.
	MaxSkew = 60 * time.Second
	// MaxLifetime is the longest validity a token may have (exp - iat, or exp - now without iat):
	// a token that lives longer is a standing credential, not a per-run identity.
	MaxLifetime = 24 * time.Hour
	// maxTokenBytes bounds the token read; identity tokens are a few kilobytes.
	maxTokenBytes = 16 << 10
)

// AllowedAlgorithms are the signature algorithms accepted: asymmetric only. `none` and the HMAC
// algorithms are never accepted (an HMAC "signed" with an issuer's public key is the classic
// forgery).
var AllowedAlgorithms = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512,
	jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512,
	jose.EdDSA,
}

// Verifier verifies tokens of any number of issuers, keeping each issuer's discovered keys.
// It is safe for concurrent use.
type Verifier struct {
	client *http.Client
	now    func() time.Time
	// refetchEvery bounds how often one issuer's keys are fetched.
	refetchEvery time.Duration
	// maxKeyAge is how long fetched keys are used before they are fetched again (a key the
	// issuer withdrew stops being accepted within it).
	maxKeyAge    time.Duration
	fetchTimeout time.Duration
	keys         *keyCache
	disc         discoveryCache
	discFlight   singleflight.Group
}

// Option configures a Verifier.
type Option func(*Verifier)

// WithClock sets the verifier's clock (tests).
func WithClock(now func() time.Time) Option { return func(v *Verifier) { v.now = now } }

// WithRefetchInterval sets the least time between two key fetches for one issuer (default 30s).
func WithRefetchInterval(d time.Duration) Option { return func(v *Verifier) { v.refetchEvery = d } }

// WithMaxKeyAge sets how long fetched keys are used before they are fetched again (default 1h).
func WithMaxKeyAge(d time.Duration) Option { return func(v *Verifier) { v.maxKeyAge = d } }

// WithFetchTimeout bounds one discovery and JWKS fetch (default 10s).
func WithFetchTimeout(d time.Duration) Option { return func(v *Verifier) { v.fetchTimeout = d } }

// NewVerifier makes a verifier that fetches discovery documents and keys with httpClient (nil:
// http.DefaultClient; the server passes one that dials through its egress policy).
func NewVerifier(httpClient *http.Client, opts ...Option) *Verifier {
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	v := &Verifier{
		client:       httpClient,
		now:          time.Now,
		refetchEvery: 30 * time.Second,
		maxKeyAge:    time.Hour,
		fetchTimeout: 10 * time.Second,
	}
	for _, o := range opts {
		o(v)
	}
	v.keys = newKeyCache(v)
	v.disc.m = map[string]discEntry{}
	return v
}

// Verify checks raw, a compact JWS, as a token of iss for one of audiences, and returns its claims.
// Every refusal is a *Error.
func (v *Verifier) Verify(ctx context.Context, iss Issuer, audiences []string, raw string) (Claims, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, refuse("the token is empty")
	}
	if len(raw) > maxTokenBytes {
		return nil, refuse("the token is longer than %d bytes", maxTokenBytes)
	}
	if iss.URL == "" {
		return nil, refuse("the identity provider has no issuer URL")
	}
	if len(audiences) == 0 {
		return nil, refuse("no audience is configured to accept the token for")
	}
	jws, err := jose.ParseSignedCompact(raw, AllowedAlgorithms)
	if err != nil {
		return nil, refuse("the token is not a signed JWT with an allowed algorithm (%s): %s", algOf(raw), jwsErr(err))
	}
	if len(jws.Signatures) != 1 {
		return nil, refuse("the token must carry exactly one signature")
	}
	header := jws.Signatures[0].Protected
	alg := header.Algorithm

	payload, err := v.verifySignature(ctx, iss, jws, header.KeyID, alg)
	if err != nil {
		return nil, err
	}
	claims, err := decodeClaims(payload)
	if err != nil {
		return nil, err
	}
	if err := v.checkRegistered(claims, iss.URL, audiences); err != nil {
		return nil, err
	}
	return claims, nil
}

// verifySignature finds the key the header names among the issuer's keys (refetching them once,
// at a bounded rate, when the key is unknown) and returns the verified payload.
func (v *Verifier) verifySignature(ctx context.Context, iss Issuer, jws *jose.JSONWebSignature, kid, alg string) ([]byte, error) {
	var set []jose.JSONWebKey
	var err error
	if iss.JWKSJSON != "" {
		set, err = parseKeySet([]byte(iss.JWKSJSON))
		if err != nil {
			return nil, refuse("the identity provider's uploaded jwks_json is not a usable key set: %s", err)
		}
	} else {
		set, err = v.keys.get(ctx, iss.URL, false)
		if err != nil {
			return nil, err
		}
	}
	candidates := pick(set, kid, alg)
	if len(candidates) == 0 && iss.JWKSJSON == "" && kid != "" {
		// An unknown kid is how key rotation shows itself: fetch again (bounded rate).
		set, err = v.keys.get(ctx, iss.URL, true)
		if err != nil {
			return nil, err
		}
		candidates = pick(set, kid, alg)
	}
	if len(candidates) == 0 {
		if kid != "" {
			return nil, refuse("the issuer has no %s key with kid %s", alg, quote(kid))
		}
		return nil, refuse("the issuer has no %s key", alg)
	}
	for _, k := range candidates {
		if payload, err := jws.Verify(k.Key); err == nil {
			return payload, nil
		}
	}
	return nil, refuse("the token's signature does not verify with the issuer's keys")
}

// pick returns the keys that may verify a signature by alg with kid ("" = any key).
func pick(set []jose.JSONWebKey, kid, alg string) []jose.JSONWebKey {
	var out []jose.JSONWebKey
	for _, k := range set {
		if kid != "" && k.KeyID != kid {
			continue
		}
		if k.Algorithm != "" && k.Algorithm != alg {
			continue
		}
		if !keyFitsAlg(k, alg) {
			continue
		}
		out = append(out, k)
	}
	return out
}

// keyFitsAlg tells whether a public key's type is the one the algorithm signs with.
func keyFitsAlg(k jose.JSONWebKey, alg string) bool {
	switch k.Key.(type) {
	case *rsa.PublicKey:
		return strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS")
	case *ecdsa.PublicKey:
		return strings.HasPrefix(alg, "ES")
	case ed25519.PublicKey:
		return alg == string(jose.EdDSA)
	}
	return false
}

// parseKeySet reads a JWKS, keeping the public signature keys and skipping keys it cannot use
// (an unknown key type, an encryption key) rather than refusing the whole set. Private key
// material, should an operator upload it, is reduced to its public half.
func parseKeySet(b []byte) ([]jose.JSONWebKey, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, errors.New("not a JSON object with a \"keys\" list")
	}
	var out []jose.JSONWebKey
	for _, raw := range doc.Keys {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(raw); err != nil {
			continue
		}
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		pub := k.Public()
		if !pub.Valid() || !pub.IsPublic() {
			continue // symmetric ("oct") keys never verify anything here
		}
		out = append(out, pub)
	}
	if len(out) == 0 {
		return nil, errors.New("it holds no public signature key (RSA, EC or OKP)")
	}
	return out, nil
}

func decodeClaims(payload []byte) (Claims, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var c Claims
	if err := dec.Decode(&c); err != nil || c == nil {
		return nil, refuse("the token's payload is not a JSON object of claims")
	}
	if dec.More() {
		return nil, refuse("the token's payload has data after its claims")
	}
	return c, nil
}

// checkRegistered checks iss, aud, exp, nbf, iat and the lifetime.
func (v *Verifier) checkRegistered(c Claims, issuer string, audiences []string) error {
	iss, ok := c["iss"].(string)
	if !ok || iss != issuer {
		return refuse("the token's iss %s is not the identity provider's issuer %s", quote(c.String("iss")), quote(issuer))
	}
	if !audienceMatches(c["aud"], audiences) {
		return refuse("the token's aud %s is none of the accepted audiences %s", quote(audText(c["aud"])), quote(strings.Join(audiences, ", ")))
	}
	now := v.now()
	exp, ok, err := numericDate(c, "exp")
	if err != nil {
		return err
	}
	if !ok {
		return refuse("the token has no exp claim: tokens without an expiry are refused")
	}
	if !now.Before(exp) {
		return refuse("the token expired at %s", exp.UTC().Format(time.RFC3339))
	}
	nbf, ok, err := numericDate(c, "nbf")
	if err != nil {
		return err
	}
	if ok && nbf.After(now.Add(MaxSkew)) {
		return refuse("the token is not valid before %s (nbf)", nbf.UTC().Format(time.RFC3339))
	}
	iat, hasIat, err := numericDate(c, "iat")
	if err != nil {
		return err
	}
	if hasIat && iat.After(now.Add(MaxSkew)) {
		return refuse("the token was issued in the future (iat %s)", iat.UTC().Format(time.RFC3339))
	}
	from := now
	if hasIat {
		from = iat
	}
	if exp.Sub(from) > MaxLifetime {
		return refuse("the token is valid for %s, more than the %s accepted", exp.Sub(from).Round(time.Second), MaxLifetime)
	}
	return nil
}

func audienceMatches(aud any, audiences []string) bool {
	switch a := aud.(type) {
	case string:
		return slices.Contains(audiences, a)
	case []any:
		for _, item := range a {
			if s, ok := item.(string); ok && slices.Contains(audiences, s) {
				return true
			}
		}
	}
	return false
}

func audText(aud any) string {
	switch a := aud.(type) {
	case string:
		return a
	case []any:
		var parts []string
		for _, item := range a {
			if s, ok := item.(string); ok {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, ", ")
	}
	return ""
}

// numericDate reads a NumericDate claim (seconds since the epoch, fractions allowed).
func numericDate(c Claims, name string) (time.Time, bool, error) {
	v, ok := c[name]
	if !ok {
		return time.Time{}, false, nil
	}
	var f float64
	switch x := v.(type) {
	case json.Number:
		var err error
		f, err = x.Float64()
		if err != nil {
			return time.Time{}, false, refuse("the token's %s claim is not a number of seconds", name)
		}
	case float64:
		f = x
	default:
		return time.Time{}, false, refuse("the token's %s claim is not a number of seconds", name)
	}
	if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e11 {
		return time.Time{}, false, refuse("the token's %s claim is out of range", name)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true, nil
}

// algOf reads the alg of a token's header for an error message, without trusting it.
func algOf(raw string) string {
	head, _, ok := strings.Cut(raw, ".")
	if !ok {
		return "no header"
	}
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return "unreadable header"
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(b, &h) != nil {
		return "unreadable header"
	}
	return "alg " + quote(h.Alg)
}

// jwsErr shortens go-jose's error text (it never holds the token).
func jwsErr(err error) string {
	return strings.TrimPrefix(err.Error(), "go-jose/go-jose: ")
}
