package sqlstore

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// backend is one database kind the tests run against.
type backend struct {
	name string
	// newDSN makes a fresh empty database and returns what Open takes to reach it.
	newDSN func(t *testing.T) string
}

// backends always yields SQLite on a temporary file and PostgreSQL, whose subtests skip (through
// pgtest) when PostgreSQL is not installed.
func backends(t *testing.T) []backend {
	t.Helper()
	return []backend{
		{name: DialectSQLite, newDSN: func(t *testing.T) string {
			// A directory that does not exist yet: OpenSQLite must create it.
			return filepath.Join(t.TempDir(), "state", "modelkeys.db")
		}},
		{name: DialectPostgres, newDSN: func(t *testing.T) string { return pgtest.Start(t) }},
	}
}

// eachBackend runs fn as a parallel subtest per backend, each with its own fresh store.
func eachBackend(t *testing.T, fn func(t *testing.T, s *Store)) {
	t.Helper()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			fn(t, openStore(t, b.newDSN(t)))
		})
	}
}

func openStore(t *testing.T, dsn string) *Store {
	t.Helper()
	s, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// inTx runs fn in a transaction and fails the test on error.
func inTx(t *testing.T, s *Store, fn func(tx store.Tx) error) {
	t.Helper()
	if err := s.Tx(context.Background(), fn); err != nil {
		t.Fatalf("tx: %v", err)
	}
}

// txErr runs fn in a transaction and returns its error.
func txErr(s *Store, fn func(tx store.Tx) error) error {
	return s.Tx(context.Background(), fn)
}

// base is a time with nanoseconds, to check exact round trips.
var base = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC)

func at(n int) time.Time { return base.Add(time.Duration(n) * time.Second) }

func ensureOrg(t *testing.T, s *Store, name string) string {
	t.Helper()
	var id string
	inTx(t, s, func(tx store.Tx) error {
		o, err := tx.EnsureOrganization(context.Background(), name)
		id = o.ID
		return err
	})
	return id
}

func newCredential(id, name, project string) api.Credential {
	return api.Credential{
		ID:                id,
		Name:              name,
		Description:       "key " + name,
		Provider:          "openai",
		ProjectID:         project,
		Settings:          map[string]string{"base_url": "https://api.example.test/v1"},
		Labels:            map[string]string{"team": "ml"},
		SecretHint:        "sk-...wxyz",
		SecretFingerprint: "fp-" + id,
		SecretVersion:     1,
		Status:            api.StatusUnverified,
		ConnectionIDs:     []string{},
		Version:           1,
		CreatedAt:         at(0),
		UpdatedAt:         at(0),
		RotatedAt:         at(0),
		LifecycleStatus:   api.LifecycleOK,
		Purpose:           api.PurposeInference,
	}
}

func newConnection(id, name, credID, project string) api.Connection {
	return api.Connection{
		ID:           id,
		Name:         name,
		CredentialID: credID,
		Model:        "gpt-4o",
		ProjectID:    project,
		Parameters:   `{"temperature":0.2}`,
		Enabled:      true,
		Status:       api.ConnectionReady,
		Version:      1,
		CreatedAt:    at(1),
		UpdatedAt:    at(1),
	}
}

func newProject(id, name string) api.Project {
	return api.Project{ID: id, Name: name, Description: "d", Version: 1, CreatedAt: at(2), UpdatedAt: at(2)}
}

// cid makes ids that sort in creation order, as the service's do.
func cid(prefix string, n int) string { return fmt.Sprintf("%s_%04d", prefix, n) }

// downgrade0007 undoes migration 0007, for tests that take the schema back to an older version and
// migrate again.
// It is clipped (no spare capacity), so a test that appends to it gets a copy of its own: tests that run
// in parallel must not write into one shared array.
var downgrade0007 = slices.Clip(slices.Concat(downgrade0011, downgrade0010, downgrade0009, downgrade0008, []string{
	"ALTER TABLE credentials DROP COLUMN destination_set_by_token",
	"ALTER TABLE credentials DROP COLUMN destination_set_by", "ALTER TABLE credentials DROP COLUMN destination_set_at"}))

// downgrade0008 undoes migration 0008 (identity providers, federation rules, exchanged tokens, and
// the audit event's federation actor and detail).
var downgrade0008 = []string{"DROP TABLE exchanged_tokens", "DROP TABLE federation_rules", "DROP TABLE identity_provider_secrets",
	"DROP TABLE identity_providers", "ALTER TABLE audit_events DROP COLUMN actor_federation_rule",
	"ALTER TABLE audit_events DROP COLUMN actor_claims", "ALTER TABLE audit_events DROP COLUMN detail"}

// downgrade0011 undoes migration 0011 (the console's indexes).
var downgrade0011 = []string{"DROP INDEX audit_events_object", "DROP INDEX audit_events_actor", "DROP INDEX audit_events_action",
	"DROP INDEX credentials_org_name", "DROP INDEX credentials_org_rotated"}

// downgrade0009 undoes migration 0009 (the issuer's signing keys).
var downgrade0009 = []string{"DROP TABLE signing_keys"}

// downgrade0010 undoes migration 0010 (managed rotation); downgrade0007 starts with it, since the tests
// that take the schema back take it back past 0010 too.
var downgrade0010 = []string{"DROP TABLE credential_rotations", "ALTER TABLE credentials DROP COLUMN purpose",
	"ALTER TABLE credentials DROP COLUMN rotation"}
