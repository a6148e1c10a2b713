package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/verify"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/verify/vendorfake"
)

// mintingVerifier is the real verifier (admin APIs and the probe of minted keys, at the fake) that
// accepts the harness's seeded keys as its fakeVerifier does.
type mintingVerifier struct{ *verify.Verifier }

func (m mintingVerifier) Verify(ctx context.Context, p api.Provider, settings, sec map[string]string) api.VerifyResult {
	if strings.HasPrefix(sec[api.SecretAPIKey], "sk-svcacct-") {
		return m.Verifier.Verify(ctx, p, settings, sec)
	}
	return api.VerifyResult{OK: true, Message: "accepted"}
}

// A managed credential's page has a "Rotate now" button instead of the paste form; pressing it (with
// the session's CSRF token) mints, verifies and switches, and the page says until when the old key
// works. No key appears on any page.
func TestConsoleRotatesAManagedCredential(t *testing.T) {
	fake := vendorfake.New("openai", "sk-admin-console-0123456789")
	t.Cleanup(fake.Close)
	h := newHarness(t, func(o *harnessOptions) {
		o.config = func(c *service.Config) {
			c.Verifier = mintingVerifier{verify.New(verify.Options{BaseURLs: map[string]string{"openai": fake.URL()}})}
		}
	})
	ctx, svc := context.Background(), h.srv.Service()
	adminKey := fake.AdminKey
	admin, _, err := svc.CreateCredential(ctx, h.admin, api.CredentialCreate{Name: "openai-admin", Provider: "openai", Purpose: api.PurposeAdmin, APIKey: &adminKey}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := svc.CreateCredential(ctx, h.admin, api.CredentialCreate{Name: "openai-app", Provider: "openai", Settings: map[string]string{"project": fake.Project},
		Rotation: &api.CredentialRotation{Mode: api.RotationModeManaged, AdminCredentialID: admin.ID}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := h.browser()
	b.signIn(h.tokens[api.RoleEditor])
	path := "/ui/credentials/" + c.ID
	page := b.get(path)
	if !strings.Contains(page.body, `id="rotate-now"`) || strings.Contains(page.body, `id="secret"`) {
		t.Fatalf("a managed credential's page should offer Rotate now and no paste form:\n%s", page.body)
	}
	if a := b.post(path+"/rotate-now", url.Values{}); a.status != http.StatusForbidden && a.status != http.StatusBadRequest {
		t.Fatalf("rotate without the CSRF token: %d, want a refusal", a.status)
	}
	a := b.post(path+"/rotate-now", url.Values{"csrf": {b.csrf()}})
	if a.status != http.StatusSeeOther {
		t.Fatalf("rotate now: %d\n%s", a.status, a.body)
	}
	page = b.get(path)
	if !strings.Contains(page.body, "Rotated") || !strings.Contains(page.body, "keeps working until") {
		t.Fatalf("the page does not say the key was rotated and until when the old one works:\n%s", page.body)
	}
	got, err := svc.GetCredential(ctx, h.admin, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.SecretVersion != 2 {
		t.Fatalf("secret_version after the console's rotation = %d, want 2", got.SecretVersion)
	}
	for _, k := range append(fake.LiveSecrets(), adminKey) {
		if strings.Contains(page.body, k) {
			t.Fatal("a key is on the page")
		}
	}
}
