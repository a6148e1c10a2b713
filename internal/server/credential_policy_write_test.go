package server

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

// hookVerifier accepts every key, counts its probes and runs during (when set) in the middle of one:
// after the request's policy check before the probe and before its write.
type hookVerifier struct {
	mu     sync.Mutex
	probes int
	during func()
}

func (v *hookVerifier) Verify(context.Context, api.Provider, map[string]string, map[string]string) api.VerifyResult {
	v.mu.Lock()
	v.probes++
	during := v.during
	v.mu.Unlock()
	if during != nil {
		during()
	}
	return api.VerifyResult{OK: true, Message: "accepted"}
}

func (v *hookVerifier) count() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.probes
}

func (v *hookVerifier) set(during func()) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.during = during
}

// TestCredentialPolicyHoldsAtTheWrite: a credential policy put while a create's or an update's key is
// being verified is the policy the write obeys, so the change is refused and nothing of it is stored;
// and a key whose credential the policy already refuses is sent nowhere.
func TestCredentialPolicyHoldsAtTheWrite(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		v := &hookVerifier{}
		h := newHarness(t, withVerifier(v))
		ctx := context.Background()
		onlyAnthropic := func() {
			if _, err := h.admin.PutCredentialPolicy(ctx, "", api.CredentialPolicyPut{AllowedProviders: []string{"anthropic"}}, 0); err != nil {
				t.Error(err)
			}
		}
		verified := func(name string) api.CredentialCreate {
			in := openAICred(name, h.secret("sk-"))
			in.Verify = ptr(true)
			return in
		}

		// Create: the policy arrives during the probe.
		v.set(onlyAnthropic)
		fieldError(t, apiError(t, h.createErr(verified("late")), http.StatusUnprocessableEntity).Problem, "provider")
		if n := v.count(); n != 1 {
			t.Fatalf("%d probes, want 1: the policy allowed the credential when its key was sent", n)
		}
		if n := h.countCredentials("acme"); n != 0 {
			t.Fatalf("the refused create stored %d credentials", n)
		}

		// Create under that policy: refused before the key goes anywhere.
		v.set(nil)
		fieldError(t, apiError(t, h.createErr(verified("refused")), http.StatusUnprocessableEntity).Problem, "provider")
		if n := v.count(); n != 1 {
			t.Fatalf("%d probes, want still 1: a key the policy refuses was sent", n)
		}

		// Update: a new key is verified while the policy arrives.
		if err := h.admin.DeleteCredentialPolicy(ctx, "", 0); err != nil {
			t.Fatal(err)
		}
		cur := h.mustCreate(h.editor, verified("rotated"))
		v.set(onlyAnthropic)
		_, err := h.editor.UpdateCredential(ctx, cur.ID, api.CredentialPatch{APIKey: ptr(h.secret("sk-"))}, 0)
		fieldError(t, apiError(t, err, http.StatusUnprocessableEntity).Problem, "provider")
		got, err := h.viewer.GetCredential(ctx, cur.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Version != cur.Version || got.SecretVersion != cur.SecretVersion || got.SecretFingerprint != cur.SecretFingerprint {
			t.Errorf("the refused rotation changed the credential: version %d -> %d, secret_version %d -> %d",
				cur.Version, got.Version, cur.SecretVersion, got.SecretVersion)
		}
	})
}
