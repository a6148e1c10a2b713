// Package store defines the storage behind the modelkeys server. The service layer talks only to the
// interfaces here; sqlstore implements them over database/sql for SQLite and PostgreSQL.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

// Errors every implementation returns, wrapped or bare, so callers test them with errors.Is.
var (
	// ErrNotFound: no such row in this organisation.
	ErrNotFound = errors.New("not found")
	// ErrDuplicate: a unique constraint refused the write (a name taken, an idempotency key used).
	ErrDuplicate = errors.New("duplicate")
	// ErrVersionMismatch: an update's expected version is not the stored one (a lost race).
	ErrVersionMismatch = errors.New("version mismatch")
	// ErrSchemaTooNew: the database was written by a newer modelkeys.
	ErrSchemaTooNew = errors.New("database schema is newer than this binary")
)

// Store is an open database.
type Store interface {
	// Tx runs fn in one transaction, committing when fn returns nil and rolling back otherwise.
	Tx(ctx context.Context, fn func(Tx) error) error
	// ReadTx runs fn in a read-only transaction, which may run beside writers; its writes fail.
	ReadTx(ctx context.Context, fn func(Tx) error) error
	// ReadOne runs fn, which must read with a single statement, without a transaction (cheaper than
	// ReadTx); its writes and any second statement fail.
	ReadOne(ctx context.Context, fn func(Tx) error) error
	// Ping checks that the database answers (readiness).
	Ping(ctx context.Context) error
	// Dialect names the backend ("sqlite" or "postgres").
	Dialect() string
	Close() error
}

// LeaderLocker is implemented by stores that several processes share (PostgreSQL): TryLeaderLock
// takes the lock called name without waiting, so that one process among them runs a background job
// (the re-verification loop). ok is false when another process holds it. release gives it up; the
// lock also ends with its holder's database session, so a crashed holder never blocks the others.
// SQLite's store serves one process, so there it is always ok.
type LeaderLocker interface {
	TryLeaderLock(ctx context.Context, name string) (release func(), ok bool, err error)
}

// Organization owns tokens and every object.
type Organization struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

// Token is an API token; only the SHA-256 of its value is stored.
type Token struct {
	ID        string
	OrgID     string
	Name      string
	Role      string
	Hash      string
	CreatedAt time.Time
	RevokedAt *time.Time
}

// SealedSecret is one encrypted secret field of a credential.
type SealedSecret struct {
	OrgID        string
	CredentialID string
	Field        string // api.SecretAPIKey or api.SecretAuthToken
	KeyID        string // the master key that wrapped DataKey
	WrappedKey   []byte
	Ciphertext   []byte
}

// ScopeCredentialPolicies are the credential policies stored for a credential's scope: the
// organisation's and, for a project's credential, the project's; nil where none is stored.
type ScopeCredentialPolicies struct {
	Organization, Project *api.CredentialPolicy
}

// CredentialFilter narrows ListCredentials. Empty fields do not filter. ProjectID "-" selects the
// organisation scope only.
type CredentialFilter struct {
	ProjectID string
	Provider  string
	Name      string
	// NamePrefix keeps the credentials whose name starts with it (byte for byte, case-sensitive).
	NamePrefix string
	// Status keeps the credentials with that status (api.StatusVerified, ...).
	Status  string
	AfterID string // page after this id (ids sort in creation order)
	Limit   int
	// LifecycleStatus is applied by the service, which computes it; stores ignore it.
	LifecycleStatus string
}

// ConnectionFilter narrows ListConnections.
type ConnectionFilter struct {
	ProjectID    string
	CredentialID string
	Name         string
	// Model keeps the connections to that model id; NamePrefix those whose name starts with it.
	Model      string
	NamePrefix string
	AfterID    string
	Limit      int
}

// Idempotency remembers the first answer to a POST with an Idempotency-Key.
type Idempotency struct {
	OrgID       string
	Key         string
	RequestHash string
	ObjectType  string
	ObjectID    string
	CreatedAt   time.Time
}

// Tx is one transaction. Every method that takes orgID answers only for that organisation: another
// organisation's object is ErrNotFound.
type Tx interface {
	Identity        // identity providers, federation rules, exchanged tokens (identity.go)
	ConsoleSignIn   // the console's single sign-on (console_signin.go)
	SigningKeys     // the issuer's JWT signing keys (signing_keys.go)
	ConsoleReads    // the web console's bounded reads (console.go)
	RotationJournal // managed rotation (rotation.go)

	// Meta holds server-wide values such as the wrapped fingerprint key.
	GetMeta(ctx context.Context, key string) (string, bool, error)
	PutMeta(ctx context.Context, key, value string) error
	// InsertMeta writes a new key; ErrDuplicate when it exists (a first start racing another replica's).
	InsertMeta(ctx context.Context, key, value string) error
	// LockMeta is GetMeta that also locks the row until the transaction ends: shared, beside other
	// shared holders, or exclusive. Writers of secrets hold the fingerprint key's row shared and
	// master-key rotation holds it exclusive, so the two never interleave (where transactions run
	// side by side: PostgreSQL).
	LockMeta(ctx context.Context, key string, exclusive bool) (string, bool, error)

	EnsureOrganization(ctx context.Context, name string) (Organization, error)
	GetOrganization(ctx context.Context, id string) (Organization, error)
	InsertToken(ctx context.Context, t Token) error
	TokenByHash(ctx context.Context, hash string) (Token, error)
	ListTokens(ctx context.Context) ([]Token, error)
	RevokeToken(ctx context.Context, id string, at time.Time) error

	// Credentials. ConnectionIDs and the secret fields are filled by the implementation on read.
	InsertCredential(ctx context.Context, orgID string, c api.Credential) error
	GetCredential(ctx context.Context, orgID, id string) (api.Credential, error)
	// GetCredentialInScope is GetCredential with the credential policies of the credential's scope as
	// stored, read in the same statement: every answer that holds a credential needs them.
	GetCredentialInScope(ctx context.Context, orgID, id string) (api.Credential, ScopeCredentialPolicies, error)
	ListCredentials(ctx context.Context, orgID string, f CredentialFilter) ([]api.Credential, error)
	// UpdateCredential writes c when the stored version is expectVersion; c.Version is the new one.
	UpdateCredential(ctx context.Context, orgID string, c api.Credential, expectVersion int64) error
	DeleteCredential(ctx context.Context, orgID, id string) error
	CountCredentials(ctx context.Context, orgID string) (int, error)
	// LockOrganization serialises, until the transaction ends, the transactions that take it for the
	// same organisation, so a count-then-insert limit check holds across replicas (PostgreSQL: a
	// row lock on the organisation that does not block foreign-key checks). A no-op where
	// transactions are serialised anyway (SQLite). ErrNotFound when there is no such organisation.
	LockOrganization(ctx context.Context, orgID string) error
	// ListAllCredentials walks every organisation's credentials (re-verification, key rotation).
	ListAllCredentialRefs(ctx context.Context) ([]CredentialRef, error)
	// SetCredentialLifecycle records the lifecycle status last seen, without a new version.
	SetCredentialLifecycle(ctx context.Context, orgID, id, status string) error
	// CredentialLifecycleClasses lists each distinct (organisation, project, rotation_period) of the
	// stored credentials with the credential policies stored for its scope, in one statement: all that
	// a credential's lifecycle status depends on besides its own times. /metrics counts with it.
	CredentialLifecycleClasses(ctx context.Context) ([]CredentialLifecycleClass, error)
	// CountCredentialsByLifecycle counts every credential by lifecycle status in one aggregate
	// statement, comparing its times with the thresholds of its class (see LifecycleThreshold); a
	// credential of a class without thresholds is not counted.
	CountCredentialsByLifecycle(ctx context.Context, now time.Time, thresholds []LifecycleThreshold) (map[string]int, error)

	PutSecret(ctx context.Context, s SealedSecret) error
	GetSecrets(ctx context.Context, orgID, credentialID string) ([]SealedSecret, error)
	DeleteSecret(ctx context.Context, orgID, credentialID, field string) error
	ListAllSecrets(ctx context.Context) ([]SealedSecret, error)
	// RewrapSecret swaps in a secret's new key id and wrapped key if its wrapped key is still
	// oldWrappedKey; false when it is not (or the secret is gone).
	RewrapSecret(ctx context.Context, s SealedSecret, oldWrappedKey []byte) (bool, error)
	// CountSecretsNotWrappedBy counts the secrets that a master key other than keyID wraps.
	CountSecretsNotWrappedBy(ctx context.Context, keyID string) (int, error)

	InsertConnection(ctx context.Context, orgID string, c api.Connection) error
	GetConnection(ctx context.Context, orgID, id string) (api.Connection, error)
	ListConnections(ctx context.Context, orgID string, f ConnectionFilter) ([]api.Connection, error)
	UpdateConnection(ctx context.Context, orgID string, c api.Connection, expectVersion int64) error
	DeleteConnection(ctx context.Context, orgID, id string) error

	// GetModelPolicy returns ErrNotFound when the scope has never had a policy (meaning mode all).
	GetModelPolicy(ctx context.Context, orgID, projectID string) (api.ModelPolicy, error)
	// PutModelPolicy inserts or replaces; expectVersion 0 skips the version check.
	PutModelPolicy(ctx context.Context, orgID string, p api.ModelPolicy, expectVersion int64) error
	DeleteModelPolicy(ctx context.Context, orgID, projectID string) error

	// ScopeCredentialPolicies reads, in one statement, the credential policies stored for projectID's
	// scope: the organisation's and, unless projectID is "", the project's.
	ScopeCredentialPolicies(ctx context.Context, orgID, projectID string) (ScopeCredentialPolicies, error)
	// GetCredentialPolicy returns ErrNotFound when the scope has never had one (no rules).
	GetCredentialPolicy(ctx context.Context, orgID, projectID string) (api.CredentialPolicy, error)
	// PutCredentialPolicy inserts or replaces; expectVersion 0 skips the version check.
	PutCredentialPolicy(ctx context.Context, orgID string, p api.CredentialPolicy, expectVersion int64) error
	DeleteCredentialPolicy(ctx context.Context, orgID, projectID string) error

	InsertProject(ctx context.Context, orgID string, p api.Project) error
	GetProject(ctx context.Context, orgID, id string) (api.Project, error)
	ListProjects(ctx context.Context, orgID string, name, afterID string, limit int) ([]api.Project, error)
	// ListProjectsByPrefix is ListProjects of the projects whose name starts with namePrefix ("" all).
	ListProjectsByPrefix(ctx context.Context, orgID string, namePrefix, afterID string, limit int) ([]api.Project, error)
	UpdateProject(ctx context.Context, orgID string, p api.Project, expectVersion int64) error
	DeleteProject(ctx context.Context, orgID, id string) error

	GetIdempotency(ctx context.Context, orgID, key string) (Idempotency, error)
	// InsertIdempotency returns ErrDuplicate when the key is taken.
	InsertIdempotency(ctx context.Context, i Idempotency) error

	InsertAudit(ctx context.Context, orgID string, e api.AuditEvent) error
	ListAudit(ctx context.Context, orgID string, afterID int64, limit int) ([]api.AuditEvent, error)
}

// CredentialLifecycleClass is one (organisation, project, rotation_period) that stored credentials
// have, with the credential policies stored for the scope.
type CredentialLifecycleClass struct {
	OrgID, ProjectID, RotationPeriod string
	Policies                         ScopeCredentialPolicies
}

// LifecycleThreshold says when the credentials of one class are expiring and due for rotation, as the
// service's rules compute them: expired when expires_at <= now, else expiring when expires_at <=
// ExpiringIfBefore, else rotation_due when rotated_at <= DueIfRotatedBefore (nil: never), else ok.
type LifecycleThreshold struct {
	OrgID, ProjectID, RotationPeriod string
	ExpiringIfBefore                 time.Time
	DueIfRotatedBefore               *time.Time
}

// CredentialRef identifies a credential across organisations.
type CredentialRef struct {
	OrgID string
	ID    string
}
