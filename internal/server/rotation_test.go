package server

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/verify"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/verify/vendorfake"
)

func managedHarness(t *testing.T, opts ...func(*harnessOptions)) (*harness, *vendorfake.Fake, *api.Credential, *api.Credential) {
	t.Helper()
	fake := vendorfake.New("openai", "sk-admin-PLAINTEXT-0123456789abcdef")
	t.Cleanup(fake.Close)
	h := newHarness(t, append(opts, withVerifier(verify.New(verify.Options{BaseURLs: map[string]string{"openai": fake.URL()}})))...)
	h.remember(fake.AdminKey)
	key := fake.AdminKey
	admin := h.mustCreate(h.admin, api.CredentialCreate{Name: "openai-admin", Provider: "openai", Purpose: api.PurposeAdmin, APIKey: &key})
	app := h.mustCreate(h.admin, api.CredentialCreate{Name: "openai-app", Provider: "openai", Settings: map[string]string{"project": fake.Project},
		Rotation: &api.CredentialRotation{Mode: api.RotationModeManaged, AdminCredentialID: admin.ID}})
	return h, fake, admin, app
}

// POST /v1/credentials/{id}/rotate rotates through the vendor's admin API; a second one during the
// overlap is a 409; an admin credential takes no connection; the metric counts the rotations; and no
// key (admin or minted) is ever in an answer, the database or the logs.
func TestManagedRotationOverTheAPI(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		h, fake, admin, app := managedHarness(t)
		ctx := context.Background()
		if app.SecretVersion != 1 || app.Rotation == nil || app.Rotation.KeyID == "" || app.Purpose != api.PurposeInference {
			t.Fatalf("created managed credential: %+v", app)
		}
		r := h.do(http.MethodPost, "/v1/credentials/"+app.ID+"/rotate?trigger=api", h.tokens["editor"], nil)
		if r.Status != http.StatusOK {
			t.Fatalf("rotate: %d %s", r.Status, r.Body)
		}
		for _, k := range append(fake.LiveSecrets(), fake.AdminKey) {
			if strings.Contains(string(r.Body), k) {
				t.Fatal("the rotate answer holds a key")
			}
		}
		if _, err := h.editor.RotateCredential(ctx, app.ID, "api"); !client.IsConflict(err) {
			t.Fatalf("a rotation during the overlap: %v, want 409", err)
		}
		if r := h.do(http.MethodPost, "/v1/credentials/"+app.ID+"/rotate?trigger=cron", h.tokens["editor"], nil); r.Status != http.StatusUnprocessableEntity {
			t.Fatalf("an unknown trigger: %d, want 422", r.Status)
		}
		if _, err := h.viewer.RotateCredential(ctx, app.ID, "api"); err == nil {
			t.Fatal("a viewer rotated a key")
		}
		if _, err := h.admin.CreateConnection(ctx, api.ConnectionCreate{Name: "bad", CredentialID: admin.ID, Model: "gpt-4o", AllowUnknownModel: true}); err == nil {
			t.Fatal("a connection to an admin credential was made")
		}
		m := h.do(http.MethodGet, "/metrics", testMetricsToken, nil)
		if !strings.Contains(string(m.Body), `modelkeys_rotations_total{outcome="succeeded"} 2`) {
			t.Fatalf("/metrics does not count the two rotations (create and rotate):\n%s", m.Body)
		}
		for _, k := range fake.Keys() {
			h.remember(k.Secret)
		}
		h.scanForSecrets()
	})
}

// Two replicas asked to rotate the same credential at once: one rotation happens, the other is a
// 409, and the vendor holds exactly the old and the new key.
func TestManagedRotationOnePerCredentialAcrossReplicas(t *testing.T) {
	t.Parallel()
	h, fake, _, app := managedHarness(t, withReplicas(2))
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = h.editor.RotateCredential(context.Background(), app.ID, "api")
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !client.IsConflict(err):
			t.Fatalf("a concurrent rotation failed otherwise than with 409: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d concurrent rotations succeeded, want exactly 1", ok)
	}
	if n := len(fake.LiveSecrets()); n != 2 {
		t.Fatalf("%d keys live at the vendor, want 2 (the old one in its overlap and the new one)", n)
	}
}
