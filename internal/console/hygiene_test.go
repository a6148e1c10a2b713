package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestConsoleRefusesInvalidUTF8 runs on both stores: bytes that are not UTF-8, or a format character,
// in a page's id or filter are the console's 400 (PostgreSQL answered 500, SQLite a page or a 404).
func TestConsoleRefusesInvalidUTF8(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, func(o *harnessOptions) { o.postgres = backend == "postgres" })
			b := h.signedIn(api.RoleViewer)
			for _, path := range []string{
				"/ui/credentials/" + h.orgCred.ID + "%FF",
				"/ui/credentials?project=proj_%C3",
				"/ui/credentials?provider=openai%FF",
				"/ui/credentials?status=%E2%80",
				"/ui/models?project=proj_%FF",
				"/ui/models?provider=%FF",
				"/ui/audit?before=1%FF",
				"/ui/credentials?project=proj_%E2%80%AE", // U+202E
			} {
				a := b.get(path)
				if a.status != http.StatusBadRequest || !strings.Contains(a.body, "not UTF-8") {
					t.Errorf("GET %s: %d, want the 400 page", path, a.status)
				}
			}
		})
	}
}

// TestConsoleStaticListsNoDirectory: the stylesheet is served; the directory it is in is a 404, not a
// listing.
func TestConsoleStaticListsNoDirectory(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.browser()
	if a := b.get("/ui/static/console.css"); a.status != http.StatusOK {
		t.Fatalf("the stylesheet: %d", a.status)
	}
	for _, path := range []string{"/ui/static/", "/ui/static/nothing.css"} {
		a := b.get(path)
		if a.status != http.StatusNotFound || strings.Contains(a.body, "console.css") {
			t.Errorf("GET %s: %d %q, want a 404 that lists nothing", path, a.status, a.body)
		}
	}
}

// A key pasted in the rotate form that is not UTF-8 is refused, not stored with U+FFFD in place of its
// bytes (a form's value goes to the service as it came).
func TestConsoleRotateRefusesAKeyThatIsNotUTF8(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.signedIn(api.RoleAdmin)
	path := "/ui/credentials/" + h.orgCred.ID
	b.post(path+"/rotate", url.Values{"csrf": {csrfOf(t, b.get(path).body)}, "api_key": {"sk-proj-\xff\xfe-0000000000000000"}, "version": {"1"}, "confirm_drift": {"yes"}})
	if page := b.get(path); !strings.Contains(page.body, "not UTF-8") {
		t.Error("a key that is not UTF-8 is not refused on the page")
	}
	if cur, err := h.srv.Service().GetCredential(context.Background(), h.admin, h.orgCred.ID); err != nil || cur.SecretVersion != 1 {
		t.Fatalf("the key was stored: %+v %v", cur, err)
	}
}
