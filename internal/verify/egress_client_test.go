package verify

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

// The identity providers' client refuses loopback unless the operator opened it, and sends nothing.
func TestEgressHTTPClientRefusesLoopback(t *testing.T) {
	var hits atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer ts.Close()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, ts.URL, nil)
	_, err := ServerEgress(nil).HTTPClient(5 * time.Second).Do(req)
	if !errors.Is(err, api.ErrEgressRefused) || hits.Load() != 0 {
		t.Fatalf("err = %v, hits = %d; want an egress refusal and nothing sent", err, hits.Load())
	}
	open := ServerEgress([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}).HTTPClient(5 * time.Second)
	resp, err := open.Do(req.Clone(context.Background()))
	if err != nil {
		t.Fatalf("with 127.0.0.0/8 allowed: %v", err)
	}
	resp.Body.Close()
	if hits.Load() != 1 {
		t.Fatalf("hits = %d, want 1", hits.Load())
	}
}
