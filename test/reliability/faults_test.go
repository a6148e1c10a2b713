package reliability

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// flaky is an HTTP middleware proxy that fails about rate of the /v1 requests it sees, half of them
// before the server sees the request (429 with Retry-After, 503) and half after (the server did the
// work, the answer is lost and replaced by a 502): the second kind is what idempotency keys are for.
type flaky struct {
	rp                     *httputil.ReverseProxy
	rate                   float64
	total, before, after   atomic.Int64
	rejected429, reject5xx atomic.Int64
}

func newFlaky(upstream string, rate float64) *flaky {
	u, _ := url.Parse(upstream)
	f := &flaky{rp: httputil.NewSingleHostReverseProxy(u), rate: rate}
	f.rp.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		w.WriteHeader(http.StatusBadGateway) // a reset or timeout from toxiproxy below us
	}
	return f
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, "/v1/") {
		f.rp.ServeHTTP(w, r)
		return
	}
	f.total.Add(1)
	x := rand.Float64()
	switch {
	case x < f.rate/4:
		f.before.Add(1)
		f.rejected429.Add(1)
		w.Header().Set("Retry-After", "1")
		http.Error(w, `{"title":"Too many requests","status":429}`, http.StatusTooManyRequests)
	case x < f.rate/2:
		f.before.Add(1)
		f.reject5xx.Add(1)
		http.Error(w, `{"title":"Service unavailable","status":503}`, http.StatusServiceUnavailable)
	case x < f.rate:
		// Let the server do the work, then lose the answer.
		f.after.Add(1)
		rec := httptest.NewRecorder()
		f.rp.ServeHTTP(rec, r)
		http.Error(w, "bad gateway", http.StatusBadGateway)
	default:
		f.rp.ServeHTTP(w, r)
	}
}

// startToxiproxy puts a Toxiproxy TCP proxy in front of upstream (host:port) with latency, resets and
// stalls, and returns its address.
func startToxiproxy(t *testing.T, upstream string) string {
	t.Helper()
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	p := toxiproxy.NewProxy(srv, "modelkeys", "127.0.0.1:0", upstream)
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	for _, js := range []string{
		// every connection: 20±10 ms each way
		`{"name":"latency","type":"latency","stream":"downstream","toxicity":1,"attributes":{"latency":20,"jitter":10}}`,
		`{"name":"latency_up","type":"latency","stream":"upstream","toxicity":1,"attributes":{"latency":5,"jitter":5}}`,
		// 10% of connections are reset (RST) after 300 ms, whatever is in flight
		`{"name":"reset","type":"reset_peer","stream":"downstream","toxicity":0.10,"attributes":{"timeout":300}}`,
		// 5% of connections stall: no data flows, and the connection closes after 4 s (the provider's
		// request timeout is 2 s, so it gives up first and retries on a new connection)
		`{"name":"stall","type":"timeout","stream":"upstream","toxicity":0.05,"attributes":{"timeout":4000}}`,
	} {
		if _, err := p.Toxics.AddToxicJson(strings.NewReader(js)); err != nil {
			t.Fatalf("toxic %s: %v", js, err)
		}
	}
	return p.Listen
}

// TestFaultsOnTheWire applies n credentials and n connections through Toxiproxy and a proxy that
// fails 20% of the requests, then checks the server holds exactly what the state says.
func TestFaultsOnTheWire(t *testing.T) {
	needTerraform(t)
	n := 20
	if full {
		n = 100 // 200 resources
	}
	d := dir(t, "server")
	srv := startServer(t, d, d+"/modelkeys.db", "127.0.0.1:0")
	fl := newFlaky(srv.URL, 0.20)
	front := httptest.NewServer(fl)
	t.Cleanup(front.Close)
	tox := startToxiproxy(t, strings.TrimPrefix(front.URL, "http://"))

	keys := make([]string, n)
	for i := range keys {
		keys[i] = newKey(fmt.Sprintf("fault%d", i))
	}
	w := newWorkspace(t, "ws-writeonly", credsAndConns(n, func(i int) string { return keys[i] }, true),
		"MODELKEYS_ENDPOINT=http://"+tox, "MODELKEYS_TOKEN="+bootstrapToken,
		"MODELKEYS_MAX_RETRIES=12", "MODELKEYS_REQUEST_TIMEOUT=2s")

	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	start := time.Now()
	out, err := w.tf(ctx, "apply", "-auto-approve")
	applyErr := err
	if err != nil {
		// A call can exhaust its retries under 20% failures; Terraform then stops. Converging means
		// the next apply finishes the job without duplicates.
		t.Logf("first apply failed (allowed; the next one must converge): %v\n%s", err, tail(out, 1500))
		w.mustTF("apply", "-auto-approve")
	}
	t.Logf("apply under faults: %s; /v1 requests %d, failed before the server %d (429: %d, 503: %d), answers lost after the server %d; first apply ok=%v",
		time.Since(start).Round(time.Millisecond), fl.total.Load(), fl.before.Load(), fl.rejected429.Load(), fl.reject5xx.Load(), fl.after.Load(), applyErr == nil)
	checkConverged(t, w, srv.URL, n)
	// And a plan through the faults is empty.
	out = w.mustTF("plan", "-detailed-exitcode")
	if !strings.Contains(out, "No changes") {
		t.Errorf("plan after the apply is not empty:\n%s", tail(out, 3000))
	}
	w.mustTF("destroy", "-auto-approve")
	if c := listAll(t, srv.URL, "/v1/credentials"); len(c) != 0 {
		t.Errorf("after destroy the server still holds %d credentials", len(c))
	}
}
