package server

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

func TestControlCharactersAreRefusedEverywhere(t *testing.T) {
	forEachBackend(t, testControlCharactersAreRefusedEverywhere)
}

// testControlCharactersAreRefusedEverywhere: a NUL (which PostgreSQL cannot store) or another control
// character in any text field is the same 422 on both stores, never a 500 or a stored value.
func testControlCharactersAreRefusedEverywhere(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin := h.tokens["admin"]
	cred := h.mustCreate(h.admin, openAICred("base", h.secret("sk-proj-")))
	proj := h.do("POST", "/v1/projects", admin, []byte(`{"name":"p1"}`))
	if proj.Status != http.StatusCreated {
		t.Fatalf("project: %d %s", proj.Status, proj.Body)
	}
	for _, bad := range []string{`\u0000`, `\u0007`, `\u001b[31m`, `\u007f`, `\u0085`} {
		cases := []struct{ method, path, body, field string }{
			{"POST", "/v1/credentials", `{"name":"c","provider":"openai","api_key":"sk-proj-abcdefghijklmnopqrstuv","verify":false,"description":"a` + bad + `b"}`, "description"},
			{"POST", "/v1/credentials", `{"name":"c","provider":"openai","api_key":"sk-proj-abcdefghijklmnopqrstuv","verify":false,"labels":{"team":"a` + bad + `"}}`, "labels.team"},
			{"POST", "/v1/credentials", `{"name":"c","provider":"openai","api_key":"sk-proj-abcdefghijklmnopqrstuv","verify":false,"labels":{"t` + bad + `":"x"}}`, "labels"},
			{"POST", "/v1/credentials", `{"name":"c","provider":"openai","api_key":"sk-proj-abcdefghijklmnopqrstuv","verify":false,"settings":{"organization_id":"org` + bad + `"}}`, "settings.organization_id"},
			{"PATCH", "/v1/credentials/" + cred.ID, `{"description":"` + bad + `"}`, "description"},
			{"POST", "/v1/connections", `{"name":"n","credential_id":"` + cred.ID + `","model":"gpt-4o` + bad + `"}`, "model"},
			{"POST", "/v1/projects", `{"name":"p2","description":"` + bad + `"}`, "description"},
		}
		for _, c := range cases {
			r := h.do(c.method, c.path, admin, []byte(c.body))
			if r.Status != http.StatusUnprocessableEntity {
				t.Errorf("%s %s with %s: status %d, want 422: %s", c.method, c.path, bad, r.Status, r.Body)
				continue
			}
			if p := r.problem(t); !hasField(p.Errors, c.field) {
				t.Errorf("%s %s with %s: errors %+v, want one on %s", c.method, c.path, bad, p.Errors, c.field)
			}
		}
	}
	// An id with a NUL names nothing: 404 or 422, never a 500 from a store that cannot take it.
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/v1/credentials/cred_%00x", ""},
		{"POST", "/v1/connections", `{"name":"n","credential_id":"cred_\u0000","model":"gpt-4o"}`},
		{"POST", "/v1/credentials", `{"name":"c","provider":"mistral","api_key":"abcdefghijklmnopqrstuvwx","verify":false,"project_id":"proj_\u0000"}`},
		{"GET", "/v1/credentials?project_id=proj_%00", ""},
	} {
		var body []byte
		if c.body != "" {
			body = []byte(c.body)
		}
		if r := h.do(c.method, c.path, admin, body); r.Status >= 500 {
			t.Errorf("%s %s: status %d: %s", c.method, c.path, r.Status, r.Body)
		}
	}
	// Newlines and tabs are fine in a description (a heredoc's lines), not in a one-line field.
	ok := h.do("PATCH", "/v1/credentials/"+cred.ID, admin, []byte(`{"description":"line one\nline\ttwo\n"}`))
	if ok.Status != http.StatusOK {
		t.Fatalf("a multi-line description: %d %s", ok.Status, ok.Body)
	}
}

func TestLabelsAreCapped(t *testing.T) { forEachBackend(t, testLabelsAreCapped) }

func testLabelsAreCapped(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	labels := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf(`"k%d":"v"`, i)
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	body := func(n int) []byte {
		return []byte(fmt.Sprintf(`{"name":"c%d","provider":"mistral","api_key":"abcdefghijklmnopqrstuvwx","verify":false,"labels":%s}`, n, labels(n)))
	}
	if r := h.do("POST", "/v1/credentials", h.tokens["admin"], body(64)); r.Status != http.StatusCreated {
		t.Fatalf("64 labels: %d %s", r.Status, r.Body)
	}
	r := h.do("POST", "/v1/credentials", h.tokens["admin"], body(3500))
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("3,500 labels: status %d, want 422", r.Status)
	}
	if p := r.problem(t); len(p.Errors) != 1 || p.Errors[0].Field != "labels" || !strings.Contains(p.Errors[0].Message, "64") {
		t.Fatalf("3,500 labels: %+v, want one error on labels naming the limit", p.Errors)
	}
}

func hasField(errs []api.FieldError, field string) bool {
	for _, e := range errs {
		if e.Field == field {
			return true
		}
	}
	return false
}
