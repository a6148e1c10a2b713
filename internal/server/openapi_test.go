package server

import (
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
)

// openAPIJSON is the document as a client decodes it.
func openAPIJSON(t *testing.T) map[string]any {
	t.Helper()
	raw, err := json.Marshal(OpenAPIDocument("test"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// dig walks doc along keys (object keys, or decimal indexes into arrays).
func dig(t *testing.T, doc any, keys ...string) any {
	t.Helper()
	cur := doc
	for i, k := range keys {
		m, ok := cur.(map[string]any)
		if !ok {
			t.Fatalf("%s is not an object", strings.Join(keys[:i], "."))
		}
		if cur, ok = m[k]; !ok {
			t.Fatalf("%s is missing", strings.Join(keys[:i+1], "."))
		}
	}
	return cur
}

func stringsOf(t *testing.T, v any) []string {
	t.Helper()
	arr, ok := v.([]any)
	if !ok {
		t.Fatalf("%v is not an array", v)
	}
	var out []string
	for _, x := range arr {
		s, _ := x.(string)
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// TestOpenAPIDocsCoverRoutes: every route has its side-table entry (operationId, tag, description,
// errors), operationIds are unique, and every error status has a component response.
func TestOpenAPIDocsCoverRoutes(t *testing.T) {
	t.Parallel()
	ids := map[string]string{}
	tags := map[string]bool{}
	for _, tg := range tagDocs {
		tags[tg.name] = true
	}
	table := routes()
	for _, rt := range table {
		key := rt.Method + " " + rt.Path
		d, ok := operationDocs[key]
		if !ok {
			t.Errorf("%s has no entry in operationDocs", key)
			continue
		}
		if d.ID == "" || d.Description == "" || !tags[d.Tag] || len(d.Errors) == 0 {
			t.Errorf("%s: incomplete operationDocs entry %+v", key, d)
		}
		if other, dup := ids[d.ID]; dup {
			t.Errorf("operationId %s of %s is also %s's", d.ID, key, other)
		}
		ids[d.ID] = key
		for _, status := range d.Errors {
			if _, ok := errorResponses[status]; !ok {
				t.Errorf("%s: no errorResponses entry for %d", key, status)
			}
		}
		if !rt.Public && !slices.Contains(d.Errors, 401) {
			t.Errorf("%s needs a token but does not document 401", key)
		}
		if rt.Request != nil && !slices.Contains(d.Errors, 413) {
			t.Errorf("%s reads a body but does not document 413", key)
		}
	}
	if len(operationDocs) != len(table) {
		t.Errorf("operationDocs has %d entries for %d routes: remove the stale ones", len(operationDocs), len(table))
	}
	for name := range requestRequired {
		found := false
		for _, rt := range table {
			found = found || (rt.Request != nil && schemaName(reflect.TypeOf(rt.Request)) == name)
		}
		if !found {
			t.Errorf("requestRequired names %s, which no route takes", name)
		}
	}
}

// TestOpenAPISchemasAreExact checks the contract of a few key schemas: the required fields, the enums,
// closed request bodies, nullable PATCH fields and the integer query parameters.
func TestOpenAPISchemasAreExact(t *testing.T) {
	t.Parallel()
	doc := openAPIJSON(t)
	schema := func(name string) map[string]any {
		return dig(t, doc, "components", "schemas", name).(map[string]any)
	}

	// Responses: every field encoding/json always writes is required.
	cred := schema("Credential")
	wantCred := []string{"connection_ids", "created_at", "description", "has_api_key", "has_auth_token", "id", "labels",
		"lifecycle_message", "lifecycle_status", "name", "policy_violations", "provider", "purpose", "rotated_at",
		"secret_fingerprint", "secret_hint", "secret_version", "settings", "status", "status_message", "updated_at", "verify", "version"}
	if got := stringsOf(t, cred["required"]); !slices.Equal(got, wantCred) {
		t.Errorf("Credential.required = %v, want %v", got, wantCred)
	}
	if _, closed := cred["additionalProperties"]; closed {
		t.Error("a response schema is closed; clients must accept new fields")
	}
	if got := stringsOf(t, dig(t, cred, "properties", "status", "enum")); !slices.Equal(got, []string{api.StatusInvalid, api.StatusUnverified, api.StatusVerified}) {
		t.Errorf("Credential.status enum = %v", got)
	}
	var providers []string
	for _, p := range catalog.Providers() {
		providers = append(providers, p.ID)
	}
	sort.Strings(providers)
	for _, s := range []string{"Credential", "CredentialCreate", "Connection", "Model", "Provider"} {
		field := "provider"
		if s == "Provider" {
			field = "id"
		}
		if got := stringsOf(t, dig(t, schema(s), "properties", field, "enum")); !slices.Equal(got, providers) {
			t.Errorf("%s.%s enum = %v, want the catalog's %v", s, field, got, providers)
		}
	}
	if got := dig(t, cred, "properties", "created_at", "format"); got != "date-time" {
		t.Errorf("Credential.created_at format = %v", got)
	}
	if got := dig(t, cred, "properties", "version", "type"); got != "integer" {
		t.Errorf("Credential.version type = %v", got)
	}
	if got := stringsOf(t, dig(t, schema("Connection"), "properties", "status", "enum")); !slices.Equal(got, []string{"blocked", "invalid", "ready"}) {
		t.Errorf("Connection.status enum = %v", got)
	}
	for _, s := range []string{"ModelPolicy", "ModelPolicyPut"} {
		if got := stringsOf(t, dig(t, schema(s), "properties", "mode", "enum")); !slices.Equal(got, []string{"all", "allowlist", "denylist"}) {
			t.Errorf("%s.mode enum = %v", s, got)
		}
	}
	if got := stringsOf(t, schema("Problem")["required"]); !slices.Equal(got, []string{"status", "title", "type"}) {
		t.Errorf("Problem.required = %v", got)
	}

	// Requests: closed, with the server's required fields.
	for name, want := range map[string][]string{
		"CredentialCreate": {"name", "provider"},
		"ConnectionCreate": {"credential_id", "model", "name"},
		"ProjectCreate":    {"name"},
		"ModelPolicyPut":   {"mode"},
		"CredentialPatch":  nil,
		"ConnectionPatch":  nil,
		"ProjectPatch":     nil,
	} {
		s := schema(name)
		if s["additionalProperties"] != false {
			t.Errorf("%s is not closed (additionalProperties: false)", name)
		}
		var got []string
		if s["required"] != nil {
			got = stringsOf(t, s["required"])
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s.required = %v, want %v", name, got, want)
		}
	}
	if got := stringsOf(t, dig(t, schema("CredentialPatch"), "properties", "api_key", "type")); !slices.Equal(got, []string{"null", "string"}) {
		t.Errorf("CredentialPatch.api_key type = %v, want string or null (null removes the key)", got)
	}
	if got := dig(t, schema("CredentialCreate"), "properties", "name", "maxLength"); got != float64(catalog.MaxNameLen) {
		t.Errorf("CredentialCreate.name maxLength = %v", got)
	}

	// Query parameters and headers.
	param := func(path, method, name string) map[string]any {
		for _, p := range dig(t, doc, "paths", path, method, "parameters").([]any) {
			if p := p.(map[string]any); p["name"] == name {
				return p
			}
		}
		t.Fatalf("%s %s has no parameter %s", method, path, name)
		return nil
	}
	for _, c := range [][2]string{{"/v1/credentials", "limit"}, {"/v1/audit-events", "limit"}, {"/v1/audit-events", "after"}} {
		if got := dig(t, param(c[0], "get", c[1]), "schema", "type"); got != "integer" {
			t.Errorf("GET %s %s is %v, want integer", c[0], c[1], got)
		}
	}
	hasRef := func(path, method, ref string) bool {
		ps, _ := dig(t, doc, "paths", path, method).(map[string]any)["parameters"].([]any)
		for _, p := range ps {
			if p.(map[string]any)["$ref"] == ref {
				return true
			}
		}
		return false
	}
	if !hasRef("/v1/credentials", "post", "#/components/parameters/IdempotencyKey") || hasRef("/v1/credentials/{id}/verify", "post", "#/components/parameters/IdempotencyKey") {
		t.Error("Idempotency-Key belongs to the creates, and only to them")
	}
	if !hasRef("/v1/credentials/{id}", "patch", "#/components/parameters/IfMatch") || !hasRef("/v1/model-policy", "put", "#/components/parameters/IfMatch") {
		t.Error("If-Match is missing from a write that reads it")
	}
	if dig(t, doc, "paths", "/v1/credentials/{id}", "get", "responses", "200", "headers", "ETag") == nil {
		t.Error("GET /v1/credentials/{id} does not document its ETag")
	}
	if got := dig(t, doc, "paths", "/v1/credentials", "post", "responses", "429", "$ref"); got != "#/components/responses/TooManyRequests" {
		t.Errorf("POST /v1/credentials 429 = %v", got)
	}
	if dig(t, doc, "components", "responses", "TooManyRequests", "headers", "Retry-After") == nil {
		t.Error("429 does not document Retry-After")
	}
	if ct := dig(t, doc, "components", "responses", "NotFound", "content").(map[string]any); ct[api.ProblemContentType] == nil {
		t.Errorf("errors are not %s: %v", api.ProblemContentType, ct)
	}

	// Security: a bearer token everywhere, none on the public routes.
	if len(dig(t, doc, "security").([]any)) != 1 {
		t.Error("no global bearer security")
	}
	for _, rt := range routes() {
		sec, has := dig(t, doc, "paths", rt.Path, strings.ToLower(rt.Method)).(map[string]any)["security"]
		if rt.Public != (has && len(sec.([]any)) == 0) {
			t.Errorf("%s %s: public=%v but security=%v", rt.Method, rt.Path, rt.Public, sec)
		}
	}
}

// TestOpenAPIDocumentLoads: kin-openapi loads and validates the document (the harness's validator
// depends on it).
func TestOpenAPIDocumentLoads(t *testing.T) {
	t.Parallel()
	loadOpenAPIRouter(t)
}
