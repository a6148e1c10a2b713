package server

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/federation/federationtest"
)

// withMembers is iss's key set with extra members added to its first key, spelled with indentation.
func withMembers(t *testing.T, iss *federationtest.Issuer, extra map[string]any) string {
	t.Helper()
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal([]byte(iss.JWKSJSON()), &set); err != nil {
		t.Fatal(err)
	}
	for k, v := range extra {
		set.Keys[0][k] = v
	}
	b, err := json.MarshalIndent(set, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestIdentityProviderStoresPublicKeysOnly: jwks_json is stored and shown as the public keys,
// re-serialised; members that are not part of a public key are not kept, sending the same keys in
// another spelling is no change (no new version, so no token ends), a key carrying private RSA
// members without d is refused, and the stored keys still verify tokens.
func TestIdentityProviderStoresPublicKeysOnly(t *testing.T) {
	h := newHarness(t, withFederationTest())
	ctx := context.Background()
	iss := federationtest.NewIssuer(t)
	sent := withMembers(t, iss, map[string]any{"x-internal-note": "NOTE-do-not-publish"})
	p, err := h.admin.CreateIdentityProvider(ctx, api.IdentityProviderCreate{Name: "offline", Issuer: iss.URL(), Audiences: []string{testAudience}, JWKSJSON: sent})
	if err != nil {
		t.Fatal(err)
	}
	got, err := h.admin.GetIdentityProvider(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, jwks := range []string{p.JWKSJSON, got.JWKSJSON} {
		if strings.Contains(jwks, "NOTE-do-not-publish") || strings.Contains(jwks, "x-internal-note") || !strings.Contains(jwks, `"kty":"RSA"`) {
			t.Fatalf("stored jwks_json %s keeps a member that is not part of the public key (or lost the key)", jwks)
		}
	}
	same, err := h.admin.UpdateIdentityProvider(ctx, p.ID, api.IdentityProviderPatch{JWKSJSON: &sent}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if same.Version != p.Version {
		t.Errorf("sending the same keys again made version %d of %d: a no-op would end every token of the provider", same.Version, p.Version)
	}

	withPQ := withMembers(t, iss, map[string]any{"p": "3Slxg_DwTXJcb6095RoXygQCAZ5RnAvZlno1yhHtnUex_fp7AZ_9nRaO7HX_-SFfGQeutao2TDjDAWU4Vupk8rw9JR0AzZ0N2fvuIAmr_WCsmGpeNqQnev1T7IyEsnh8UMt-n5CafhkikzhEsrmndH6LxOrvRJlsPp6Zv8bUq0k",
		"q": "uKE2dh-cTf6ERF4k4e_jy78GfPYUIaUyoSSJMbDAL-Tf5Cf9SyMQ_gpAz4Z1Jz0HqJFYH9n8FAp1JTqcHi2PrEjtOI_9R9nS3lJ1FtNu6XuqaVbsj1EYGIWfL3UKk5NQpKl2BJN_4JU3tp7OXGkgz2ntwGkqz7SGEBUnAXVN4gM"})
	_, err = h.admin.UpdateIdentityProvider(ctx, p.ID, api.IdentityProviderPatch{JWKSJSON: &withPQ}, 0)
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Status != 422 || len(ae.Problem.Errors) != 1 || ae.Problem.Errors[0].Field != "jwks_json" {
		t.Fatalf("a key with p and q but no d: %v, want a 422 on jwks_json", err)
	}

	r, err := h.admin.CreateFederationRule(ctx, api.FederationRuleCreate{Name: "ci", IdentityProviderID: p.ID, Role: api.RoleViewer,
		Conditions: map[string]string{"repository": "acme/infra", "ref": "refs/heads/*"}})
	if err != nil {
		t.Fatal(err)
	}
	h.exchanged(r.ID, iss.Mint(ciClaims(nil)))
}
