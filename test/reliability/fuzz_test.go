package reliability

import (
	"bytes"
	"context"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/secrets"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/server"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store/sqlstore"
)

var (
	fuzzOnce    sync.Once
	fuzzHandler http.Handler
	fuzzCredID  string
)

// handlerForFuzz is the real handler over a SQLite file, with one credential to patch and connect.
func handlerForFuzz(f *testing.F) http.Handler {
	fuzzOnce.Do(func() {
		ctx := context.Background()
		st, err := sqlstore.OpenSQLite(ctx, filepath.Join(root, "fuzz", "fuzz.db"))
		if err != nil {
			f.Fatal(err)
		}
		key := make([]byte, 32)
		_, _ = rand.Read(key)
		ring, _ := secrets.NewKeyring(key)
		srv, err := server.New(ctx, service.Config{Store: st, Keyring: ring, Embedded: true})
		if err != nil {
			f.Fatal(err)
		}
		fuzzHandler = srv.Handler()
		w := httptest.NewRecorder()
		seed := httptest.NewRequest("POST", "/v1/credentials",
			strings.NewReader(`{"name":"fuzz-target","provider":"openai","api_key":"sk-fuzz-target-0000000000wxyz","verify":false}`))
		seed.Header.Set("Content-Type", "application/json")
		fuzzHandler.ServeHTTP(w, seed)
		if w.Code != 201 {
			f.Fatalf("seed credential: %d %s", w.Code, w.Body)
		}
		fuzzCredID = strings.Split(strings.Split(w.Body.String(), `"id":"`)[1], `"`)[0]
	})
	return fuzzHandler
}

// FuzzWriteEndpoints sends arbitrary bodies to every write route (PATCH of a credential, connections,
// model policy, projects) and arbitrary query strings to the lists. Whatever the input: a 2xx or a
// 4xx, never a 5xx, never a panic (the handler's recovery would turn one into a 500).
func FuzzWriteEndpoints(f *testing.F) {
	h := handlerForFuzz(f)
	for _, s := range []string{
		`{"description":"x"}`, `{"api_key":"sk-new-0000000000000000"}`, `{"settings":{"organization_id":null}}`,
		`{"name":"c","credential_id":"CRED","model":"gpt-4o-mini"}`, `{"mode":"allowlist","models":["openai/gpt-4o"]}`,
		`{"mode":"denylist","publishers":[1]}`, `{"name":"p","inherit_organization_credentials":"yes"}`,
		``, `{`, `null`, `[]`, "\x00\xff", `{"name":"a'; DROP TABLE credentials; --"}`, `{"labels":{"🔑":"ключ"}}`,
		strings.Repeat(`[`, 3000), `{"parameters":"{\"temperature\":1e999}"}`, `limit=-1&page_token=%ff`,
	} {
		for r := range 5 {
			f.Add(uint8(r), s)
		}
	}
	f.Fuzz(func(t *testing.T, route uint8, body string) {
		body = strings.ReplaceAll(body, "CRED", fuzzCredID)
		var req *http.Request
		switch route % 6 {
		case 0:
			req = httptest.NewRequest("PATCH", "/v1/credentials/"+fuzzCredID, strings.NewReader(body))
		case 1:
			req = httptest.NewRequest("POST", "/v1/connections", strings.NewReader(body))
		case 2:
			req = httptest.NewRequest("PUT", "/v1/model-policy", strings.NewReader(body))
		case 3:
			req = httptest.NewRequest("POST", "/v1/projects", strings.NewReader(body))
		case 4:
			req = httptest.NewRequest("GET", "/v1/credentials", nil)
			req.URL.RawQuery = body
		default:
			req = httptest.NewRequest("POST", "/v1/credentials", bytes.NewBufferString(body))
		}
		if req.Method != "GET" {
			req.Header.Set("Content-Type", "application/json") // else every body is a 415 and reaches nothing
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %s %q: HTTP %d %s", req.Method, req.URL.Path, body, w.Code, w.Body)
		}
		if w.Code >= 400 && !strings.Contains(w.Body.String(), `"detail"`) && !strings.Contains(w.Body.String(), `"title"`) {
			t.Fatalf("%s %s: HTTP %d without a problem document: %s", req.Method, req.URL.Path, w.Code, w.Body)
		}
		// Put the policy back so later inputs are not all refused by it.
		if route%6 == 2 && w.Code < 300 {
			r := httptest.NewRecorder()
			h.ServeHTTP(r, httptest.NewRequest("DELETE", "/v1/model-policy", nil))
		}
	})
}
