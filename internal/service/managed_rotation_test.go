package service

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
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

// rotationVendors are the vendors managed rotation supports, each tested against its fake.
var rotationVendors = []string{"openai", "openrouter", "litellm", "bedrock"}

type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// rotEnv is a Service on a real store with a real verifier whose vendor is a loopback fake.
type rotEnv struct {
	t      testing.TB
	st     store.Store
	ring   *secrets.Keyring
	clock  *testClock
	fake   *vendorfake.Fake
	svc    *Service
	admin  Principal
	vendor string
}

func newRotEnv(t testing.TB, vendor, backend string) *rotEnv {
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
	fake := vendorfake.New(vendor, "admin-key-"+vendor+"-0123456789")
	t.Cleanup(fake.Close)
	e := &rotEnv{t: t, st: st, ring: ring, clock: &testClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}, fake: fake, vendor: vendor}
	fake.Now = e.clock.Now
	e.svc = e.start()
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

// start opens a new Service on the environment's database, as a restarted server would.
func (e *rotEnv) start() *Service {
	e.t.Helper()
	bases := map[string]string{e.vendor: e.fake.URL()}
	if e.vendor == "bedrock" {
		bases[verify.AWSIAMBaseURLKey] = e.fake.URL()
	}
	v := verify.New(verify.Options{Egress: verify.EmbeddedEgress(), BaseURLs: bases})
	svc, err := New(context.Background(), Config{Store: e.st, Keyring: e.ring, Verifier: v, Now: e.clock.Now, AllowReveal: true})
	if err != nil {
		e.t.Fatal(err)
	}
	svc.rot.verifyAttempts = 1
	return svc
}

func (e *rotEnv) settings() map[string]string {
	if e.vendor == "bedrock" {
		return map[string]string{"region": "us-east-1", "iam_user_name": "bedrock-app"}
	}
	s := map[string]string{"base_url": e.fake.URL()}
	if e.vendor == "openai" {
		s["project"] = e.fake.Project
	}
	return s
}

func (e *rotEnv) createAdmin() api.Credential {
	e.t.Helper()
	key := e.fake.AdminKey
	settings := map[string]string{"base_url": e.fake.URL()}
	if e.vendor == "bedrock" {
		settings = map[string]string{"region": "us-east-1", "access_key_id": e.fake.AccessKeyID}
	}
	c, _, err := e.svc.CreateCredential(context.Background(), e.admin, api.CredentialCreate{Name: e.vendor + "-admin", Provider: e.vendor,
		Purpose: api.PurposeAdmin, APIKey: &key, Settings: settings}, nil)
	if err != nil {
		e.t.Fatalf("create the admin credential: %v", err)
	}
	if c.Status != api.StatusVerified {
		e.t.Fatalf("admin credential status = %s (%s), want verified by the admin read", c.Status, c.StatusMessage)
	}
	return c
}

func (e *rotEnv) createManaged(adminID, period string) api.Credential {
	e.t.Helper()
	c, _, err := e.svc.CreateCredential(context.Background(), e.admin, api.CredentialCreate{Name: e.vendor + "-app", Provider: e.vendor,
		Settings: e.settings(), RotationPeriod: period,
		Rotation: &api.CredentialRotation{Mode: api.RotationModeManaged, AdminCredentialID: adminID, Overlap: "1h"}}, nil)
	if err != nil {
		e.t.Fatalf("create the managed credential: %v", err)
	}
	return c
}

func (e *rotEnv) currentKey(id string) string {
	e.t.Helper()
	sec, err := e.svc.RevealCredential(context.Background(), e.admin, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return sec.APIKey
}

func (e *rotEnv) sweep() {
	e.t.Helper()
	if _, err := e.svc.SweepRotations(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

// wantLive checks that exactly want are the vendor's live keys.
func (e *rotEnv) wantLive(want ...string) {
	e.t.Helper()
	got := e.fake.LiveSecrets()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		e.t.Fatalf("live keys at the vendor: %d %v, want %d %v", len(got), mask(got), len(want), mask(want))
	}
}

func mask(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k[len(k)-4:]
	}
	return out
}

func eachRotationVendor(t *testing.T, test func(t *testing.T, e *rotEnv)) {
	for _, vendor := range rotationVendors {
		for _, backend := range []string{sqlstore.DialectSQLite, sqlstore.DialectPostgres} {
			t.Run(vendor+"/"+backend, func(t *testing.T) { test(t, newRotEnv(t, vendor, backend)) })
		}
	}
}

func TestManagedRotationCreateRotateOverlapRevoke(t *testing.T) {
	eachRotationVendor(t, func(t *testing.T, e *rotEnv) {
		ctx := context.Background()
		admin := e.createAdmin()
		c := e.createManaged(admin.ID, "")
		if !c.HasAPIKey || c.SecretVersion != 1 || c.Status != api.StatusVerified || c.Rotation == nil || c.Rotation.KeyID == "" {
			t.Fatalf("created managed credential: has_api_key %v, secret_version %d, status %s, rotation %+v", c.HasAPIKey, c.SecretVersion, c.Status, c.Rotation)
		}
		first := e.currentKey(c.ID)
		e.wantLive(first)

		rotated, err := e.svc.RotateCredential(ctx, e.admin, c.ID, TriggerAPI)
		if err != nil {
			t.Fatal(err)
		}
		second := e.currentKey(c.ID)
		if second == first || rotated.SecretVersion != 2 || rotated.SecretFingerprint == c.SecretFingerprint || !rotated.RotatedAt.After(c.RotatedAt) && !rotated.RotatedAt.Equal(e.clock.Now()) {
			t.Fatalf("after the rotation: secret_version %d, same key %v, same fingerprint %v", rotated.SecretVersion, second == first, rotated.SecretFingerprint == c.SecretFingerprint)
		}
		if rotated.Rotation.State != api.RotationSwitched || rotated.Rotation.PreviousKeyID != c.Rotation.KeyID || rotated.Rotation.PreviousKeyRevokeAt == nil {
			t.Fatalf("rotation after the switch = %+v, want switched with the previous key named", rotated.Rotation)
		}
		// Overlap: both keys work, and no more than two are live.
		e.wantLive(first, second)
		if !e.fake.Works(first) || !e.fake.Works(second) {
			t.Fatal("during the overlap both keys must work")
		}
		if _, err := e.svc.RotateCredential(ctx, e.admin, c.ID, TriggerAPI); err == nil || !strings.Contains(err.Error(), "overlap") {
			t.Fatalf("a second rotation during the overlap: %v, want a conflict naming the overlap", err)
		}
		e.wantLive(first, second)

		e.clock.Advance(59 * time.Minute)
		e.sweep()
		if !e.fake.Works(first) {
			t.Fatal("the old key stopped working before the overlap ended")
		}
		e.clock.Advance(2 * time.Minute)
		e.sweep()
		if e.fake.Works(first) {
			t.Fatal("the old key still works after the overlap and a sweep")
		}
		e.wantLive(second)
		got, err := e.svc.GetCredential(ctx, e.admin, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Rotation.State != api.RotationIdle || got.Rotation.PreviousKeyID != "" {
			t.Fatalf("rotation after the revoke = %+v, want idle", got.Rotation)
		}

		// The audit log names each step with the vendor's key ids and never a key.
		events, err := e.svc.ListAudit(ctx, e.admin, 0, 500)
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, ev := range events.Items {
			actions = append(actions, ev.Action)
			for _, ch := range ev.Changes {
				for _, k := range []string{first, second, e.fake.AdminKey} {
					if strings.Contains(ch.From+ch.To, k) {
						t.Fatalf("audit event %s carries a key", ev.Action)
					}
				}
			}
		}
		for _, want := range []string{"rotation.minted", "rotation.verified", "rotation.switched", "rotation.revoked"} {
			if !slices.Contains(actions, want) {
				t.Fatalf("audit actions %v lack %s", actions, want)
			}
		}
		if n := e.svc.RotationCounts()[RotationSucceeded]; n != 2 {
			t.Fatalf("succeeded rotations counted = %d, want 2 (the first key and the rotation)", n)
		}

		// Deleting the managed credential revokes its key at the vendor.
		if err := e.svc.DeleteCredential(ctx, e.admin, c.ID, 0, false); err != nil {
			t.Fatal(err)
		}
		e.wantLive()
	})
}

func TestManagedRotationFailedVerificationKeepsTheOldKey(t *testing.T) {
	eachRotationVendor(t, func(t *testing.T, e *rotEnv) {
		ctx := context.Background()
		admin := e.createAdmin()
		c := e.createManaged(admin.ID, "")
		old := e.currentKey(c.ID)
		e.fake.RefuseNewKeys(true)
		_, err := e.svc.RotateCredential(ctx, e.admin, c.ID, TriggerAPI)
		var se *Error
		if !errors.As(err, &se) || se.Status != StatusUnprocessable || !strings.Contains(err.Error(), "verification") {
			t.Fatalf("rotation with a key the vendor refuses: %v, want a 422 about verification", err)
		}
		e.wantLive(old)
		got, err := e.svc.GetCredential(ctx, e.admin, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.SecretVersion != c.SecretVersion || got.SecretFingerprint != c.SecretFingerprint || e.currentKey(c.ID) != old {
			t.Fatal("a failed rotation changed the credential's key")
		}
		if e.svc.RotationCounts()[RotationFailed] != 1 {
			t.Fatalf("failed rotations counted = %d, want 1", e.svc.RotationCounts()[RotationFailed])
		}
	})
}

// A process stopped after any step of the journal is followed by another on the same database: the
// rotation resumes or is cleaned up, and ends with exactly one live key, the credential's own.
func TestManagedRotationCrashAtEveryStep(t *testing.T) {
	for _, vendor := range rotationVendors {
		for _, backend := range []string{sqlstore.DialectSQLite, sqlstore.DialectPostgres} {
			for _, stop := range []string{"lost-mint-answer", "mint-answered", api.RotationMinted, api.RotationVerified, api.RotationSwitched, api.RotationFailed} {
				t.Run(vendor+"/"+backend+"/"+stop, func(t *testing.T) {
					e := newRotEnv(t, vendor, backend)
					ctx := context.Background()
					admin := e.createAdmin()
					c := e.createManaged(admin.ID, "")
					old := e.currentKey(c.ID)
					switch stop {
					case "lost-mint-answer":
						e.fake.DropNextMintAnswer()
						e.svc.rot.afterStep = func(string) error { return errCrashed }
					case api.RotationFailed:
						e.fake.RefuseNewKeys(true)
						fallthrough
					default:
						e.svc.rot.afterStep = func(step string) error {
							if step == stop {
								return errCrashed
							}
							return nil
						}
					}
					_, _ = e.svc.RotateCredential(ctx, e.admin, c.ID, TriggerAPI)
					if n := len(e.fake.LiveSecrets()); n > 2 {
						t.Fatalf("%d keys live at the vendor, at most two may be", n)
					}
					// Whatever happened, a key that works is the credential's.
					if cur := e.currentKey(c.ID); !e.fake.Works(cur) {
						t.Fatal("the credential's key does not work after the stop")
					}

					// A new process on the same database, after the stopped one's lease ran out.
					e.fake.RefuseNewKeys(false)
					e.svc = e.start()
					e.clock.Advance(rotationLease + time.Second)
					e.sweep()
					e.clock.Advance(61 * time.Minute)
					e.sweep()
					cur := e.currentKey(c.ID)
					e.wantLive(cur)
					got, err := e.svc.GetCredential(ctx, e.admin, c.ID)
					if err != nil {
						t.Fatal(err)
					}
					if got.Rotation.State != api.RotationIdle {
						t.Fatalf("rotation state after recovery = %s, want idle", got.Rotation.State)
					}
					if stop == api.RotationFailed && cur != old {
						t.Fatal("a rotation that failed verification replaced the key")
					}
				})
			}
		}
	}
}

func TestManagedRotationBySchedule(t *testing.T) {
	e := newRotEnv(t, "openai", sqlstore.DialectSQLite)
	ctx := context.Background()
	admin := e.createAdmin()
	c := e.createManaged(admin.ID, "1d")
	old := e.currentKey(c.ID)
	e.clock.Advance(23 * time.Hour)
	e.sweep()
	if e.currentKey(c.ID) != old {
		t.Fatal("rotated before rotation_due_at")
	}
	e.clock.Advance(2 * time.Hour)
	e.sweep()
	got, err := e.svc.GetCredential(ctx, e.admin, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.SecretVersion != 2 || got.LifecycleStatus != api.LifecycleOK {
		t.Fatalf("after the due date and a sweep: secret_version %d, lifecycle %s; want a rotation", got.SecretVersion, got.LifecycleStatus)
	}
	e.wantLive(old, e.currentKey(c.ID))
}

func TestAdminCredentialRules(t *testing.T) {
	e := newRotEnv(t, "openai", sqlstore.DialectSQLite)
	ctx := context.Background()
	admin := e.createAdmin()
	if _, err := e.svc.RevealCredential(ctx, e.admin, admin.ID); err == nil {
		t.Fatal("an admin key was revealed")
	}
	editor := e.admin
	editor.Role = api.RoleEditor
	key := "admin-key-x"
	if _, _, err := e.svc.CreateCredential(ctx, editor, api.CredentialCreate{Name: "x", Provider: "openai", Purpose: api.PurposeAdmin, APIKey: &key}, nil); err == nil {
		t.Fatal("an editor created an admin credential")
	}
	if _, err := e.svc.UpdateCredential(ctx, editor, admin.ID, api.CredentialPatch{Description: ptr("changed")}, 0); err == nil {
		t.Fatal("an editor changed an admin credential")
	}
	if _, _, err := e.svc.CreateConnection(ctx, e.admin, api.ConnectionCreate{Name: "c", CredentialID: admin.ID, Model: "gpt-4o", AllowUnknownModel: true}, nil); err == nil || !strings.Contains(err.Error(), "admin credential") {
		t.Fatalf("a connection to an admin credential: %v, want a 422 naming it", err)
	}
	probes := e.fake.Probes.Load()
	if _, _, err := e.svc.CreateConnection(ctx, e.admin, api.ConnectionCreate{Name: "c2", CredentialID: admin.ID, Model: "gpt-4o"}, nil); err == nil || !strings.Contains(err.Error(), "admin credential") {
		t.Fatalf("a connection to an admin credential: %v, want a refusal naming it", err)
	}
	if _, err := e.svc.CredentialModels(ctx, e.admin, admin.ID); err != nil {
		t.Fatal(err)
	}
	if e.fake.Probes.Load() != probes {
		t.Fatal("the admin key was sent to the inference endpoint")
	}
	wrong := "sk-wrong-admin"
	if _, _, err := e.svc.CreateCredential(ctx, e.admin, api.CredentialCreate{Name: "bad-admin", Provider: "openai", Purpose: api.PurposeAdmin, APIKey: &wrong, Settings: map[string]string{"base_url": e.fake.URL()}}, nil); err == nil {
		t.Fatal("an admin key the vendor refuses was stored")
	}
	k := "sk-ant-0123456789"
	_, _, err := e.svc.CreateCredential(ctx, e.admin, api.CredentialCreate{Name: "ant", Provider: "anthropic", APIKey: &k,
		Rotation: &api.CredentialRotation{Mode: api.RotationModeManaged, AdminCredentialID: admin.ID}}, nil)
	if err == nil || !strings.Contains(err.Error(), "workload_identity") {
		t.Fatalf("managed rotation of Anthropic: %v, want a refusal pointing to keyless credentials", err)
	}
	c := e.createManaged(admin.ID, "")
	if err := e.svc.DeleteCredential(ctx, e.admin, admin.ID, 0, false); err == nil {
		t.Fatal("an admin credential that a managed credential uses was deleted")
	}
	newKey := "sk-by-hand-123456"
	if _, err := e.svc.UpdateCredential(ctx, e.admin, c.ID, api.CredentialPatch{APIKey: &newKey}, 0); err == nil {
		t.Fatal("a key was set by hand on a managed credential")
	}
}

// Deleting a managed credential during a rotation's overlap revokes both of its keys at the vendor,
// and frees its admin credential.
func TestManagedCredentialDeletedDuringOverlap(t *testing.T) {
	eachRotationVendor(t, func(t *testing.T, e *rotEnv) {
		ctx := context.Background()
		admin := e.createAdmin()
		c := e.createManaged(admin.ID, "")
		if _, err := e.svc.RotateCredential(ctx, e.admin, c.ID, TriggerAPI); err != nil {
			t.Fatal(err)
		}
		if n := len(e.fake.LiveSecrets()); n != 2 {
			t.Fatalf("%d live keys during the overlap, want 2", n)
		}
		if err := e.svc.DeleteCredential(ctx, e.admin, c.ID, 0, false); err != nil {
			t.Fatal(err)
		}
		e.wantLive()
		if err := e.svc.DeleteCredential(ctx, e.admin, admin.ID, 0, false); err != nil {
			t.Fatalf("delete the admin credential once nothing uses it: %v", err)
		}
	})
}
