package server

// What every request and answer goes through before a handler runs, whatever the store: text that
// enters (path, query, the headers the server reads, JSON bodies) must be UTF-8 without control or
// format characters, a body must be declared JSON, a query filter with a fixed set of values must
// hold one of them, and every answer carries the headers that keep browsers and caches from
// misreading or keeping it.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
)

// hstsMaxAge is the Strict-Transport-Security of answers served over TLS: a year, this host only.
const hstsMaxAge = "max-age=31536000"

// secureHeaders sets what every answer carries, the API's and the console's: nosniff, so a browser
// never reads a JSON answer as HTML; no-store, since answers hold an organisation's names, labels and
// audit log (a handler may set a longer lifetime, as the console's stylesheet does); and HSTS when the
// request came over TLS.
func secureHeaders(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	if r.TLS != nil {
		h.Set("Strict-Transport-Security", hstsMaxAge)
	}
}

// textHeaders are the request headers whose text reaches the store or the log as it is.
var textHeaders = []string{"Idempotency-Key"}

// checkRequestText refuses, in the path, the query and the headers the server stores, what no text
// field may hold (catalog.ValidateText): bytes that are not UTF-8, control and format characters. Ids,
// filters, page tokens and idempotency keys have none, and PostgreSQL refuses invalid UTF-8 and NULs
// that SQLite would compare, so both stores answer this same 400 rather than a 500 or a 404.
func checkRequestText(r *http.Request) error {
	if err := catalog.ValidateText(r.URL.Path); err != nil {
		return badRequest("The URL path " + textProblem(err) + "; ids have none.")
	}
	for name, values := range r.URL.Query() {
		if err := catalog.ValidateText(name); err != nil {
			return badRequest("A query parameter's name " + textProblem(err) + "; see /openapi.json for the parameters each route takes.")
		}
		for _, v := range values {
			if err := catalog.ValidateText(v); err != nil {
				return badRequest("The query parameter " + name + " " + textProblem(err) + "; ids and filters have none.")
			}
		}
	}
	for _, name := range textHeaders {
		for _, v := range r.Header.Values(name) {
			if err := catalog.ValidateText(v); err != nil {
				return badRequest("The header " + name + " " + textProblem(err) + ".")
			}
		}
	}
	return nil
}

// textProblem turns catalog.ValidateText's "it has ..." into a predicate for a named subject.
func textProblem(err error) string {
	return strings.TrimSuffix(strings.TrimPrefix(err.Error(), "it "), ".")
}

// checkBodyUTF8 refuses a body that is not UTF-8, naming the field that holds the first bad byte.
// encoding/json would otherwise replace each bad byte with U+FFFD and store, or send to a provider, a
// value that is not the one the client holds: a secret among them.
func checkBodyUTF8(body []byte) error {
	if utf8.Valid(body) {
		return nil
	}
	off := invalidUTF8Offset(body)
	if field := fieldAtOffset(body, off); field != "" {
		return service.InvalidField(field, "%s is not valid UTF-8 (byte %d of the body is 0x%02X); send text encoded as UTF-8.", field, off, body[off])
	}
	return badRequest(fmt.Sprintf("The body is not valid UTF-8 (byte %d is 0x%02X); JSON is sent as UTF-8.", off, body[off]))
}

func invalidUTF8Offset(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// fieldAtOffset is the dotted path of the field whose key or string value holds byte off of a JSON
// body ("labels.team", "api_key"), or "" when off is in none (the body is then not JSON either). A key
// that holds the bad byte is named by its object, since the key itself cannot be printed.
func fieldAtOffset(body []byte, off int) string {
	type frame struct {
		object, wantKey bool
		key             string
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var stack []frame
	path := func(withKey bool) string {
		var parts []string
		for i, f := range stack {
			if f.object && f.key != "" && (withKey || i < len(stack)-1) {
				parts = append(parts, f.key)
			}
		}
		return strings.Join(parts, ".")
	}
	// valueDone marks the value of the enclosing object's current key as read.
	valueDone := func() {
		if n := len(stack); n > 0 && stack[n-1].object {
			stack[n-1].wantKey = true
		}
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		end := int(dec.InputOffset())
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				stack = append(stack, frame{object: t == '{', wantKey: t == '{'})
			default:
				stack = stack[:len(stack)-1]
				valueDone()
			}
		case string:
			top := len(stack) - 1
			isKey := top >= 0 && stack[top].object && stack[top].wantKey
			if end > off {
				if isKey {
					return path(false)
				}
				return path(true)
			}
			if isKey {
				stack[top].key, stack[top].wantKey = t, false
			} else {
				valueDone()
			}
		default:
			if end > off {
				return ""
			}
			valueDone()
		}
	}
}

// checkJSONContentType answers 415 to a body that is not declared JSON: the API reads nothing else,
// and a body sent as a form or text/plain by a browser must not be taken for one.
func checkJSONContentType(r *http.Request) error {
	if r.ContentLength == 0 {
		return nil // no body: nothing to declare
	}
	ct := r.Header.Get("Content-Type")
	media, params, err := mime.ParseMediaType(ct)
	if err == nil && media == "application/json" {
		if cs, ok := params["charset"]; !ok || strings.EqualFold(cs, "utf-8") {
			return nil
		}
	}
	got := "no Content-Type"
	if ct != "" {
		got = "Content-Type " + strconv.QuoteToASCII(ct)
	}
	return &service.Error{Status: http.StatusUnsupportedMediaType, Title: "Unsupported media type",
		Detail: "The body must be JSON, sent with Content-Type: application/json (charset utf-8 if any); this request has " + got + "."}
}

// enumQueries are the query parameters of rt that /openapi.json lists with a fixed set of values
// (provider, status, lifecycle_status, capability), with those values.
func enumQueries(rt route) map[string][]string {
	out := map[string][]string{}
	for _, name := range rt.Query {
		schema, _ := queryParameter(rt, name)["schema"].(map[string]any)
		enum, _ := schema["enum"].([]any)
		for _, v := range enum {
			if s, ok := v.(string); ok {
				out[name] = append(out[name], s)
			}
		}
	}
	return out
}

// checkEnumQuery refuses a value of such a parameter that is not one of its values: a filter that
// cannot match would otherwise answer an empty page, as if there were nothing to find. The values are
// the description's, so the description and the check cannot drift.
func checkEnumQuery(enums map[string][]string, r *http.Request) error {
	if len(enums) == 0 || r.URL.RawQuery == "" {
		return nil
	}
	q := r.URL.Query()
	for _, name := range slices.Sorted(maps.Keys(enums)) {
		if v := q.Get(name); v != "" && !slices.Contains(enums[name], v) {
			return service.InvalidField(name, "%s must be one of %s, not %q.", name, strings.Join(enums[name], ", "), v)
		}
	}
	return nil
}

// allowedMethods are the methods the route table serves at path, with HEAD beside GET as net/http's
// router serves it; none when no route has the path.
func allowedMethods(table []route, path string) []string {
	var out []string
	for _, rt := range table {
		if pathMatches(rt.Path, path) && !slices.Contains(out, rt.Method) {
			out = append(out, rt.Method)
			if rt.Method == http.MethodGet {
				out = append(out, http.MethodHead)
			}
		}
	}
	slices.Sort(out)
	return out
}

// pathMatches reports whether path fits pattern, a route path whose {name} segments match any one
// non-empty segment.
func pathMatches(pattern, path string) bool {
	ps, xs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(xs) {
		return false
	}
	for i := range ps {
		if strings.HasPrefix(ps[i], "{") && strings.HasSuffix(ps[i], "}") {
			if xs[i] == "" {
				return false
			}
		} else if ps[i] != xs[i] {
			return false
		}
	}
	return true
}

// noRoute answers what no route serves: 405 with Allow when the path is a route's with another method,
// 404 otherwise.
func noRoute(table []route) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if allowed := allowedMethods(table, r.URL.Path); len(allowed) > 0 {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			writeProblem(w, &service.Error{Status: http.StatusMethodNotAllowed, Title: "Method not allowed",
				Detail: fmt.Sprintf("%s does not take %s; it takes %s (see /openapi.json).", r.URL.Path, r.Method, strings.Join(allowed, ", "))})
			return
		}
		writeProblem(w, &service.Error{Status: http.StatusNotFound, Title: "Not found", Detail: fmt.Sprintf("No route %s %s; see /openapi.json.", r.Method, r.URL.Path)})
	}
}
