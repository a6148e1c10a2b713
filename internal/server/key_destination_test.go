package server

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/verify"
)

// keyListener is a loopback host of an attacker's choosing: it records every request whole (headers
// and body), so a key sent any way (a header, a form field) is seen.
type keyListener struct {
	mu       sync.Mutex
	requests []string
	*httptest.Server
}

func newKeyListener(t *testing.T) *keyListener {
	l := &keyListener{}
	l.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var b strings.Builder
		b.WriteString(r.Method + " " + r.URL.String() + "\n")
		for k, vs := range r.Header {
			b.WriteString(k + ": " + strings.Join(vs, ",") + "\n")
		}
		b.Write(body)
		l.mu.Lock()
		l.requests = append(l.requests, b.String())
		l.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/token") {
			_, _ = w.Write([]byte(`{"token_type":"Bearer","expires_in":3599,"access_token":"eyJ0eXAiOiJKV1QifQ.x"}`))
			return
		}
		_, _ = w.Write([]byte(`{"object":"list","data":[{"id":"gpt-4o"}],"modelSummaries":[]}`))
	}))
	t.Cleanup(l.Close)
	return l
}

func (l *keyListener) received(secret string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.requests {
		if strings.Contains(r, secret) {
			return true
		}
	}
	return false
}

// destinationHarness verifies for real, with Entra ID's authority and Bedrock's default host on the
// listener, so that a redirected key would land there.
func destinationHarness(t *testing.T, l *keyListener) *harness {
	return newHarness(t, withVerifier(verify.New(verify.Options{Timeout: 2 * time.Second,
		BaseURLs: map[string]string{verify.EntraBaseURLKey: l.URL, "bedrock": l.URL}})))
}

// The effective auth method decides where and how a secret goes, so an editor without the key cannot
// change it through the settings that imply it: adding tenant_id and client_id to an Azure key
// credential would POST the key as client_secret to the token endpoint of a tenant the editor picked;
// dropping access_key_id from a Bedrock sigv4 credential would send the IAM secret key as a bearer token.
func TestEffectiveAuthMethodIsADestination(t *testing.T) {
	forEachBackend(t, testEffectiveAuthMethodIsADestination)
}

func testEffectiveAuthMethodIsADestination(t *testing.T) {
	ctx := context.Background()
	l := newKeyListener(t)
	h := destinationHarness(t, l)

	azureKey := h.secret("azure")
	azure := h.mustCreate(h.admin, api.CredentialCreate{Name: "azure", Provider: "azure_openai", APIKey: &azureKey, Verify: ptr(false),
		Settings: map[string]string{"endpoint": "https://contoso.openai.azure.com", "deployment": "gpt-4o", "api_version": "2024-10-21"}})
	bedrockKey := h.secret("bedrock")
	bedrock := h.mustCreate(h.admin, api.CredentialCreate{Name: "bedrock", Provider: "bedrock", APIKey: &bedrockKey, Verify: ptr(false),
		Settings: map[string]string{"region": "us-east-1", "access_key_id": "AKIAIOSFODNN7EXAMPLE"}})

	attempts := []struct {
		name     string
		id       string
		settings map[string]string
	}{
		{"azure: tenant and client imply entra_id", azure.ID, map[string]string{"endpoint": "https://contoso.openai.azure.com", "deployment": "gpt-4o",
			"api_version": "2024-10-21", "tenant_id": "attacker.onmicrosoft.com", "client_id": "00001111-aaaa-2222-bbbb-3333cccc4444"}},
		{"azure: entra_id set", azure.ID, map[string]string{"endpoint": "https://contoso.openai.azure.com", "deployment": "gpt-4o",
			"api_version": "2024-10-21", "auth_method": "entra_id", "tenant_id": "attacker.onmicrosoft.com", "client_id": "00001111-aaaa-2222-bbbb-3333cccc4444"}},
		{"bedrock: access_key_id dropped", bedrock.ID, map[string]string{"region": "us-east-1"}},
	}
	for _, a := range attempts {
		_, err := h.editor.UpdateCredential(ctx, a.id, api.CredentialPatch{Settings: &a.settings, Verify: ptr(true)}, 0)
		ae := apiError(t, err, http.StatusUnprocessableEntity)
		if fe := fieldError(t, ae.Problem, "settings.auth_method"); !strings.Contains(fe.Message, "effective auth_method") {
			t.Errorf("%s: the refusal does not say the effective method changes: %s", a.name, fe.Message)
		}
	}
	for _, key := range []string{azureKey, bedrockKey} {
		if l.received(key) {
			t.Fatalf("the listener received a stored key: %v", l.requests)
		}
	}

	// The admin, sending the key, may change the method; the audit log records the effective method's
	// move, implied as it is.
	settings := map[string]string{"region": "us-east-1"}
	if _, err := h.admin.UpdateCredential(ctx, bedrock.ID, api.CredentialPatch{Settings: &settings, APIKey: &bedrockKey, Verify: ptr(false)}, 0); err != nil {
		t.Fatal(err)
	}
	events, err := h.admin.ListAuditEvents(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range events.Items {
		for _, c := range e.Changes {
			if e.ObjectID == bedrock.ID && e.Action == "update" && c.Field == "settings.auth_method" && c.From == "sigv4" && c.To == "api_key" {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("no audit event records the effective auth_method from sigv4 to api_key: %+v", events.Items)
	}
}

// A new key goes only to a destination its sender saw. An editor who sets their own base_url (with a
// junk key of theirs, which is allowed) must not receive the admin's next key: a key sent without the
// settings and without If-Match is refused when another token set the destination; with If-Match it
// is bound to the version the sender read, so a destination moved in between is a 412.
func TestNewKeyGoesOnlyWhereItsSenderSaw(t *testing.T) {
	forEachBackend(t, testNewKeyGoesOnlyWhereItsSenderSaw)
}

func testNewKeyGoesOnlyWhereItsSenderSaw(t *testing.T) {
	ctx := context.Background()
	l := newKeyListener(t)
	h := destinationHarness(t, l)

	first := h.secret("sk-admin-")
	c := h.mustCreate(h.admin, api.CredentialCreate{Name: "openai", Provider: "openai", APIKey: &first, Verify: ptr(false),
		Settings: map[string]string{"base_url": "https://api.openai.com/v1"}})
	if c.DestinationSetBy != "acme-admin" || c.DestinationSetAt == nil {
		t.Errorf("a create records its sender as the destination's: %q %v", c.DestinationSetBy, c.DestinationSetAt)
	}

	// The editor moves the destination to their listener, with a junk key of their own.
	junk := h.secret("sk-junk-")
	moved := map[string]string{"base_url": l.URL + "/v1"}
	c, err := h.editor.UpdateCredential(ctx, c.ID, api.CredentialPatch{Settings: &moved, APIKey: &junk}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if c.DestinationSetBy != "acme-editor" {
		t.Errorf("destination_set_by = %q, want acme-editor", c.DestinationSetBy)
	}

	// The admin rotates the key alone, as the console's old form and a bare API call did: refused,
	// saying where the key would go, who set it and how to confirm.
	next := h.secret("sk-admin-next-")
	_, err = h.admin.UpdateCredential(ctx, c.ID, api.CredentialPatch{APIKey: &next}, 0)
	ae := apiError(t, err, http.StatusPreconditionRequired)
	for _, want := range []string{l.URL, `"acme-editor"`, "If-Match"} {
		if !strings.Contains(ae.Problem.Detail, want) {
			t.Errorf("the refusal does not say %q: %s", want, ae.Problem.Detail)
		}
	}

	// Bound to a version read before the editor moves the destination again: a conflict, not a retry.
	seen, err := h.admin.GetCredential(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	again := map[string]string{"base_url": l.URL + "/v2"}
	if _, err := h.editor.UpdateCredential(ctx, c.ID, api.CredentialPatch{Settings: &again, APIKey: &junk}, 0); err != nil {
		t.Fatal(err)
	}
	_, err = h.admin.UpdateCredential(ctx, c.ID, api.CredentialPatch{APIKey: &next}, seen.Version)
	apiError(t, err, http.StatusPreconditionFailed)
	if l.received(next) || l.received(first) {
		t.Fatal("the editor's listener received an admin key")
	}

	// The editor's own rotation needs no confirmation: they set the destination.
	junk2 := h.secret("sk-junk2-")
	if _, err := h.editor.UpdateCredential(ctx, c.ID, api.CredentialPatch{APIKey: &junk2, Verify: ptr(false)}, 0); err != nil {
		t.Errorf("the destination's own setter rotates freely: %v", err)
	}
	// The admin, having seen the destination (If-Match of the current version) or naming it (the
	// settings, as Terraform sends them), decides: the key goes there because they chose it.
	cur, err := h.admin.GetCredential(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.admin.UpdateCredential(ctx, c.ID, api.CredentialPatch{APIKey: &next, Verify: ptr(false)}, cur.Version); err != nil {
		t.Errorf("a rotation bound to the version the admin read: %v", err)
	}
	back := map[string]string{"base_url": "https://api.openai.com/v1"}
	third := h.secret("sk-admin-third-")
	c, err = h.admin.UpdateCredential(ctx, c.ID, api.CredentialPatch{Settings: &back, APIKey: &third, Verify: ptr(false)}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if c.DestinationSetBy != "acme-admin" {
		t.Errorf("destination_set_by = %q after the admin moved it back", c.DestinationSetBy)
	}
}

// Turning verify on sends the stored key to its provider: like a move, it needs the key.
func TestTurningVerifyOnNeedsTheKey(t *testing.T) { forEachBackend(t, testTurningVerifyOnNeedsTheKey) }

func testTurningVerifyOnNeedsTheKey(t *testing.T) {
	ctx := context.Background()
	l := newKeyListener(t)
	h := destinationHarness(t, l)
	key := h.secret("sk-")
	c := h.mustCreate(h.editor, api.CredentialCreate{Name: "local", Provider: "custom", APIKey: &key, Verify: ptr(false),
		Settings: map[string]string{"base_url": l.URL + "/v1"}})
	_, err := h.editor.UpdateCredential(ctx, c.ID, api.CredentialPatch{Verify: ptr(true)}, 0)
	ae := apiError(t, err, http.StatusUnprocessableEntity)
	fieldError(t, ae.Problem, "verify")
	if l.received(key) {
		t.Fatal("turning verify on without the key sent the stored key")
	}
	got, err := h.editor.UpdateCredential(ctx, c.ID, api.CredentialPatch{Verify: ptr(true), APIKey: &key}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != api.StatusVerified || got.SecretVersion != c.SecretVersion {
		t.Errorf("with the key: status %s, secret_version %d (was %d): verified, not rotated", got.Status, got.SecretVersion, c.SecretVersion)
	}
}

// A secret resent only because a change needs it (secrets_resent, as Terraform sends a write-only key
// whose version did not change) never rotates the credential: a different one is refused.
func TestResentSecretMustBeTheStoredOne(t *testing.T) {
	forEachBackend(t, testResentSecretMustBeTheStoredOne)
}

func testResentSecretMustBeTheStoredOne(t *testing.T) {
	ctx := context.Background()
	l := newKeyListener(t)
	h := destinationHarness(t, l)
	key := h.secret("sk-")
	c := h.mustCreate(h.editor, api.CredentialCreate{Name: "local", Provider: "custom", APIKey: &key, Verify: ptr(false),
		Settings: map[string]string{"base_url": "https://llm.example.com/v1"}})
	moved := map[string]string{"base_url": "https://llm2.example.com/v1"}
	future := h.secret("sk-future-")
	_, err := h.editor.UpdateCredential(ctx, c.ID, api.CredentialPatch{Settings: &moved, APIKey: &future, SecretsResent: []string{api.SecretAPIKey}}, 0)
	ae := apiError(t, err, http.StatusUnprocessableEntity)
	if fe := fieldError(t, ae.Problem, "api_key"); !strings.Contains(fe.Message, "bump api_key_wo_version") {
		t.Errorf("the refusal does not say how to rotate: %s", fe.Message)
	}
	got, err := h.editor.UpdateCredential(ctx, c.ID, api.CredentialPatch{Settings: &moved, APIKey: &key, SecretsResent: []string{api.SecretAPIKey}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got.SecretVersion != c.SecretVersion || got.SecretFingerprint != c.SecretFingerprint {
		t.Errorf("a resent key rotated the credential: secret_version %d -> %d", c.SecretVersion, got.SecretVersion)
	}
}
