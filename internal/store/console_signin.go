package store

import "context"

// SignInIdentityProvider is an identity provider people may sign in to the console with (it has a
// client_id), as the sign-in page lists it.
type SignInIdentityProvider struct {
	ID      string
	Name    string
	OrgName string
}

// ConsoleSignIn is what the console's single sign-on reads beyond store.Identity.
type ConsoleSignIn interface {
	// SignInIdentityProviders lists the identity providers of every organisation that have a
	// client_id, by organisation name, then provider name, at most limit.
	SignInIdentityProviders(ctx context.Context, limit int) ([]SignInIdentityProvider, error)
}
