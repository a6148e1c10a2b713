package server

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
)

// TestAuthGateKeysIPv6ByPrefix: the failure limit counts an IPv6 client by its /64, so the many
// addresses one client holds share one bucket; another /64 and IPv4 (mapped or not) are their own.
func TestAuthGateKeysIPv6ByPrefix(t *testing.T) {
	addr := func(remote string) string {
		r := httptest.NewRequest(http.MethodGet, "/v1/whoami", nil)
		r.RemoteAddr = remote
		return clientAddress(r)
	}
	for remote, want := range map[string]string{
		"[2001:db8:1:2:aaaa::1]:4000":  "2001:db8:1:2::/64",
		"[2001:db8:1:2:bbbb::9]:4001":  "2001:db8:1:2::/64",
		"[fe80::1%eth0]:4002":          "fe80::/64",
		"192.0.2.7:4003":               "192.0.2.7",
		"[::ffff:192.0.2.7]:4004":      "192.0.2.7",
		"[2001:db8:1:3::1]:4005":       "2001:db8:1:3::/64",
		"not-an-address-at-all-but-ok": "not-an-address-at-all-but-ok",
	} {
		if got := addr(remote); got != want {
			t.Errorf("clientAddress(%s) = %q, want %q", remote, got, want)
		}
	}
	g := newAuthGate(service.Limits{AuthFailures: 3, AuthFailureRefill: 0.001})
	now := time.Unix(1_000_000, 0)
	for i := range 3 {
		if ok, _, _ := g.take(addr(fmt.Sprintf("[2001:db8:1:2::%x]:443", i+1)), now); !ok {
			t.Fatalf("failure %d of the /64 refused early", i)
		}
	}
	if ok, _, _ := g.take(addr("[2001:db8:1:2:ffff::1]:443"), now); ok {
		t.Error("a fresh address of the same /64 got past the limit its neighbours used up")
	}
	if ok, _, _ := g.take(addr("[2001:db8:1:3::1]:443"), now); !ok {
		t.Error("another /64 was refused")
	}
}

// TestAuthGateFullRefuses: once the gate tracks as many addresses as it may (all still limited, so a
// sweep frees nothing), a new address is refused with 429 and Retry-After rather than let through
// uncounted; an address already tracked is served as before.
func TestAuthGateFullRefuses(t *testing.T) {
	g := newAuthGate(service.Limits{AuthFailures: 3, AuthFailureRefill: 0.001})
	now := time.Now() // gated below reads the clock
	for i := range authGateMax {
		g.take(fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), now)
	}
	ok, tracked, wait := g.take("192.0.2.1", now.Add(2*time.Second))
	if ok || tracked || wait <= 0 {
		t.Fatalf("new address with the gate full: ok %v tracked %v wait %v, want refused with a wait", ok, tracked, wait)
	}
	if ok, _, _ := g.take("10.0.0.0", now.Add(2*time.Second)); !ok {
		t.Error("an address already tracked, with units left, was refused")
	}

	s := &Server{authGate: g}
	r := httptest.NewRequest(http.MethodGet, "/v1/whoami", nil)
	r.RemoteAddr = "192.0.2.1:5000"
	w := httptest.NewRecorder()
	called := false
	_, err := s.gated(w, r, "", func(context.Context) (service.Principal, error) {
		called = true
		return service.Principal{}, nil
	})
	e, isAPI := service.AsError(err)
	if called || !isAPI || e.Status != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" {
		t.Fatalf("request from a new address with the gate full: checked %v, err %v, Retry-After %q; want a 429 before any token check", called, err, w.Header().Get("Retry-After"))
	}
}
