package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestInvalidUTF8IsRefusedEverywhere(t *testing.T) {
	forEachBackend(t, testInvalidUTF8IsRefusedEverywhere)
}

// testInvalidUTF8IsRefusedEverywhere: bytes that are not UTF-8 in an id, a filter, a page token or an
// Idempotency-Key are the same 400 naming the parameter on both stores (PostgreSQL answered 500,
// SQLite 404); in a JSON body they are a 422 naming the field, never replaced with U+FFFD and stored.
func testInvalidUTF8IsRefusedEverywhere(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin := h.tokens["admin"]
	cred := h.mustCreate(h.admin, openAICred("base", h.secret("sk-proj-")))
	bad := cred.ID + "%FF"
	for _, c := range []struct{ method, path, body, names string }{
		{"GET", "/v1/credentials/" + bad, "", "URL path"},
		{"PATCH", "/v1/credentials/" + bad, `{"description":"x"}`, "URL path"},
		{"DELETE", "/v1/credentials/" + bad, "", "URL path"},
		{"POST", "/v1/credentials/" + bad + "/verify", "", "URL path"},
		{"GET", "/v1/credentials/" + bad + "/models", "", "URL path"},
		{"POST", "/v1/credentials/" + bad + "/reveal", "", "URL path"},
		{"POST", "/v1/credentials/" + bad + "/secret-matches", `{"api_key":"x"}`, "URL path"},
		{"GET", "/v1/connections/conn_%C3", "", "URL path"},
		{"PATCH", "/v1/connections/conn_%C3", `{"enabled":false}`, "URL path"},
		{"DELETE", "/v1/connections/conn_%C3", "", "URL path"},
		{"GET", "/v1/projects/proj_%E2%82", "", "URL path"},
		{"PATCH", "/v1/projects/proj_%E2%82", `{"description":"x"}`, "URL path"},
		{"DELETE", "/v1/projects/proj_%E2%82", "", "URL path"},
		{"GET", "/v1/credentials?page_token=" + bad, "", "query parameter page_token"},
		{"GET", "/v1/credentials?project_id=proj_%FF", "", "query parameter project_id"},
		{"GET", "/v1/credentials?name=a%FF", "", "query parameter name"},
		{"GET", "/v1/credentials?name_prefix=a%FF", "", "query parameter name_prefix"},
		{"GET", "/v1/connections?credential_id=" + bad, "", "query parameter credential_id"},
		{"GET", "/v1/connections?model=gpt%FF", "", "query parameter model"},
		{"GET", "/v1/connections?page_token=conn_%FF", "", "query parameter page_token"},
		{"GET", "/v1/projects?page_token=proj_%FF", "", "query parameter page_token"},
		{"GET", "/v1/models?credential_id=" + bad, "", "query parameter credential_id"},
		{"GET", "/v1/models?project_id=proj_%FF", "", "query parameter project_id"},
		{"GET", "/v1/model-policy?project_id=proj_%FF", "", "query parameter project_id"},
		{"PUT", "/v1/model-policy?project_id=proj_%FF", `{"mode":"all"}`, "query parameter project_id"},
		{"GET", "/v1/credential-policy?project_id=proj_%FF", "", "query parameter project_id"},
		{"DELETE", "/v1/credential-policy?project_id=proj_%FF", "", "query parameter project_id"},
		{"GET", "/v1/credentials?%FF=1", "", "query parameter's name"},
	} {
		var body []byte
		if c.body != "" {
			body = []byte(c.body)
		}
		r := h.do(c.method, c.path, admin, body)
		if r.Status != http.StatusBadRequest {
			t.Errorf("%s %s: status %d, want 400: %s", c.method, c.path, r.Status, r.Body)
			continue
		}
		if p := r.problem(t); !strings.Contains(p.Detail, c.names) || !strings.Contains(p.Detail, "not valid UTF-8") {
			t.Errorf("%s %s: detail %q, want it to name the %s and say it is not UTF-8", c.method, c.path, p.Detail, c.names)
		}
	}

	// The Idempotency-Key reaches the store: it is refused, and nothing is created.
	before := h.countCredentials("acme")
	r := h.do("POST", "/v1/projects", admin, []byte(`{"name":"idem"}`), "Idempotency-Key", "key-\xff\xfe")
	if r.Status != http.StatusBadRequest || !strings.Contains(r.problem(t).Detail, "Idempotency-Key") {
		t.Errorf("an Idempotency-Key that is not UTF-8: %d %s, want 400 naming the header", r.Status, r.Body)
	}

	// In a body: a 422 on the field, the value never echoed, nothing stored (a secret would otherwise be
	// stored with U+FFFD in place of the bytes the client holds).
	for _, c := range []struct{ body, field string }{
		{`{"name":"c1","provider":"openai","verify":false,"api_key":"sk-proj-abcdefghij` + "\xff" + `klmnopqrstuv"}`, "api_key"},
		{`{"name":"c2","provider":"openai","verify":false,"api_key":"sk-proj-abcdefghijklmnopqrstuv","description":"caf` + "\xe9" + `"}`, "description"},
		{`{"name":"c3","provider":"openai","verify":false,"api_key":"sk-proj-abcdefghijklmnopqrstuv","labels":{"team":"a` + "\xc3" + `"}}`, "labels.team"},
		{`{"name":"c4","provider":"openai","verify":false,"api_key":"sk-proj-abcdefghijklmnopqrstuv","labels":{"te` + "\xff" + `am":"a"}}`, "labels"},
		{`{"name":"c5","provider":"openai","verify":false,"api_key":"sk-proj-abcdefghijklmnopqrstuv","settings":{"organization_id":"org-` + "\xed\xa0\x80" + `"}}`, "settings.organization_id"},
	} {
		r := h.do("POST", "/v1/credentials", admin, []byte(c.body))
		if r.Status != http.StatusUnprocessableEntity {
			t.Errorf("%s not UTF-8: status %d, want 422: %s", c.field, r.Status, r.Body)
			continue
		}
		p := r.problem(t)
		if !hasField(p.Errors, c.field) || !strings.Contains(fieldError(t, p, c.field).Message, "not valid UTF-8") {
			t.Errorf("%s not UTF-8: errors %+v, want one on %s saying so", c.field, p.Errors, c.field)
		}
		if strings.Contains(string(r.Body), "abcdefghij") {
			t.Errorf("%s not UTF-8: the answer echoes the secret: %s", c.field, r.Body)
		}
	}
	r = h.do("PATCH", "/v1/credentials/"+cred.ID, admin, []byte(`{"auth_token":"`+"\x80"+`"}`))
	if r.Status != http.StatusUnprocessableEntity || !hasField(r.problem(t).Errors, "auth_token") {
		t.Errorf("a PATCH with an auth_token that is not UTF-8: %d %s, want 422 on auth_token", r.Status, r.Body)
	}
	if after := h.countCredentials("acme"); after != before {
		t.Errorf("credentials %d -> %d: a refused request stored one", before, after)
	}

	// Format characters spoof the console and the audit log: refused like control characters, named.
	r = h.do("PATCH", "/v1/credentials/"+cred.ID, admin, []byte(`{"description":"invoice \u202Efdp.exe"}`))
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(fieldError(t, r.problem(t), "description").Message, "U+202E RIGHT-TO-LEFT OVERRIDE") {
		t.Errorf("a description with U+202E: %d %s, want 422 naming the character", r.Status, r.Body)
	}
	r = h.do("PATCH", "/v1/credentials/"+cred.ID, admin, []byte(`{"labels":{"team":"ml\u200Bops"}}`))
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(fieldError(t, r.problem(t), "labels.team").Message, "U+200B ZERO WIDTH SPACE") {
		t.Errorf("a label value with U+200B: %d %s, want 422 naming the character", r.Status, r.Body)
	}
}

// TestAnswersCarrySecurityHeaders: every answer (success, error, no route) is nosniff and no-store;
// over TLS it carries HSTS, over plain HTTP not (a browser ignores it there, and a proxy decides).
func TestAnswersCarrySecurityHeaders(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tls := httptest.NewTLSServer(h.srv.Handler())
	t.Cleanup(tls.Close)
	for _, c := range []struct{ method, path, token string }{
		{"GET", "/healthz", ""},
		{"GET", "/openapi.json", ""},
		{"GET", "/v1/credentials", h.tokens["admin"]},
		{"GET", "/v1/credentials", ""},
		{"GET", "/v1/nothing-here", ""},
		{"GET", "/v1/credentials/cred_nope", h.tokens["admin"]},
	} {
		r := h.do(c.method, c.path, c.token, nil)
		if r.Header.Get("X-Content-Type-Options") != "nosniff" || r.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s %s (%d): X-Content-Type-Options %q, Cache-Control %q, want nosniff and no-store", c.method, c.path, r.Status,
				r.Header.Get("X-Content-Type-Options"), r.Header.Get("Cache-Control"))
		}
		if v := r.Header.Get("Strict-Transport-Security"); v != "" {
			t.Errorf("%s %s over plain HTTP: Strict-Transport-Security %q", c.method, c.path, v)
		}
		req, _ := http.NewRequest(c.method, tls.URL+c.path, nil)
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		resp, err := tls.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if v := resp.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(v, "max-age=") || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s %s over TLS: Strict-Transport-Security %q, want max-age=...", c.method, c.path, v)
		}
	}
}

// TestBearerSchemeIsCaseInsensitive: RFC 9110 makes the scheme case-insensitive; "bearer" and
// "BEARER" with more than one space work as "Bearer" does.
func TestBearerSchemeIsCaseInsensitive(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.tokens["viewer"]
	for _, header := range []string{"Bearer " + tok, "bearer " + tok, "BEARER  " + tok, "bEaReR " + tok} {
		if r := h.do("GET", "/v1/credentials", "", nil, "Authorization", header); r.Status != http.StatusOK {
			t.Errorf("Authorization %q: %d, want 200", strings.Replace(header, tok, "<token>", 1), r.Status)
		}
	}
	for _, header := range []string{"Basic " + tok, "Bearer" + tok, tok, "Bearer"} {
		if r := h.do("GET", "/v1/credentials", "", nil, "Authorization", header); r.Status != http.StatusUnauthorized {
			t.Errorf("Authorization %q: %d, want 401", strings.Replace(header, tok, "<token>", 1), r.Status)
		}
	}
}

// TestEnumFiltersRefuseUnknownValues: a filter that /openapi.json gives a fixed set of values answers
// 422 naming them for any other, rather than an empty page as if nothing matched.
func TestEnumFiltersRefuseUnknownValues(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	viewer := h.tokens["viewer"]
	for _, c := range []struct{ path, field, allowed string }{
		{"/v1/credentials?provider=nope", "provider", "openai"},
		{"/v1/credentials?status=weird", "status", "verified, unverified, invalid"},
		{"/v1/credentials?lifecycle_status=soon", "lifecycle_status", "rotation_due"},
		{"/v1/models?provider=nope", "provider", "anthropic"},
		{"/v1/models?capability=telepathy", "capability", "tool_call"},
	} {
		r := h.do("GET", c.path, viewer, nil)
		if r.Status != http.StatusUnprocessableEntity {
			t.Errorf("GET %s: %d, want 422: %s", c.path, r.Status, r.Body)
			continue
		}
		if m := fieldError(t, r.problem(t), c.field).Message; !strings.Contains(m, c.allowed) {
			t.Errorf("GET %s: %q, want the allowed values (%s)", c.path, m, c.allowed)
		}
	}
	for _, path := range []string{"/v1/credentials?provider=openai&status=verified&lifecycle_status=ok", "/v1/models?provider=openai&capability=vision"} {
		if r := h.do("GET", path, viewer, nil); r.Status != http.StatusOK {
			t.Errorf("GET %s: %d, want 200: %s", path, r.Status, r.Body)
		}
	}
}

// TestBodyMustBeDeclaredJSON: a body without Content-Type: application/json, or with another type,
// is a 415 (a browser's form post or text/plain is never taken for JSON); a request without a body
// needs none.
func TestBodyMustBeDeclaredJSON(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin := h.tokens["admin"]
	body := []byte(`{"name":"p1"}`)
	for _, ct := range []string{"", "text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin1", "application/jsonx", "multipart/form-data; boundary=x"} {
		r := h.do("POST", "/v1/projects", admin, body, "Content-Type", ct)
		if r.Status != http.StatusUnsupportedMediaType || !strings.Contains(r.problem(t).Detail, "application/json") {
			t.Errorf("Content-Type %q: %d %s, want 415 naming application/json", ct, r.Status, r.Body)
		}
	}
	for _, c := range []struct{ method, path string }{{"PATCH", "/v1/projects/proj_x"}, {"PUT", "/v1/model-policy"}, {"POST", "/v1/credentials"}, {"POST", "/v1/connections"}} {
		if r := h.do(c.method, c.path, admin, []byte(`{}`), "Content-Type", "text/plain"); r.Status != http.StatusUnsupportedMediaType {
			t.Errorf("%s %s as text/plain: %d, want 415", c.method, c.path, r.Status)
		}
	}
	if r := h.do("POST", "/v1/projects", admin, body, "Content-Type", "Application/JSON; charset=UTF-8"); r.Status != http.StatusCreated {
		t.Errorf("application/json with charset utf-8: %d %s, want 201", r.Status, r.Body)
	}
	cred := h.mustCreate(h.admin, openAICred("base", h.secret("sk-proj-")))
	if r := h.do("POST", "/v1/credentials/"+cred.ID+"/verify", admin, nil); r.Status == http.StatusUnsupportedMediaType {
		t.Errorf("a POST without a body: 415")
	}
}

// TestWrongMethodIs405: a known path with a method it does not take is a 405 listing the methods it
// takes in Allow; an unknown path stays a 404.
func TestWrongMethodIs405(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, c := range []struct{ method, path, allow string }{
		{"DELETE", "/v1/providers", "GET, HEAD"},
		{"PUT", "/v1/credentials/cred_x", "DELETE, GET, HEAD, PATCH"},
		{"GET", "/v1/credentials/cred_x/verify", "POST"},
		{"POST", "/v1/model-policy", "DELETE, GET, HEAD, PUT"},
		{"POST", "/healthz", "GET, HEAD"},
	} {
		r := h.do(c.method, c.path, h.tokens["admin"], nil)
		if r.Status != http.StatusMethodNotAllowed || r.Header.Get("Allow") != c.allow {
			t.Errorf("%s %s: %d Allow %q, want 405 Allow %q", c.method, c.path, r.Status, r.Header.Get("Allow"), c.allow)
			continue
		}
		if p := r.problem(t); !strings.Contains(p.Detail, c.allow) {
			t.Errorf("%s %s: detail %q, want the methods", c.method, c.path, p.Detail)
		}
	}
	for _, path := range []string{"/v1/nothing", "/v1/credentials/cred_x/", "/v1/credentials/cred_x/nothing"} {
		if r := h.do("GET", path, h.tokens["admin"], nil); r.Status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, r.Status)
		}
	}
}

// fieldAtOffset names the field whose key or value holds a byte, through nesting and arrays.
func TestFieldAtOffset(t *testing.T) {
	for _, c := range []struct{ body, at, want string }{
		{`{"a":1,"b":"xX"}`, "X", "b"},
		{`{"a":{"b":[1,{"c":"X"}]}}`, "X", "a.b.c"},
		{`{"a":["q","X"]}`, "X", "a"},
		{`{"labels":{"kX":"v"}}`, "X", "labels"},
		{`{"labels":{"k":"v"},"settings":{"s":"v","t":"X"}}`, "X", "settings.t"},
		{`["X"]`, "X", ""},
	} {
		off := strings.Index(c.body, c.at)
		if got := fieldAtOffset([]byte(c.body), off); got != c.want {
			t.Errorf("fieldAtOffset(%s, %d) = %q, want %q", c.body, off, got, c.want)
		}
	}
}

// TestRequestIDMustBeText: a client's X-Request-Id is logged and sent back as it is, so one that is not
// UTF-8 or holds a control or format character is replaced with a fresh id.
func TestRequestIDMustBeText(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	if got := h.do("GET", "/healthz", "", nil, "X-Request-Id", "trace-42").Header.Get("X-Request-Id"); got != "trace-42" {
		t.Errorf("a plain X-Request-Id came back as %q", got)
	}
	for _, id := range []string{"trace-\xff", "trace-\u202e24", "trace-\u200b"} {
		if got := h.do("GET", "/healthz", "", nil, "X-Request-Id", id).Header.Get("X-Request-Id"); got == id || got == "" {
			t.Errorf("X-Request-Id %q came back as %q, want a fresh id", id, got)
		}
	}
}
