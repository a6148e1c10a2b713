package federation_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/federation"
)

// Every asymmetric algorithm of the allow-list verifies with a key of its type, and not with a key of
// another type under the same kid.
func TestVerifyAcceptsECAndEdDSA(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	for _, tc := range []struct {
		alg  jose.SignatureAlgorithm
		priv crypto.Signer
	}{{jose.ES256, ec}, {jose.EdDSA, ed}} {
		t.Run(string(tc.alg), func(t *testing.T) {
			set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: tc.priv.Public(), KeyID: "k1", Use: "sig"}}})
			now := time.Now()
			payload, _ := json.Marshal(map[string]any{"iss": "https://issuer.example", "aud": "modelkeys", "sub": "s", "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()})
			signer, err := jose.NewSigner(jose.SigningKey{Algorithm: tc.alg, Key: tc.priv}, (&jose.SignerOptions{}).WithHeader("kid", "k1"))
			if err != nil {
				t.Fatal(err)
			}
			jws, _ := signer.Sign(payload)
			tok, _ := jws.CompactSerialize()
			v := federation.NewVerifier(nil)
			c, err := v.Verify(context.Background(), federation.Issuer{URL: "https://issuer.example", JWKSJSON: string(set)}, aud, tok)
			if err != nil || c.Subject() != "s" {
				t.Fatalf("Verify: %v %v", c, err)
			}
			// The same kid on a key of another type verifies nothing.
			other := ec.Public()
			if tc.alg == jose.ES256 {
				other = ed.Public()
			}
			wrong, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: other, KeyID: "k1"}}})
			c, err = v.Verify(context.Background(), federation.Issuer{URL: "https://issuer.example", JWKSJSON: string(wrong)}, aud, tok)
			refused(t, c, err, tok, "no "+string(tc.alg)+" key with kid")
		})
	}
}
