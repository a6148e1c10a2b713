// Package api holds the wire types of the modelkeys REST API. The server encodes them and the client
// decodes them, so this package is the single source of truth for field names and shapes.
package api

import (
	"errors"
	"time"
)

// Roles a token may carry.
const (
	RoleAdmin  = "admin"
	RoleEditor = "editor"
	RoleViewer = "viewer"
)

// Credential statuses.
const (
	StatusVerified   = "verified"
	StatusUnverified = "unverified"
	StatusInvalid    = "invalid"
)

// VerifyResult is what a probe found. Refused means the provider rejected the key (invalid); an outage
// or timeout is Err with Refused false, which keeps the credential's last status. Blocked means the
// server's egress policy refused the destination and nothing was sent: a create or update fails with
// 422 and Message, a re-verification records Message and keeps the last status.
type VerifyResult struct {
	OK      bool
	Refused bool
	Blocked bool
	Message string
}

// ErrEgressRefused is in the chain of a model lister's error (server.ModelLister) when the egress
// policy refused the destination (nothing was sent).
var ErrEgressRefused = errors.New("the destination is refused by the server's egress policy")

// Connection statuses.
const (
	ConnectionReady   = "ready"
	ConnectionBlocked = "blocked"
	ConnectionInvalid = "invalid"
)

// Model policy modes.
const (
	PolicyAll       = "all"
	PolicyAllowlist = "allowlist"
	PolicyDenylist  = "denylist"
)

// Secret field names, as they appear in request bodies and in the catalog.
const (
	SecretAPIKey    = "api_key"
	SecretAuthToken = "auth_token"
)

// Credential is a provider key as the API returns it. It never carries the secret itself.
type Credential struct {
	ID                string            `json:"id"`
	Name              string            `json:"name"`
	Description       string            `json:"description"`
	Provider          string            `json:"provider"`
	ProjectID         string            `json:"project_id,omitempty"`
	Settings          map[string]string `json:"settings"`
	Labels            map[string]string `json:"labels"`
	HasAPIKey         bool              `json:"has_api_key"`
	HasAuthToken      bool              `json:"has_auth_token"`
	SecretHint        string            `json:"secret_hint"`
	SecretFingerprint string            `json:"secret_fingerprint"`
	SecretVersion     int64             `json:"secret_version"`
	Status            string            `json:"status"`
	StatusMessage     string            `json:"status_message"`
	VerifiedAt        *time.Time        `json:"verified_at,omitempty"`
	// Verify says whether the server checks the key with the provider when it or the settings change.
	Verify        bool      `json:"verify"`
	ConnectionIDs []string  `json:"connection_ids"`
	Version       int64     `json:"version"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`

	// ManagedBy names the tool that owns this credential ("terraform" when the provider wrote it), so
	// the console can warn that a change made there shows as drift; "" when nothing claimed it.
	ManagedBy string `json:"managed_by,omitempty"`
	// Lifecycle: RotationPeriod and ExpiresAt are set by the client; the rest the server computes on
	// every read from its clock, the stored times and the credential policy of the credential's scope.
	//
	// RotationPeriod is how often the key should be rotated, in the server's canonical spelling
	// ("90d", "1d12h0m0s"); "" when not set.
	RotationPeriod string `json:"rotation_period,omitempty"`
	// ExpiresAt is when the provider's key stops working.
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	// RotatedAt is the last change of the secret (the creation for a key never rotated).
	RotatedAt time.Time `json:"rotated_at"`
	// RotationDueAt is RotatedAt plus the effective rotation period: RotationPeriod, capped by the
	// scope's max_rotation_period, which also applies to credentials without one. Nil without either.
	RotationDueAt *time.Time `json:"rotation_due_at,omitempty"`
	// LifecycleStatus is ok, rotation_due, expiring (within the scope's expiry_warning of ExpiresAt) or
	// expired; LifecycleSince is when it became so (nil for ok) and LifecycleMessage says what to do.
	LifecycleStatus  string     `json:"lifecycle_status"`
	LifecycleSince   *time.Time `json:"lifecycle_since,omitempty"`
	LifecycleMessage string     `json:"lifecycle_message"`
	// DestinationSetBy names the token that last set the credential's destination (the settings that
	// decide where its secrets are sent) and DestinationSetAt says when; both are empty for a
	// credential written before the server recorded it. A new key sent without the destination and
	// without If-Match is refused when another token set it: a key goes only where its sender saw.
	DestinationSetBy string     `json:"destination_set_by,omitempty"`
	DestinationSetAt *time.Time `json:"destination_set_at,omitempty"`
	// DestinationSetByToken is the id of that token: the server compares it and never sends it.
	DestinationSetByToken string `json:"-"`
	// PolicyViolations are the rules of the scope's effective credential policy that the credential
	// breaks (a policy made stricter after it was written), one sentence each. The next change of the
	// credential is refused until they are fixed.
	PolicyViolations []string `json:"policy_violations"`
	// Purpose is "inference" (a key connections use) or "admin" (a vendor admin key that mints and
	// revokes the keys of managed credentials; never usable by connections, never revealed).
	Purpose string `json:"purpose"`
	// Rotation is the managed rotation of the credential's key; nil when keys are set by hand.
	Rotation *CredentialRotation `json:"rotation,omitempty"`
}

// ManagedByTerraform is the ManagedBy the Terraform provider writes.
const ManagedByTerraform = "terraform"

// CredentialCreate is the body of POST /v1/credentials.
type CredentialCreate struct {
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	Provider    string            `json:"provider"`
	ProjectID   string            `json:"project_id,omitempty"`
	APIKey      *string           `json:"api_key,omitempty"`
	AuthToken   *string           `json:"auth_token,omitempty"`
	Settings    map[string]string `json:"settings,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	// Verify defaults to true when omitted.
	Verify *bool `json:"verify,omitempty"`
	// RotationPeriod and ExpiresAt: see Credential.
	RotationPeriod string `json:"rotation_period,omitempty"`
	ExpiresAt      string `json:"expires_at,omitempty"`
	// ManagedBy marks the tool that owns the credential (see Credential.ManagedBy).
	ManagedBy string `json:"managed_by,omitempty"`
	// Purpose and Rotation: see Credential. A managed credential takes no api_key: the server mints it.
	Purpose  string              `json:"purpose,omitempty"`
	Rotation *CredentialRotation `json:"rotation,omitempty"`
}

// CredentialPatch is the body of PATCH /v1/credentials/{id}. A nil field is left as it is; an empty
// string or a JSON null in APIKey or AuthToken removes that secret; a nil map is left alone and an empty
// map clears it. A change of the destination (catalog.Destination) or of verify to true must carry every
// secret the credential keeps, non-empty.
type CredentialPatch struct {
	Name        *string            `json:"name,omitempty"`
	Description *string            `json:"description,omitempty"`
	Provider    *string            `json:"provider,omitempty"`
	APIKey      *string            `json:"api_key,omitempty"`
	AuthToken   *string            `json:"auth_token,omitempty"`
	Settings    *map[string]string `json:"settings,omitempty"`
	Labels      *map[string]string `json:"labels,omitempty"`
	Verify      *bool              `json:"verify,omitempty"`
	// RotationPeriod and ExpiresAt: "" removes them. A change of secret without ExpiresAt removes
	// the expiry, which belonged to the old key.
	RotationPeriod *string `json:"rotation_period,omitempty"`
	ExpiresAt      *string `json:"expires_at,omitempty"`
	// ManagedBy, when set, replaces the credential's owner mark; "" clears it.
	ManagedBy *string `json:"managed_by,omitempty"`
	// SecretsResent names the secrets of this patch (api_key, auth_token) that are the stored ones, sent
	// again only because the change needs them (it moves the destination, or turns verify on): the
	// server refuses the patch when one differs from the stored secret instead of rotating it. Terraform
	// names a write-only key whose version did not change, and a key in state that did not.
	SecretsResent []string `json:"secrets_resent,omitempty"`
	// Rotation, when set, replaces the managed rotation's mode, admin_credential_id and overlap; an
	// object with mode "" ends managed rotation (the current key stays, now set by hand).
	Rotation *CredentialRotation `json:"rotation,omitempty"`
}

// CredentialSecret is the answer of POST /v1/credentials/{id}/reveal.
type CredentialSecret struct {
	ID        string `json:"id"`
	APIKey    string `json:"api_key,omitempty"`
	AuthToken string `json:"auth_token,omitempty"`
}

// SecretMatch is the body of POST /v1/credentials/{id}/secret-matches: the secrets to compare with the
// stored ones. A nil field is not compared; "" means "the credential holds none".
type SecretMatch struct {
	APIKey    *string `json:"api_key,omitempty"`
	AuthToken *string `json:"auth_token,omitempty"`
}

// SecretMatchResult is the answer of POST /v1/credentials/{id}/secret-matches: whether every secret
// sent equals the stored one. It says nothing else about the stored secrets.
type SecretMatchResult struct {
	Matches bool `json:"matches"`
}

// Connection is a model reachable through a credential.
type Connection struct {
	ID            string    `json:"id"`
	Name          string    `json:"name"`
	CredentialID  string    `json:"credential_id,omitempty"` // "" after a forced delete of its credential
	Model         string    `json:"model"`
	ProjectID     string    `json:"project_id,omitempty"`
	Parameters    string    `json:"parameters,omitempty"`
	Enabled       bool      `json:"enabled"`
	Provider      string    `json:"provider,omitempty"`
	Status        string    `json:"status"`
	StatusMessage string    `json:"status_message"`
	Version       int64     `json:"version"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// ConnectionCreate is the body of POST /v1/connections. Parameters is a JSON object as a string.
type ConnectionCreate struct {
	Name         string `json:"name"`
	CredentialID string `json:"credential_id"`
	Model        string `json:"model"`
	ProjectID    string `json:"project_id,omitempty"`
	Parameters   string `json:"parameters,omitempty"`
	Enabled      *bool  `json:"enabled,omitempty"`
	// AllowUnknownModel accepts a model that neither the catalog nor the credential's provider lists
	// (see catalog.ModelListed). It governs this request only and is not stored.
	AllowUnknownModel bool `json:"allow_unknown_model,omitempty"`
}

// ConnectionPatch is the body of PATCH /v1/connections/{id}.
type ConnectionPatch struct {
	Name         *string `json:"name,omitempty"`
	CredentialID *string `json:"credential_id,omitempty"`
	Model        *string `json:"model,omitempty"`
	Parameters   *string `json:"parameters,omitempty"`
	Enabled      *bool   `json:"enabled,omitempty"`
	// AllowUnknownModel is ConnectionCreate.AllowUnknownModel, for a change of model or credential.
	AllowUnknownModel bool `json:"allow_unknown_model,omitempty"`
}

// ModelPolicy decides which models a scope may use. ProjectID is empty for the organisation's policy.
type ModelPolicy struct {
	ProjectID  string    `json:"project_id,omitempty"`
	Mode       string    `json:"mode"`
	Models     []string  `json:"models"`
	Publishers []string  `json:"publishers"`
	Version    int64     `json:"version"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// ModelPolicyPut is the body of PUT /v1/model-policy.
type ModelPolicyPut struct {
	Mode       string   `json:"mode"`
	Models     []string `json:"models,omitempty"`
	Publishers []string `json:"publishers,omitempty"`
}

// Project is a scope for credentials, connections and a model policy.
type Project struct {
	ID                             string    `json:"id"`
	Name                           string    `json:"name"`
	Description                    string    `json:"description"`
	InheritOrganizationCredentials bool      `json:"inherit_organization_credentials"`
	Version                        int64     `json:"version"`
	CreatedAt                      time.Time `json:"created_at"`
	UpdatedAt                      time.Time `json:"updated_at"`
}

// ProjectCreate is the body of POST /v1/projects.
type ProjectCreate struct {
	Name                           string `json:"name"`
	Description                    string `json:"description,omitempty"`
	InheritOrganizationCredentials bool   `json:"inherit_organization_credentials,omitempty"`
}

// ProjectPatch is the body of PATCH /v1/projects/{id}.
type ProjectPatch struct {
	Name                           *string `json:"name,omitempty"`
	Description                    *string `json:"description,omitempty"`
	InheritOrganizationCredentials *bool   `json:"inherit_organization_credentials,omitempty"`
}

// Model is a catalog model as GET /v1/models returns it.
type Model struct {
	ID               string   `json:"id"`
	Provider         string   `json:"provider"`
	Publisher        string   `json:"publisher"`
	DisplayName      string   `json:"display_name"`
	Family           string   `json:"family,omitempty"`
	ContextWindow    int64    `json:"context_window"`
	MaxOutputTokens  int64    `json:"max_output_tokens"`
	InputModalities  []string `json:"input_modalities"`
	OutputModalities []string `json:"output_modalities"`
	ToolCall         bool     `json:"tool_call"`
	Reasoning        bool     `json:"reasoning"`
	ReleaseDate      string   `json:"release_date,omitempty"`
	Source           string   `json:"source,omitempty"`
	// Allowed says whether the effective model policy of the request's scope lets this model be used.
	Allowed bool `json:"allowed"`
}

// AuditEvent records one change. It names the fields changed, never their values, except the
// destination settings in Changes.
type AuditEvent struct {
	ID         int64     `json:"id"`
	Time       time.Time `json:"time"`
	Actor      string    `json:"actor"`
	Action     string    `json:"action"`
	ObjectType string    `json:"object_type"`
	ObjectID   string    `json:"object_id"`
	Fields     []string  `json:"fields"`
	// Changes gives the old and new values of what decides where a credential's secrets are sent (its
	// destination: the URL settings, the settings a host or token endpoint is built from, and the
	// effective auth_method, set or implied), so a moved key is visible in the log.
	// These settings are never secret: URL settings refuse user-info and query strings.
	Changes []AuditChange `json:"changes,omitempty"`
	// ActorFederationRule is the federation rule whose exchanged token (or console session) did the
	// action; "" for an API token.
	ActorFederationRule string `json:"actor_federation_rule,omitempty"`
	// ActorClaims are the claims of the identity token that was exchanged, as the actor: `sub` and,
	// where the issuer sets them, repository, ref, environment, workflow, run_id, job_workflow_ref,
	// namespace_path, terraform_run_phase (and email for people). Never a token.
	ActorClaims map[string]string `json:"actor_claims,omitempty"`
	// Detail says why, for an event that records a refusal (a token exchange refused: which check
	// failed). Never a secret or a token.
	Detail string `json:"detail,omitempty"`
}

// AuditChange is one setting's value before and after a change; "" means absent.
type AuditChange struct {
	Field string `json:"field"`
	From  string `json:"from"`
	To    string `json:"to"`
}

// List is the envelope of every list answer.
type List[T any] struct {
	Items         []T    `json:"items"`
	NextPageToken string `json:"next_page_token,omitempty"`
}

// Problem is an RFC 9457 problem document, the body of every error answer.
type Problem struct {
	Type   string       `json:"type"`
	Title  string       `json:"title"`
	Status int          `json:"status"`
	Detail string       `json:"detail,omitempty"`
	Errors []FieldError `json:"errors,omitempty"`
	// Conflicts lists the ids of the objects that stand in the way of a 409.
	Conflicts []string `json:"conflicts,omitempty"`
}

// FieldError names one invalid field of a request. Field uses the request's JSON names, with dots for
// nesting (settings.endpoint).
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ProblemContentType is the media type of error answers.
const ProblemContentType = "application/problem+json"

// Provider is a catalog entry: a model provider that credentials can be made for.
type Provider struct {
	ID          string `json:"id"`
	DisplayName string `json:"display_name"`
	// Category is model_provider, cloud, gateway or self_hosted (ProviderCategories).
	Category string `json:"category"`
	// Settings are the non-secret, provider-specific fields a credential may carry.
	Settings []ProviderSetting `json:"settings"`
	// Secrets are the secret fields (api_key, auth_token) the provider takes.
	Secrets []ProviderSecret `json:"secrets"`
	// AuthMethods name how the key is presented to the provider (bearer, x-api-key, ...). A provider
	// with more than one has an auth_method setting (SettingAuthMethod) that chooses among them, and
	// AuthMethods are its allowed values, the default first.
	AuthMethods    []string `json:"auth_methods"`
	DefaultBaseURL string   `json:"default_base_url,omitempty"`
	DocsURL        string   `json:"docs_url"`
	// AnyModel is true for providers whose models cannot be listed from the catalog (custom servers,
	// gateways, Azure deployments): any model id is accepted, subject to policy.
	AnyModel bool `json:"any_model"`
}

// Provider categories: a model maker's own API, a cloud platform that serves models, a gateway in
// front of other providers, or a server of one's own.
const (
	CategoryModelProvider = "model_provider"
	CategoryCloud         = "cloud"
	CategoryGateway       = "gateway"
	CategorySelfHosted    = "self_hosted"
)

// ProviderCategories lists the provider categories.
var ProviderCategories = []string{CategoryModelProvider, CategoryCloud, CategoryGateway, CategorySelfHosted}

// ProviderSetting describes one non-secret setting of a provider.
type ProviderSetting struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Required    bool   `json:"required"`
	// Example is a sample value, shown in documentation and error messages.
	Example string `json:"example,omitempty"`
	// AllowedValues, when not empty, are the only values the setting takes.
	AllowedValues []string `json:"allowed_values,omitempty"`
	// AuthMethods, when not empty, are the authentication methods (values of the auth_method setting)
	// the setting belongs to: with one of them it is required, with any other it is refused.
	AuthMethods []string `json:"auth_methods,omitempty"`
	// Optional, with AuthMethods: the setting is allowed with those methods but not required (a
	// token_url with a documented default, for instance).
	Optional bool `json:"optional,omitempty"`
}

// AuthMethodWorkloadIdentity is the auth_method of a keyless credential: it stores no secret, and
// modelkeys-server exchanges an assertion it signs as an OpenID issuer for a vendor token that lasts
// minutes.
const AuthMethodWorkloadIdentity = "workload_identity"

// SettingAuthMethod is the setting that chooses a provider's authentication method when the provider
// has more than one (Provider.AuthMethods).
const SettingAuthMethod = "auth_method"

// ProviderSecret describes one secret field of a provider.
type ProviderSecret struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Required    bool   `json:"required"`
}

// WhoAmI is the answer of GET /v1/whoami: whom the request's token speaks for, and which store the
// server keeps. Clients call it once to check an endpoint and a token before they rely on them.
type WhoAmI struct {
	// OrganizationID and Organization are the id and name of the token's organisation.
	OrganizationID string `json:"organization_id"`
	Organization   string `json:"organization"`
	// Role is the token's role: admin, editor or viewer.
	Role string `json:"role"`
	// Actor is the token's name, as audit events show it.
	Actor string `json:"actor"`
	// StoreID is a random id the database gets when it is first opened; a copy or backup keeps it,
	// another database has another. Clients remember it to notice that an endpoint now reaches a
	// different database.
	StoreID string `json:"store_id"`
	// ProjectID is the project a token exchanged under a federation rule is confined to; absent for
	// a token of the whole organisation.
	ProjectID string `json:"project_id,omitempty"`
}
