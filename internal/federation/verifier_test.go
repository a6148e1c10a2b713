package federation_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/federation"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/federation/federationtest"
)

var aud = []string{"modelkeys"}

func verifier(iss *federationtest.Issuer, opts ...federation.Option) *federation.Verifier {
	return federation.NewVerifier(iss.Client(), opts...)
}

// refused asserts a refusal whose reason contains want and never the token.
func refused(t *testing.T, claims federation.Claims, err error, token, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("token accepted (claims %v); want a refusal containing %q", claims, want)
	}
	var fe *federation.Error
	if !errors.As(err, &fe) {
		t.Fatalf("error %T %v is not a *federation.Error", err, err)
	}
	if !strings.Contains(fe.Reason, want) {
		t.Fatalf("reason %q does not contain %q", fe.Reason, want)
	}
	sig := token[strings.LastIndex(token, ".")+1:]
	if strings.Contains(err.Error(), token) || (len(sig) > 8 && strings.Contains(err.Error(), sig)) {
		t.Fatalf("the error holds the token: %v", err)
	}
}

func TestVerifyAcceptsAGoodToken(t *testing.T) {
	iss := federationtest.NewIssuer(t)
	v := verifier(iss)
	tok := iss.Mint(map[string]any{"aud": "modelkeys", "sub": "repo:acme/infra:ref:refs/heads/main", "run_id": 12345678901234567})
	c, err := v.Verify(context.Background(), federation.Issuer{URL: iss.URL()}, aud, tok)
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject() != "repo:acme/infra:ref:refs/heads/main" {
		t.Errorf("Subject() = %q", c.Subject())
	}
	if got := c.String("run_id"); got != "12345678901234567" {
		t.Errorf("run_id = %q; a large number must keep every digit", got)
	}
	// An aud list with one accepted item is accepted too.
	tok = iss.Mint(map[string]any{"aud": []string{"other", "modelkeys"}})
	if _, err := v.Verify(context.Background(), federation.Issuer{URL: iss.URL()}, aud, tok); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyRefusals(t *testing.T) {
	iss := federationtest.NewIssuer(t)
	v := verifier(iss)
	now := time.Now()
	cases := []struct {
		name  string
		token string
		want  string
	}{
		{"wrong iss", iss.Mint(map[string]any{"aud": "modelkeys", "iss": "https://evil.example"}), "is not the identity provider's issuer"},
		{"iss with a trailing slash", iss.Mint(map[string]any{"aud": "modelkeys", "iss": iss.URL() + "/"}), "is not the identity provider's issuer"},
		{"wrong aud", iss.Mint(map[string]any{"aud": "someone-else"}), "none of the accepted audiences"},
		{"no aud", iss.Mint(map[string]any{}), "none of the accepted audiences"},
		{"expired", iss.Mint(map[string]any{"aud": "modelkeys", "iat": now.Add(-10 * time.Minute).Unix(), "exp": now.Add(-time.Second).Unix()}), "expired"},
		{"no exp", iss.Mint(map[string]any{"aud": "modelkeys", "exp": nil}), "no exp claim"},
		{"exp not a number", iss.Mint(map[string]any{"aud": "modelkeys", "exp": "tomorrow"}), "not a number"},
		{"nbf in the future", iss.Mint(map[string]any{"aud": "modelkeys", "nbf": now.Add(2 * time.Minute).Unix()}), "not valid before"},
		{"iat in the future", iss.Mint(map[string]any{"aud": "modelkeys", "iat": now.Add(2 * time.Minute).Unix()}), "issued in the future"},
		{"lifetime over 24h", iss.Mint(map[string]any{"aud": "modelkeys", "exp": now.Add(25 * time.Hour).Unix()}), "more than the 24h0m0s"},
		{"lifetime over 24h without iat", iss.Mint(map[string]any{"aud": "modelkeys", "iat": nil, "exp": now.Add(25 * time.Hour).Unix()}), "more than the 24h0m0s"},
		{"lifetime over 24h from an old iat", iss.Mint(map[string]any{"aud": "modelkeys", "iat": now.Add(-24 * time.Hour).Unix(), "exp": now.Add(time.Hour).Unix()}), "more than the 24h0m0s"},
		{"alg none", iss.MintAlgNone(map[string]any{"aud": "modelkeys"}), `alg "none"`},
		{"HS256 with the public key", iss.MintHS256WithPublicKey(map[string]any{"aud": "modelkeys"}), `alg "HS256"`},
		{"unknown kid", iss.MintWithUnknownKid(map[string]any{"aud": "modelkeys"}), "no RS256 key with kid"},
		{"not a JWT", "hello", "not a signed JWT"},
		{"empty", "  ", "empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := v.Verify(context.Background(), federation.Issuer{URL: iss.URL()}, aud, tc.token)
			refused(t, c, err, tc.token, tc.want)
		})
	}
}

func TestVerifySkewIsHonoured(t *testing.T) {
	iss := federationtest.NewIssuer(t)
	v := verifier(iss)
	now := time.Now()
	// nbf and iat up to 60 s ahead are another clock's skew, not a refusal.
	tok := iss.Mint(map[string]any{"aud": "modelkeys", "nbf": now.Add(45 * time.Second).Unix(), "iat": now.Add(45 * time.Second).Unix()})
	if _, err := v.Verify(context.Background(), federation.Issuer{URL: iss.URL()}, aud, tok); err != nil {
		t.Fatalf("45 s of skew refused: %v", err)
	}
}

func TestVerifyTamperedPayload(t *testing.T) {
	iss := federationtest.NewIssuer(t)
	v := verifier(iss)
	good := iss.Mint(map[string]any{"aud": "modelkeys", "sub": "alice"})
	other := iss.Mint(map[string]any{"aud": "modelkeys", "sub": "mallory"})
	parts, otherParts := strings.Split(good, "."), strings.Split(other, ".")
	forged := parts[0] + "." + otherParts[1] + "." + parts[2]
	c, err := v.Verify(context.Background(), federation.Issuer{URL: iss.URL()}, aud, forged)
	refused(t, c, err, forged, "does not verify")
}

func TestUploadedKeysNeedNoDiscovery(t *testing.T) {
	iss := federationtest.NewIssuer(t)
	v := verifier(iss)
	tok := iss.Mint(map[string]any{"aud": "modelkeys"})
	if _, err := v.Verify(context.Background(), federation.Issuer{URL: iss.URL(), JWKSJSON: iss.JWKSJSON()}, aud, tok); err != nil {
		t.Fatal(err)
	}
	if iss.DiscoveryFetches() != 0 || iss.JWKSFetches() != 0 {
		t.Errorf("uploaded keys fetched anyway: %d discovery, %d jwks", iss.DiscoveryFetches(), iss.JWKSFetches())
	}
	// Another issuer's keys uploaded for this one verify nothing.
	stranger := federationtest.NewIssuer(t)
	c, err := v.Verify(context.Background(), federation.Issuer{URL: iss.URL(), JWKSJSON: stranger.JWKSJSON()}, aud, tok)
	refused(t, c, err, tok, "no RS256 key with kid")
	// A symmetric key uploaded as "keys" is not a key here.
	c, err = v.Verify(context.Background(), federation.Issuer{URL: iss.URL(), JWKSJSON: `{"keys":[{"kty":"oct","k":"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}]}`}, aud, tok)
	refused(t, c, err, tok, "no public signature key")
}

func TestDiscoveryIssuerMustMatch(t *testing.T) {
	iss := federationtest.NewIssuer(t)
	v := verifier(iss)
	// The token claims the issuer with a trailing slash, and the provider is configured so: the
	// discovery document names the issuer without it, which is refused.
	tok := iss.Mint(map[string]any{"aud": "modelkeys", "iss": iss.URL() + "/"})
	c, err := v.Verify(context.Background(), federation.Issuer{URL: iss.URL() + "/"}, aud, tok)
	refused(t, c, err, tok, "names issuer")
}

func TestKeyRotationRefetches(t *testing.T) {
	iss := federationtest.NewIssuer(t)
	clock := newClock()
	v := verifier(iss, federation.WithClock(clock.Now))
	ctx := context.Background()
	cfg := federation.Issuer{URL: iss.URL()}
	if _, err := v.Verify(ctx, cfg, aud, iss.Mint(map[string]any{"aud": "modelkeys"})); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, cfg, aud, iss.Mint(map[string]any{"aud": "modelkeys"})); err != nil {
		t.Fatal(err)
	}
	if n := iss.JWKSFetches(); n != 1 {
		t.Fatalf("JWKS fetched %d times for two tokens of one key; want 1 (cached)", n)
	}
	oldTok := iss.Mint(map[string]any{"aud": "modelkeys"})
	iss.RotateKey()
	clock.Advance(31 * time.Second)
	if _, err := v.Verify(ctx, cfg, aud, iss.Mint(map[string]any{"aud": "modelkeys"})); err != nil {
		t.Fatalf("token of the rotated key refused (no refetch?): %v", err)
	}
	if n := iss.JWKSFetches(); n != 2 {
		t.Fatalf("JWKS fetched %d times; want 2 (one refetch for the new kid)", n)
	}
	// The old key is no longer published: its tokens are refused now.
	c, err := v.Verify(ctx, cfg, aud, oldTok)
	refused(t, c, err, oldTok, "no RS256 key with kid")
}

func TestUnknownKidRefetchIsRateBounded(t *testing.T) {
	iss := federationtest.NewIssuer(t)
	clock := newClock()
	v := verifier(iss, federation.WithClock(clock.Now))
	ctx := context.Background()
	cfg := federation.Issuer{URL: iss.URL()}
	if _, err := v.Verify(ctx, cfg, aud, iss.Mint(map[string]any{"aud": "modelkeys"})); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	// A flood of tokens with unknown kids, many at once: one fetch.
	var wg sync.WaitGroup
	var accepted atomic.Int64
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := v.Verify(ctx, cfg, aud, iss.MintWithUnknownKid(map[string]any{"aud": "modelkeys"})); err == nil {
				accepted.Add(1)
			}
		}()
	}
	wg.Wait()
	if accepted.Load() != 0 {
		t.Fatal("a token of an unknown key was accepted")
	}
	if n := iss.JWKSFetches(); n != 2 {
		t.Fatalf("JWKS fetched %d times; want 2 (the first, then one refetch for the whole flood)", n)
	}
	// Within the interval, no more fetches; after it, one more.
	clock.Advance(10 * time.Second)
	_, _ = v.Verify(ctx, cfg, aud, iss.MintWithUnknownKid(map[string]any{"aud": "modelkeys"}))
	if n := iss.JWKSFetches(); n != 2 {
		t.Fatalf("JWKS fetched %d times 10 s later; want still 2", n)
	}
	clock.Advance(25 * time.Second)
	_, _ = v.Verify(ctx, cfg, aud, iss.MintWithUnknownKid(map[string]any{"aud": "modelkeys"}))
	if n := iss.JWKSFetches(); n != 3 {
		t.Fatalf("JWKS fetched %d times after the interval; want 3", n)
	}
}

func TestKeysAreRefetchedWhenOld(t *testing.T) {
	iss := federationtest.NewIssuer(t)
	clock := newClock()
	v := verifier(iss, federation.WithClock(clock.Now))
	ctx := context.Background()
	cfg := federation.Issuer{URL: iss.URL()}
	tok := iss.Mint(map[string]any{"aud": "modelkeys", "exp": clock.Now().Add(3 * time.Hour).Unix(), "iat": clock.Now().Unix()})
	if _, err := v.Verify(ctx, cfg, aud, tok); err != nil {
		t.Fatal(err)
	}
	// The issuer withdraws the key; an hour later the verifier notices without an unknown kid.
	iss.RotateKey()
	clock.Advance(61 * time.Minute)
	c, err := v.Verify(ctx, cfg, aud, tok)
	refused(t, c, err, tok, "no RS256 key with kid")
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestDiscoverIsCachedAndChecked(t *testing.T) {
	iss := federationtest.NewIssuer(t)
	v := verifier(iss)
	d, err := v.Discover(context.Background(), iss.URL())
	if err != nil {
		t.Fatal(err)
	}
	if d.AuthorizationEndpoint != iss.URL()+"/authorize" || d.TokenEndpoint != iss.URL()+"/token" {
		t.Errorf("endpoints %+v", d)
	}
	if _, err := v.Discover(context.Background(), iss.URL()); err != nil {
		t.Fatal(err)
	}
	if n := iss.DiscoveryFetches(); n != 1 {
		t.Errorf("discovery fetched %d times; want 1 (cached)", n)
	}
	_, err = v.Discover(context.Background(), iss.URL()+"/")
	var fe *federation.Error
	if !errors.As(err, &fe) || !strings.Contains(fe.Reason, "names issuer") {
		t.Errorf("issuer with a trailing slash: err = %v; want the issuer mismatch", err)
	}
}
