package server

import (
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

// OpenAPIDocument is the document GET /openapi.json answers on a server of this version; make
// openapi-lint writes it out (cmd/openapi-dump) for the linters.
func OpenAPIDocument(version string) map[string]any { return buildOpenAPI(routes(), version) }

// buildOpenAPI describes every route of the table, with JSON schemas derived from the wire types, so
// the document cannot drift from the router or from internal/api. What reflection cannot see (which
// fields of a request the server insists on, the values a string may take, the errors a route
// answers, the words for people) comes from the side tables below, which TestOpenAPIDocsCoverRoutes
// keeps complete.
func buildOpenAPI(table []route, version string) map[string]any {
	g := &schemaGen{schemas: map[string]any{}, requests: map[reflect.Type]bool{}}
	for _, rt := range table {
		if rt.Request != nil {
			g.requests[reflect.TypeOf(rt.Request)] = true
		}
	}
	usedErrors := map[int]bool{}
	usedTags := map[string]bool{}
	paths := map[string]any{}
	for _, rt := range table {
		item, _ := paths[rt.Path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[rt.Path] = item
		}
		key := rt.Method + " " + rt.Path
		d, ok := operationDocs[key]
		if !ok { // TestOpenAPIDocsCoverRoutes fails on this; keep the document valid meanwhile
			d = operationDoc{ID: operationID(rt), Tag: "Operations", Description: rt.Summary, Errors: []int{400, 500}}
		}
		usedTags[d.Tag] = true
		op := map[string]any{
			"summary":     rt.Summary,
			"description": d.Description,
			"operationId": d.ID,
			"tags":        []any{d.Tag},
		}
		var params []any
		if strings.Contains(rt.Path, "{id}") {
			params = append(params, map[string]any{"name": "id", "in": "path", "required": true,
				"description": "The object's id, as its create answer gave it.", "schema": map[string]any{"type": "string", "minLength": 1}})
		}
		for _, q := range rt.Query {
			params = append(params, queryParameter(rt, q))
		}
		if readsIdempotencyKey(rt) {
			params = append(params, map[string]any{"$ref": "#/components/parameters/IdempotencyKey"})
		}
		if readsIfMatch(rt) {
			params = append(params, map[string]any{"$ref": "#/components/parameters/IfMatch"})
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		if rt.Request != nil {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"application/json": map[string]any{"schema": g.ref(reflect.TypeOf(rt.Request))}}}
		}
		if d.Form != nil {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"application/x-www-form-urlencoded": map[string]any{"schema": d.Form}}}
		}
		responses := map[string]any{strconv.Itoa(rt.Status): g.success(rt, d)}
		for _, status := range d.OAuthErrors {
			responses[strconv.Itoa(status)] = g.oauthError(status)
		}
		for _, status := range routeErrors(rt, d) {
			usedErrors[status] = true
			responses[strconv.Itoa(status)] = map[string]any{"$ref": "#/components/responses/" + errorResponses[status].name}
		}
		op["responses"] = responses
		if rt.Public {
			op["security"] = []any{}
		}
		if rt.MetricsToken {
			op["security"] = []any{map[string]any{"metricsToken": []any{}}}
		}
		item[strings.ToLower(rt.Method)] = op
	}
	g.ref(reflect.TypeOf(api.Problem{}))
	for name, s := range extraSchemas {
		g.schemas[name] = s
	}

	responses := map[string]any{}
	for status := range usedErrors {
		e := errorResponses[status]
		resp := map[string]any{"description": e.description, "content": map[string]any{
			api.ProblemContentType: map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Problem"}}}}
		headers := map[string]any{"X-Request-Id": map[string]any{"$ref": "#/components/headers/RequestID"}}
		if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
			headers["Retry-After"] = map[string]any{"$ref": "#/components/headers/RetryAfter" + strconv.Itoa(status)}
		}
		resp["headers"] = headers
		responses[e.name] = resp
	}
	var tags []any
	for _, t := range tagDocs {
		if usedTags[t.name] {
			tags = append(tags, map[string]any{"name": t.name, "description": t.description})
		}
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "modelkeys API",
			"version":     version,
			"description": apiDescription,
			"contact":     map[string]any{"name": "modelkeys", "url": "https://github.com/modelkeys/terraform-provider-modelkeys"},
			"license":     map[string]any{"name": "MPL-2.0", "url": "https://www.mozilla.org/en-US/MPL/2.0/"},
		},
		"servers": []any{map[string]any{
			"url":         "{origin}",
			"description": "A modelkeys-server; it listens on 127.0.0.1:8080 unless --listen says otherwise.",
			"variables": map[string]any{"origin": map[string]any{
				"default":     "http://127.0.0.1:8080",
				"description": "Scheme, host and port of the server (behind TLS in production).",
			}},
		}},
		"security": []any{map[string]any{"bearer": []any{}}},
		"tags":     tags,
		"paths":    paths,
		"components": map[string]any{
			"schemas":   g.schemas,
			"responses": responses,
			"parameters": map[string]any{
				"IdempotencyKey": map[string]any{"name": "Idempotency-Key", "in": "header", "required": false,
					"description": "Makes a create safe to retry: a retry with the same key and the same body answers what the first " +
						"request created (201) instead of creating again; the same key with another body is a 422.",
					"schema": map[string]any{"type": "string", "minLength": 1, "maxLength": 255}},
				"IfMatch": map[string]any{"name": "If-Match", "in": "header", "required": false,
					"description": "The ETag of the version the change is based on, such as \"3\" (W/\"3\" and * are accepted). When the " +
						"object is at another version the answer is 412 and nothing changes. Without it the write applies to whatever is current.",
					"schema": map[string]any{"type": "string", "minLength": 1}},
			},
			"headers": map[string]any{
				"ETag": map[string]any{"required": true, "description": "The object's version as a strong ETag, such as \"3\"; send it back in If-Match.",
					"schema": map[string]any{"type": "string", "pattern": `^"[0-9]+"$`}},
				"RetryAfter429": map[string]any{"required": true, "description": "Seconds to wait before retrying.",
					"schema": map[string]any{"type": "integer", "minimum": 1}},
				"RetryAfter503": map[string]any{"required": false, "description": "Seconds to wait before retrying, when the server can tell " +
					"(a restart with the rotated master key, or a database coming back, takes as long as it takes).",
					"schema": map[string]any{"type": "integer", "minimum": 0}},
				"RequestID": map[string]any{"required": true, "description": "The id of the request in the server's log: the client's X-Request-Id when it sent one (at most 64 characters), a fresh one otherwise.",
					"schema": map[string]any{"type": "string", "minLength": 1, "maxLength": 64}},
				"CacheControl": map[string]any{"required": true, "description": "Always no-store: the answer holds secrets.",
					"schema": map[string]any{"type": "string", "enum": []any{"no-store"}}},
			},
			"securitySchemes": map[string]any{"metricsToken": map[string]any{
				"type": "http", "scheme": "bearer",
				"description": "The operator's metrics token (--metrics-token, env MODELKEYS_METRICS_TOKEN), not an API token: the metrics count " +
					"every organisation's credentials and requests. Without it the server serves /metrics only on its --metrics-listen address, unauthenticated.",
			}, "bearer": map[string]any{
				"type": "http", "scheme": "bearer",
				"description": "An API token (mkt_...) made with `modelkeys-server token create`. Its role decides what it may do: " +
					strings.Join([]string{api.RoleViewer + " reads", api.RoleEditor + " also writes", api.RoleAdmin + " also reveals secrets (when the server allows it)"}, ", ") + ".",
			}},
		},
	}
}

// routeErrors are the error statuses rt answers: its side table's, with 415 for a route that takes a
// body (checkJSONContentType) and 422 for one with a query filter of fixed values (checkEnumQuery).
func routeErrors(rt route, d operationDoc) []int {
	out := d.Errors
	if rt.Request != nil {
		out = errs(out, http.StatusUnsupportedMediaType)
	}
	if len(enumQueries(rt)) > 0 {
		out = errs(out, http.StatusUnprocessableEntity)
	}
	return out
}

// operationID is the fallback for a route the side table misses (the test fails on that).
func operationID(rt route) string {
	name := strings.NewReplacer("/v1/", "", "/{id}", "ById", "/", "_", "-", "_", ".", "_").Replace(rt.Path)
	return strings.ToLower(rt.Method) + "_" + strings.Trim(name, "_")
}

// readsIdempotencyKey: the create handlers (createRequest) honour Idempotency-Key.
func readsIdempotencyKey(rt route) bool { return rt.Method == "POST" && rt.Request != nil }

// readsIfMatch: every PATCH, PUT and DELETE handler reads If-Match (ifMatch).
func readsIfMatch(rt route) bool {
	return rt.Method == "PATCH" || rt.Method == "PUT" || rt.Method == "DELETE"
}

// success is the response of rt's success status: its body, its ETag when the answer is a versioned
// object (writeObject), and for the operational routes the shapes extraSchemas describe.
func (g *schemaGen) success(rt route, d operationDoc) map[string]any {
	desc := d.Success
	if desc == "" {
		desc = rt.Summary
	}
	resp := map[string]any{"description": desc}
	headers := map[string]any{}
	switch {
	case rt.Response != nil:
		t := reflect.TypeOf(rt.Response)
		resp["content"] = map[string]any{"application/json": map[string]any{"schema": g.ref(t)}}
		if _, versioned := t.FieldByName("Version"); versioned {
			headers["ETag"] = map[string]any{"$ref": "#/components/headers/ETag"}
		}
	case d.Body != nil:
		resp["content"] = d.Body
	}
	if d.NoStore {
		headers["Cache-Control"] = map[string]any{"$ref": "#/components/headers/CacheControl"}
	}
	if len(headers) > 0 {
		resp["headers"] = headers
	}
	return resp
}

func queryParameter(rt route, name string) map[string]any {
	q, ok := queryDocs[rt.Path+" "+name]
	if !ok {
		q = queryDocs[name]
	}
	schema := q.schema
	if schema == nil {
		schema = map[string]any{"type": "string"}
	}
	return map[string]any{"name": name, "in": "query", "required": false, "description": q.description, "schema": schema}
}

// ---- schemas -------------------------------------------------------------------------------------

var timeType = reflect.TypeOf(time.Time{})

type schemaGen struct {
	schemas  map[string]any
	requests map[reflect.Type]bool // request bodies: closed, with the required fields of requestRequired
}

// ref returns a JSON schema for t, registering named struct types under components.
func (g *schemaGen) ref(t reflect.Type) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t.Kind() == reflect.String:
		return map[string]any{"type": "string"}
	case t.Kind() == reflect.Bool:
		return map[string]any{"type": "boolean"}
	case t.Kind() == reflect.Int64 || t.Kind() == reflect.Int || t.Kind() == reflect.Uint64:
		return map[string]any{"type": "integer", "format": "int64"}
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return map[string]any{"type": "integer", "format": "int32"}
	case t.Kind() == reflect.Slice:
		return map[string]any{"type": "array", "items": g.ref(t.Elem())}
	case t.Kind() == reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.ref(t.Elem())}
	case t.Kind() == reflect.Struct:
		name := schemaName(t)
		if _, ok := g.schemas[name]; !ok {
			g.schemas[name] = map[string]any{} // placeholder against recursion
			g.schemas[name] = g.object(t, name)
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	panic(fmt.Sprintf("openapi: no schema for Go type %s", t))
}

// object describes a struct. A response's required fields are those encoding/json always writes (not
// pointers, not omitempty); a request's are the ones the server refuses to do without
// (requestRequired), and a request is closed, as decodeStrict refuses unknown fields. A pointer field
// of a request may be null, which the server reads as absent (or, for the secrets of a PATCH, as
// "remove").
func (g *schemaGen) object(t reflect.Type, name string) map[string]any {
	request := g.requests[t]
	props := map[string]any{}
	var required []any
	for i := range t.NumField() {
		f := t.Field(i)
		parts := strings.Split(f.Tag.Get("json"), ",")
		tag := parts[0]
		if tag == "-" || !f.IsExported() {
			continue
		}
		if tag == "" {
			tag = f.Name
		}
		prop := g.ref(f.Type)
		fd := fieldDocs[name+"."+tag]
		if fd.enum != nil {
			prop["enum"] = fd.enum
		}
		for k, v := range fd.extra {
			prop[k] = v
		}
		if fd.description != "" {
			prop["description"] = fd.description
		}
		nullable := request && f.Type.Kind() == reflect.Pointer
		if nullable {
			prop = nullableSchema(prop)
		}
		props[tag] = prop
		if !request && f.Type.Kind() != reflect.Pointer && !slices.Contains(parts[1:], "omitempty") {
			required = append(required, tag)
		}
	}
	if request {
		for _, r := range requestRequired[name] {
			required = append(required, r)
		}
	}
	out := map[string]any{"type": "object", "properties": props}
	if d := typeDocs[name]; d != "" {
		out["description"] = d
	}
	if len(required) > 0 {
		out["required"] = required
	}
	if request {
		out["additionalProperties"] = false
	}
	return out
}

// nullableSchema lets s also be null (JSON Schema 2020-12, as OpenAPI 3.1 has it).
func nullableSchema(s map[string]any) map[string]any {
	if typ, ok := s["type"].(string); ok {
		s["type"] = []any{typ, "null"}
		if enum, ok := s["enum"].([]any); ok {
			s["enum"] = append(slices.Clone(enum), nil)
		}
		return s
	}
	return map[string]any{"oneOf": []any{s, map[string]any{"type": "null"}}}
}

// schemaName turns api.List[github.com/.../api.Credential] into CredentialList.
func schemaName(t reflect.Type) string {
	name := t.Name()
	if i := strings.Index(name, "["); i >= 0 {
		inner := name[i+1 : len(name)-1]
		inner = inner[strings.LastIndex(inner, ".")+1:]
		return inner + "List"
	}
	return name
}
