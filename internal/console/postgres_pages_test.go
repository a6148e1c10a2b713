package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

// The console's own queries (search, keyset paging in every sort, the audit filters and names, the
// newest event per row, counts per scope, the models page's connections, the permissions preview) on
// PostgreSQL, whose LIKE, collation and placeholders differ from SQLite's. Skips without PostgreSQL.
func TestConsolePagesOnPostgres(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(o *harnessOptions) { o.postgres = true })
	ctx, svc := context.Background(), h.srv.Service()
	for i := range 55 {
		k := fmt.Sprintf("sk-console-pg-%02d-aabbccddeeff00112233445566", i)
		if _, _, err := svc.CreateCredential(ctx, h.admin, api.CredentialCreate{Name: fmt.Sprintf("pg-%02d", i), Provider: "openai", APIKey: &k,
			Labels: map[string]string{"team": fmt.Sprintf("t%d", i%3), "note": `50%_off\`}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	b := h.signedIn(api.RoleEditor)
	for _, sort := range []string{"name", "newest", "rotated"} {
		seen := map[string]bool{}
		next := "/ui/credentials?q=pg-&sort=" + sort
		for pages := 0; next != ""; pages++ {
			if pages > 3 {
				t.Fatalf("sort %s: too many pages", sort)
			}
			a := b.get(strings.ReplaceAll(next, "&amp;", "&"))
			if a.status != http.StatusOK {
				t.Fatalf("GET %s: %d\n%s", next, a.status, a.body)
			}
			for _, m := range regexpAll(`>(pg-\d\d)</a>`, a.body) {
				if seen[m] {
					t.Errorf("sort %s: %s twice", sort, m)
				}
				seen[m] = true
			}
			next = regexpFind(`href="([^"]+)" rel="next"`, a.body)
		}
		if len(seen) != 55 {
			t.Errorf("sort %s: %d of 55 credentials", sort, len(seen))
		}
	}
	if a := b.get("/ui/credentials?q=" + url.QueryEscape("team=t1")); strings.Contains(a.body, ">pg-00<") || !strings.Contains(a.body, ">pg-01<") {
		t.Error("label search on PostgreSQL")
	}
	// LIKE's wildcards and escape character are matched literally.
	if a := b.get("/ui/credentials?q=" + url.QueryEscape(`50%_off\`)); !strings.Contains(a.body, ">pg-07<") {
		t.Error("a search with % _ and \\ finds nothing")
	}
	if a := b.get("/ui/credentials?q=" + url.QueryEscape(`5_%`)); strings.Contains(a.body, ">pg-07<") {
		t.Error("_ and % are wildcards in the search")
	}
	if a := b.get("/ui/audit?object=" + h.orgCred.ID); !strings.Contains(a.body, ">openai-prod</a>") {
		t.Error("audit by object on PostgreSQL")
	}
	if a := b.get("/ui/credentials?q=openai-prod"); !strings.Contains(a.body, "create by alice") {
		t.Error("the last change on PostgreSQL")
	}
	if a := b.get("/ui/projects"); !strings.Contains(a.body, `>1</a></td>`) {
		t.Error("project counts on PostgreSQL")
	}
	if a := b.get("/ui/models"); !strings.Contains(a.body, ">chat-prod</a>") {
		t.Error("the models page's connections on PostgreSQL")
	}
	a := b.post("/ui/permissions", url.Values{"csrf": {b.csrf()}, "choice": {"selected"}, "publisher": {"anthropic"}, "action": {"preview"}})
	if !strings.Contains(a.body, "1 connection would be blocked") {
		t.Errorf("preview on PostgreSQL:\n%s", a.body)
	}
}
