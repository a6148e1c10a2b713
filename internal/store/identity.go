package store

import (
	"context"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

// FederationRuleFilter narrows ListFederationRules. Empty fields do not filter.
type FederationRuleFilter struct {
	IdentityProviderID string
	Kind               string // api.FederationWorkload or api.FederationPeople
	ProjectID          string // the rules that confine their tokens to this project
	Name               string
	AfterID            string
	Limit              int
}

// ExchangedToken is a token issued under a federation rule (at /v1/oauth/token, or a console session
// from a people rule). Only the SHA-256 of its value is stored.
type ExchangedToken struct {
	Hash        string
	OrgID       string
	RuleID      string
	RuleVersion int64
	// ProviderVersion is the version of the rule's identity provider the subject's token was
	// verified with.
	ProviderVersion int64
	// Claims are the subject's claims kept for the audit log (sub, repository, ref, ...), never a token.
	Claims    map[string]string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// FederationRuleWithProvider is a rule with the identity provider it trusts, read in one statement.
type FederationRuleWithProvider struct {
	OrgID    string
	Rule     api.FederationRule
	Provider api.IdentityProvider
}

// Identity is the storage of identity providers, federation rules and exchanged tokens. Methods that
// take orgID answer only for that organisation; the ...ByID and ...ByHash lookups span organisations
// (the caller does not know the organisation yet) and return it.
type Identity interface {
	// InsertIdentityProvider stores p (HasClientSecret is ignored: see PutIdentityProviderSecret).
	// ErrDuplicate when the name is taken.
	InsertIdentityProvider(ctx context.Context, orgID string, p api.IdentityProvider) error
	// GetIdentityProvider fills HasClientSecret from the secret table.
	GetIdentityProvider(ctx context.Context, orgID, id string) (api.IdentityProvider, error)
	// IdentityProviderByID finds a provider of any organisation (the console's sign-in link carries
	// only the provider's id) and returns its organisation.
	IdentityProviderByID(ctx context.Context, id string) (orgID string, p api.IdentityProvider, err error)
	// ListIdentityProviders lists by id; name "" does not filter; limit <= 0 means the default.
	ListIdentityProviders(ctx context.Context, orgID, name, afterID string, limit int) ([]api.IdentityProvider, error)
	// UpdateIdentityProvider writes name, audiences, jwks_json, client_id, version and updated_at
	// when the stored version is expectVersion (the issuer never changes).
	UpdateIdentityProvider(ctx context.Context, orgID string, p api.IdentityProvider, expectVersion int64) error
	// DeleteIdentityProvider deletes the provider and its secret; a provider that rules still trust
	// is refused with an error wrapping sqlstore.ErrInUse that names them.
	DeleteIdentityProvider(ctx context.Context, orgID, id string) error

	// The client secret of a provider: a SealedSecret whose CredentialID is the provider's id and
	// whose Field is the binding field the service seals it under.
	PutIdentityProviderSecret(ctx context.Context, s SealedSecret) error
	// GetIdentityProviderSecret is ErrNotFound when the provider has no secret.
	GetIdentityProviderSecret(ctx context.Context, orgID, providerID string) (SealedSecret, error)
	// DeleteIdentityProviderSecret removes the secret; no secret is not an error.
	DeleteIdentityProviderSecret(ctx context.Context, orgID, providerID string) error
	// ListAllIdentityProviderSecrets, RewrapIdentityProviderSecret and
	// CountIdentityProviderSecretsNotWrappedBy are ListAllSecrets, RewrapSecret and
	// CountSecretsNotWrappedBy for client secrets (master-key rotation).
	ListAllIdentityProviderSecrets(ctx context.Context) ([]SealedSecret, error)
	RewrapIdentityProviderSecret(ctx context.Context, s SealedSecret, oldWrappedKey []byte) (bool, error)
	CountIdentityProviderSecretsNotWrappedBy(ctx context.Context, keyID string) (int, error)

	// InsertFederationRule stores r; ErrNotFound when its identity provider is not in orgID,
	// ErrDuplicate when the name is taken.
	InsertFederationRule(ctx context.Context, orgID string, r api.FederationRule) error
	GetFederationRule(ctx context.Context, orgID, id string) (api.FederationRule, error)
	// FederationRuleByID finds a rule of any organisation with its provider, in one statement (the
	// token exchange names only the rule).
	FederationRuleByID(ctx context.Context, id string) (FederationRuleWithProvider, error)
	ListFederationRules(ctx context.Context, orgID string, f FederationRuleFilter) ([]api.FederationRule, error)
	// UpdateFederationRule writes every field but id, identity_provider_id, kind and created_at when
	// the stored version is expectVersion.
	UpdateFederationRule(ctx context.Context, orgID string, r api.FederationRule, expectVersion int64) error
	// DeleteFederationRule deletes the rule and every token exchanged under it.
	DeleteFederationRule(ctx context.Context, orgID, id string) error

	InsertExchangedToken(ctx context.Context, t ExchangedToken) error
	// ExchangedTokenByHash finds a token with its rule, in one statement, only while the rule exists
	// and its identity provider exists at ProviderVersion (ErrNotFound otherwise). Expiry and the
	// rule's version are the caller's to check.
	ExchangedTokenByHash(ctx context.Context, hash string) (ExchangedToken, api.FederationRule, error)
	// DeleteExpiredExchangedTokens deletes the rule's tokens that expired before now.
	DeleteExpiredExchangedTokens(ctx context.Context, orgID, ruleID string, now time.Time) (int, error)
}
