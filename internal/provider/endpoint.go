package provider

import (
	"fmt"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
)

// endpoint is a parsed provider endpoint: a server URL, or the path of an embedded store.
type endpoint struct {
	url          string // base URL the client talks to
	embeddedPath string // set for file:// endpoints
}

// embeddedBaseURL is the client's base URL in embedded mode; requests never leave the process.
const embeddedBaseURL = "http://modelkeys.embedded"

func parseEndpoint(raw string) (endpoint, error) {
	if rest, ok := strings.CutPrefix(raw, "file://"); ok {
		if rest == "" {
			return endpoint{}, fmt.Errorf("endpoint %q names no file: use file://PATH, such as %s", raw, DefaultEndpoint)
		}
		p, err := filepath.Abs(filepath.FromSlash(rest))
		if err != nil {
			return endpoint{}, fmt.Errorf("endpoint %q: %w", raw, err)
		}
		return endpoint{url: embeddedBaseURL, embeddedPath: p}, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return endpoint{}, fmt.Errorf("endpoint %q is not a URL: %w. Use https://host:port, http://127.0.0.1:port or file://PATH", raw, err)
	}
	switch u.Scheme {
	case "https", "http":
	default:
		return endpoint{}, fmt.Errorf("endpoint %q has scheme %q; use https://host:port, http://127.0.0.1:port, or file://PATH for the embedded store", raw, u.Scheme)
	}
	if u.Host == "" {
		return endpoint{}, fmt.Errorf("endpoint %q has no host; use https://host:port", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return endpoint{}, fmt.Errorf("endpoint %q must not have a query or fragment", raw)
	}
	return endpoint{url: strings.TrimSuffix(u.String(), "/")}, nil
}

// cleartextToRemote reports whether the server endpoint u is plain http to a host that may not be this
// machine, so the token and every key sent travel readable by anyone on the path. Only names that
// cannot leave the machine count as local: "localhost" and loopback IP literals. Nothing is resolved,
// since a lookup could itself reach the network and its answer can change between plan and apply.
func cleartextToRemote(u string) bool {
	pu, err := url.Parse(u)
	if err != nil || pu.Scheme != "http" {
		return false
	}
	host := strings.TrimSuffix(strings.ToLower(pu.Hostname()), ".")
	if host == "localhost" {
		return false
	}
	if ip, err := netip.ParseAddr(host); err == nil && ip.Unmap().IsLoopback() {
		return false
	}
	return true
}
