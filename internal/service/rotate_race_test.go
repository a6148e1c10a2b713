package service

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/idgen"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/secrets"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store/sqlstore"
)

// These tests run rotate-master-key against services that keep running on the old key, on PostgreSQL
// (READ COMMITTED, transactions side by side). SQLite runs one write transaction at a time.

// rotationRace is a PostgreSQL database with a service on master key K1 and a second store for the
// rotation, with the keyring that rotates K1 to K2.
type rotationRace struct {
	h     *pgService
	rotSt *sqlstore.Store
	k2    []byte
	ring2 *secrets.Keyring // K2 primary, K1 older: what rotate-master-key runs with
}

func newRotationRace(t *testing.T) *rotationRace {
	t.Helper()
	h := newPGService(t, Config{AllowReveal: true})
	ctx := context.Background()
	rotSt, err := sqlstore.OpenPostgres(ctx, h.dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rotSt.Close() })
	k2 := secrets.NewMasterKey()
	ring2, err := secrets.NewKeyring(k2, h.key)
	if err != nil {
		t.Fatal(err)
	}
	return &rotationRace{h: h, rotSt: rotSt, k2: k2, ring2: ring2}
}

// restartOnK2 is a service started on K2 alone after the rotation.
func (r *rotationRace) restartOnK2(t *testing.T) *Service {
	t.Helper()
	k2only, err := secrets.NewKeyring(r.k2)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := New(context.Background(), Config{Store: r.rotSt, Keyring: k2only, AllowReveal: true})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// waitForLockWait returns once some session of the database waits for a row lock (the other side of
// the race is blocked, as it must be), and fails the test if none does within a few seconds.
func waitForLockWait(t *testing.T, h *pgService) {
	t.Helper()
	db, err := sql.Open("pgx", h.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var n int
		if err := db.QueryRow(`SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("nothing waited for the other transaction: writers and rotation do not exclude each other")
}

// A credential created by a server still on K1 while the rotation starts must end up wrapped by K2:
// the rotation waits for the create to commit, then rewraps it too.
func TestRotationWaitsForAWriteInFlight(t *testing.T) {
	t.Parallel()
	r := newRotationRace(t)
	h, ctx := r.h, context.Background()
	org := h.admin.OrgID
	key := "sk-proj-inflight-" + idgen.New("k")

	locked, release, wrote := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		wrote <- h.svc.tx(ctx, func(tx store.Tx) error {
			c := api.Credential{ID: idgen.New("cred"), Name: "inflight", Provider: "mistral", Settings: map[string]string{}, Labels: map[string]string{},
				HasAPIKey: true, SecretVersion: 1, Status: api.StatusUnverified, ConnectionIDs: []string{}, Version: 1, CreatedAt: time.Now(), UpdatedAt: time.Now()}
			if err := tx.InsertCredential(ctx, org, c); err != nil {
				return err
			}
			if err := h.svc.putSecrets(ctx, tx, org, c.ID, map[string]string{api.SecretAPIKey: key}); err != nil {
				return err
			}
			close(locked)
			<-release // the write is sealed with K1 and not committed yet
			return nil
		})
	}()
	<-locked
	rotated := make(chan error, 1)
	go func() { _, err := RotateMasterKey(ctx, r.rotSt, r.ring2); rotated <- err }()
	waitForLockWait(t, h)
	close(release)
	if err := <-wrote; err != nil {
		t.Fatalf("the write in flight: %v", err)
	}
	if err := <-rotated; err != nil {
		t.Fatalf("rotation: %v", err)
	}

	// Every secret is wrapped by K2, and a server restarted on K2 alone reads the new credential.
	if err := h.st.Tx(ctx, func(tx store.Tx) error {
		n, err := tx.CountSecretsNotWrappedBy(ctx, r.ring2.PrimaryKeyID())
		if n != 0 {
			t.Errorf("%d secret(s) still wrapped by the old key", n)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	svc := r.restartOnK2(t)
	list, err := svc.ListCredentials(ctx, Principal{OrgID: org, Role: api.RoleAdmin, Actor: "t"}, store.CredentialFilter{})
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("list: %v %+v", err, list)
	}
	got, err := svc.RevealCredential(ctx, Principal{OrgID: org, Role: api.RoleAdmin, Actor: "t"}, list.Items[0].ID)
	if err != nil || got.APIKey != key {
		t.Fatalf("the credential written during the rotation does not open on K2: %v", err)
	}
}

// A key changed by a server still on K1 while the rotation holds its lock must not be lost or
// overwritten with the old one: the change waits, then refuses (503) because the key it would seal
// with is gone, and the credential keeps its old key with hint, fingerprint and secret_version to match.
func TestRotationMakesALateWriteRefuse(t *testing.T) {
	t.Parallel()
	r := newRotationRace(t)
	h, ctx := r.h, context.Background()
	oldKey := "sk-proj-old-" + idgen.New("k")
	c, _, err := h.svc.CreateCredential(ctx, h.admin, api.CredentialCreate{Name: "changing", Provider: "openai", APIKey: &oldKey, Verify: ptr(false)}, nil)
	if err != nil {
		t.Fatal(err)
	}

	holding, release, rotated := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		_, err := rotateMasterKey(ctx, r.rotSt, r.ring2, func() { close(holding); <-release })
		rotated <- err
	}()
	<-holding // the rotation holds the lock and has read every secret

	newKey := "sk-proj-new-" + idgen.New("k")
	updated := make(chan error, 1)
	admin := h.admin
	go func() {
		_, err := h.svc.UpdateCredential(ctx, admin, c.ID, api.CredentialPatch{APIKey: &newKey}, 0)
		updated <- err
	}()
	waitForLockWait(t, h)
	close(release)
	if err := <-rotated; err != nil {
		t.Fatalf("rotation: %v", err)
	}
	if e, ok := AsError(<-updated); !ok || e.Status != StatusUnavailable {
		t.Fatalf("the late write: %v, want a 503 refusal", e)
	}

	svc := r.restartOnK2(t)
	got, err := svc.GetCredential(ctx, admin, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	rev, err := svc.RevealCredential(ctx, admin, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rev.APIKey != oldKey || got.SecretVersion != c.SecretVersion || got.SecretHint != c.SecretHint || got.SecretFingerprint != c.SecretFingerprint {
		t.Fatalf("after the refused write: key is the old one %v, secret_version %d (want %d), hint %q (want %q), fingerprint changed %v",
			rev.APIKey == oldKey, got.SecretVersion, c.SecretVersion, got.SecretHint, c.SecretHint, got.SecretFingerprint != c.SecretFingerprint)
	}
}
