// Package service holds the rules of modelkeys: credentials and their sealed secrets, connections,
// projects, model and credential policies, verification, re-verification, lifecycle and master-key
// rotation, over a store. It knows nothing of HTTP: internal/server is its HTTP face (routes, problem
// documents, OpenAPI, metrics, rate limits) and internal/console its web pages; both call it.
package service

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/federation"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/issuer"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/secrets"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// Limits bound what one organisation and one request may do.
type Limits struct {
	// MaxCredentialsPerOrg caps the credentials of an organisation (DESIGN: 200).
	MaxCredentialsPerOrg int
	// MaxBodyBytes caps request bodies (DESIGN: 1 MiB).
	MaxBodyBytes int64
	// OnePerProvider lists providers that an organisation may hold only one credential of
	// (Label Studio's rule). Empty: no such limit.
	OnePerProvider []string
	// RequestsPerSecond and Burst rate-limit each token; zero turns the limit off.
	RequestsPerSecond float64
	Burst             int
	// AuthFailures and AuthFailureRefill limit failed authentications per client address (the host of
	// the connection's remote address; X-Forwarded-For is not trusted): each 401 takes one from a
	// bucket of AuthFailures that refills AuthFailureRefill per second (zero or less means 1). While an
	// address's bucket is empty, every request from it that needs a token is answered 429 before the
	// token is looked up, so guessing costs no database read; a valid token from that address is
	// refused too until the bucket refills. Zero AuthFailures turns the limit off; embedded mode has
	// no tokens and never limits.
	AuthFailures      int
	AuthFailureRefill float64
	// ProbesPerOrg bounds the provider probes (verifications, model lists) an organisation has in
	// flight; ProbeWait is how long one more waits for a slot before a 429. Zero: the defaults
	// (DefaultProbesPerOrg, DefaultProbeWait).
	ProbesPerOrg int
	ProbeWait    time.Duration
}

// DefaultLimits are the limits of DESIGN.md, and a limit on failed authentication: 10 per client
// address, refilling one a second, which no correctly configured client comes near.
func DefaultLimits() Limits {
	return Limits{MaxCredentialsPerOrg: 200, MaxBodyBytes: 1 << 20, AuthFailures: 10, AuthFailureRefill: 1}
}

// Verifier probes a provider with a credential's secrets. It is called outside any transaction.
type Verifier interface {
	Verify(ctx context.Context, p api.Provider, settings map[string]string, secrets map[string]string) api.VerifyResult
}

// Config configures a Server.
type Config struct {
	Store   store.Store
	Keyring *secrets.Keyring
	Logger  *slog.Logger
	Limits  Limits
	// Verifier probes keys on create and update; nil leaves credentials "unverified".
	Verifier Verifier
	// AllowReveal lets admin tokens read decrypted secrets through /v1/credentials/{id}/reveal.
	AllowReveal bool
	// Embedded serves every request as an admin of organisation "default" without a token: the
	// Terraform provider's in-process mode, where the caller already holds the database file.
	Embedded bool
	// Version is reported by /healthz and in the OpenAPI document.
	Version string
	// Now is the clock; tests replace it.
	Now func() time.Time
	// TokenCacheTTL, when positive, lets a valid token be trusted for this long without a database
	// read; a revoked token then stops working within the TTL instead of at once. Zero: no cache.
	TokenCacheTTL time.Duration
	// IssuerURL, when set, makes the server an OpenID issuer at that base URL (see issuer.go); empty:
	// no discovery document, no JWKS, and MintAssertion refuses with ErrNoIssuer.
	IssuerURL string
	// Federation verifies the tokens of the identity providers organisations trust (token exchange,
	// console sign-in); its discovery and key fetches must dial through Egress. server.New builds one
	// when it is nil.
	Federation *federation.Verifier
	// Egress is the server's egress policy (*verify.EgressPolicy): an identity provider's issuer may be
	// plain http only on a loopback address it allows. nil allows none.
	Egress EgressChecker
}

// Service holds the rules of the API over the store.
type Service struct {
	cfg   Config
	store store.Store
	keys  *secrets.Keyring
	fp    *secrets.Fingerprinter
	log   *slog.Logger
	now   func() time.Time

	embeddedMu  sync.Mutex
	embeddedOrg string
	storeID     atomic.Pointer[string] // see StoreID

	tokens   tokenCache     // see Config.TokenCacheTTL
	probes   probeLimiter   // see Limits.ProbesPerOrg
	compares compareLimiter // see SecretMatches
	keyless  keylessState   // see CredentialAccessToken
	issuer   *issuer.Issuer // nil unless Config.IssuerURL is set (issuer.go)
	rot      rotationState  // managed rotation (managed_rotation.go)
	replays  replayLimiter  // exchanges of one subject token (token_exchange_limit.go)
}

const metaFingerprintKey = "fingerprint_key"

// New opens the service: it loads, or on first start creates, the wrapped fingerprint key.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Keyring == nil {
		return nil, errors.New("server: a store and a keyring are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Limits.MaxBodyBytes == 0 {
		cfg.Limits.MaxBodyBytes = DefaultLimits().MaxBodyBytes
	}
	s := &Service{cfg: cfg, store: cfg.Store, keys: cfg.Keyring, log: cfg.Logger, now: func() time.Time { return cfg.Now().UTC() }}
	err := s.store.Tx(ctx, func(tx store.Tx) error {
		raw, ok, err := tx.GetMeta(ctx, metaFingerprintKey)
		if err != nil {
			return err
		}
		var sealed secrets.Sealed
		if ok {
			if sealed, err = decodeSealed(raw); err != nil {
				return fmt.Errorf("stored fingerprint key: %w", err)
			}
		} else {
			if sealed, err = s.keys.NewFingerprintKey(); err != nil {
				return err
			}
			// Insert, never overwrite: replicas starting together on a new database must end up with
			// one fingerprint key, the first one written, or their fingerprints would disagree.
			switch err := tx.InsertMeta(ctx, metaFingerprintKey, encodeSealed(sealed)); {
			case errors.Is(err, store.ErrDuplicate):
				if raw, ok, err = tx.GetMeta(ctx, metaFingerprintKey); err != nil {
					return err
				} else if !ok {
					return errors.New("the fingerprint key another replica wrote is gone")
				}
				if sealed, err = decodeSealed(raw); err != nil {
					return fmt.Errorf("stored fingerprint key: %w", err)
				}
			case err != nil:
				return err
			}
		}
		s.fp, err = s.keys.OpenFingerprintKey(sealed)
		if err != nil {
			return fmt.Errorf("this database was encrypted with another master key (%s): start with that key, or rotate to this one with rotate-master-key: %w", sealed.KeyID, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := s.upgradeFingerprints(ctx); err != nil {
		return nil, fmt.Errorf("upgrade secret fingerprints to the per-organisation scheme: %w", err)
	}
	if err := s.openIssuer(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// encodeSealed writes a sealed value as text for the meta table: keyid.wrapped.ciphertext.
func encodeSealed(s secrets.Sealed) string {
	return s.KeyID + "." + base64.RawStdEncoding.EncodeToString(s.WrappedKey) + "." + base64.RawStdEncoding.EncodeToString(s.Ciphertext)
}

func decodeSealed(text string) (secrets.Sealed, error) {
	parts := strings.Split(text, ".")
	if len(parts) != 3 {
		return secrets.Sealed{}, errors.New("malformed sealed value")
	}
	wk, err1 := base64.RawStdEncoding.DecodeString(parts[1])
	ct, err2 := base64.RawStdEncoding.DecodeString(parts[2])
	if err := errors.Join(err1, err2); err != nil {
		return secrets.Sealed{}, err
	}
	return secrets.Sealed{KeyID: parts[0], WrappedKey: wk, Ciphertext: ct}, nil
}

// Principal is who makes a request: a token's organisation, name and role.
type Principal struct {
	OrgID string
	Actor string
	Role  string
	// TokenID keys the per-token rate limit.
	TokenID string
	// ProjectID confines the principal to one project ("" is the whole organisation): a token
	// exchanged under a federation rule with a project_id (see project_scope.go).
	ProjectID string
	// FederationRuleID is the rule an exchanged token or a console sign-in was issued under; "" for
	// an API token.
	FederationRuleID string
	// Credentials is the rule's credentials list (ids, or "*"): the keyless credentials whose vendor
	// tokens the principal may fetch. nil for an API token.
	Credentials []string
	// Claims are the identity token's claims kept for the audit log (sub, repository, ref, ...).
	Claims map[string]string
	// identityProviderID is the rule's identity provider (to forget cached tokens when it changes).
	identityProviderID string
}

// CanWrite reports whether the principal may change things (an editor or admin token), the rule
// every write applies.
func (p Principal) CanWrite() bool { return p.Role == api.RoleAdmin || p.Role == api.RoleEditor }

func requireWrite(p Principal) error {
	if !p.CanWrite() {
		return forbidden(fmt.Sprintf("token %q has role %s, which may only read; use an editor or admin token to change things.", p.Actor, p.Role))
	}
	return nil
}

func requireAdmin(p Principal) error {
	if p.Role != api.RoleAdmin {
		return forbidden(fmt.Sprintf("token %q has role %s; this needs an admin token.", p.Actor, p.Role))
	}
	return nil
}

// tx runs fn in a store transaction.
// pageOf trims items, read with limit+1, to one page of limit: the extra item, when there is one,
// says another page follows, which starts after the id of this page's last item.
func pageOf[T any](items []T, limit int, id func(T) string) (page []T, next string) {
	if len(items) > limit {
		return items[:limit], id(items[limit-1])
	}
	return items, ""
}

func (s *Service) tx(ctx context.Context, fn func(store.Tx) error) error {
	return s.store.Tx(ctx, fn)
}

// read runs fn in a read-only transaction, which on SQLite runs beside writers instead of behind them.
// Decisions that lead to a write are re-checked by the write (versions, unique keys), so reading from
// a snapshot is safe.
func (s *Service) read(ctx context.Context, fn func(store.Tx) error) error {
	return s.store.ReadTx(ctx, fn)
}

// readOne runs fn, which reads with one statement, without a transaction: cheaper than read for the
// hottest reads (a credential, a token, an idempotency key). A second statement in fn fails.
func (s *Service) readOne(ctx context.Context, fn func(store.Tx) error) error {
	return s.store.ReadOne(ctx, fn)
}

// audit records a change. fields are names only, never values.
func (s *Service) audit(ctx context.Context, tx store.Tx, p Principal, action, objectType, objectID string, fields []string) error {
	return s.auditChanges(ctx, tx, p, action, objectType, objectID, fields, nil)
}

// auditChanges records a change that also moved a credential's destination: changes hold the old and
// new values of destination settings, which are never secret.
func (s *Service) auditChanges(ctx context.Context, tx store.Tx, p Principal, action, objectType, objectID string, fields []string, changes []api.AuditChange) error {
	if fields == nil {
		fields = []string{}
	}
	return tx.InsertAudit(ctx, p.OrgID, api.AuditEvent{
		Time: s.now(), Actor: p.Actor, Action: action, ObjectType: objectType, ObjectID: objectID, Fields: fields, Changes: changes,
		ActorFederationRule: p.FederationRuleID, ActorClaims: p.Claims,
	})
}

// ListAudit pages the organisation's audit events.
func (s *Service) ListAudit(ctx context.Context, p Principal, after int64, limit int) (api.List[api.AuditEvent], error) {
	if err := requireUnscoped(p, "the organisation's audit log"); err != nil {
		return api.List[api.AuditEvent]{}, err
	}
	limit = clampLimit(limit)
	var out api.List[api.AuditEvent]
	err := s.read(ctx, func(tx store.Tx) error {
		items, err := tx.ListAudit(ctx, p.OrgID, after, limit+1)
		if err != nil {
			return err
		}
		if len(items) > limit {
			items = items[:limit]
			out.NextPageToken = fmt.Sprint(items[limit-1].ID)
		}
		out.Items = items
		return nil
	})
	return out, err
}

// Logger is the service's logger, which the HTTP layer and the console log into too.
func (s *Service) Logger() *slog.Logger { return s.log }

// Limits are the limits the service was configured with (defaults filled in), the HTTP layer's among them.
func (s *Service) Limits() Limits { return s.cfg.Limits }

// Version is the version the service reports (in /healthz and the OpenAPI document).
func (s *Service) Version() string { return s.cfg.Version }

// Embedded reports whether this is the provider's in-process mode, where every caller is an admin.
func (s *Service) Embedded() bool { return s.cfg.Embedded }

// Dialect names the store's database ("sqlite" or "postgres").
func (s *Service) Dialect() string { return s.store.Dialect() }

// Ping reports whether the database answers.
func (s *Service) Ping(ctx context.Context) error { return s.store.Ping(ctx) }

func clampLimit(n int) int {
	switch {
	case n <= 0:
		return 100
	case n > 500:
		return 500
	}
	return n
}

// storeErr maps store sentinel errors on a named object to API errors.
func storeErr(err error, kind, id string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return notFound(kind, id)
	}
	return err
}
