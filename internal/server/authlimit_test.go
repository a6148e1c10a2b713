package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/secrets"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store/sqlstore"
)

// countingStore counts the transactions the server opens, to prove a refused request reads nothing.
type countingStore struct {
	store.Store
	txs atomic.Int64
}

func (c *countingStore) Tx(ctx context.Context, fn func(store.Tx) error) error {
	c.txs.Add(1)
	return c.Store.Tx(ctx, fn)
}

func (c *countingStore) ReadTx(ctx context.Context, fn func(store.Tx) error) error {
	c.txs.Add(1)
	return c.Store.ReadTx(ctx, fn)
}

func (c *countingStore) ReadOne(ctx context.Context, fn func(store.Tx) error) error {
	c.txs.Add(1)
	return c.Store.ReadOne(ctx, fn)
}

// authLimitServer is the API handler on a counting SQLite store, with a valid admin token. Requests
// are served straight to the handler so each can claim its own remote address.
func authLimitServer(t *testing.T, lim service.Limits, embedded bool) (http.Handler, *countingStore, string) {
	t.Helper()
	var cs *countingStore
	h, token := gateTestServer(t, service.Config{Limits: lim, Embedded: embedded}, func(st store.Store) store.Store {
		cs = &countingStore{Store: st}
		return cs
	})
	return h, cs, token
}

// gateTestServer is the API handler configured by cfg over a new SQLite store (wrapped by wrap), with
// a valid admin token.
func gateTestServer(t *testing.T, cfg service.Config, wrap func(store.Store) store.Store) (http.Handler, string) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlstore.OpenSQLite(ctx, filepath.Join(t.TempDir(), "modelkeys.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	ring, err := secrets.NewKeyring(secrets.NewMasterKey())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Store, cfg.Keyring, cfg.Version, cfg.Logger = wrap(st), ring, "test", slog.New(slog.DiscardHandler)
	srv, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := service.CreateToken(ctx, st, "acme", api.RoleAdmin, "good", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return srv.Handler(), token
}

func serveFrom(h http.Handler, remoteAddr, token string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "/v1/credentials", nil)
	req.RemoteAddr = remoteAddr
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// TestAuthFailuresLimitedPerAddress: the 11th bad token from one address is refused with 429 and
// Retry-After before any database read, a good token from that address too; other addresses are not
// affected.
func TestAuthFailuresLimitedPerAddress(t *testing.T) {
	// A slow refill, so that no unit comes back while the test runs.
	h, cs, good := authLimitServer(t, service.Limits{AuthFailures: 10, AuthFailureRefill: 0.01}, false)
	const attacker, other = "192.0.2.1:40000", "192.0.2.2:40000"
	for i := range 10 {
		if w := serveFrom(h, attacker, "mkt_guess"+strconv.Itoa(i)); w.Code != http.StatusUnauthorized {
			t.Fatalf("bad token %d: %d, want 401", i+1, w.Code)
		}
	}
	before := cs.txs.Load()
	for name, tok := range map[string]string{"11th bad token": "mkt_guess10", "no token": "", "the good token": good} {
		// Another source port of the same host is the same client.
		w := serveFrom(h, "192.0.2.1:40001", tok)
		if w.Code != http.StatusTooManyRequests {
			t.Fatalf("%s from the limited address: %d, want 429", name, w.Code)
		}
		ra, err := strconv.Atoi(w.Header().Get("Retry-After"))
		if err != nil || ra < 1 {
			t.Errorf("%s: Retry-After %q, want whole seconds >= 1", name, w.Header().Get("Retry-After"))
		}
		if ct := w.Header().Get("Content-Type"); ct != api.ProblemContentType {
			t.Errorf("%s: Content-Type %q, want a problem document", name, ct)
		}
		var p api.Problem
		if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || p.Status != 429 || p.Detail == "" {
			t.Errorf("%s: problem %+v (%v)", name, p, err)
		}
	}
	if n := cs.txs.Load() - before; n != 0 {
		t.Fatalf("refused requests opened %d database transactions, want none", n)
	}
	if w := serveFrom(h, other, good); w.Code != http.StatusOK {
		t.Fatalf("good token from another address: %d, want 200", w.Code)
	}
	if w := serveFrom(h, other, "mkt_other"); w.Code != http.StatusUnauthorized {
		t.Fatalf("bad token from another address: %d, want 401", w.Code)
	}
	if w := serveFrom(h, "[2001:db8::1]:443", "mkt_v6"); w.Code != http.StatusUnauthorized {
		t.Fatalf("bad token from an IPv6 address: %d, want 401", w.Code)
	}
	// Public routes never ask for a token and are not limited.
	req := httptest.NewRequest(http.MethodGet, "/healthz", nil)
	req.RemoteAddr = attacker
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		t.Fatalf("healthz from the limited address: %d", w.Code)
	}
}

// Successes do not use the bucket up: only failures count.
func TestAuthSuccessesDoNotCount(t *testing.T) {
	h, _, good := authLimitServer(t, service.Limits{AuthFailures: 10, AuthFailureRefill: 0.01}, false)
	const addr = "198.51.100.7:5555"
	for range 30 {
		if w := serveFrom(h, addr, good); w.Code != http.StatusOK {
			t.Fatalf("good token: %d", w.Code)
		}
	}
	for i := range 9 {
		if w := serveFrom(h, addr, "mkt_bad"); w.Code != http.StatusUnauthorized {
			t.Fatalf("bad token %d: %d, want 401", i+1, w.Code)
		}
	}
	if w := serveFrom(h, addr, good); w.Code != http.StatusOK {
		t.Fatalf("good token with one failure left: %d, want 200", w.Code)
	}
	if w := serveFrom(h, addr, "mkt_bad"); w.Code != http.StatusUnauthorized {
		t.Fatalf("10th bad token: %d, want 401", w.Code)
	}
	if w := serveFrom(h, addr, "mkt_bad"); w.Code != http.StatusTooManyRequests {
		t.Fatalf("11th bad token: %d, want 429", w.Code)
	}
}

func TestAuthFailureLimitOff(t *testing.T) {
	t.Run("zero", func(t *testing.T) {
		h, _, _ := authLimitServer(t, service.Limits{}, false)
		for i := range 30 {
			if w := serveFrom(h, "192.0.2.9:1", "mkt_bad"); w.Code != http.StatusUnauthorized {
				t.Fatalf("bad token %d with the limit off: %d, want 401", i+1, w.Code)
			}
		}
	})
	t.Run("embedded", func(t *testing.T) {
		h, _, _ := authLimitServer(t, service.DefaultLimits(), true)
		for i := range 30 {
			if w := serveFrom(h, "embedded", ""); w.Code != http.StatusOK {
				t.Fatalf("embedded request %d: %d, want 200", i+1, w.Code)
			}
		}
	})
}

// The default limits turn the gate on, over a real loopback connection.
func TestAuthFailureLimitDefault(t *testing.T) {
	h := newHarness(t)
	for i := range service.DefaultLimits().AuthFailures {
		if r := h.do("GET", "/v1/credentials", "mkt_unknown", nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("bad token %d: %d, want 401", i+1, r.Status)
		}
	}
	r := h.do("GET", "/v1/credentials", "mkt_unknown", nil)
	if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Fatalf("11th bad token: %d (Retry-After %q), want 429 with Retry-After", r.Status, r.Header.Get("Retry-After"))
	}
	r.problem(t)
}

func TestAuthGateRefillAndSweep(t *testing.T) {
	g := newAuthGate(service.Limits{AuthFailures: 2, AuthFailureRefill: 1})
	now := time.Unix(1_000_000, 0)
	for range 2 {
		if ok, _, _ := g.take("a", now); !ok {
			t.Fatal("a unit of the burst was refused")
		}
	}
	ok, _, wait := g.take("a", now)
	if ok || wait != time.Second {
		t.Fatalf("empty bucket: ok %v wait %v, want refused for 1s", ok, wait)
	}
	if ok, _, _ := g.take("a", now.Add(1500*time.Millisecond)); !ok {
		t.Fatal("after a refill period, one more attempt must be allowed")
	}
	if ok, _, wait := g.take("a", now.Add(1500*time.Millisecond)); ok || wait != 500*time.Millisecond {
		t.Fatalf("after using the refilled unit: ok %v wait %v, want refused for 0.5s", ok, wait)
	}
	// A success gives its unit back; a full bucket is dropped at once.
	if ok, _, _ := g.take("b", now); !ok {
		t.Fatal("b refused")
	}
	g.give("b", now)
	if _, ok := g.buckets["b"]; ok {
		t.Error("a full bucket was kept after a success")
	}
	// The sweep forgets buckets that refilled, and only those.
	g.take("c", now)
	g.mu.Lock()
	g.sweepLocked(now.Add(1600 * time.Millisecond))
	_, aKept := g.buckets["a"]
	_, cKept := g.buckets["c"]
	g.sweepLocked(now.Add(time.Minute))
	left := len(g.buckets)
	g.mu.Unlock()
	if !aKept || cKept {
		t.Errorf("sweep kept a=%v (still limited, want kept) c=%v (refilled, want dropped)", aKept, cKept)
	}
	if left != 0 {
		t.Errorf("%d buckets after everything refilled, want none", left)
	}
	if newAuthGate(service.Limits{}) != nil {
		t.Error("AuthFailures 0 must turn the gate off")
	}
}

// holdingStore holds the first read transaction until release is closed, so that requests pile up
// behind a token check as they do behind a slow database.
type holdingStore struct {
	store.Store
	first   sync.Once
	entered chan struct{}
	release chan struct{}
}

func (h *holdingStore) ReadTx(ctx context.Context, fn func(store.Tx) error) error {
	h.hold()
	return h.Store.ReadTx(ctx, fn)
}

// ReadOne is how the token check reads.
func (h *holdingStore) ReadOne(ctx context.Context, fn func(store.Tx) error) error {
	h.hold()
	return h.Store.ReadOne(ctx, fn)
}

func (h *holdingStore) hold() {
	h.first.Do(func() {
		close(h.entered)
		<-h.release
	})
}

// TestAuthGateBusyClient: a client with more requests in flight than the bucket holds (Terraform with
// -parallelism=64) is never refused for its valid token, with the token cache on or off; its
// concurrent checks are one check.
func TestAuthGateBusyClient(t *testing.T) {
	for _, ttl := range []time.Duration{0, 2 * time.Second} {
		t.Run("token cache "+ttl.String(), func(t *testing.T) {
			var hs *holdingStore
			h, token := gateTestServer(t, service.Config{Limits: service.DefaultLimits(), TokenCacheTTL: ttl}, func(st store.Store) store.Store {
				hs = &holdingStore{Store: st, entered: make(chan struct{}), release: make(chan struct{})}
				return hs
			})
			const inFlight = 64
			codes := make(chan int, inFlight)
			var started sync.WaitGroup
			for range inFlight {
				started.Add(1)
				go func() {
					started.Done()
					codes <- serveFrom(h, "198.51.100.9:4000", token).Code
				}()
			}
			started.Wait()
			<-hs.entered                      // one check is at the database
			time.Sleep(50 * time.Millisecond) // and the others have caught up with it
			close(hs.release)
			for range inFlight {
				if c := <-codes; c != http.StatusOK {
					t.Fatalf("a request of the busy client: %d, want 200", c)
				}
			}
		})
	}
}

// TestAuthGateRefusesCachedTokenOfLimitedAddress: a valid token the token cache holds passes the gate
// without a unit, but not from an address whose failures used its units up: that address is refused
// first, valid tokens included, as without the cache.
func TestAuthGateRefusesCachedTokenOfLimitedAddress(t *testing.T) {
	h, good := gateTestServer(t, service.Config{Limits: service.Limits{AuthFailures: 10, AuthFailureRefill: 0.01},
		TokenCacheTTL: time.Minute}, func(st store.Store) store.Store { return st })
	const addr = "192.0.2.7:40000"
	if w := serveFrom(h, addr, good); w.Code != http.StatusOK {
		t.Fatalf("good token: %d, want 200", w.Code)
	}
	for i := range 10 {
		if w := serveFrom(h, addr, "mkt_guess"+strconv.Itoa(i)); w.Code != http.StatusUnauthorized {
			t.Fatalf("bad token %d: %d, want 401", i+1, w.Code)
		}
	}
	if w := serveFrom(h, addr, good); w.Code != http.StatusTooManyRequests {
		t.Fatalf("cached good token from the limited address: %d, want 429", w.Code)
	}
	if w := serveFrom(h, "192.0.2.8:40000", good); w.Code != http.StatusOK {
		t.Fatalf("cached good token from another address: %d, want 200", w.Code)
	}
}
