package server

import (
	"context"
	"errors"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/federation"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/federation/federationtest"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
)

// TestFederatedSessionIsBoundToTheVerifiedProvider: a console session is bound to the version of the
// identity provider its ID token was verified with, not the one current when the session is issued:
// a provider changed during the sign-in's code exchange gives no session, and one changed after
// ends it.
func TestFederatedSessionIsBoundToTheVerifiedProvider(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, withFederationTest())
	svc := h.srv.Service()
	iss := federationtest.NewIssuer(t)
	p, err := h.admin.CreateIdentityProvider(ctx, api.IdentityProviderCreate{Name: "sso", Issuer: iss.URL(), ClientID: "console"})
	if err != nil {
		t.Fatal(err)
	}
	rule, err := h.admin.CreateFederationRule(ctx, api.FederationRuleCreate{Name: "platform", IdentityProviderID: p.ID, Kind: api.FederationPeople,
		Role: api.RoleViewer, Conditions: map[string]string{"sub": "user-42"}})
	if err != nil {
		t.Fatal(err)
	}
	claims := federation.Claims{"sub": "user-42"}
	verified := p.Version // the console verified the ID token with this version ...
	cid := "console-2"
	changed, err := h.admin.UpdateIdentityProvider(ctx, p.ID, api.IdentityProviderPatch{ClientID: &cid}, 0) // ... and an admin changed it meanwhile
	if err != nil {
		t.Fatal(err)
	}
	value, _, _, err := svc.IssueFederatedToken(ctx, mustOrg(t, h), *rule, verified, claims)
	var se *service.Error
	if !errors.As(err, &se) || se.Status != service.StatusConflict {
		h.remember(value)
		t.Fatalf("session for an ID token verified with the provider's previous version: err = %v, want a 409", err)
	}

	value, _, _, err = svc.IssueFederatedToken(ctx, mustOrg(t, h), *rule, changed.Version, claims)
	if err != nil {
		t.Fatal(err)
	}
	h.remember(value)
	if _, err := svc.PrincipalOfTokenHash(ctx, service.HashToken(value)); err != nil {
		t.Fatalf("a session of the current provider: %v", err)
	}
	cid = "console-3"
	if _, err := h.admin.UpdateIdentityProvider(ctx, p.ID, api.IdentityProviderPatch{ClientID: &cid}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.PrincipalOfTokenHash(ctx, service.HashToken(value)); err == nil {
		t.Error("a session outlives a change of its identity provider")
	}
}
