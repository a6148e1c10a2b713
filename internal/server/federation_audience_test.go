package server

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/federation/federationtest"
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
