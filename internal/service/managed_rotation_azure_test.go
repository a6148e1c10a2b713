package service

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/secrets"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store/pgtest"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store/sqlstore"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/verify"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/verify/vendorfake"
)

// newAzureRotEnv is rotEnv with the Azure fake: Entra ID, Resource Manager and the resource's
// endpoint on one loopback server.
func newAzureRotEnv(t *testing.T, backend string) *rotEnv {
	t.Helper()
	ctx := context.Background()
	var st store.Store
	var err error
	if backend == sqlstore.DialectPostgres {
		st, err = sqlstore.OpenPostgres(ctx, pgtest.Start(t))
	} else {
		st, err = sqlstore.OpenSQLite(ctx, filepath.Join(t.TempDir(), "modelkeys.db"))
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	ring, err := secrets.NewKeyring(secrets.NewMasterKey())
	if err != nil {
		t.Fatal(err)
	}
	fake := vendorfake.New("azure_openai", "entra-client-secret-0123456789")
	t.Cleanup(fake.Close)
	e := &rotEnv{t: t, st: st, ring: ring, clock: &testClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}, fake: fake, vendor: "azure_openai"}
	e.svc = e.startAzure()
	var org store.Organization
	if err := st.Tx(ctx, func(tx store.Tx) error {
		org, err = tx.EnsureOrganization(ctx, "acme")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	e.admin = Principal{OrgID: org.ID, Actor: "acme-admin", Role: api.RoleAdmin, TokenID: "tok_admin"}
	return e
}

func (e *rotEnv) startAzure() *Service {
	e.t.Helper()
	v := verify.New(verify.Options{Egress: verify.EmbeddedEgress(), BaseURLs: map[string]string{
		verify.EntraBaseURLKey: e.fake.URL(), verify.AzureManagementBaseURLKey: e.fake.URL()}})
	svc, err := New(context.Background(), Config{Store: e.st, Keyring: e.ring, Verifier: v, Now: e.clock.Now, AllowReveal: true})
	if err != nil {
		e.t.Fatal(err)
	}
	svc.rot.verifyAttempts = 1
	return svc
}

func (e *rotEnv) azureResource() map[string]string {
	return map[string]string{"endpoint": e.fake.URL(), "deployment": "gpt-4o-prod", "api_version": "2024-10-21"}
}

func (e *rotEnv) createAzure() (admin, managed api.Credential) {
	e.t.Helper()
	ctx := context.Background()
	key := e.fake.AdminKey
	settings := e.azureResource()
	settings["tenant_id"], settings["client_id"] = "72f988bf-86f1-41af-91ab-2d7cd011db47", "00001111-aaaa-2222-bbbb-3333cccc4444"
	admin, _, err := e.svc.CreateCredential(ctx, e.admin, api.CredentialCreate{Name: "azure-admin", Provider: "azure_openai", Purpose: api.PurposeAdmin, APIKey: &key, Settings: settings}, nil)
	if err != nil {
		e.t.Fatalf("admin credential: %v", err)
	}
	if admin.Status != api.StatusVerified {
		e.t.Fatalf("admin status %s: %s", admin.Status, admin.StatusMessage)
	}
	ms := e.azureResource()
	ms["subscription_id"], ms["resource_group"], ms["account_name"] = "00000000-1111-2222-3333-444444444444", "rg-ai", "contoso-openai"
	managed, _, err = e.svc.CreateCredential(ctx, e.admin, api.CredentialCreate{Name: "azure-app", Provider: "azure_openai", Settings: ms,
		Rotation: &api.CredentialRotation{Mode: api.RotationModeManaged, AdminCredentialID: admin.ID, Overlap: "1h"}}, nil)
	if err != nil {
		e.t.Fatalf("managed credential: %v", err)
	}
	return admin, managed
}

// Azure: key1 and key2 alternate. The first key regenerates key1; a rotation regenerates key2 and
// switches to it; key1's value keeps working for the overlap and is then regenerated away.
func TestManagedRotationAzure(t *testing.T) {
	for _, backend := range []string{sqlstore.DialectSQLite, sqlstore.DialectPostgres} {
		t.Run(backend, func(t *testing.T) {
			e := newAzureRotEnv(t, backend)
			ctx := context.Background()
			original := e.fake.LiveSecrets()
			_, c := e.createAzure()
			first := e.currentKey(c.ID)
			if c.Rotation.KeyID != "key1" || !e.fake.Works(first) || e.fake.Works(original[0]) {
				t.Fatalf("first key: slot %s, works %v; the resource's original key1 must be replaced", c.Rotation.KeyID, e.fake.Works(first))
			}
			rotated, err := e.svc.RotateCredential(ctx, e.admin, c.ID, TriggerAPI)
			if err != nil {
				t.Fatal(err)
			}
			second := e.currentKey(c.ID)
			if rotated.Rotation.KeyID != "key2" || rotated.Rotation.PreviousKeyID != "key1" || !e.fake.Works(first) || !e.fake.Works(second) {
				t.Fatalf("after the rotation: slot %s (previous %s); both keys must work during the overlap", rotated.Rotation.KeyID, rotated.Rotation.PreviousKeyID)
			}
			e.clock.Advance(61 * time.Minute)
			e.sweep()
			if e.fake.Works(first) || !e.fake.Works(second) {
				t.Fatal("after the overlap the previous key must stop working and the current one keep working")
			}

			// A new key Azure does not accept: the old one stays, the refused value is regenerated away.
			e.fake.RefuseNewKeys(true)
			_, err = e.svc.RotateCredential(ctx, e.admin, c.ID, TriggerAPI)
			var se *Error
			if !errors.As(err, &se) || se.Status != StatusUnprocessable {
				t.Fatalf("a refused new key: %v, want 422", err)
			}
			if e.currentKey(c.ID) != second || !e.fake.Works(second) {
				t.Fatal("a failed rotation touched the key in use")
			}
			e.fake.RefuseNewKeys(false)

			// An admin credential of Azure is a service principal: auth_method entra_id.
			k := "some-key-0123456789"
			if _, _, err := e.svc.CreateCredential(ctx, e.admin, api.CredentialCreate{Name: "azure-admin-key", Provider: "azure_openai", Purpose: api.PurposeAdmin,
				APIKey: &k, Settings: e.azureResource()}, nil); err == nil || !strings.Contains(err.Error(), "entra_id") {
				t.Fatalf("an Azure admin credential with a resource key: %v, want a refusal asking for entra_id", err)
			}

			// Stopped at each step and resumed by a new process: the credential's key works, the rotation ends.
			for _, stop := range []string{"mint-answered", api.RotationMinted, api.RotationVerified, api.RotationSwitched} {
				e.svc.rot.afterStep = func(step string) error {
					if step == stop {
						return errCrashed
					}
					return nil
				}
				_, _ = e.svc.RotateCredential(ctx, e.admin, c.ID, TriggerAPI)
				e.svc = e.startAzure()
				e.clock.Advance(rotationLease + time.Second)
				e.sweep()
				e.clock.Advance(61 * time.Minute)
				e.sweep()
				got, err := e.svc.GetCredential(ctx, e.admin, c.ID)
				if err != nil {
					t.Fatal(err)
				}
				if cur := e.currentKey(c.ID); !e.fake.Works(cur) || got.Rotation.State != api.RotationIdle {
					t.Fatalf("stopped after %s: the key works %v, state %s", stop, e.fake.Works(cur), got.Rotation.State)
				}
			}
		})
	}
}
