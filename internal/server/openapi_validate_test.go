package server

// Every request the server tests send through the harness, and every answer, is checked against
// /openapi.json with kin-openapi: an answer the document does not describe (an undocumented status, a
// missing required field, a value outside an enum, a missing ETag) fails the test that got it. Requests
// are checked when the server took them (2xx): tests send malformed requests on purpose, and the
// server's own refusal of those is what they test.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

var openAPIRouter = sync.OnceValues(func() (routers.Router, error) {
	raw, err := json.Marshal(OpenAPIDocument("test"))
	if err != nil {
		return nil, err
	}
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, err
	}
	doc.Servers = nil // the test servers listen on random ports; match paths only
	return gorillamux.NewRouter(doc)
})

// loadOpenAPIRouter is the router of the document, failing t when the document does not load.
func loadOpenAPIRouter(t testing.TB) routers.Router {
	t.Helper()
	r, err := openAPIRouter()
	if err != nil {
		t.Fatalf("openapi: the document does not load: %v", err)
	}
	return r
}

// validateOpenAPI wraps an API handler so that each exchange is checked against the document; a
// mismatch is t.Errorf (safe from the server's goroutines: the harness closes its servers, which waits
// for their requests, before t ends).
func validateOpenAPI(t testing.TB, next http.Handler) http.Handler {
	router := loadOpenAPIRouter(t)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := &teeBody{ReadCloser: r.Body}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = body
		}
		rec := &exchangeRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		if msg := checkExchange(router, r, body.buf.Bytes(), rec); msg != "" {
			t.Errorf("openapi: %s %s answered %d, which breaks /openapi.json: %s", r.Method, r.URL.RequestURI(), rec.status, msg)
		}
	})
}

// checkExchange returns what is wrong with the exchange, or "".
func checkExchange(router routers.Router, r *http.Request, reqBody []byte, rec *exchangeRecorder) string {
	if rec.status == 499 { // the client went away: nobody reads this answer
		return ""
	}
	req := r.Clone(context.Background())
	req.Body = io.NopCloser(bytes.NewReader(reqBody))
	req.RequestURI = ""
	if req.URL.Host == "" {
		req.URL.Host = r.Host
	}
	route, pathParams, err := router.FindRoute(req)
	if err != nil {
		var re *routers.RouteError
		if errors.As(err, &re) {
			return "" // a path or method the API does not serve: the catch-all's 404 is what tests look at
		}
		return "finding the route: " + err.Error()
	}
	opts := &openapi3filter.Options{
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
		IncludeResponseStatus: true,
		MultiError:            true,
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: pathParams, Route: route, Options: opts}
	if rec.status >= 200 && rec.status < 300 {
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			return "the request the server accepted is not one the document allows: " + err.Error()
		}
	}
	header := rec.header
	if header == nil {
		header = rec.Header().Clone()
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: rec.status, Header: header, Options: opts}
	out.SetBodyBytes(rec.body.Bytes())
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		b := rec.body.String()
		if len(b) > 600 {
			b = b[:600] + "..."
		}
		return err.Error() + "\nbody: " + strings.TrimSpace(b)
	}
	return ""
}

// teeBody keeps what the handler reads of the request body.
type teeBody struct {
	io.ReadCloser
	buf bytes.Buffer
}

func (b *teeBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.buf.Write(p[:n])
	return n, err
}

// exchangeRecorder passes the answer through and keeps a copy: the status, the headers as they were
// sent, and the body.
type exchangeRecorder struct {
	http.ResponseWriter
	status int
	header http.Header
	body   bytes.Buffer
}

func (r *exchangeRecorder) WriteHeader(code int) {
	if r.header == nil {
		r.status, r.header = code, r.Header().Clone()
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *exchangeRecorder) Write(b []byte) (int, error) {
	if r.header == nil {
		r.header = r.Header().Clone()
	}
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

func (r *exchangeRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *exchangeRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// errorCatcher is a testing.TB that keeps what Errorf reports instead of failing.
type errorCatcher struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (c *errorCatcher) Errorf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.errs = append(c.errs, fmt.Sprintf(format, args...))
}

func (c *errorCatcher) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.errs
	c.errs = nil
	return out
}

// TestOpenAPIValidatorCatches: the harness's validator fails answers the document does not describe,
// and requests the server should not have taken, and lets deliberate bad requests through.
func TestOpenAPIValidatorCatches(t *testing.T) {
	t.Parallel()
	project := `{"id":"prj_1","name":"p","description":"","inherit_organization_credentials":false,"version":1,` +
		`"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"}`
	for _, c := range []struct {
		name, method, path, reqBody string
		status                      int
		header                      http.Header
		body                        string
		wantError                   bool
	}{
		{"a valid list", "GET", "/v1/providers", "", 200, nil, `{"items":[]}`, false},
		{"null where an array is required", "GET", "/v1/providers", "", 200, nil, `{"items":null}`, true},
		{"a required field missing", "GET", "/v1/projects/prj_1", "", 200, http.Header{"Etag": {`"1"`}}, `{"id":"prj_1"}`, true},
		{"no ETag on an object", "GET", "/v1/projects/prj_1", "", 200, nil, project, true},
		{"an object with its ETag", "GET", "/v1/projects/prj_1", "", 200, http.Header{"Etag": {`"1"`}}, project, false},
		{"an undocumented status", "GET", "/v1/projects/prj_1", "", 418, nil, `{"type":"about:blank","title":"teapot","status":418}`, true},
		{"a problem as plain JSON", "GET", "/v1/projects/prj_1", "", 404, nil, `{"type":"about:blank","title":"Not found","status":404}`, true},
		{"a documented problem", "GET", "/v1/projects/prj_1", "", 404, http.Header{"Content-Type": {"application/problem+json"}, "X-Request-Id": {"req_1"}},
			`{"type":"https://modelkeys.dev/problems/not-found","title":"Not found","status":404}`, false},
		{"an accepted request with an unknown field", "POST", "/v1/projects", `{"name":"p","colour":"red"}`, 201, http.Header{"Etag": {`"1"`}}, project, true},
		{"a refused request with an unknown field", "POST", "/v1/projects", `{"name":"p","colour":"red"}`, 422, http.Header{"Content-Type": {"application/problem+json"}, "X-Request-Id": {"req_1"}},
			`{"type":"https://modelkeys.dev/problems/validation","title":"Validation failed","status":422,"errors":[{"field":"colour","message":"unknown field"}]}`, false},
		{"a path the API does not serve", "GET", "/v1/nothing", "", 404, nil, `not json`, false},
	} {
		catcher := &errorCatcher{TB: t}
		h := validateOpenAPI(catcher, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.ReadAll(r.Body)
			if w.Header().Get("Content-Type") == "" {
				w.Header().Set("Content-Type", "application/json")
			}
			for k, v := range c.header {
				w.Header()[k] = v
			}
			w.WriteHeader(c.status)
			_, _ = io.WriteString(w, c.body)
		}))
		var body io.Reader
		if c.reqBody != "" {
			body = strings.NewReader(c.reqBody)
		}
		req := httptest.NewRequest(c.method, "http://modelkeys.test"+c.path, body)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		h.ServeHTTP(httptest.NewRecorder(), req)
		if errs := catcher.take(); (len(errs) > 0) != c.wantError {
			t.Errorf("%s: validation errors %q, want errors: %v", c.name, errs, c.wantError)
		}
	}
}
