package server

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/secrets"
)

func TestCredentialLifecycle(t *testing.T) { forEachBackend(t, testCredentialLifecycle) }

func testCredentialLifecycle(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	key := h.secret("sk-proj-")

	in := openAICred("openai-prod", key)
	in.Description = "production key"
	in.Labels = map[string]string{"team": "ml"}
	created := h.mustCreate(h.editor, in)
	if !strings.HasPrefix(created.ID, "cred_") {
		t.Errorf("id %q does not start with cred_", created.ID)
	}
	if created.Version != 1 || created.SecretVersion != 1 {
		t.Errorf("new credential: version %d secret_version %d, want 1 and 1", created.Version, created.SecretVersion)
	}
	if !created.HasAPIKey || created.HasAuthToken {
		t.Errorf("has_api_key %v has_auth_token %v, want true false", created.HasAPIKey, created.HasAuthToken)
	}
	if created.Status != api.StatusUnverified {
		t.Errorf("status %q, want unverified with verify=false", created.Status)
	}
	if want := "sk-proj-..." + key[len(key)-4:]; created.SecretHint != want {
		t.Errorf("secret_hint %q, want %q", created.SecretHint, want)
	}
	if !strings.HasPrefix(created.SecretFingerprint, secrets.FingerprintScheme) {
		t.Errorf("secret_fingerprint %q", created.SecretFingerprint)
	}
	if created.Settings["organization_id"] != "org-test" || created.Labels["team"] != "ml" || created.Description != "production key" {
		t.Errorf("fields not kept: %+v", created)
	}

	// GET answers the same object with its ETag.
	r := h.do("GET", "/v1/credentials/"+created.ID, h.tokens["viewer"], nil)
	if r.Status != 200 || r.Header.Get("ETag") != `"1"` {
		t.Fatalf("GET: status %d ETag %q, want 200 \"1\"", r.Status, r.Header.Get("ETag"))
	}
	if bytes.Contains(r.Body, []byte(key)) {
		t.Fatal("GET returned the plaintext key")
	}
	got, err := h.viewer.GetCredential(ctx, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "openai-prod" || got.SecretFingerprint != created.SecretFingerprint {
		t.Errorf("GET differs from create: %+v", got)
	}

	// PATCH bumps version and answers the new ETag.
	desc := "rotated soon"
	r = h.do("PATCH", "/v1/credentials/"+created.ID, h.tokens["editor"], mustJSON(t, api.CredentialPatch{Description: &desc}), "If-Match", `"1"`)
	if r.Status != 200 || r.Header.Get("ETag") != `"2"` {
		t.Fatalf("PATCH: status %d ETag %q body %s", r.Status, r.Header.Get("ETag"), r.Body)
	}
	patched, err := h.editor.GetCredential(ctx, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if patched.Version != 2 || patched.Description != desc || patched.SecretVersion != 1 {
		t.Errorf("after PATCH: version %d description %q secret_version %d", patched.Version, patched.Description, patched.SecretVersion)
	}
	if !patched.UpdatedAt.After(created.UpdatedAt) && !patched.UpdatedAt.Equal(created.UpdatedAt) {
		t.Errorf("updated_at went back in time")
	}

	// A PATCH that changes nothing writes nothing.
	same, err := h.editor.UpdateCredential(ctx, created.ID, api.CredentialPatch{Description: &desc}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if same.Version != 2 {
		t.Errorf("no-op PATCH bumped the version to %d", same.Version)
	}

	// DELETE with a stale If-Match is refused, with the right one it works, then 404.
	apiError(t, h.editor.DeleteCredential(ctx, created.ID, 1), http.StatusPreconditionFailed)
	if err := h.editor.DeleteCredential(ctx, created.ID, 2); err != nil {
		t.Fatal(err)
	}
	r = h.do("DELETE", "/v1/credentials/"+created.ID, h.tokens["editor"], nil)
	if r.Status != 404 {
		t.Fatalf("second DELETE: %d, want 404", r.Status)
	}
	r.problem(t)
	_, err = h.viewer.GetCredential(ctx, created.ID)
	if !client.IsNotFound(err) {
		t.Fatalf("GET after delete: %v, want 404", err)
	}
}

func TestCredentialStaleIfMatch(t *testing.T) { forEachBackend(t, testCredentialStaleIfMatch) }

func testCredentialStaleIfMatch(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	c := h.mustCreate(h.admin, openAICred("k", h.secret("sk-")))
	if _, err := h.admin.UpdateCredential(ctx, c.ID, api.CredentialPatch{Description: ptr("one")}, 1); err != nil {
		t.Fatal(err)
	}
	_, err := h.admin.UpdateCredential(ctx, c.ID, api.CredentialPatch{Description: ptr("two")}, 1)
	ae := apiError(t, err, http.StatusPreconditionFailed)
	if !strings.Contains(ae.Problem.Detail, "version 2") {
		t.Errorf("412 detail should say the current version: %q", ae.Problem.Detail)
	}
	got, _ := h.admin.GetCredential(ctx, c.ID)
	if got.Description != "one" {
		t.Errorf("a refused PATCH changed the credential: description %q", got.Description)
	}
	// A malformed If-Match is a 400, not a silent unconditional write.
	r := h.do("PATCH", "/v1/credentials/"+c.ID, h.tokens["admin"], []byte(`{"description":"three"}`), "If-Match", "banana")
	if r.Status != 400 {
		t.Fatalf("If-Match banana: %d, want 400", r.Status)
	}
	r.problem(t)
}

func TestConcurrentPatchesWithSameIfMatch(t *testing.T) {
	forEachBackend(t, testConcurrentPatchesWithSameIfMatch)
}

func testConcurrentPatchesWithSameIfMatch(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	c := h.mustCreate(h.admin, openAICred("raced", h.secret("sk-")))

	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = h.admin.UpdateCredential(ctx, c.ID, api.CredentialPatch{Description: ptr(fmt.Sprintf("writer-%d", i))}, c.Version)
		}()
	}
	close(start)
	wg.Wait()
	wins, lost := 0, 0
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil:
			wins++
			winner = i
		case client.IsPreconditionFailed(err):
			lost++
		default:
			t.Errorf("writer %d: unexpected error %v", i, err)
		}
	}
	if wins != 1 || lost != n-1 {
		t.Fatalf("%d PATCHes with If-Match %d: %d won and %d got 412, want exactly 1 and %d", n, c.Version, wins, lost, n-1)
	}
	got, err := h.admin.GetCredential(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 2 || got.Description != fmt.Sprintf("writer-%d", winner) {
		t.Errorf("stored version %d description %q, want 2 and the winner's writer-%d", got.Version, got.Description, winner)
	}
}

func TestCredentialListPaginationAndFilters(t *testing.T) {
	forEachBackend(t, testCredentialListPaginationAndFilters)
}

func testCredentialListPaginationAndFilters(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	proj, err := h.admin.CreateProject(ctx, api.ProjectCreate{Name: "team-a"})
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for i := range 5 {
		c := h.mustCreate(h.admin, openAICred(fmt.Sprintf("openai-%d", i), h.secret("sk-")))
		all = append(all, c.ID)
	}
	anth := h.mustCreate(h.admin, api.CredentialCreate{Name: "claude", Provider: "anthropic", APIKey: ptr(h.secret("sk-ant-")), Verify: ptr(false)})
	all = append(all, anth.ID)
	inProj := openAICred("openai-0", h.secret("sk-")) // same name as an org credential, other scope
	inProj.ProjectID = proj.ID
	pc := h.mustCreate(h.admin, inProj)
	all = append(all, pc.ID)
	// Another organisation's credential never shows up.
	h.mustCreate(h.other, openAICred("openai-0", h.secret("sk-")))

	// Pages of 2 cover everything exactly once, in a stable order.
	var seen []string
	token := ""
	pages := 0
	for {
		page, err := h.viewer.ListCredentials(ctx, client.CredentialListOptions{Limit: 2, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(page.Items) > 2 {
			t.Fatalf("page of %d items with limit 2", len(page.Items))
		}
		for _, c := range page.Items {
			seen = append(seen, c.ID)
		}
		if page.NextPageToken == "" {
			break
		}
		token = page.NextPageToken
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
	}
	if pages != 4 {
		t.Errorf("7 credentials in pages of 2 took %d pages, want 4", pages)
	}
	if len(seen) != len(all) || len(slices.Compact(slices.Sorted(slices.Values(seen)))) != len(all) {
		t.Fatalf("pages returned %v, want each of %v once", seen, all)
	}
	for _, id := range all {
		if !slices.Contains(seen, id) {
			t.Errorf("credential %s missing from the pages", id)
		}
	}
	everything, err := h.viewer.ListAllCredentials(ctx, client.CredentialListOptions{})
	if err != nil || len(everything) != len(all) {
		t.Fatalf("ListAll: %d items, err %v; want %d", len(everything), err, len(all))
	}

	byProvider, err := h.viewer.ListAllCredentials(ctx, client.CredentialListOptions{Provider: "anthropic"})
	if err != nil || len(byProvider) != 1 || byProvider[0].ID != anth.ID {
		t.Errorf("provider=anthropic: %v %v", ids(byProvider), err)
	}
	byName, err := h.viewer.ListAllCredentials(ctx, client.CredentialListOptions{Name: "openai-0"})
	if err != nil || len(byName) != 2 {
		t.Errorf("name=openai-0: %v %v, want the org one and the project one", ids(byName), err)
	}
	byProject, err := h.viewer.ListAllCredentials(ctx, client.CredentialListOptions{ProjectID: proj.ID})
	if err != nil || len(byProject) != 1 || byProject[0].ID != pc.ID {
		t.Errorf("project_id: %v %v", ids(byProject), err)
	}
	both, err := h.viewer.ListAllCredentials(ctx, client.CredentialListOptions{ProjectID: proj.ID, Name: "openai-0", Provider: "openai"})
	if err != nil || len(both) != 1 {
		t.Errorf("combined filters: %v %v", ids(both), err)
	}
	none, err := h.viewer.ListCredentials(ctx, client.CredentialListOptions{Name: "nope"})
	if err != nil || none.Items == nil || len(none.Items) != 0 || none.NextPageToken != "" {
		t.Errorf("no match should be an empty list: %+v %v", none, err)
	}
	if r := h.do("GET", "/v1/credentials?limit=-1", h.tokens["viewer"], nil); r.Status != 400 {
		t.Errorf("limit=-1: %d, want 400", r.Status)
	}
}

func ids(cs []api.Credential) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

func TestCatalogValidation(t *testing.T) { forEachBackend(t, testCatalogValidation) }

func testCatalogValidation(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	cases := []struct {
		name     string
		in       api.CredentialCreate
		field    string
		contains []string
	}{
		{"unknown provider", api.CredentialCreate{Name: "x", Provider: "openia", APIKey: ptr(h.secret("sk-"))}, "provider", []string{"openia", "openai"}},
		{"unknown setting names allowed ones", api.CredentialCreate{Name: "x", Provider: "openai", APIKey: ptr(h.secret("sk-")), Settings: map[string]string{"organisation": "o"}},
			"settings.organisation", []string{"organization_id", "project", "base_url"}},
		{"missing required setting", api.CredentialCreate{Name: "x", Provider: "azure_openai", APIKey: ptr(h.secret("k")),
			Settings: map[string]string{"endpoint": "https://x.openai.azure.com", "api_version": "2024-10-21"}}, "settings.deployment", []string{"deployment"}},
		{"missing required secret", api.CredentialCreate{Name: "x", Provider: "anthropic"}, "api_key", []string{"api_key"}},
		{"bad name", api.CredentialCreate{Name: "Bad Name!", Provider: "openai", APIKey: ptr(h.secret("sk-"))}, "name", []string{"lowercase"}},
		{"name too long", api.CredentialCreate{Name: strings.Repeat("a", 65), Provider: "openai", APIKey: ptr(h.secret("sk-"))}, "name", []string{"64"}},
		{"plain http base_url", api.CredentialCreate{Name: "x", Provider: "custom", Settings: map[string]string{"base_url": "http://example.com/v1"}}, "settings.base_url", []string{"https"}},
		{"secret the provider does not take", api.CredentialCreate{Name: "x", Provider: "openai", APIKey: ptr(h.secret("sk-")), AuthToken: ptr(h.secret("tok-"))}, "auth_token", []string{"auth_token"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.admin.CreateCredential(ctx, tc.in)
			ae := apiError(t, err, http.StatusUnprocessableEntity)
			fe := fieldError(t, ae.Problem, tc.field)
			for _, s := range tc.contains {
				if !strings.Contains(fe.Message, s) {
					t.Errorf("message for %s %q does not mention %q", tc.field, fe.Message, s)
				}
			}
			if ae.Problem.Type != "https://modelkeys.dev/problems/validation" {
				t.Errorf("problem type %q", ae.Problem.Type)
			}
		})
	}
	// Several problems at once are all reported.
	_, err := h.admin.CreateCredential(ctx, api.CredentialCreate{Name: "", Provider: "azure_openai"})
	ae := apiError(t, err, http.StatusUnprocessableEntity)
	for _, f := range []string{"name", "settings.endpoint", "settings.deployment", "api_key"} {
		fieldError(t, ae.Problem, f)
	}
	if n := h.countCredentials("acme"); n != 0 {
		t.Fatalf("invalid creates stored %d credentials", n)
	}
	// A custom server needs no secret.
	h.mustCreate(h.admin, api.CredentialCreate{Name: "ollama", Provider: "custom", Settings: map[string]string{"base_url": "http://127.0.0.1:11434/v1"}})
}

func TestCredentialRules(t *testing.T) { forEachBackend(t, testCredentialRules) }

func testCredentialRules(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	key := h.secret("sk-proj-")
	c := h.mustCreate(h.admin, openAICred("main", key))

	t.Run("provider is immutable", func(t *testing.T) {
		_, err := h.admin.UpdateCredential(ctx, c.ID, api.CredentialPatch{Provider: ptr("anthropic")}, 0)
		ae := apiError(t, err, http.StatusUnprocessableEntity)
		fe := fieldError(t, ae.Problem, "provider")
		if !strings.Contains(fe.Message, "cannot change") {
			t.Errorf("message %q", fe.Message)
		}
		got, _ := h.admin.GetCredential(ctx, c.ID)
		if got.Provider != "openai" || got.Version != c.Version {
			t.Errorf("refused PATCH changed the credential: %+v", got)
		}
		// Sending the same provider back is not a change.
		if _, err := h.admin.UpdateCredential(ctx, c.ID, api.CredentialPatch{Provider: ptr("openai")}, 0); err != nil {
			t.Errorf("same provider: %v", err)
		}
	})

	t.Run("duplicate name in scope is 409", func(t *testing.T) {
		_, err := h.admin.CreateCredential(ctx, openAICred("main", h.secret("sk-")))
		ae := apiError(t, err, http.StatusConflict)
		if !slices.Contains(ae.Problem.Conflicts, c.ID) {
			t.Errorf("409 conflicts %v should list %s", ae.Problem.Conflicts, c.ID)
		}
		other := h.mustCreate(h.admin, openAICred("second", h.secret("sk-")))
		_, err = h.admin.UpdateCredential(ctx, other.ID, api.CredentialPatch{Name: ptr("main")}, 0)
		apiError(t, err, http.StatusConflict)
	})

	t.Run("same name in another project or organisation is fine", func(t *testing.T) {
		p1, err := h.admin.CreateProject(ctx, api.ProjectCreate{Name: "p1"})
		if err != nil {
			t.Fatal(err)
		}
		p2, err := h.admin.CreateProject(ctx, api.ProjectCreate{Name: "p2"})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{p1.ID, p2.ID} {
			in := openAICred("main", h.secret("sk-"))
			in.ProjectID = p
			h.mustCreate(h.admin, in)
		}
		in := openAICred("main", h.secret("sk-"))
		in.ProjectID = p1.ID
		_, err = h.admin.CreateCredential(ctx, in)
		apiError(t, err, http.StatusConflict)
		h.mustCreate(h.other, openAICred("main", h.secret("sk-")))
		// An unknown project is a 422 on project_id.
		in.ProjectID = "proj_nope"
		_, err = h.admin.CreateCredential(ctx, in)
		fieldError(t, apiError(t, err, http.StatusUnprocessableEntity).Problem, "project_id")
	})

	t.Run("echoing the secret_hint back is refused", func(t *testing.T) {
		cur, _ := h.admin.GetCredential(ctx, c.ID)
		_, err := h.admin.UpdateCredential(ctx, c.ID, api.CredentialPatch{APIKey: ptr(cur.SecretHint)}, 0)
		ae := apiError(t, err, http.StatusUnprocessableEntity)
		fieldError(t, ae.Problem, "api_key")
		after, _ := h.admin.GetCredential(ctx, c.ID)
		if after.SecretFingerprint != cur.SecretFingerprint || after.SecretVersion != cur.SecretVersion {
			t.Error("the mask replaced the key")
		}
		// Creating with a mask is refused too.
		_, err = h.admin.CreateCredential(ctx, openAICred("masked", cur.SecretHint))
		fieldError(t, apiError(t, err, http.StatusUnprocessableEntity).Problem, "api_key")
	})

	t.Run("removing a required secret is refused", func(t *testing.T) {
		_, err := h.admin.UpdateCredential(ctx, c.ID, api.CredentialPatch{APIKey: ptr("")}, 0)
		fieldError(t, apiError(t, err, http.StatusUnprocessableEntity).Problem, "api_key")
	})

	t.Run("settings are validated on PATCH", func(t *testing.T) {
		_, err := h.admin.UpdateCredential(ctx, c.ID, api.CredentialPatch{Settings: &map[string]string{"colour": "blue"}}, 0)
		fieldError(t, apiError(t, err, http.StatusUnprocessableEntity).Problem, "settings.colour")
	})
}

func TestRequestDecoding(t *testing.T) { forEachBackend(t, testRequestDecoding) }

func testRequestDecoding(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin := h.tokens["admin"]
	key := h.secret("sk-")
	cases := []struct {
		name   string
		body   string
		status int
		field  string // the field the problem must name, in errors[] or the detail
	}{
		{"not json", `hello`, 400, ""},
		{"truncated", `{"name":"a","provider":`, 400, ""},
		{"array", `[]`, 400, ""},
		{"empty body", ``, 400, ""},
		{"two values", `{"name":"a"}{"name":"b"}`, 400, ""},
		{"name wrong type", `{"name":5,"provider":"openai","api_key":"` + key + `"}`, 422, "name"},
		{"verify wrong type", `{"name":"a","provider":"openai","api_key":"` + key + `","verify":"yes"}`, 422, "verify"},
		{"settings wrong type", `{"name":"a","provider":"openai","api_key":"` + key + `","settings":["x"]}`, 422, "settings"},
		{"settings value wrong type", `{"name":"a","provider":"openai","api_key":"` + key + `","settings":{"organization_id":1}}`, 422, "settings"},
		{"unknown field", `{"name":"a","provider":"openai","api_key":"` + key + `","model_provider":"openai"}`, 422, "model_provider"},
		{"api_key wrong type", `{"name":"a","provider":"openai","api_key":123}`, 422, "api_key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var body []byte
			if tc.body != "" {
				body = []byte(tc.body)
			} else {
				body = []byte{}
			}
			r := h.do("POST", "/v1/credentials", admin, body)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Body)
			}
			p := r.problem(t)
			if tc.field != "" {
				fe := fieldError(t, p, tc.field)
				if !strings.Contains(fe.Message, tc.field) {
					t.Errorf("message %q does not name %s", fe.Message, tc.field)
				}
			}
			if bytes.Contains(r.Body, []byte(key)) {
				t.Errorf("error answer echoes the key")
			}
		})
	}
	if n := h.countCredentials("acme"); n != 0 {
		t.Fatalf("bad bodies stored %d credentials", n)
	}
}

func TestBodyLimit(t *testing.T) { forEachBackend(t, testBodyLimit) }

func testBodyLimit(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	huge := `{"name":"big","provider":"openai","api_key":"sk-x","description":"` + strings.Repeat("a", 1<<20) + `"}`
	r := h.do("POST", "/v1/credentials", h.tokens["admin"], []byte(huge))
	if r.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("1 MiB+ body: %d, want 413", r.Status)
	}
	if p := r.problem(t); !strings.Contains(p.Detail, strconv.Itoa(1<<20)) {
		t.Errorf("413 detail should state the limit: %q", p.Detail)
	}
	c := h.mustCreate(h.admin, openAICred("small", h.secret("sk-")))
	r = h.do("PATCH", "/v1/credentials/"+c.ID, h.tokens["admin"], []byte(`{"description":"`+strings.Repeat("b", 1<<20+10)+`"}`))
	if r.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("PATCH 1 MiB+: %d, want 413", r.Status)
	}
	// Just under the limit is decoded (and then refused for its content, not its size).
	under := `{"name":"big","provider":"openai","api_key":"sk-x","description":"` + strings.Repeat("a", 1<<20-200) + `"}`
	r = h.do("POST", "/v1/credentials", h.tokens["admin"], []byte(under))
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("body under the limit: %d, want 422 for the long description", r.Status)
	}
	fieldError(t, r.problem(t), "description")
}
