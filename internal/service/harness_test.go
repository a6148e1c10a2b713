package service

import (
	"context"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/secrets"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store/pgtest"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store/sqlstore"
)

// The tests of this package drive the Service directly, below HTTP; internal/server's tests drive it
// through the API.

func TestMain(m *testing.M) { pgtest.Main(m) }

// pgService is a Service on a fresh PostgreSQL database (the test skips where PostgreSQL is not
// installed), with the store, the master key and the admin of organisation "acme".
type pgService struct {
	svc   *Service
	st    *sqlstore.Store
	dsn   string
	key   []byte
	admin Principal
}

func newPGService(t *testing.T, cfg Config) *pgService {
	t.Helper()
	ctx := context.Background()
	dsn := pgtest.Start(t)
	st, err := sqlstore.OpenPostgres(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	key := secrets.NewMasterKey()
	ring, err := secrets.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Store, cfg.Keyring = st, ring
	svc, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var org store.Organization
	if err := st.Tx(ctx, func(tx store.Tx) error {
		org, err = tx.EnsureOrganization(ctx, "acme")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return &pgService{svc: svc, st: st, dsn: dsn, key: key, admin: Principal{OrgID: org.ID, Actor: "acme-admin", Role: api.RoleAdmin, TokenID: "tok_admin"}}
}

func ptr[T any](v T) *T { return &v }
