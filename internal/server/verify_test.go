package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/secrets"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/server"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store/sqlstore"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/verify"
)

// verify.Verifier is the server's service.Verifier and service.ModelLister. The assertions live here, not in verify,
// so that verify does not import the server.
var (
	_ service.Verifier    = (*verify.Verifier)(nil)
	_ service.ModelLister = (*verify.Verifier)(nil)
)

// fakeOpenAI is OpenAI's auth check with keys that can be revoked and an outage switch.
type fakeOpenAI struct {
	mu    sync.Mutex
	valid map[string]bool
	down  bool
	calls int
}

func (f *fakeOpenAI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	w.Header().Set("Content-Type", "application/json")
	switch {
	case f.down:
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"error":{"message":"The engine is currently overloaded, please try again later.","type":"server_error"}}`))
	case r.URL.Path != "/v1/models":
		w.WriteHeader(http.StatusNotFound)
	case f.valid[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]:
		_, _ = w.Write([]byte(`{"object":"list","data":[{"id":"gpt-4o","object":"model","owned_by":"system"}]}`))
	default:
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":{"message":"Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`))
	}
}

func (f *fakeOpenAI) set(fn func(*fakeOpenAI)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

// newVerifyServer serves a fresh SQLite organisation whose verifier reaches the loopback fake of
// OpenAI as the operator's base URL for openai; the client is an admin's.
func newVerifyServer(t *testing.T, fake *fakeOpenAI) (*server.Server, *client.Client) {
	t.Helper()
	provider := httptest.NewServer(fake)
	t.Cleanup(provider.Close)
	return newServerVerifyingAt(t, map[string]string{"openai": provider.URL + "/v1"})
}

// newServerVerifyingAt is newVerifyServer for any base URLs: the server's own egress policy, under
// which the operator's base URLs are trusted, so loopback fakes are reachable.
func newServerVerifyingAt(t *testing.T, baseURLs map[string]string) (*server.Server, *client.Client) {
	t.Helper()
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "modelkeys.db")
	st, err := sqlstore.OpenSQLite(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := secrets.EnsureMasterKeyFile(secrets.KeyFileFor(dbPath))
	if err != nil {
		t.Fatal(err)
	}
	ring, err := secrets.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(ctx, service.Config{Store: st, Keyring: ring, Version: "test",
		Verifier: verify.New(verify.Options{BaseURLs: baseURLs, Timeout: 2 * time.Second, Egress: verify.ServerEgress(nil)})})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { hs.Close(); _ = st.Close() })
	token, _, err := service.CreateToken(ctx, st, "acme", api.RoleAdmin, "verify-test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(client.Config{BaseURL: hs.URL, Token: token, MaxRetries: 1, RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

func ptr[T any](v T) *T { return &v }

func TestVerifyCredentialLifecycle(t *testing.T) {
	ctx := context.Background()
	fake := &fakeOpenAI{valid: map[string]bool{"sk-proj-good-1111": true}}
	srv, c := newVerifyServer(t, fake)

	// A working key is created verified.
	cred, err := c.CreateCredential(ctx, api.CredentialCreate{Name: "prod", Provider: "openai", APIKey: ptr("sk-proj-good-1111")})
	if err != nil {
		t.Fatal(err)
	}
	if cred.Status != api.StatusVerified || cred.VerifiedAt == nil {
		t.Fatalf("status = %s (%s), verified_at %v", cred.Status, cred.StatusMessage, cred.VerifiedAt)
	}

	// A wrong key is a 422 with the provider's answer summarised, and nothing is stored.
	_, err = c.CreateCredential(ctx, api.CredentialCreate{Name: "wrong", Provider: "openai", APIKey: ptr("sk-proj-wrong-2222")})
	if !client.IsValidation(err) {
		t.Fatalf("wrong key: %v", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "OpenAI refused the key: HTTP 401: Incorrect API key provided.") || strings.Contains(msg, "sk-proj-wrong-2222") {
		t.Errorf("wrong key error = %s", msg)
	}
	all, err := c.ListAllCredentials(ctx, client.CredentialListOptions{})
	if err != nil || len(all) != 1 {
		t.Fatalf("credentials after a refused create: %v, %v", all, err)
	}

	// An outage keeps the last status and records the error.
	fake.set(func(f *fakeOpenAI) { f.down = true })
	rep, err := srv.Service().Reverify(ctx)
	if err != nil || rep.Unreachable != 1 {
		t.Fatalf("Reverify during an outage = %+v, %v", rep, err)
	}
	got, err := c.GetCredential(ctx, cred.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != api.StatusVerified || !strings.Contains(got.StatusMessage, "HTTP 503: The engine is currently overloaded") || got.Version != cred.Version {
		t.Errorf("after an outage: status %s, message %q, version %d", got.Status, got.StatusMessage, got.Version)
	}

	// The key is revoked at the provider: the next pass marks it invalid, without a new version.
	fake.set(func(f *fakeOpenAI) { f.down = false; delete(f.valid, "sk-proj-good-1111") })
	rep, err = srv.Service().Reverify(ctx)
	if err != nil || rep.Invalid != 1 || rep.Checked != 1 {
		t.Fatalf("Reverify after revocation = %+v, %v", rep, err)
	}
	got, err = c.GetCredential(ctx, cred.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != api.StatusInvalid || !strings.Contains(got.StatusMessage, "HTTP 401") || got.Version != cred.Version {
		t.Errorf("after revocation: status %s, message %q, version %d", got.Status, got.StatusMessage, got.Version)
	}

	// The key works again: POST /verify records it.
	fake.set(func(f *fakeOpenAI) { f.valid["sk-proj-good-1111"] = true })
	if v, err := c.VerifyCredential(ctx, cred.ID); err != nil || v.Status != api.StatusVerified {
		t.Errorf("VerifyCredential = %+v, %v", v, err)
	}

	// Live models come from the provider's own list.
	models, err := c.CredentialModels(ctx, cred.ID)
	if err != nil || len(models) != 1 || models[0].ID != "gpt-4o" {
		t.Errorf("CredentialModels = %+v, %v", models, err)
	}
}

func TestVerifyUpdateWithWrongKeyStoresNothing(t *testing.T) {
	ctx := context.Background()
	fake := &fakeOpenAI{valid: map[string]bool{"sk-proj-good-1111": true}}
	_, c := newVerifyServer(t, fake)
	cred, err := c.CreateCredential(ctx, api.CredentialCreate{Name: "prod", Provider: "openai", APIKey: ptr("sk-proj-good-1111")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.UpdateCredential(ctx, cred.ID, api.CredentialPatch{APIKey: ptr("sk-proj-wrong-2222")}, 0)
	if !client.IsValidation(err) || !strings.Contains(err.Error(), "HTTP 401") {
		t.Fatalf("update with a wrong key: %v", err)
	}
	got, err := c.GetCredential(ctx, cred.ID)
	if err != nil || got.SecretVersion != 1 || got.SecretHint != cred.SecretHint || got.Version != cred.Version {
		t.Errorf("after a refused update: %+v, %v", got, err)
	}
}

func TestVerifySkippedAndRunReverifier(t *testing.T) {
	ctx := context.Background()
	fake := &fakeOpenAI{valid: map[string]bool{}}
	srv, c := newVerifyServer(t, fake)
	cred, err := c.CreateCredential(ctx, api.CredentialCreate{Name: "offline", Provider: "openai", APIKey: ptr("sk-proj-any-3333"), Verify: ptr(false)})
	if err != nil || cred.Status != api.StatusUnverified {
		t.Fatalf("verify = false: %+v, %v", cred, err)
	}
	rep, err := srv.Service().Reverify(ctx)
	if err != nil || rep.Skipped != 1 || rep.Checked != 0 {
		t.Errorf("Reverify = %+v, %v", rep, err)
	}

	// The loop with interval 0 is off and returns at once; a running loop stops with its context.
	srv.Service().RunReverifier(ctx, 0, nil)
	lctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { srv.Service().RunReverifier(lctx, time.Hour, nil); close(done) }()
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("RunReverifier did not stop with its context")
	}
}
