package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
)

func TestHealthAndReadiness(t *testing.T) { forEachBackend(t, testHealthAndReadiness) }

func testHealthAndReadiness(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	anon := h.client("")
	if err := anon.Healthz(ctx); err != nil {
		t.Fatalf("healthz: %v", err)
	}
	if err := anon.Readyz(ctx); err != nil {
		t.Fatalf("readyz: %v", err)
	}
	r := h.do("GET", "/readyz", "", nil)
	if r.Status != 200 || !bytes.Contains(r.Body, []byte(`"`+h.backend+`"`)) {
		t.Errorf("readyz: %d %s", r.Status, r.Body)
	}

	// With the database gone the process is alive but not ready.
	if err := h.store.Close(); err != nil {
		t.Fatal(err)
	}
	r = h.do("GET", "/readyz", "", nil)
	if r.Status != http.StatusServiceUnavailable {
		t.Fatalf("readyz with a closed store: %d, want 503", r.Status)
	}
	r.problem(t)
	if r := h.do("GET", "/healthz", "", nil); r.Status != 200 {
		t.Errorf("healthz with a closed store: %d, want 200", r.Status)
	}
	// An API request now fails with a 500 that says nothing of the cause but gives a request id.
	r = h.do("GET", "/v1/credentials", h.tokens["admin"], nil, "X-Request-Id", "req-test-1")
	if r.Status != http.StatusInternalServerError || !bytes.Contains(r.Body, []byte("req-test-1")) || bytes.Contains(r.Body, []byte("closed")) {
		t.Errorf("request on a closed store: %d %s", r.Status, r.Body)
	}
	if r.Header.Get("X-Request-Id") != "req-test-1" {
		t.Errorf("X-Request-Id not echoed: %q", r.Header.Get("X-Request-Id"))
	}
	// The log has the cause under that request id, as JSON lines.
	found := false
	sc := bufio.NewScanner(bytes.NewReader(h.logs.Bytes()))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("log line is not JSON: %s", sc.Bytes())
		}
		if line["request_id"] == "req-test-1" && line["msg"] == "request failed" {
			found = true
		}
	}
	if !found {
		t.Errorf("no 'request failed' log line for req-test-1 in:\n%s", h.logs.String())
	}
	h.closeOnce.Do(func() { h.ts.Close() }) // the store is closed already
}

func TestMetrics(t *testing.T) { forEachBackend(t, testMetrics) }

func testMetrics(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	if _, err := h.viewer.ListCredentials(ctx, client.CredentialListOptions{}); err != nil {
		t.Fatal(err)
	}
	h.do("GET", "/v1/credentials/cred_missing", h.tokens["viewer"], nil)
	h.do("GET", "/no/such/route", "", nil)
	r := h.do("GET", "/metrics", testMetricsToken, nil)
	if r.Status != 200 {
		t.Fatalf("metrics: %d", r.Status)
	}
	text := string(r.Body)
	for _, want := range []string{
		`modelkeys_http_requests_total{code="200",method="GET",route="GET /v1/credentials"} 1`,
		`modelkeys_http_requests_total{code="404",method="GET",route="GET /v1/credentials/{id}"} 1`,
		`modelkeys_http_requests_total{code="404",method="GET",route="unmatched"} 1`,
		`modelkeys_http_request_duration_seconds_bucket{method="GET",route="GET /v1/credentials",le="`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(text, "cred_missing") {
		t.Error("metrics carry a raw path (unbounded label values)")
	}
}

// TestOpenAPIMatchesRouter checks both directions: every operation of /openapi.json is answered by its
// route (not the catch-all), and every route of the router is in the document.
func TestOpenAPIMatchesRouter(t *testing.T) { forEachBackend(t, testOpenAPIMatchesRouter) }

func testOpenAPIMatchesRouter(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	r := h.do("GET", "/openapi.json", "", nil)
	if r.Status != 200 {
		t.Fatalf("openapi.json: %d", r.Status)
	}
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(r.Body, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") || len(doc.Paths) == 0 {
		t.Fatalf("not an OpenAPI 3 document: %s", r.Body[:min(200, len(r.Body))])
	}

	// The catch-all answers like this for a path nobody serves; make sure the probe can tell.
	if probe := h.do("GET", "/v1/nothing-here", h.tokens["admin"], nil); probe.Status != 404 || !strings.Contains(probe.problem(t).Detail, "No route") {
		t.Fatalf("catch-all answered %d %s", probe.Status, probe.Body)
	}

	var documented []string
	for path, ops := range doc.Paths {
		for method := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path)
			concrete := strings.ReplaceAll(path, "{id}", "x_missing")
			resp := h.do(strings.ToUpper(method), concrete, h.tokens["admin"], nil)
			if resp.Status == http.StatusMethodNotAllowed {
				t.Errorf("%s %s: the router answers 405", method, path)
			}
			if resp.Status == http.StatusNotFound && strings.Contains(resp.problem(t).Detail, "No route") {
				t.Errorf("%s %s is documented but the router has no route for it", method, path)
			}
		}
	}
	var routed []string
	for _, rt := range routes() {
		routed = append(routed, rt.Method+" "+rt.Path)
		op, ok := doc.Paths[rt.Path][strings.ToLower(rt.Method)]
		if !ok {
			t.Errorf("route %s %s is missing from /openapi.json", rt.Method, rt.Path)
			continue
		}
		if op["operationId"] == "" || op["responses"] == nil {
			t.Errorf("%s %s: operation without operationId or responses", rt.Method, rt.Path)
		}
	}
	sort.Strings(documented)
	sort.Strings(routed)
	if !slices.Equal(documented, routed) {
		t.Errorf("document and router differ:\n doc: %v\n mux: %v", documented, routed)
	}
	// Every route of DESIGN.md is there.
	for _, want := range []string{
		"GET /v1/providers", "GET /v1/models", "POST /v1/credentials", "GET /v1/credentials", "GET /v1/credentials/{id}",
		"PATCH /v1/credentials/{id}", "DELETE /v1/credentials/{id}", "POST /v1/credentials/{id}/verify",
		"GET /v1/credentials/{id}/models", "POST /v1/credentials/{id}/reveal", "POST /v1/connections", "GET /v1/connections",
		"GET /v1/connections/{id}", "PATCH /v1/connections/{id}", "DELETE /v1/connections/{id}", "GET /v1/model-policy",
		"PUT /v1/model-policy", "DELETE /v1/model-policy", "POST /v1/projects", "GET /v1/projects", "GET /v1/projects/{id}",
		"PATCH /v1/projects/{id}", "DELETE /v1/projects/{id}", "GET /v1/audit-events", "GET /healthz", "GET /readyz",
		"GET /metrics", "GET /openapi.json",
	} {
		if !slices.Contains(routed, want) {
			t.Errorf("DESIGN.md route %s is not served", want)
		}
	}
	// A known path with a wrong method is not silently a 404 for the resource.
	if r := h.do("PUT", "/v1/credentials", h.tokens["admin"], []byte(`{}`)); r.Status == 200 || r.Status == 201 {
		t.Errorf("PUT /v1/credentials answered %d", r.Status)
	}
}

func TestProvidersCatalog(t *testing.T) { forEachBackend(t, testProvidersCatalog) }

func testProvidersCatalog(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ps, err := h.viewer.ListProviders(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]api.Provider{}
	for _, p := range ps {
		byID[p.ID] = p
	}
	for _, id := range []string{"openai", "anthropic", "gemini", "vertex_ai", "azure_openai", "azure_ai_foundry", "bedrock", "mistral",
		"deepseek", "xai", "perplexity", "fireworks", "databricks", "portkey", "litellm", "custom"} {
		if _, ok := byID[id]; !ok {
			t.Errorf("provider %s missing from /v1/providers", id)
		}
	}
	if r := h.do("GET", "/v1/providers", "", nil); r.Status != http.StatusUnauthorized {
		t.Errorf("providers without a token: %d, want 401", r.Status)
	}
}
