package verify

import (
	"net/http"
	"time"
)

// HTTPClient is a client whose every connection dials through the policy (no proxy from the
// environment: a proxy would dial the destination out of the policy's sight) and that follows no
// redirect (a redirect could point anywhere the policy allows, which the caller did not choose).
// The server gives it to what fetches from identity providers: discovery documents, key sets and
// the console's code exchange.
func (p *EgressPolicy) HTTPClient(timeout time.Duration) *http.Client {
	base, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		base = &http.Transport{}
	}
	t := base.Clone()
	t.Proxy = nil
	t.DialContext = p.DialContext
	t.DialTLSContext = nil
	t.ForceAttemptHTTP2 = true
	return &http.Client{
		Transport:     t,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
