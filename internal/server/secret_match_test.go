package server

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
)

func TestSecretMatches(t *testing.T) { forEachBackend(t, testSecretMatches) }

func testSecretMatches(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	key := h.secret("sk-proj-")
	c := h.mustCreate(h.editor, openAICred("compare-me", key))

	for name, tc := range map[string]struct {
		in   api.SecretMatch
		want bool
	}{
		"same key":                {api.SecretMatch{APIKey: ptr(key)}, true},
		"other key":               {api.SecretMatch{APIKey: ptr(key + "x")}, false},
		"prefix of the key":       {api.SecretMatch{APIKey: ptr(key[:len(key)-1])}, false},
		"empty key":               {api.SecretMatch{APIKey: ptr("")}, false},
		"same key, no token":      {api.SecretMatch{APIKey: ptr(key), AuthToken: ptr("")}, true},
		"same key, a token":       {api.SecretMatch{APIKey: ptr(key), AuthToken: ptr("tok")}, false},
		"token it does not have":  {api.SecretMatch{AuthToken: ptr("tok")}, false},
		"no token, as it has one": {api.SecretMatch{AuthToken: ptr("")}, true},
	} {
		got, err := h.editor.CredentialSecretMatches(ctx, c.ID, tc.in)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got != tc.want {
			t.Errorf("%s: matches %v, want %v", name, got, tc.want)
		}
	}

	// Nothing is written: the credential is as it was.
	after, err := h.viewer.GetCredential(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if after.Version != c.Version || after.SecretVersion != c.SecretVersion || after.SecretFingerprint != c.SecretFingerprint {
		t.Errorf("compare changed the credential: version %d->%d secret_version %d->%d", c.Version, after.Version, c.SecretVersion, after.SecretVersion)
	}

	// Viewers may not ask; another organisation hears 404, the same as for an id that does not exist.
	if _, err := h.viewer.CredentialSecretMatches(ctx, c.ID, api.SecretMatch{APIKey: ptr(key)}); err == nil {
		t.Error("viewer compared a secret")
	} else {
		apiError(t, err, http.StatusForbidden)
	}
	_, err = h.other.CredentialSecretMatches(ctx, c.ID, api.SecretMatch{APIKey: ptr(key)})
	apiError(t, err, http.StatusNotFound)
	_, err = h.editor.CredentialSecretMatches(ctx, "cred_doesnotexist", api.SecretMatch{APIKey: ptr(key)})
	apiError(t, err, http.StatusNotFound)

	// Nothing to compare is a 422; so is an unknown field (strict decoding).
	_, err = h.editor.CredentialSecretMatches(ctx, c.ID, api.SecretMatch{})
	apiError(t, err, http.StatusUnprocessableEntity)
	if r := h.do("POST", "/v1/credentials/"+c.ID+"/secret-matches", h.tokens["editor"], []byte(`{"api_key":"x","nope":1}`)); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("unknown field: status %d, want 422", r.Status)
	}

	// The answer is a yes or no and nothing else, never cached; the key is not echoed.
	r := h.do("POST", "/v1/credentials/"+c.ID+"/secret-matches", h.tokens["admin"], mustJSON(t, api.SecretMatch{APIKey: ptr(key)}))
	if r.Status != 200 || strings.TrimSpace(string(r.Body)) != `{"matches":true}` || r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("answer: %d %s (Cache-Control %q)", r.Status, r.Body, r.Header.Get("Cache-Control"))
	}

	// Audited as compare, with the fields compared and never their values.
	page, err := h.viewer.ListAuditEvents(ctx, 0, 500)
	if err != nil {
		t.Fatal(err)
	}
	var compares []api.AuditEvent
	for _, e := range page.Items {
		if e.Action == "compare" {
			compares = append(compares, e)
		}
	}
	if len(compares) != 9 { // 8 cases and the raw request; refusals are not compares
		t.Errorf("%d compare events, want 9", len(compares))
	}
	for _, e := range compares {
		if e.ObjectID != c.ID || e.ObjectType != "credential" {
			t.Errorf("compare event on %s %s", e.ObjectType, e.ObjectID)
		}
		for _, f := range e.Fields {
			if f != api.SecretAPIKey && f != api.SecretAuthToken {
				t.Errorf("compare event field %q", f)
			}
		}
	}
	if !slices.Equal(compares[len(compares)-1].Fields, []string{api.SecretAPIKey}) {
		t.Errorf("last compare fields %v", compares[len(compares)-1].Fields)
	}
	if b := mustJSON(t, page); strings.Contains(string(b), key) {
		t.Error("the audit log holds the key")
	}
	h.scanForSecrets()
}

// TestSecretMatchesRateLimit: a token that keeps comparing is answered 429 once its burst is spent,
// before the credential is read, and other tokens are not affected.
func TestSecretMatchesRateLimit(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withClock(newTestClock())) // the bucket does not refill while the test runs, however slow the machine
	ctx := context.Background()
	key := h.secret("sk-proj-")
	c := h.mustCreate(h.editor, openAICred("limited", key))
	body := mustJSON(t, api.SecretMatch{APIKey: ptr("sk-guess")})
	limited := false
	const compares = 250 // more than the burst of compares a token gets (200)
	for i := 0; i < compares; i++ {
		r := h.do("POST", "/v1/credentials/"+c.ID+"/secret-matches", h.tokens["editor"], body)
		if r.Status == http.StatusTooManyRequests {
			limited = true
			if r.Header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
			break
		}
		if r.Status != 200 {
			t.Fatalf("compare %d: status %d %s", i, r.Status, r.Body)
		}
	}
	if !limited {
		t.Fatalf("no 429 after %d compares", compares)
	}
	if ok, err := h.admin.CredentialSecretMatches(ctx, c.ID, api.SecretMatch{APIKey: ptr(key)}); err != nil || !ok {
		t.Errorf("another token: %v %v", ok, err)
	}
}

func TestListFilters(t *testing.T) { forEachBackend(t, testListFilters) }

func testListFilters(t *testing.T) {
	t.Parallel()
	v := &fakeVerifier{}
	h := newHarness(t, withVerifier(v))
	ctx := context.Background()
	names := map[string]string{}
	for _, n := range []string{"team-a.chat", "team-a.embed", "team-b.chat", "team_a", "teamxa"} {
		in := openAICred(n, h.secret("sk-proj-"))
		if n == "team-a.embed" {
			in.Verify = ptr(true) // verified; the rest unverified
		}
		names[n] = h.mustCreate(h.editor, in).ID
	}
	list := func(path string) []string {
		t.Helper()
		var out []string
		r := h.do("GET", path, h.tokens["viewer"], nil)
		if r.Status != 200 {
			t.Fatalf("GET %s: %d %s", path, r.Status, r.Body)
		}
		for _, c := range mustDecode[api.List[api.Credential]](t, r.Body).Items {
			out = append(out, c.Name)
		}
		return out
	}
	for path, want := range map[string][]string{
		"/v1/credentials?name_prefix=team-a.":                  {"team-a.chat", "team-a.embed"},
		"/v1/credentials?name_prefix=team_":                    {"team_a"}, // "_" is no wildcard
		"/v1/credentials?name_prefix=TEAM":                     nil,        // case-sensitive on both stores
		"/v1/credentials?name_prefix=team-a.&status=verified":  {"team-a.embed"},
		"/v1/credentials?status=unverified&name_prefix=team-":  {"team-a.chat", "team-b.chat"},
		"/v1/credentials?status=invalid":                       nil,
		"/v1/credentials?name_prefix=team&limit=2":             {"team-a.chat", "team-a.embed"},
		"/v1/credentials?name_prefix=team-a.&name=team-a.chat": {"team-a.chat"},
	} {
		if got := list(path); !slices.Equal(got, want) {
			t.Errorf("GET %s: %v, want %v", path, got, want)
		}
	}
	// Paging with a filter walks every match once.
	all, err := h.viewer.ListAllCredentials(ctx, clientCredentialOpts("team", 2))
	if err != nil || len(all) != 5 {
		t.Errorf("paged prefix list: %d items, %v", len(all), err)
	}

	// Connections by model and name prefix.
	for _, c := range []struct{ name, model string }{{"chat-1", "gpt-4.1"}, {"chat-2", "gpt-4o-mini"}, {"batch-1", "gpt-4.1"}} {
		if _, err := h.editor.CreateConnection(ctx, api.ConnectionCreate{Name: c.name, CredentialID: names["team-a.chat"], Model: c.model}); err != nil {
			t.Fatal(err)
		}
	}
	for path, want := range map[string][]string{
		"/v1/connections?model=gpt-4.1":                   {"chat-1", "batch-1"},
		"/v1/connections?model=gpt-4.1&name_prefix=chat-": {"chat-1"},
		"/v1/connections?name_prefix=chat":                {"chat-1", "chat-2"},
	} {
		r := h.do("GET", path, h.tokens["viewer"], nil)
		var got []string
		for _, c := range mustDecode[api.List[api.Connection]](t, r.Body).Items {
			got = append(got, c.Name)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("GET %s: %v, want %v", path, got, want)
		}
	}

	// Projects by name prefix.
	for _, n := range []string{"ml-prod", "ml-dev", "web"} {
		if _, err := h.editor.CreateProject(ctx, api.ProjectCreate{Name: n}); err != nil {
			t.Fatal(err)
		}
	}
	for path, want := range map[string][]string{
		"/v1/projects?name_prefix=ml-":             {"ml-dev", "ml-prod"},
		"/v1/projects?name_prefix=ml-&name=web":    nil,
		"/v1/projects?name_prefix=ml-&name=ml-dev": {"ml-dev"},
		"/v1/projects?name_prefix=ml-&limit=1":     {"ml-prod"},
	} {
		r := h.do("GET", path, h.tokens["viewer"], nil)
		var got []string
		for _, p := range mustDecode[api.List[api.Project]](t, r.Body).Items {
			got = append(got, p.Name)
		}
		if path != "/v1/projects?name_prefix=ml-&limit=1" {
			slices.Sort(got)
		}
		if !slices.Equal(got, want) {
			t.Errorf("GET %s: %v, want %v", path, got, want)
		}
	}
}

func mustDecode[T any](t testing.TB, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

func clientCredentialOpts(prefix string, limit int) client.CredentialListOptions {
	return client.CredentialListOptions{NamePrefix: prefix, Limit: limit}
}
