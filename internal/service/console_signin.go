package service

// What the console's single sign-on needs of the service (issue 33 §4): the identity providers people
// may sign in with, and the people rule a verified ID token matches. Issuing the session's token is
// IssueFederatedToken's, the same as the token exchange's, so a session dies with its rule.

import (
	"context"
	"errors"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/federation"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// maxSignInProviders bounds the sign-in page's list.
const maxSignInProviders = 100

// SignInIdentityProviders lists the identity providers of every organisation that offer console
// sign-in (they have a client_id). The console shows it on its sign-in page unless the operator hid
// it (a server shared by organisations that must not see each other's).
func (s *Service) SignInIdentityProviders(ctx context.Context) ([]store.SignInIdentityProvider, error) {
	var out []store.SignInIdentityProvider
	err := s.readOne(ctx, func(tx store.Tx) error {
		var err error
		out, err = tx.SignInIdentityProviders(ctx, maxSignInProviders)
		return err
	})
	return out, err
}

// SignInProvider is an identity provider that people sign in to the console with, with what the
// authorization-code flow needs.
type SignInProvider struct {
	OrgID    string
	Provider api.IdentityProvider
	// ClientSecret is the console's OAuth client secret at the provider; "" for a public client
	// (PKCE only). It is sent only to the provider's token endpoint.
	ClientSecret string
}

// errNoSignIn is the 404 of a sign-in link whose provider is gone or has no client_id: the same
// answer either way, so the link does not tell which ids exist.
func errNoSignIn(id string) *Error {
	return &Error{Status: StatusNotFound, Title: "Not found",
		Detail: "No identity provider with id " + quoteID(id) + " offers console sign-in: it does not exist, or it has no client_id. Ask an admin for the sign-in link."}
}

func quoteID(id string) string {
	if len(id) > 64 {
		id = id[:64]
	}
	return `"` + id + `"`
}

// SignInIdentityProvider finds the identity provider of a sign-in link, in whichever organisation
// holds it, with its client secret opened.
func (s *Service) SignInIdentityProvider(ctx context.Context, id string) (SignInProvider, error) {
	var sp SignInProvider
	err := s.readOne(ctx, func(tx store.Tx) error {
		var err error
		sp.OrgID, sp.Provider, err = tx.IdentityProviderByID(ctx, id)
		return err
	})
	if errors.Is(err, store.ErrNotFound) || (err == nil && sp.Provider.ClientID == "") {
		return SignInProvider{}, errNoSignIn(id)
	}
	if err != nil {
		return SignInProvider{}, err
	}
	if sp.Provider.HasClientSecret {
		if sp.ClientSecret, err = s.IdentityProviderClientSecret(ctx, sp.OrgID, sp.Provider.ID); err != nil {
			return SignInProvider{}, err
		}
	}
	return sp, nil
}

// PeopleRule is the first `kind = "people"` rule of the provider (in creation order) whose conditions
// the claims match; false when none does.
func (s *Service) PeopleRule(ctx context.Context, orgID, providerID string, claims federation.Claims) (api.FederationRule, bool, error) {
	claims = withoutUnverifiedEmail(claims)
	after := ""
	for {
		var page []api.FederationRule
		err := s.read(ctx, func(tx store.Tx) error {
			var err error
			page, err = tx.ListFederationRules(ctx, orgID, store.FederationRuleFilter{
				IdentityProviderID: providerID, Kind: api.FederationPeople, AfterID: after, Limit: 100})
			return err
		})
		if err != nil {
			return api.FederationRule{}, false, err
		}
		for _, r := range page {
			if federation.Match(r.Conditions, claims) {
				return r, true, nil
			}
		}
		if len(page) < 100 {
			return api.FederationRule{}, false, nil
		}
		after = page[len(page)-1].ID
	}
}

// withoutUnverifiedEmail drops the email claim when the identity provider says it is not verified
// (email_verified present and not true): many providers let a person type any address into their
// profile, and a rule such as email = "*@acme.example" must not admit someone who merely claims
// one. Providers that send no email_verified are taken at their word.
func withoutUnverifiedEmail(c federation.Claims) federation.Claims {
	if _, ok := c["email_verified"]; !ok || c.String("email_verified") == "true" {
		return c // true as a boolean or as the text some providers send
	}
	out := make(federation.Claims, len(c))
	for k, x := range c {
		if k != "email" {
			out[k] = x
		}
	}
	return out
}

// FederationVerifier is the verifier of identity providers' tokens the token exchange uses (nil when
// the server configured none); the console's sign-in shares it, and so the issuers' cached keys.
func (s *Service) FederationVerifier() *federation.Verifier { return s.cfg.Federation }
