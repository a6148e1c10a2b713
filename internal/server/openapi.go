package server

import (
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

// buildOpenAPI describes every route of the table, with JSON schemas derived from the wire types, so
// the document cannot drift from the router or from internal/api.
func buildOpenAPI(table []route, version string) map[string]any {
	schemas := map[string]any{}
	paths := map[string]any{}
	for _, rt := range table {
		item, _ := paths[rt.Path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[rt.Path] = item
		}
		op := map[string]any{"summary": rt.Summary, "operationId": operationID(rt)}
		var params []any
		if strings.Contains(rt.Path, "{id}") {
			params = append(params, map[string]any{"name": "id", "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		for _, q := range rt.Query {
			params = append(params, map[string]any{"name": q, "in": "query", "schema": map[string]any{"type": "string"}})
		}
		if rt.Method == "POST" && rt.Request != nil {
			params = append(params, map[string]any{"name": "Idempotency-Key", "in": "header", "schema": map[string]any{"type": "string"}})
		}
		if rt.Method == "PATCH" || rt.Method == "PUT" || rt.Method == "DELETE" {
			params = append(params, map[string]any{"name": "If-Match", "in": "header", "schema": map[string]any{"type": "string"}})
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		if rt.Request != nil {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"application/json": map[string]any{"schema": schemaRef(reflect.TypeOf(rt.Request), schemas)}}}
		}
		ok := map[string]any{"description": rt.Summary}
		if rt.Response != nil {
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": schemaRef(reflect.TypeOf(rt.Response), schemas)}}
		}
		responses := map[string]any{strconv.Itoa(rt.Status): ok}
		if !rt.Public {
			responses["default"] = map[string]any{"description": "An RFC 9457 problem", "content": map[string]any{
				"application/problem+json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Problem"}}}}
			op["security"] = []any{map[string]any{"bearer": []any{}}}
		}
		op["responses"] = responses
		item[strings.ToLower(rt.Method)] = op
	}
	schemaRef(reflect.TypeOf(api.Problem{}), schemas)
	return map[string]any{
		"openapi": "3.1.0",
		"info":    map[string]any{"title": "modelkeys API", "version": version},
		"paths":   paths,
		"components": map[string]any{
			"schemas":         schemas,
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}},
		},
	}
}

func operationID(rt route) string {
	name := strings.NewReplacer("/v1/", "", "/{id}", "ById", "/", "_", "-", "_", ".", "_").Replace(rt.Path)
	return strings.ToLower(rt.Method) + "_" + strings.Trim(name, "_")
}

var timeType = reflect.TypeOf(time.Time{})

// schemaRef returns a JSON schema for t, registering named struct types under components.
func schemaRef(t reflect.Type, schemas map[string]any) map[string]any {
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
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return map[string]any{"type": "integer"}
	case t.Kind() == reflect.Slice:
		return map[string]any{"type": "array", "items": schemaRef(t.Elem(), schemas)}
	case t.Kind() == reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": schemaRef(t.Elem(), schemas)}
	case t.Kind() == reflect.Struct:
		name := schemaName(t)
		if _, ok := schemas[name]; !ok {
			schemas[name] = map[string]any{} // placeholder against recursion
			props := map[string]any{}
			for i := range t.NumField() {
				f := t.Field(i)
				tag := strings.Split(f.Tag.Get("json"), ",")[0]
				if tag == "-" || !f.IsExported() {
					continue
				}
				if tag == "" {
					tag = f.Name
				}
				props[tag] = schemaRef(f.Type, schemas)
			}
			schemas[name] = map[string]any{"type": "object", "properties": props}
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	return map[string]any{}
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
