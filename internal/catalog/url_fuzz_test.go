package catalog

import (
	"net/url"
	"strings"
	"testing"
)

// probePaths are what the verifier appends to a base URL (internal/verify/probes.go).
var probePaths = []string{
	"/models", "/v1/models?limit=1000", "/v1beta/models?pageSize=1000", "/api/2.0/serving-endpoints",
	"/openai/models?api-version=2024-10-21", "/info?api-version=2024-05-01-preview", "/foundation-models",
	"/v1/projects/p/locations/us-central1/endpoints?pageSize=1",
}

// FuzzURLSetting checks the URL rule whatever the input: an accepted URL is absolute https (or http on
// loopback), has no query, fragment or user info, and appending a probe's path cannot change its host.
func FuzzURLSetting(f *testing.F) {
	for _, seed := range []string{
		"https://api.openai.com/v1", "http://127.0.0.1:8000/v1", "http://localhost:11434", "http://[::1]:8080/",
		"https://h.example/v1?x=", "https://h.example/v1#", "https://h.example/v1?", "https://u:p@h.example",
		"https://h.example\\@evil.example", "https://h.example%2F@evil.example", "https://[fe80::1%25eth0]/",
		"https://h.example:443/a/../b", "HTTPS://H.EXAMPLE", "https://h.example/%3F", "https://h.example/%23",
		" https://h.example/ ", "http://127.0.0.1.evil.example/", "https://h.example;@evil.example/",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if checkURL(raw) != "" {
			return
		}
		trimmed := strings.TrimSpace(raw)
		u, err := url.Parse(trimmed)
		if err != nil {
			t.Fatalf("accepted %q, which does not parse: %v", raw, err)
		}
		switch {
		case u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname())):
			t.Fatalf("accepted %q: scheme %q on host %q", raw, u.Scheme, u.Hostname())
		case u.Hostname() == "":
			t.Fatalf("accepted %q without a host", raw)
		case u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.ContainsAny(trimmed, "?#"):
			t.Fatalf("accepted %q with user info, a query or a fragment", raw)
		}
		base := strings.TrimRight(trimmed, "/")
		for _, p := range probePaths {
			v, err := url.Parse(base + p)
			if err != nil {
				t.Fatalf("%q + %q does not parse: %v", raw, p, err)
			}
			if v.Host != u.Host || v.Scheme != u.Scheme || v.User != nil {
				t.Fatalf("%q + %q goes to %s://%s, not %s://%s", raw, p, v.Scheme, v.Host, u.Scheme, u.Host)
			}
			wantPath, wantQuery, _ := strings.Cut(p, "?")
			if !strings.HasSuffix(v.Path, wantPath) || v.RawQuery != wantQuery {
				t.Fatalf("%q + %q has path %q and query %q, not ...%s and %q", raw, p, v.Path, v.RawQuery, wantPath, wantQuery)
			}
		}
	})
}
