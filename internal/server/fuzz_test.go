package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
)

// FuzzCreateCredential sends arbitrary bodies to POST /v1/credentials through the real handler with an
// admin token. Whatever the body, the answer is a 2xx or a 4xx problem document: never a 5xx, never a
// panic (the handler's recovery would turn one into a 500). The seed corpus runs in plain `go test`.
func FuzzCreateCredential(f *testing.F) {
	seeds := []string{
		// valid
		`{"name":"openai-prod","provider":"openai","api_key":"sk-proj-abcdefghijklmnopqrstuvwxyz","settings":{"organization_id":"org-1"},"verify":false}`,
		`{"name":"ollama","provider":"custom","settings":{"base_url":"http://127.0.0.1:11434/v1"}}`,
		`{"name":"azure","provider":"azure_openai","api_key":"k-1234567890abcdef","settings":{"endpoint":"https://x.openai.azure.com","deployment":"gpt4","api_version":"2024-10-21"},"labels":{"team":"ml"}}`,
		`{"name":"vertex","provider":"vertex_ai","api_key":"{\"type\":\"service_account\"}","settings":{"project_id":"p","location":"us-central1"}}`,
		// malformed
		``, `{`, `}`, `null`, `[]`, `"str"`, `123`, `{"name":"a"}{"name":"b"}`, `{"name":"a",}`, "\x00\xff\xfe", `{"name":"a","provider":"openai","api_key":"sk-`,
		// wrong types
		`{"name":1,"provider":"openai"}`, `{"name":"a","provider":["openai"]}`, `{"name":"a","provider":"openai","api_key":{"x":1}}`,
		`{"name":"a","provider":"openai","settings":"x"}`, `{"name":"a","provider":"openai","settings":{"organization_id":null}}`,
		`{"name":"a","provider":"openai","labels":{"k":[1]}}`, `{"name":"a","provider":"openai","verify":"false"}`,
		`{"name":"a","provider":"openai","api_key":1e309}`, `{"name":null,"provider":null,"api_key":null,"settings":null}`,
		// unknown fields and deep nesting
		`{"name":"a","provider":"openai","model_provider":"openai"}`, `{"__proto__":{"admin":true}}`,
		strings.Repeat(`{"a":`, 10000) + `1` + strings.Repeat(`}`, 10000),
		`{"name":"a","provider":"openai","settings":` + strings.Repeat(`[`, 5000) + strings.Repeat(`]`, 5000) + `}`,
		// unicode
		`{"name":"ключ","provider":"openai","api_key":"sk-ключ-🔑-abcdefghijklmnop"}`, `{"name":"a\u0000b","provider":"openai"}`,
		`{"name":"a","provider":"openai","api_key":"\ud800"}`, `{"name":"ａｂｃ","provider":"ｏｐｅｎａｉ"}`,
		`{"name":"a","provider":"openai","api_key":"sk-abc","settings":{"🔑":"v"}}`, "{\"name\":\"a\xc3\x28\",\"provider\":\"openai\"}",
		// injection-shaped
		`{"name":"a'; DROP TABLE credentials; --","provider":"openai","api_key":"sk-x"}`,
		`{"name":"x","provider":"openai' OR '1'='1","api_key":"sk-x"}`,
		`{"name":"x","provider":"custom","settings":{"base_url":"javascript:alert(1)"}}`,
		`{"name":"x","provider":"custom","settings":{"base_url":"http://169.254.169.254/latest/meta-data"}}`,
		`{"name":"x","provider":"custom","settings":{"base_url":"https://u:p@evil.example"}}`,
		`{"name":"../../etc/passwd","provider":"openai","api_key":"sk-x"}`, `{"name":"<script>","provider":"openai","api_key":"sk-x"}`,
		`{"name":"x","provider":"openai","api_key":"sk-x","project_id":"' OR 1=1 --"}`,
		`{"name":"x","provider":"openai","api_key":"sk-x","labels":{"":"empty key"}}`,
		// masks echoed back
		`{"name":"m","provider":"openai","api_key":"sk-...wxyz"}`, `{"name":"m","provider":"openai","api_key":"****"}`,
		// huge values
		`{"name":"` + strings.Repeat("a", 100000) + `","provider":"openai","api_key":"sk-x"}`,
		`{"name":"h","provider":"openai","api_key":"` + strings.Repeat("k", 500000) + `"}`,
		`{"name":"h2","provider":"openai","api_key":"sk-x","description":"` + strings.Repeat("d", 5000) + `"}`,
		`{"name":"h3","provider":"openai","api_key":"sk-x","labels":{"` + strings.Repeat("l", 300) + `":"` + strings.Repeat("v", 300) + `"}}`,
		`{"name":"h4","provider":"openai","api_key":"sk-x","settings":{"organization_id":"` + strings.Repeat("o", 200000) + `"}}`,
		`{"name":"big","provider":"openai","api_key":"sk-x","description":"` + strings.Repeat("z", 1<<20) + `"}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	h := newHarness(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/v1/credentials", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+h.tokens["admin"])
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.srv.Handler().ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("body %q: HTTP %d %s", truncate(body), rec.Code, rec.Body.Bytes())
		}
		if rec.Code >= 400 {
			var p struct {
				Status int    `json:"status"`
				Title  string `json:"title"`
			}
			if rec.Header().Get("Content-Type") != "application/problem+json" || json.Unmarshal(rec.Body.Bytes(), &p) != nil || p.Status != rec.Code || p.Title == "" {
				t.Fatalf("body %q: HTTP %d without a problem document: %s", truncate(body), rec.Code, rec.Body.Bytes())
			}
		} else if rec.Code != http.StatusCreated {
			t.Fatalf("body %q: HTTP %d, want 201 or 4xx", truncate(body), rec.Code)
		}
	})
}

func truncate(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}

// recordingVerifier accepts every key and remembers where each secret was sent.
type recordingVerifier struct {
	mu    sync.Mutex
	calls []recordedProbe
}

type recordedProbe struct{ settings, secrets map[string]string }

func (v *recordingVerifier) Verify(_ context.Context, _ api.Provider, settings, secrets map[string]string) api.VerifyResult {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.calls = append(v.calls, recordedProbe{maps.Clone(settings), maps.Clone(secrets)})
	return api.VerifyResult{OK: true, Message: "accepted"}
}

func (v *recordingVerifier) take() []recordedProbe {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := v.calls
	v.calls = nil
	return out
}

// FuzzPatchStoredSecrets sends arbitrary PATCH bodies, with an editor's token, to a credential that
// holds an admin's api_key and auth_token. Whatever the body: no 5xx, no stored secret in the answer,
// and no stored secret is ever probed at a destination other than the one it was stored with unless
// the body itself carried it.
func FuzzPatchStoredSecrets(f *testing.F) {
	seeds := []string{
		`{"settings":{"base_url":"http://127.0.0.1:9/v1"},"auth_token":"","verify":true}`,
		`{"settings":{"base_url":"http://127.0.0.1:9/v1"},"auth_token":null,"verify":true}`,
		`{"settings":{"base_url":"http://127.0.0.1:9/v1"},"api_key":"sk-editor-own-key-0000000000","verify":true}`,
		`{"settings":{"base_url":"http://127.0.0.1:9/v1"},"api_key":"sk-editor-own-key-0000000000","auth_token":"","verify":true}`,
		`{"settings":{"base_url":"http://127.0.0.1:9/v1"},"api_key":"","auth_token":"","verify":true}`,
		`{"settings":{},"verify":true}`, `{"settings":{"base_url":"https://gw.example.com/v1#"},"verify":true}`,
		`{"settings":{"base_url":"https://gw.example.com/v1?x="},"verify":true}`, `{"verify":true}`,
		`{"name":"renamed","labels":{"a":"b"},"verify":true}`, `{"api_key":"sk-editor-own-key-0000000000","verify":true}`,
		`{"settings":{"base_url":"HTTP://127.0.0.1:9/v1"},"api_key":"x","auth_token":"y"}`, `{"settings":null,"api_key":null}`,
		`{"settings":{"base_url":"https://gw.example.com/v1","base_url ":"x"},"verify":true}`, `{`, `[]`, `null`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	rec := &recordingVerifier{}
	h := newHarness(f, withVerifier(rec), withLimits(service.Limits{MaxBodyBytes: 1 << 20}))
	const home = "https://gw.example.com/v1"
	apiKey, authToken := "sk-ADMINSTOREDKEY-7f3a9c2e", "tok-ADMINSTOREDTOKEN-5b8d1e4f"
	var n atomic.Int64
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := h.admin.CreateCredential(context.Background(), api.CredentialCreate{Name: fmt.Sprintf("gw-%d", n.Add(1)), Provider: "custom",
			APIKey: ptr(apiKey), AuthToken: ptr(authToken), Settings: map[string]string{"base_url": home}, Verify: ptr(false)})
		if err != nil {
			t.Fatal(err)
		}
		rec.take()
		req := httptest.NewRequest(http.MethodPatch, "/v1/credentials/"+c.ID, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+h.tokens["editor"])
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.srv.Handler().ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("body %q: HTTP %d %s", truncate(body), w.Code, w.Body.Bytes())
		}
		if bytes.Contains(w.Body.Bytes(), []byte(apiKey)) || bytes.Contains(w.Body.Bytes(), []byte(authToken)) {
			t.Fatalf("body %q: a stored secret is in the answer", truncate(body))
		}
		for _, p := range rec.take() {
			if p.settings["base_url"] == home {
				continue
			}
			for field, stored := range map[string]string{api.SecretAPIKey: apiKey, api.SecretAuthToken: authToken} {
				if p.secrets[field] == stored && !bytes.Contains(body, []byte(stored)) {
					t.Fatalf("body %q: the stored %s was sent to %q", truncate(body), field, p.settings["base_url"])
				}
			}
		}
	})
}
