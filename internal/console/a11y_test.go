package console_test

import (
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

// The markup rules of an accessibility check that need no browser: a lang attribute, one h1, a label
// for every visible form control, header cells in every table, and no heading level skipped. (The
// browser test runs axe-core, contrast included, when MODELKEYS_AXE is set.)
func TestConsoleAccessibleMarkup(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.signedIn(api.RoleAdmin)
	anon := h.browser()
	pages := map[string]string{"/ui/login": anon.get("/ui/login").body}
	for _, p := range append(h.pages(), h.writePages()...) {
		pages[p] = b.get(p).body
	}
	// A form sent back with its errors, and a permissions preview.
	csrf := b.csrf()
	pages["POST /ui/credentials/new"] = b.post("/ui/credentials/new", url.Values{"csrf": {csrf}, "provider": {"custom"}, "name": {"bad name!"}}).body
	pages["POST /ui/permissions"] = b.post("/ui/permissions", url.Values{"csrf": {csrf}, "choice": {"selected"}, "publisher": {"openai"}, "action": {"preview"}}).body
	for path, body := range pages {
		doc, err := html.Parse(strings.NewReader(body))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		var (
			h1s, lastLevel       int
			labels               = map[string]bool{}
			controls             []string
			tables, tablesWithTh int
		)
		var walk func(n *html.Node, inTable bool, th *bool)
		walk = func(n *html.Node, inTable bool, th *bool) {
			if n.Type == html.ElementNode {
				switch n.Data {
				case "html":
					if attr(n, "lang") == "" {
						t.Errorf("%s: <html> has no lang", path)
					}
				case "h1", "h2", "h3", "h4":
					level := int(n.Data[1] - '0')
					if level == 1 {
						h1s++
					}
					if lastLevel != 0 && level > lastLevel+1 {
						t.Errorf("%s: <%s> follows <h%d>, skipping a level", path, n.Data, lastLevel)
					}
					lastLevel = level
				case "label":
					labels[attr(n, "for")] = true
				case "input", "select", "textarea":
					if attr(n, "type") != "hidden" {
						controls = append(controls, attr(n, "id"))
					}
				case "table":
					tables++
					has := false
					for c := n.FirstChild; c != nil; c = c.NextSibling {
						walk(c, true, &has)
					}
					if has {
						tablesWithTh++
					}
					return
				case "th":
					if inTable && attr(n, "scope") != "" {
						*th = true
					}
				}
			}
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				walk(c, inTable, th)
			}
		}
		walk(doc, false, nil)
		if h1s != 1 {
			t.Errorf("%s: %d <h1>, want 1", path, h1s)
		}
		for _, id := range controls {
			if id == "" || !labels[id] {
				t.Errorf("%s: a form control (id %q) has no <label for>", path, id)
			}
		}
		if tables != tablesWithTh {
			t.Errorf("%s: %d of %d tables have header cells with scope", path, tablesWithTh, tables)
		}
	}
}

func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}
