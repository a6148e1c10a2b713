package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
)

// writeJSON encodes v with status. Errors writing to a gone client are not actionable.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// writeObject writes a versioned object with its ETag.
func writeObject(w http.ResponseWriter, status int, version int64, v any) {
	w.Header().Set("ETag", etag(version))
	writeJSON(w, status, v)
}

func etag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

func writeProblem(w http.ResponseWriter, e *service.Error) {
	if e.Status == http.StatusTooManyRequests && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", "1")
	}
	w.Header().Set("Content-Type", api.ProblemContentType)
	w.WriteHeader(e.Status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(problemOf(e))
}

// ifMatch reads If-Match as a version; 0 means absent or "*".
func ifMatch(r *http.Request) (int64, error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" || h == "*" {
		return 0, nil
	}
	h = strings.TrimPrefix(h, "W/")
	v, err := strconv.ParseInt(strings.Trim(h, `"`), 10, 64)
	if err != nil || v < 0 {
		return 0, badRequest(`If-Match must be an ETag this API returned, such as "3".`)
	}
	return v, nil
}

// readBody reads a request body within the size limit.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, limit))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, &service.Error{Status: http.StatusRequestEntityTooLarge, Title: "Request body too large",
			Detail: fmt.Sprintf("Request bodies may be at most %d bytes.", limit)}
	}
	if err != nil {
		return nil, badRequest("Could not read the request body.")
	}
	return body, nil
}

// decodeStrict decodes a JSON body into v, refusing unknown fields and trailing data, and says which
// field was wrong without echoing values (they may be secrets).
func decodeStrict(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return badRequest("The request needs a JSON body.")
	}
	if err := checkBodyUTF8(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		return badRequest("The body holds more than one JSON value; send exactly one object.")
	}
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return badRequest(fmt.Sprintf("The body must be a JSON object, not a %s.", typeErr.Value))
		}
		return service.InvalidField(field, "%s must be of type %s, not a JSON %s.", field, jsonTypeName(typeErr.Type.String()), typeErr.Value)
	case errors.As(err, &syntaxErr):
		return badRequest(fmt.Sprintf("The body is not valid JSON (syntax error at byte %d).", syntaxErr.Offset))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return service.InvalidField(field, "unknown field %q; see /openapi.json for the fields this request takes.", field)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("The body is not valid JSON (it ends too early).")
	}
	return badRequest("The body is not valid JSON.")
}

func jsonTypeName(goType string) string {
	switch {
	case goType == "string" || goType == "*string":
		return "string"
	case goType == "bool" || goType == "*bool":
		return "boolean"
	case strings.Contains(goType, "int"):
		return "integer"
	case strings.HasPrefix(goType, "map[") || strings.HasPrefix(goType, "*map["):
		return "object of strings"
	case strings.HasPrefix(goType, "[]"):
		return "array"
	}
	return goType
}

// queryInt reads an optional integer query parameter.
func queryInt(r *http.Request, name string) (int, error) { //nolint:unparam // a helper for any integer query parameter; only limit is one today
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, &service.Error{Status: http.StatusBadRequest, Title: "Bad request", Detail: fmt.Sprintf("query parameter %s must be a non-negative integer.", name)}
	}
	return n, nil
}

// queryBool reads a boolean query parameter: absent is false; true, false, 1 and 0 are accepted.
func queryBool(r *http.Request, name string) (bool, error) {
	switch r.URL.Query().Get(name) {
	case "", "false", "0":
		return false, nil
	case "true", "1":
		return true, nil
	}
	return false, &service.Error{Status: http.StatusBadRequest, Title: "Bad request", Detail: fmt.Sprintf("query parameter %s must be true or false.", name)}
}
