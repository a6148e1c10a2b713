package console_test

import (
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

// Pages are gzipped for a client that accepts it, and plain for one that does not.
func TestConsoleCompressesPages(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.signedIn(api.RoleViewer)
	for _, tt := range []struct {
		accept string
		gzip   bool
	}{{"gzip, deflate, br", true}, {"br;q=1, gzip;q=0.5", true}, {"gzip;q=0", false}, {"identity", false}, {"", false}} {
		req, _ := http.NewRequest(http.MethodGet, h.ts.URL+"/ui/credentials", nil)
		if tt.accept != "" {
			req.Header.Set("Accept-Encoding", tt.accept)
		} else {
			req.Header.Set("Accept-Encoding", "identity")
		}
		resp, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body io.Reader = resp.Body
		if got := resp.Header.Get("Content-Encoding") == "gzip"; got != tt.gzip {
			t.Errorf("Accept-Encoding %q: gzip = %v", tt.accept, got)
		} else if got {
			if body, err = gzip.NewReader(resp.Body); err != nil {
				t.Fatal(err)
			}
		}
		page, _ := io.ReadAll(body)
		_ = resp.Body.Close()
		if !strings.Contains(string(page), "openai-prod") {
			t.Errorf("Accept-Encoding %q: the page does not read back", tt.accept)
		}
		if !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
			t.Error("no Vary: Accept-Encoding")
		}
	}
}
