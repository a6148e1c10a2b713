package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

// newTestClient starts an httptest server for h and returns a client for it with fast retries.
func newTestClient(t *testing.T, h http.HandlerFunc, mutate ...func(*Config)) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	cfg := Config{
		BaseURL:      srv.URL,
		Token:        "tok-123",
		UserAgent:    "terraform-provider-modelkeys/test",
		RetryWaitMin: time.Millisecond,
		RetryWaitMax: 20 * time.Millisecond,
	}
	for _, m := range mutate {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeProblem(w http.ResponseWriter, p api.Problem) {
	w.Header().Set("Content-Type", api.ProblemContentType)
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// recorder keeps what the server saw, safely across the server's goroutines.
type recorder struct {
	mu     sync.Mutex
	reqs   []*http.Request
	bodies []string
}

func (r *recorder) add(req *http.Request) int {
	b, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = append(r.reqs, req)
	r.bodies = append(r.bodies, string(b))
	return len(r.reqs)
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.reqs)
}

func (r *recorder) header(i int, name string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reqs[i].Header.Get(name)
}

func (r *recorder) body(i int) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.bodies[i]
}

func TestRetriesOn503ThenSucceeds(t *testing.T) {
	var rec recorder
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		if rec.add(r) < 3 {
			writeProblem(w, api.Problem{Title: "Unavailable", Status: 503})
			return
		}
		writeJSON(w, 200, api.Credential{ID: "cred_1", Name: "openai-prod", Version: 2})
	})
	got, err := c.GetCredential(context.Background(), "cred_1")
	if err != nil {
		t.Fatalf("GetCredential: %v", err)
	}
	if got.ID != "cred_1" || got.Version != 2 {
		t.Fatalf("got %+v", got)
	}
	if n := rec.count(); n != 3 {
		t.Fatalf("attempts = %d, want 3", n)
	}
	for i := range 3 {
		if h := rec.header(i, "Authorization"); h != "Bearer tok-123" {
			t.Errorf("attempt %d Authorization = %q", i, h)
		}
		if h := rec.header(i, "User-Agent"); h != "terraform-provider-modelkeys/test" {
			t.Errorf("attempt %d User-Agent = %q", i, h)
		}
		if h := rec.header(i, IdempotencyKeyHeader); h != "" {
			t.Errorf("GET carried Idempotency-Key %q", h)
		}
	}
}

func TestNoTokenNoAuthorizationHeader(t *testing.T) {
	var rec recorder
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		rec.add(r)
		writeJSON(w, 200, api.List[api.Provider]{Items: []api.Provider{{ID: "openai"}}})
	}, func(cfg *Config) { cfg.Token = ""; cfg.UserAgent = "" })
	ps, err := c.ListProviders(context.Background())
	if err != nil || len(ps) != 1 || ps[0].ID != "openai" {
		t.Fatalf("ListProviders = %+v, %v", ps, err)
	}
	if h := rec.header(0, "Authorization"); h != "" {
		t.Errorf("Authorization = %q, want none", h)
	}
	if h := rec.header(0, "User-Agent"); h != DefaultUserAgent {
		t.Errorf("User-Agent = %q, want default", h)
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	var rec recorder
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		if rec.add(r) == 1 {
			w.Header().Set("Retry-After", "1")
			writeProblem(w, api.Problem{Title: "Too Many Requests", Status: 429})
			return
		}
		writeJSON(w, 200, api.Project{ID: "proj_1"})
	}, func(cfg *Config) { cfg.RetryWaitMax = 5 * time.Second })
	start := time.Now()
	if _, err := c.GetProject(context.Background(), "proj_1"); err != nil {
		t.Fatalf("GetProject: %v", err)
	}
	if el := time.Since(start); el < 900*time.Millisecond {
		t.Fatalf("retried after %v, want about the 1s Retry-After", el)
	}
	if n := rec.count(); n != 2 {
		t.Fatalf("attempts = %d, want 2", n)
	}
}

func TestBackoff(t *testing.T) {
	mk := func(status int, retryAfter string) *http.Response {
		h := http.Header{}
		if retryAfter != "" {
			h.Set("Retry-After", retryAfter)
		}
		return &http.Response{StatusCode: status, Header: h}
	}
	const minW, maxW = 100 * time.Millisecond, 10 * time.Second
	if d := Backoff(minW, maxW, 0, mk(429, "3")); d != 3*time.Second {
		t.Errorf("429 Retry-After 3: %v", d)
	}
	if d := Backoff(minW, maxW, 0, mk(503, "2")); d != 2*time.Second {
		t.Errorf("503 Retry-After 2: %v", d)
	}
	if d := Backoff(minW, maxW, 0, mk(429, "3600")); d != maxW {
		t.Errorf("429 Retry-After 3600 not capped: %v", d)
	}
	date := time.Now().Add(5 * time.Second).UTC().Format(http.TimeFormat)
	if d := Backoff(minW, maxW, 0, mk(429, date)); d < 3*time.Second || d > 5*time.Second {
		t.Errorf("429 Retry-After date: %v", d)
	}
	for attempt := range 10 {
		d := Backoff(minW, maxW, attempt, mk(500, "7"))
		want := min(minW<<attempt, maxW)
		if d < max(minW, want/2) || d > want {
			t.Errorf("attempt %d: %v outside [%v, %v]", attempt, d, want/2, want)
		}
	}
	if d := Backoff(minW, maxW, 200, nil); d < maxW/2 || d > maxW {
		t.Errorf("large attempt: %v", d)
	}
}

func TestIdempotencyKeyStableAcrossRetriesAndFreshPerCall(t *testing.T) {
	var rec recorder
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		n := rec.add(r)
		if n == 1 || n == 2 {
			writeProblem(w, api.Problem{Title: "Bad Gateway", Status: 502})
			return
		}
		writeJSON(w, 201, api.Connection{ID: fmt.Sprintf("conn_%d", n)})
	})
	ctx := context.Background()
	in := api.ConnectionCreate{Name: "gpt", CredentialID: "cred_1", Model: "gpt-4o"}
	if _, err := c.CreateConnection(ctx, in); err != nil {
		t.Fatalf("first create: %v", err)
	}
	if _, err := c.CreateConnection(ctx, in); err != nil {
		t.Fatalf("second create: %v", err)
	}
	if n := rec.count(); n != 4 {
		t.Fatalf("attempts = %d, want 4", n)
	}
	k0, k1, k2, k3 := rec.header(0, IdempotencyKeyHeader), rec.header(1, IdempotencyKeyHeader),
		rec.header(2, IdempotencyKeyHeader), rec.header(3, IdempotencyKeyHeader)
	if k0 == "" || k0 != k1 || k1 != k2 {
		t.Fatalf("keys across retries of one call differ or are empty: %q %q %q", k0, k1, k2)
	}
	if k3 == "" || k3 == k0 {
		t.Fatalf("second call reused key %q", k3)
	}
	for i := range 3 {
		if rec.body(i) != rec.body(0) || !strings.Contains(rec.body(i), `"model":"gpt-4o"`) {
			t.Fatalf("attempt %d body %q differs from first %q", i, rec.body(i), rec.body(0))
		}
	}
}

func TestPostRetriedAfterDroppedConnectionKeepsKey(t *testing.T) {
	var rec recorder
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		if rec.add(r) == 1 {
			// The server took the request (as if it created the object) and then the connection died
			// before the answer got out.
			conn, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				t.Errorf("hijack: %v", err)
				return
			}
			conn.Close()
			return
		}
		writeJSON(w, 201, api.Credential{ID: "cred_1"})
	})
	key := "sk-live-0123456789"
	got, err := c.CreateCredential(context.Background(), api.CredentialCreate{Name: "k", Provider: "openai", APIKey: &key})
	if err != nil {
		t.Fatalf("CreateCredential: %v", err)
	}
	if got.ID != "cred_1" {
		t.Fatalf("got %+v", got)
	}
	n := rec.count()
	if n < 2 {
		t.Fatalf("attempts = %d, want at least 2", n)
	}
	k0 := rec.header(0, IdempotencyKeyHeader)
	for i := 1; i < n; i++ {
		if k := rec.header(i, IdempotencyKeyHeader); k == "" || k != k0 {
			t.Fatalf("attempt %d key %q, first %q", i, k, k0)
		}
		if rec.body(i) != rec.body(0) || rec.body(i) == "" {
			t.Fatalf("attempt %d body not replayed", i)
		}
	}
}

func TestNoRetryOnClientErrorsAnd501(t *testing.T) {
	for _, status := range []int{400, 401, 403, 404, 409, 412, 422, 501} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			var rec recorder
			c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
				rec.add(r)
				writeProblem(w, api.Problem{Title: http.StatusText(status), Status: status})
			})
			_, err := c.CreateProject(context.Background(), api.ProjectCreate{Name: "p"})
			if err == nil {
				t.Fatal("want an error")
			}
			if n := rec.count(); n != 1 {
				t.Fatalf("attempts = %d, want 1", n)
			}
			ae, ok := AsAPIError(err)
			if !ok || ae.Status != status {
				t.Fatalf("err %T %v", err, err)
			}
		})
	}
}

func TestErrorDecoding(t *testing.T) {
	problems := map[string]api.Problem{
		"/v1/credentials/missing": {Type: "https://modelkeys.dev/problems/not-found", Title: "Not found",
			Status: 404, Detail: "no credential missing"},
		"/v1/credentials/used": {Title: "Credential in use", Status: 409,
			Detail: "2 connections use this credential", Conflicts: []string{"conn_a", "conn_b"}},
		"/v1/credentials/stale": {Title: "Version mismatch", Status: 412, Detail: "credential is at version 4"},
		"/v1/credentials": {Title: "Validation failed", Status: 422, Errors: []api.FieldError{
			{Field: "settings.endpoint", Message: "is required for azure_openai"},
			{Field: "name", Message: "must match [a-z0-9-_.]{1,64}"},
		}},
	}
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		p, ok := problems[r.URL.Path]
		if !ok {
			t.Errorf("unexpected path %s", r.URL.Path)
			w.WriteHeader(500)
			return
		}
		writeProblem(w, p)
	})
	ctx := context.Background()

	_, err := c.GetCredential(ctx, "missing")
	if !IsNotFound(err) || IsConflict(err) {
		t.Fatalf("404: %v", err)
	}
	if s := err.Error(); !strings.Contains(s, "GET /v1/credentials/missing") || !strings.Contains(s, "404") ||
		!strings.Contains(s, "no credential missing") {
		t.Errorf("404 message: %s", s)
	}

	err = c.DeleteCredential(ctx, "used", 0)
	if !IsConflict(err) {
		t.Fatalf("409: %v", err)
	}
	ae, _ := AsAPIError(err)
	if strings.Join(ae.Problem.Conflicts, ",") != "conn_a,conn_b" {
		t.Errorf("conflicts = %v", ae.Problem.Conflicts)
	}
	if s := err.Error(); !strings.Contains(s, "Credential in use") || !strings.Contains(s, "conn_a, conn_b") {
		t.Errorf("409 message: %s", s)
	}

	name := "x"
	_, err = c.UpdateCredential(ctx, "stale", api.CredentialPatch{Name: &name}, 3)
	if !IsPreconditionFailed(err) {
		t.Fatalf("412: %v", err)
	}

	_, err = c.CreateCredential(ctx, api.CredentialCreate{Name: "BAD NAME", Provider: "azure_openai"})
	if !IsValidation(err) {
		t.Fatalf("422: %v", err)
	}
	ae, _ = AsAPIError(err)
	if len(ae.Problem.Errors) != 2 || ae.Problem.Errors[0].Field != "settings.endpoint" {
		t.Errorf("field errors = %+v", ae.Problem.Errors)
	}
	if s := err.Error(); !strings.Contains(s, "settings.endpoint: is required for azure_openai") ||
		!strings.Contains(s, "name: must match") {
		t.Errorf("422 message: %s", s)
	}
	if IsForbidden(err) || IsUnauthorized(err) || IsNotFound(err) {
		t.Error("422 matched another helper")
	}
	if IsNotFound(nil) || IsNotFound(errors.New("404")) {
		t.Error("IsNotFound on non-API errors")
	}
}

func TestAuthErrorHelpers(t *testing.T) {
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			writeProblem(w, api.Problem{Title: "Unauthorized", Status: 401})
			return
		}
		writeProblem(w, api.Problem{Title: "Forbidden", Status: 403, Detail: "reveal is disabled"})
	})
	if _, err := c.RevealCredential(context.Background(), "cred_1"); !IsForbidden(err) {
		t.Fatalf("want 403, got %v", err)
	}
	c.token = ""
	if _, err := c.RevealCredential(context.Background(), "cred_1"); !IsUnauthorized(err) {
		t.Fatalf("want 401, got %v", err)
	}
}

func TestNonJSONErrorBody(t *testing.T) {
	long := "<html><body><h1>502 Bad Gateway</h1>\n\n" + strings.Repeat("nginx ", 400) + "</body></html>"
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(502)
		_, _ = io.WriteString(w, long)
	}, func(cfg *Config) { cfg.MaxRetries = -1 })
	_, err := c.GetConnection(context.Background(), "conn_1")
	ae, ok := AsAPIError(err)
	if !ok || ae.Status != 502 {
		t.Fatalf("err = %v", err)
	}
	s := err.Error()
	if !strings.Contains(s, "<h1>502 Bad Gateway</h1>") || !strings.Contains(s, "…") || len(s) > 800 || strings.Contains(s, "\n") {
		t.Fatalf("message (%d bytes): %s", len(s), s)
	}
}

func TestRetriesExhausted(t *testing.T) {
	var rec recorder
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		rec.add(r)
		writeProblem(w, api.Problem{Title: "Database unavailable", Status: 503, Detail: "connection refused"})
	}, func(cfg *Config) { cfg.MaxRetries = 2 })
	_, err := c.ListCredentials(context.Background(), CredentialListOptions{})
	if n := rec.count(); n != 3 {
		t.Fatalf("attempts = %d, want 3", n)
	}
	var re *RetryError
	if !errors.As(err, &re) || re.Attempts != 3 {
		t.Fatalf("err = %#v", err)
	}
	s := err.Error()
	for _, want := range []string{"GET /v1/credentials", "giving up after 3 attempts", "503", "Database unavailable"} {
		if !strings.Contains(s, want) {
			t.Errorf("message lacks %q: %s", want, s)
		}
	}
	if ae, ok := AsAPIError(err); !ok || ae.Status != 503 {
		t.Errorf("AsAPIError through RetryError: %v %v", ae, ok)
	}
}

func TestConnectionErrorsExhausted(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens any more
	c, err := New(Config{BaseURL: url, MaxRetries: 2, RetryWaitMin: time.Millisecond, RetryWaitMax: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Healthz(context.Background())
	if err == nil {
		t.Fatal("want an error")
	}
	// Healthz makes a single attempt.
	var re *RetryError
	if !errors.As(err, &re) || re.Attempts != 1 {
		t.Fatalf("Healthz err = %v", err)
	}
	_, err = c.ListProviders(context.Background())
	if !errors.As(err, &re) || re.Attempts != 3 || !strings.Contains(err.Error(), "giving up after 3 attempts") {
		t.Fatalf("ListProviders err = %v", err)
	}
}

func TestIfMatch(t *testing.T) {
	var rec recorder
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		rec.add(r)
		switch r.Method {
		case http.MethodDelete:
			w.WriteHeader(http.StatusNoContent)
		case http.MethodPut:
			writeJSON(w, 200, api.ModelPolicy{Mode: api.PolicyAllowlist, Version: 4})
		default:
			writeJSON(w, 200, map[string]any{"id": "x", "version": 4})
		}
	})
	ctx := context.Background()
	desc := "d"
	if _, err := c.UpdateCredential(ctx, "cred_1", api.CredentialPatch{Description: &desc}, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateProject(ctx, "proj_1", api.ProjectPatch{Description: &desc}, 0); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteConnection(ctx, "conn_1", 12); err != nil {
		t.Fatal(err)
	}
	p, err := c.PutModelPolicy(ctx, "proj_1", api.ModelPolicyPut{Mode: api.PolicyAllowlist, Models: []string{"openai/gpt-4o"}}, 7)
	if err != nil || p.Version != 4 {
		t.Fatalf("PutModelPolicy = %+v, %v", p, err)
	}
	if err := c.DeleteModelPolicy(ctx, "", 0); err != nil {
		t.Fatal(err)
	}
	want := []struct{ method, path, query, ifMatch string }{
		{"PATCH", "/v1/credentials/cred_1", "", `"3"`},
		{"PATCH", "/v1/projects/proj_1", "", ""},
		{"DELETE", "/v1/connections/conn_1", "", `"12"`},
		{"PUT", "/v1/model-policy", "project_id=proj_1", `"7"`},
		{"DELETE", "/v1/model-policy", "", ""},
	}
	for i, w := range want {
		r := rec.reqs[i]
		if r.Method != w.method || r.URL.Path != w.path || r.URL.RawQuery != w.query || r.Header.Get("If-Match") != w.ifMatch {
			t.Errorf("request %d: %s %s?%s If-Match=%q, want %+v", i, r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("If-Match"), w)
		}
	}
	if ct := rec.header(0, "Content-Type"); ct != "application/json" {
		t.Errorf("PATCH Content-Type = %q", ct)
	}
	if b := rec.body(0); b != `{"description":"d"}` {
		t.Errorf("PATCH body = %s", b)
	}
	if b := rec.body(2); b != "" {
		t.Errorf("DELETE body = %q", b)
	}
}

func TestQueryAndPathEscaping(t *testing.T) {
	var rec recorder
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		rec.add(r)
		if strings.HasPrefix(r.URL.Path, "/v1/credentials/") {
			writeJSON(w, 200, api.Credential{ID: "odd"})
			return
		}
		writeJSON(w, 200, api.List[api.Credential]{})
	})
	ctx := context.Background()
	name := "a b&name=evil/é?#%"
	if _, err := c.ListCredentials(ctx, CredentialListOptions{ProjectID: "proj 1", Provider: "azure_openai", Name: name, PageToken: "tok+/=", Limit: 50}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetCredential(ctx, "cred/../x y?z"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListModels(ctx, ModelFilter{Provider: "openai", Capability: "tool call", CredentialID: "cred_1"}); err != nil {
		t.Fatal(err)
	}
	q := rec.reqs[0].URL.Query()
	if q.Get("name") != name || q.Get("project_id") != "proj 1" || q.Get("provider") != "azure_openai" ||
		q.Get("page_token") != "tok+/=" || q.Get("limit") != "50" || len(q["name"]) != 1 {
		t.Errorf("list query decoded as %v", q)
	}
	if got := rec.reqs[1].URL.EscapedPath(); got != "/v1/credentials/cred%2F..%2Fx%20y%3Fz" {
		t.Errorf("escaped path = %s", got)
	}
	if got := rec.reqs[2].URL.Query(); got.Get("capability") != "tool call" || got.Get("credential_id") != "cred_1" ||
		got.Has("publisher") || got.Has("project_id") {
		t.Errorf("models query = %v", got)
	}
	if _, err := c.GetCredential(ctx, ""); err == nil {
		t.Error("empty id accepted")
	}
}

func TestListAllFollowsPages(t *testing.T) {
	var rec recorder
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		rec.add(r)
		switch tok := r.URL.Query().Get("page_token"); tok {
		case "":
			writeJSON(w, 200, api.List[api.Credential]{Items: []api.Credential{{ID: "a"}, {ID: "b"}}, NextPageToken: "p2"})
		case "p2":
			writeJSON(w, 200, api.List[api.Credential]{Items: []api.Credential{{ID: "c"}}, NextPageToken: "p3"})
		case "p3":
			writeJSON(w, 200, api.List[api.Credential]{Items: []api.Credential{{ID: "d"}}})
		default:
			t.Errorf("token %q", tok)
		}
	})
	all, err := c.ListAllCredentials(context.Background(), CredentialListOptions{Provider: "openai"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, cr := range all {
		ids = append(ids, cr.ID)
	}
	if strings.Join(ids, "") != "abcd" {
		t.Fatalf("ids = %v", ids)
	}
	for i := range 3 {
		if p := rec.reqs[i].URL.Query().Get("provider"); p != "openai" {
			t.Errorf("page %d lost the filter: %v", i, rec.reqs[i].URL.Query())
		}
	}
}

func TestListAllRejectsRepeatedToken(t *testing.T) {
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, api.List[api.Project]{Items: []api.Project{{ID: "p"}}, NextPageToken: "same"})
	})
	if _, err := c.ListAllProjects(context.Background(), ProjectListOptions{}); err == nil || !strings.Contains(err.Error(), "repeated page token") {
		t.Fatalf("err = %v", err)
	}
}

func TestContextCancelStopsRetries(t *testing.T) {
	var rec recorder
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		rec.add(r)
		writeProblem(w, api.Problem{Title: "Unavailable", Status: 503})
	}, func(cfg *Config) {
		cfg.MaxRetries = 1000
		cfg.RetryWaitMin = 20 * time.Millisecond
		cfg.RetryWaitMax = 40 * time.Millisecond
	})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.CreateProject(ctx, api.ProjectCreate{Name: "p"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("took %v after the context ended", el)
	}
	n := rec.count()
	if n < 2 || n > 30 {
		t.Fatalf("attempts = %d", n)
	}
	// The request in flight when the context ended may reach the handler after the client returned
	// (the server records it late): at most that one, and nothing after it.
	time.Sleep(100 * time.Millisecond)
	m := rec.count()
	if m > n+1 {
		t.Fatalf("attempts went on after return: %d then %d", n, m)
	}
	time.Sleep(100 * time.Millisecond)
	if later := rec.count(); later != m {
		t.Fatalf("attempts went on after return: %d, then %d, then %d", n, m, later)
	}
}

func TestPerAttemptTimeoutIsRetried(t *testing.T) {
	var rec recorder
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		if rec.add(r) == 1 {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
			return
		}
		writeJSON(w, 200, api.Project{ID: "proj_1"})
	}, func(cfg *Config) { cfg.RequestTimeout = 100 * time.Millisecond })
	if _, err := c.GetProject(context.Background(), "proj_1"); err != nil {
		t.Fatalf("GetProject: %v", err)
	}
	if n := rec.count(); n != 2 {
		t.Fatalf("attempts = %d, want 2", n)
	}
}

func TestSecretsNeverInErrors(t *testing.T) {
	const apiKey = `sk-proj-"SECRET<&>value-0123456789`
	const authToken = "auth-SECRET-token-abcdef"
	// Each handler echoes the request body back, as a careless server or proxy might.
	handlers := map[string]http.HandlerFunc{
		"text echo": func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(400)
			_, _ = w.Write(b)
		},
		"problem echo": func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			writeProblem(w, api.Problem{Title: "Invalid " + string(b), Status: 422, Detail: string(b),
				Errors: []api.FieldError{{Field: "api_key", Message: "bad key " + apiKey}}})
		},
		"retries exhausted": func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			w.WriteHeader(503)
			_, _ = w.Write(b)
		},
		"dropped connection": func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.ReadAll(r.Body)
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
		},
	}
	for name, h := range handlers {
		t.Run(name, func(t *testing.T) {
			c := newTestClient(t, h, func(cfg *Config) { cfg.MaxRetries = 1 })
			k, a := apiKey, authToken
			_, err := c.CreateCredential(context.Background(), api.CredentialCreate{Name: "n", Provider: "custom", APIKey: &k, AuthToken: &a})
			checkNoSecret(t, err, apiKey, authToken)
			_, err = c.UpdateCredential(context.Background(), "cred_1", api.CredentialPatch{APIKey: &k, AuthToken: &a}, 2)
			checkNoSecret(t, err, apiKey, authToken)
		})
	}
}

func checkNoSecret(t *testing.T, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("want an error")
	}
	msgs := []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)}
	if ae, ok := AsAPIError(err); ok {
		b, _ := json.Marshal(ae.Problem)
		msgs = append(msgs, string(b))
	}
	for _, m := range msgs {
		for _, s := range secrets {
			for _, frag := range []string{s, "SECRET"} {
				if strings.Contains(m, frag) {
					t.Fatalf("error shows %q: %s", frag, m)
				}
			}
		}
	}
}

// roundTripFunc lets a test stand in for the transport, as embedded mode does with the server handler.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestInProcessTransport(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/prefix/v1/audit-events" || r.URL.RawQuery != "after=41&limit=2" {
			writeProblem(w, api.Problem{Title: "unexpected " + r.URL.String(), Status: 400})
			return
		}
		writeJSON(w, 200, api.List[api.AuditEvent]{Items: []api.AuditEvent{{ID: 42, Action: "credential.create"}}})
	})
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		rw := httptest.NewRecorder()
		h.ServeHTTP(rw, r)
		return rw.Result(), nil
	})}
	c, err := New(Config{BaseURL: "http://modelkeys.embedded/prefix/", HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.ListAuditEvents(context.Background(), 41, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Items) != 1 || got.Items[0].ID != 42 {
		t.Fatalf("got %+v", got)
	}
	if hc.Timeout != 0 {
		t.Error("New modified the caller's http.Client")
	}
}

type ctxKey struct{}

type testLogger struct {
	mu    *sync.Mutex
	lines *[]string
	tag   string
}

func (l testLogger) log(level, msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	*l.lines = append(*l.lines, l.tag+" "+level+" "+msg)
}
func (l testLogger) Error(msg string, _ ...any) { l.log("ERROR", msg) }
func (l testLogger) Info(msg string, _ ...any)  { l.log("INFO", msg) }
func (l testLogger) Debug(msg string, _ ...any) { l.log("DEBUG", msg) }
func (l testLogger) Warn(msg string, _ ...any)  { l.log("WARN", msg) }
func (l testLogger) WithContext(ctx context.Context) Logger {
	l.tag, _ = ctx.Value(ctxKey{}).(string)
	return l
}

func TestContextLogger(t *testing.T) {
	var mu sync.Mutex
	var lines []string
	var calls atomic.Int32
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.WriteHeader(500)
			return
		}
		w.WriteHeader(200)
	}, func(cfg *Config) { cfg.Logger = testLogger{mu: &mu, lines: &lines, tag: "unbound"} })
	ctx := context.WithValue(context.Background(), ctxKey{}, "req-7")
	if err := c.Readyz(ctx); err == nil {
		t.Fatal("Readyz: want the 500")
	}
	if err := c.Readyz(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(lines) == 0 {
		t.Fatal("nothing logged")
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "req-7 ") {
			t.Errorf("line not bound to the call's context: %s", l)
		}
	}
}

func TestNewValidatesBaseURL(t *testing.T) {
	for _, bad := range []string{"", "127.0.0.1:8080", "file:///tmp/x.db", "http://", "https://h/?x=1", "://x"} {
		if _, err := New(Config{BaseURL: bad}); err == nil {
			t.Errorf("New(%q) accepted", bad)
		}
	}
	c, err := New(Config{BaseURL: "https://h.example/api/"})
	if err != nil || c.BaseURL() != "https://h.example/api" {
		t.Fatalf("BaseURL = %q, %v", c.BaseURL(), err)
	}
	if c.http.Timeout != DefaultRequestTimeout || c.maxRetries != DefaultMaxRetries {
		t.Errorf("defaults not applied: timeout %v retries %d", c.http.Timeout, c.maxRetries)
	}
	c, _ = New(Config{BaseURL: "http://h", MaxRetries: -1, RequestTimeout: -1})
	if c.maxRetries != 0 || c.http.Timeout != 0 {
		t.Errorf("negative values: retries %d timeout %v", c.maxRetries, c.http.Timeout)
	}
}

// A redirect must be refused, not followed: a 307/308 would replay the body, which holds the API key, and
// any redirect would replay the token, to a host the endpoint never named.
func TestRedirectsRefused(t *testing.T) {
	var elsewhere recorder
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.add(r)
		writeJSON(w, 201, api.Credential{ID: "cred_stolen"})
	}))
	t.Cleanup(other.Close)

	for _, status := range []int{301, 302, 303, 307, 308} {
		for _, loc := range []string{other.URL + "/v1/credentials", "/elsewhere"} {
			t.Run(fmt.Sprintf("%d %s", status, loc), func(t *testing.T) {
				var rec recorder
				c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
					rec.add(r)
					if r.URL.Path == "/elsewhere" {
						writeJSON(w, 201, api.Credential{ID: "cred_followed"})
						return
					}
					w.Header().Set("Location", loc)
					w.WriteHeader(status)
				})
				const apiKey = "sk-SECRET-redirected"
				k := apiKey
				_, err := c.CreateCredential(context.Background(), api.CredentialCreate{Name: "n", Provider: "openai", APIKey: &k})
				var re *RedirectError
				if !errors.As(err, &re) {
					t.Fatalf("want *RedirectError, got %T %v", err, err)
				}
				wantLoc := loc
				if strings.HasPrefix(loc, "/") {
					wantLoc = c.BaseURL() + loc
				}
				if re.Status != status || re.Location != wantLoc {
					t.Fatalf("got status %d location %q, want %d %q", re.Status, re.Location, status, wantLoc)
				}
				for _, want := range []string{c.BaseURL(), wantLoc, "never redirects", "point endpoint at the server itself"} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not say %q", err, want)
					}
				}
				checkNoSecret(t, err, apiKey)
				if n := rec.count(); n != 1 {
					t.Errorf("server got %d requests, want 1 (a redirect is neither followed nor retried)", n)
				}
				// GETs are refused the same way: they carry the token.
				if _, err := c.GetCredential(context.Background(), "cred_1"); !errors.As(err, &re) {
					t.Fatalf("GET: want *RedirectError, got %T %v", err, err)
				}
			})
		}
	}
	if n := elsewhere.count(); n != 0 {
		t.Fatalf("the redirect target received %d requests, want none", n)
	}
}

// A caller's own http.Client that would follow redirects is overridden too.
func TestRedirectsRefusedWithCallerHTTPClient(t *testing.T) {
	var elsewhere recorder
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { elsewhere.add(r) }))
	t.Cleanup(other.Close)
	follow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return nil }}
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusPermanentRedirect)
	}, func(cfg *Config) { cfg.HTTPClient = follow })
	var re *RedirectError
	if _, err := c.GetCredential(context.Background(), "cred_1"); !errors.As(err, &re) {
		t.Fatalf("want *RedirectError, got %T %v", err, err)
	}
	if follow.CheckRedirect == nil {
		t.Fatal("the caller's client was modified")
	}
	if n := elsewhere.count(); n != 0 {
		t.Fatalf("the redirect target received %d requests, want none", n)
	}
}

// TestConnectionsReusedAtTerraformParallelism holds that the default client keeps a connection per
// concurrent call open between calls: Terraform reads 10 resources at a time, and a plan of 1,000 must
// not dial the server once for every few reads.
func TestConnectionsReusedAtTerraformParallelism(t *testing.T) {
	var dials atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, api.Credential{ID: strings.TrimPrefix(r.URL.Path, "/v1/credentials/")})
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			dials.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	c, err := New(Config{BaseURL: srv.URL, Token: "tok-123"})
	if err != nil {
		t.Fatal(err)
	}

	const parallelism, rounds = 10, 20
	for range rounds {
		// All calls of a round in flight together and all finished before the next round, as in a
		// walk of Terraform's graph: what a round leaves idle is what the next one can reuse.
		var wg sync.WaitGroup
		for i := range parallelism {
			wg.Go(func() {
				if _, err := c.GetCredential(context.Background(), fmt.Sprintf("cred-%d", i)); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}
	// A pool as small as the pooled default's (GOMAXPROCS+1) dials over a hundred times here.
	if n := dials.Load(); n > 2*parallelism {
		t.Errorf("%d calls, %d at a time, dialled %d connections; want at most %d (connections reused)", parallelism*rounds, parallelism, n, 2*parallelism)
	}
}
