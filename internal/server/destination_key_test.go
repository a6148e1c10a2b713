package server_test

import (
	"bytes"
	"context"
	"fmt"
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

// catcher is a listener of an editor's choosing: it records every credential header it receives.
type catcher struct {
	mu   sync.Mutex
	seen []string
}

func (c *catcher) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.seen = append(c.seen, r.Header.Get("Authorization"), r.Header.Get("Proxy-Authorization"))
	c.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"object":"list","data":[{"id":"gpt-4o"}]}`))
}

func (c *catcher) received(secret string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, h := range c.seen {
		if strings.Contains(h, secret) {
			return true
		}
	}
	return false
}

// destinationServer is a server with the real verifier and an admin and an editor token of one
// organisation; it returns the admin's client, the editor's token and the API's URL.
func destinationServer(t *testing.T) (*client.Client, string, string) {
	t.Helper()
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "modelkeys.db")
	st, err := sqlstore.OpenSQLite(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	ring, err := secrets.NewKeyring(secrets.NewMasterKey())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(ctx, service.Config{Store: st, Keyring: ring, Version: "test",
		Verifier: verify.New(verify.Options{Timeout: 2 * time.Second})})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { hs.Close(); _ = st.Close() })
	admin, _, err := service.CreateToken(ctx, st, "acme", api.RoleAdmin, "admin", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	editor, _, err := service.CreateToken(ctx, st, "acme", api.RoleEditor, "editor", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(client.Config{BaseURL: hs.URL, Token: admin, MaxRetries: 1})
	if err != nil {
		t.Fatal(err)
	}
	return c, editor, hs.URL
}

func patchRaw(t *testing.T, baseURL, token, id, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPatch, baseURL+"/v1/credentials/"+id, bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

// An editor may not read the admin's key, so they must not be able to have it sent to a listener of
// theirs by moving base_url and sending an empty (or null) second secret in its place.
func TestStoredKeyDoesNotFollowAMovedBaseURL(t *testing.T) {
	t.Parallel()
	admin, editor, base := destinationServer(t)
	ctx := context.Background()
	listener := &catcher{}
	ls := httptest.NewServer(listener)
	t.Cleanup(ls.Close)

	key := "sk-proj-ADMINSECRETADMINSECRET0001"
	c, err := admin.CreateCredential(ctx, api.CredentialCreate{Name: "openai-prod", Provider: "openai", APIKey: &key,
		Settings: map[string]string{"base_url": "https://api.openai.com/v1"}, Verify: ptr(false)})
	if err != nil {
		t.Fatal(err)
	}
	for _, secretsPart := range []string{`"auth_token":""`, `"auth_token":null`, `"api_key":"","auth_token":""`, `"api_key":null`} {
		body := fmt.Sprintf(`{"settings":{"base_url":%q},%s,"verify":true}`, ls.URL+"/v1", secretsPart)
		status, answer := patchRaw(t, base, editor, c.ID, body)
		if status != http.StatusUnprocessableEntity {
			t.Errorf("PATCH %s: status %d, want 422: %s", body, status, answer)
		}
	}
	if listener.received(key) {
		t.Fatal("the admin's key reached the editor's listener")
	}
	got, err := admin.GetCredential(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Settings["base_url"] != "https://api.openai.com/v1" || !got.HasAPIKey {
		t.Fatalf("the credential changed: %+v", got)
	}
}

// A custom credential keeps two secrets: sending only one of them with a new base_url would send the
// other, which the sender never proved they had, to the new host as Proxy-Authorization.
func TestEverySecretKeptMustComeWithAMove(t *testing.T) {
	t.Parallel()
	admin, editor, base := destinationServer(t)
	ctx := context.Background()
	listener := &catcher{}
	ls := httptest.NewServer(listener)
	t.Cleanup(ls.Close)

	key, token := "sk-ADMINKEYADMINKEY00000002", "tok-ADMINPROXYTOKEN0000000003"
	c, err := admin.CreateCredential(ctx, api.CredentialCreate{Name: "gateway", Provider: "custom", APIKey: &key, AuthToken: &token,
		Settings: map[string]string{"base_url": "https://llm.internal.example/v1"}, Verify: ptr(false)})
	if err != nil {
		t.Fatal(err)
	}
	own := "sk-EDITOROWNKEY000000000004"
	status, answer := patchRaw(t, base, editor, c.ID, fmt.Sprintf(`{"settings":{"base_url":%q},"api_key":%q,"verify":true}`, ls.URL+"/v1", own))
	if status != http.StatusUnprocessableEntity || !strings.Contains(answer, "settings.base_url") || !strings.Contains(answer, "auth_token") {
		t.Fatalf("moving with one of two secrets: status %d, want 422 naming settings.base_url and auth_token: %s", status, answer)
	}
	if listener.received(token) || listener.received(key) {
		t.Fatal("a stored secret reached the new host")
	}

	// Removing the secret the sender does not have is the other way to move: then nothing stored goes along.
	status, answer = patchRaw(t, base, editor, c.ID, fmt.Sprintf(`{"settings":{"base_url":%q},"api_key":%q,"auth_token":"","verify":false}`, "https://llm2.internal.example/v1", own))
	if status != http.StatusOK {
		t.Fatalf("moving with the one secret kept: status %d: %s", status, answer)
	}
	got, err := admin.GetCredential(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.HasAuthToken || !got.HasAPIKey || got.SecretVersion != 2 {
		t.Fatalf("after the move: has_auth_token %v, has_api_key %v, secret_version %d; want false, true, 2", got.HasAuthToken, got.HasAPIKey, got.SecretVersion)
	}

	// The audit log says where the secrets went, from what to what.
	events, err := admin.ListAuditEvents(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	last := events.Items[len(events.Items)-1]
	want := api.AuditChange{Field: "settings.base_url", From: "https://llm.internal.example/v1", To: "https://llm2.internal.example/v1"}
	if len(last.Changes) != 1 || last.Changes[0] != want {
		t.Fatalf("audit event %+v: changes %+v, want [%+v]", last, last.Changes, want)
	}
	for _, s := range []string{key, token, own} {
		if strings.Contains(fmt.Sprint(events.Items), s) {
			t.Fatal("a secret is in the audit log")
		}
	}
}
