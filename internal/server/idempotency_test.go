package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
)

func TestIdempotencyKey(t *testing.T) { forEachBackend(t, testIdempotencyKey) }

func testIdempotencyKey(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin := h.tokens["admin"]
	body := mustJSON(t, openAICred("idem", h.secret("sk-")))

	first := h.do("POST", "/v1/credentials", admin, body, "Idempotency-Key", "key-1")
	if first.Status != http.StatusCreated {
		t.Fatalf("first POST: %d %s", first.Status, first.Body)
	}
	var a, b api.Credential
	if err := json.Unmarshal(first.Body, &a); err != nil {
		t.Fatal(err)
	}
	again := h.do("POST", "/v1/credentials", admin, body, "Idempotency-Key", "key-1")
	if again.Status >= 300 {
		t.Fatalf("replayed POST: %d %s, want the first answer", again.Status, again.Body)
	}
	if err := json.Unmarshal(again.Body, &b); err != nil {
		t.Fatal(err)
	}
	if a.ID == "" || a.ID != b.ID {
		t.Fatalf("replay made %q, first made %q: want the same credential", b.ID, a.ID)
	}
	if again.Header.Get("ETag") != first.Header.Get("ETag") {
		t.Errorf("replay ETag %q, first %q", again.Header.Get("ETag"), first.Header.Get("ETag"))
	}

	other := mustJSON(t, openAICred("idem-other", h.secret("sk-")))
	r := h.do("POST", "/v1/credentials", admin, other, "Idempotency-Key", "key-1")
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("same key, other body: %d, want 422", r.Status)
	}
	r.problem(t)

	// Keys belong to an organisation: another organisation may use the same key for its own request.
	r = h.do("POST", "/v1/credentials", h.tokens["other"], body, "Idempotency-Key", "key-1")
	if r.Status != http.StatusCreated {
		t.Fatalf("other org, same key: %d %s", r.Status, r.Body)
	}
	var c api.Credential
	_ = json.Unmarshal(r.Body, &c)
	if c.ID == a.ID {
		t.Fatal("another organisation got acme's credential back")
	}

	// Without a key, two POSTs of the same body are two requests: the second one is a duplicate name.
	if r := h.do("POST", "/v1/credentials", admin, body); r.Status != http.StatusConflict {
		t.Fatalf("POST without key, same name: %d, want 409", r.Status)
	}
	if n := h.countCredentials("acme"); n != 1 {
		t.Fatalf("acme has %d credentials, want 1", n)
	}
}

func TestIdempotencyConcurrentSameKey(t *testing.T) {
	forEachBackend(t, testIdempotencyConcurrentSameKey)
}

func testIdempotencyConcurrentSameKey(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	body := mustJSON(t, openAICred("racing", h.secret("sk-")))
	const n = 6
	var wg sync.WaitGroup
	got := make([]rawResponse, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = h.do("POST", "/v1/credentials", h.tokens["admin"], body, "Idempotency-Key", "same")
		}()
	}
	wg.Wait()
	ids := map[string]bool{}
	for _, r := range got {
		if r.Status != http.StatusCreated {
			t.Fatalf("concurrent replay: %d %s", r.Status, r.Body)
		}
		var c api.Credential
		_ = json.Unmarshal(r.Body, &c)
		ids[c.ID] = true
	}
	if len(ids) != 1 || h.countCredentials("acme") != 1 {
		t.Fatalf("%d concurrent POSTs with one key made ids %v and %d credentials, want one", n, ids, h.countCredentials("acme"))
	}
}

// TestCreateRetriedAfterDroppedConnection puts a proxy in front of the handler that lets the first
// create reach the API and commit, then kills the connection before the answer. The client retries
// with the same Idempotency-Key and must get the first credential, not a second one.
func TestCreateRetriedAfterDroppedConnection(t *testing.T) {
	forEachBackend(t, testCreateRetriedAfterDroppedConnection)
}

func testCreateRetriedAfterDroppedConnection(t *testing.T) {
	t.Parallel()
	var dropped atomic.Bool
	var attempts atomic.Int32
	var firstID atomic.Value
	var firstKey atomic.Value
	h := newHarness(t, withWrap(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && r.URL.Path == "/v1/credentials" {
				attempts.Add(1)
				if dropped.CompareAndSwap(false, true) {
					firstKey.Store(r.Header.Get("Idempotency-Key"))
					rec := httptest.NewRecorder()
					next.ServeHTTP(rec, r)
					var c api.Credential
					_ = json.Unmarshal(rec.Body.Bytes(), &c)
					firstID.Store(c.ID)
					conn, _, err := http.NewResponseController(w).Hijack()
					if err != nil {
						panic(err)
					}
					_ = conn.Close()
					return
				}
				if k := r.Header.Get("Idempotency-Key"); k != firstKey.Load() {
					t.Errorf("retry carried Idempotency-Key %q, first had %q", k, firstKey.Load())
				}
			}
			next.ServeHTTP(w, r)
		})
	}))
	ctx := context.Background()
	c, err := h.admin.CreateCredential(ctx, openAICred("dropped", h.secret("sk-")))
	if err != nil {
		t.Fatalf("create through a dropping proxy: %v", err)
	}
	if attempts.Load() < 2 {
		t.Fatalf("the handler saw %d POSTs; the test did not drop a connection", attempts.Load())
	}
	if id, _ := firstID.Load().(string); id == "" || c.ID != id {
		t.Fatalf("retry answered %q, the dropped first attempt created %q", c.ID, id)
	}
	list, err := h.admin.ListAllCredentials(ctx, client.CredentialListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 {
		t.Fatalf("%d credentials after a retried create, want 1", len(list))
	}
}
