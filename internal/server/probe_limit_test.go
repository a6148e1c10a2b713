package server_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/verify"
)

// blockingProvider is a loopback model server: every request reports its key on arrived, and a key
// starting "sk-block" then waits for a value on (or the closing of) release. Tests register
// releaseAll after starting the API server, so that it runs first at cleanup.
func blockingProvider(t *testing.T) (url string, arrived chan string, release chan struct{}, releaseAll func()) {
	arrived, release = make(chan string, 32), make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		arrived <- key
		if strings.HasPrefix(key, "sk-block") {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		_, _ = w.Write([]byte(`{"object":"list","data":[{"id":"m1"}]}`))
	}))
	var once sync.Once
	releaseAll = func() { once.Do(func() { close(release) }) }
	t.Cleanup(func() { releaseAll(); ts.Close() })
	return ts.URL + "/v1", arrived, release, releaseAll
}

// within guards a channel receive so a broken build fails instead of hanging; it is not a wait
// for anything to happen.
func within[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(20 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
	var zero T
	return zero
}

var loopbackOnly = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}

// fill starts n creates whose probes block in the provider, and returns once all n have arrived there,
// so the organisation's slots are held until release.
func fill(t *testing.T, ps *probeServer, base string, arrived chan string, n int) chan answer {
	t.Helper()
	results := make(chan answer, n)
	for i := range n {
		go func() {
			results <- ps.do(t, "acme", "POST", "/v1/credentials", customCred("blocked-"+string(rune('a'+i)), base, "sk-block-"+string(rune('a'+i))))
		}()
	}
	for range n {
		if k := within(t, arrived, "a blocked probe"); !strings.HasPrefix(k, "sk-block") {
			t.Fatalf("unexpected probe %q", k)
		}
	}
	return results
}

// TestProbeLimitPerOrganisation: with four probes of one organisation in flight, a fifth of that
// organisation (create or live models) gets a 429 with Retry-After once its short wait ends, while
// another organisation is served at once.
func TestProbeLimitPerOrganisation(t *testing.T) {
	base, arrived, release, releaseAll := blockingProvider(t)
	ps := newProbeServer(t, verify.ServerEgress(loopbackOnly), service.Limits{ProbesPerOrg: 4, ProbeWait: 10 * time.Millisecond})
	t.Cleanup(releaseAll)

	pre := ps.do(t, "acme", "POST", "/v1/credentials", customCred("pre", base, "sk-free-pre"))
	if pre.status != http.StatusCreated {
		t.Fatalf("create: %d %s", pre.status, pre.body)
	}
	within(t, arrived, "the first probe")
	id := between(pre.body, `"id":"`, `"`)

	results := fill(t, ps, base, arrived, 4)

	a := ps.do(t, "acme", "POST", "/v1/credentials", customCred("fifth", base, "sk-free-5"))
	if a.status != http.StatusTooManyRequests || a.header.Get("Retry-After") == "" || !strings.Contains(a.body, "4 provider checks") {
		t.Errorf("fifth create: %d (Retry-After %q) %s, want 429", a.status, a.header.Get("Retry-After"), a.body)
	}
	a = ps.do(t, "acme", "GET", "/v1/credentials/"+id+"/models", nil)
	if a.status != http.StatusTooManyRequests || a.header.Get("Retry-After") == "" {
		t.Errorf("live models: %d %s, want 429", a.status, a.body)
	}
	select {
	case k := <-arrived:
		t.Fatalf("a refused probe reached the provider: %s", k)
	default:
	}

	// Another organisation is not affected.
	if a := ps.do(t, "other", "POST", "/v1/credentials", customCred("theirs", base, "sk-free-other")); a.status != http.StatusCreated || !strings.Contains(a.body, `"status":"verified"`) {
		t.Errorf("other organisation: %d %s", a.status, a.body)
	}
	within(t, arrived, "the other organisation's probe")

	for range 4 {
		release <- struct{}{}
	}
	for range 4 {
		if a := within(t, results, "a blocked create"); a.status != http.StatusCreated {
			t.Errorf("blocked create: %d %s", a.status, a.body)
		}
	}
	// The slots are free again.
	if a := ps.do(t, "acme", "POST", "/v1/credentials", customCred("after", base, "sk-free-after")); a.status != http.StatusCreated {
		t.Errorf("after release: %d %s", a.status, a.body)
	}
}

// TestProbeLimitWaitsForASlot: a fifth probe waits (it neither runs nor fails) while the four slots are
// held, and runs as soon as one is released.
func TestProbeLimitWaitsForASlot(t *testing.T) {
	base, arrived, release, releaseAll := blockingProvider(t)
	ps := newProbeServer(t, verify.ServerEgress(loopbackOnly), service.Limits{ProbesPerOrg: 4, ProbeWait: time.Minute})
	t.Cleanup(releaseAll)
	results := fill(t, ps, base, arrived, 4)

	waiting := make(chan string, 1)
	ps.srv.Service().OnProbeWait(func(org string) { waiting <- org })
	fifth := make(chan answer, 1)
	go func() { fifth <- ps.do(t, "acme", "POST", "/v1/credentials", customCred("fifth", base, "sk-free-5")) }()
	if org := within(t, waiting, "the fifth probe to wait"); org == "" {
		t.Fatal("a probe waits without an organisation")
	}
	select {
	case a := <-fifth:
		t.Fatalf("the fifth create finished while every slot was held: %d %s", a.status, a.body)
	case k := <-arrived:
		t.Fatalf("the fifth probe ran while every slot was held: %s", k)
	default:
	}

	release <- struct{}{} // one blocked probe ends, and its slot goes to the waiting one
	if a := within(t, fifth, "the fifth create"); a.status != http.StatusCreated || !strings.Contains(a.body, `"status":"verified"`) {
		t.Errorf("fifth create: %d %s", a.status, a.body)
	}
	for range 3 {
		release <- struct{}{}
	}
	for range 4 {
		if a := within(t, results, "a blocked create"); a.status != http.StatusCreated {
			t.Errorf("blocked create: %d %s", a.status, a.body)
		}
	}
}

func between(s, start, end string) string {
	_, rest, _ := strings.Cut(s, start)
	v, _, _ := strings.Cut(rest, end)
	return v
}
