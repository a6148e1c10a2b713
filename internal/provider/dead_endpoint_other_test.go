//go:build !unix

package provider

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// deadEndpoint is a loopback address where nothing answers: a closed listener's (another listener may
// take the port meanwhile, which the unix version rules out).
func deadEndpoint(t *testing.T) string {
	t.Helper()
	hs := httptest.NewServer(http.NotFoundHandler())
	u := hs.URL
	hs.Close()
	return u
}
