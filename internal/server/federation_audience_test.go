package server

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/federation/federationtest"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// TestIdentityProviderAudienceIsNotClientID: a workload audience equal to the provider's client_id
// would let people's console ID tokens (aud = client_id, which anyone with an account at the issuer
// can get from a public client) pass the workload exchange; create and update refuse it on the
// audience, saying why.
func TestIdentityProviderAudienceIsNotClientID(t *testing.T) {
	h := newHarness(t, withFederationTest())
	ctx := context.Background()
	iss := federationtest.NewIssuer(t)
	refused := func(err error, field string) {
		t.Helper()
		var ae *client.APIError
		if !errors.As(err, &ae) || ae.Status != 422 || len(ae.Problem.Errors) != 1 || ae.Problem.Errors[0].Field != field ||
			!strings.Contains(ae.Problem.Errors[0].Message, "client_id") {
			t.Fatalf("err = %v, want a 422 on %s naming client_id", err, field)
		}
	}
	_, err := h.admin.CreateIdentityProvider(ctx, api.IdentityProviderCreate{Name: "both", Issuer: iss.URL(),
		Audiences: []string{testAudience, "console-client"}, ClientID: "console-client"})
	refused(err, "audiences[1]")

	p, err := h.admin.CreateIdentityProvider(ctx, api.IdentityProviderCreate{Name: "apart", Issuer: iss.URL(),
		Audiences: []string{testAudience}, ClientID: "console-client"})
	if err != nil {
		t.Fatalf("distinct audience and client_id: %v", err)
	}
	auds := []string{"console-client"}
	_, err = h.admin.UpdateIdentityProvider(ctx, p.ID, api.IdentityProviderPatch{Audiences: &auds}, 0)
	refused(err, "audiences[0]")
	cid := testAudience
	_, err = h.admin.UpdateIdentityProvider(ctx, p.ID, api.IdentityProviderPatch{ClientID: &cid}, 0)
	refused(err, "audiences[0]")
}

// TestExchangeIgnoresAnAudienceThatIsTheClientID: a provider stored before the rule above, with
// client_id among its audiences, no longer lets a token for that audience (a person's console ID
// token) through the workload exchange, while its other audiences still work.
func TestExchangeIgnoresAnAudienceThatIsTheClientID(t *testing.T) {
	h := newHarness(t, withFederationTest(), noAuthLimit())
	ctx := context.Background()
	f := setupFederation(t, h, api.FederationRuleCreate{})
	cid := "console-client"
	p, err := h.admin.UpdateIdentityProvider(ctx, f.provider.ID, api.IdentityProviderPatch{ClientID: &cid}, 0)
	if err != nil {
		t.Fatal(err)
	}
	// As an older server stored it: the client_id among the workload audiences.
	legacy := *p
	legacy.Audiences = []string{testAudience, cid}
	legacy.Version = p.Version + 1
	org := mustOrg(t, h)
	if err := h.store.Tx(ctx, func(tx store.Tx) error {
		return tx.UpdateIdentityProvider(ctx, org, legacy, p.Version)
	}); err != nil {
		t.Fatal(err)
	}
	person := f.iss.Mint(ciClaims(map[string]any{"aud": cid}))
	h.remember(person)
	if r := h.exchange(f.rule.ID, person); r.Status != 400 {
		t.Fatalf("a token for the client_id audience: %d %s, want the exchange's 400", r.Status, r.Body)
	}
	h.exchanged(f.rule.ID, f.iss.Mint(ciClaims(nil)))
}
