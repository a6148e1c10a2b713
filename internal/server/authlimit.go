package server

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
)

// authGate limits failed authentication per client address, so that guessing tokens is slow and an
// unknown token cannot make the server read its database at any rate a client likes. Each request that
// needs a token takes one unit from its address's bucket before the token is looked up and gives it
// back when the token was valid: only failures use the bucket up, and concurrent guesses cannot
// overshoot it, since each holds its unit while it is looked up.
type authGate struct {
	burst  float64
	refill float64 // units per second
	// flight makes concurrent checks of one token from one address a single check that holds a single
	// unit: a busy client (Terraform runs ten requests at once, more with -parallelism) would otherwise
	// hold a unit per request in flight and be refused, valid token and all, once it had more in flight
	// than the bucket holds. Distinct guesses are distinct checks, each holding its unit.
	flight singleflight.Group

	mu      sync.Mutex
	buckets map[string]*failBucket // by client address
	swept   time.Time
}

type failBucket struct {
	units float64
	at    time.Time
}

const (
	// authGateSweepEvery is how often full buckets are forgotten, as for the per-token limiters.
	authGateSweepEvery = time.Minute
	// authGateMax bounds the addresses tracked: reaching it forces a sweep (at most once a second).
	// Past it after a sweep, a new address is refused (fail closed) rather than let through uncounted
	// or pushing out one being limited: a flood of failures from that many addresses is an attack.
	authGateMax = 100_000
	// authGateFullWait is the Retry-After of a refusal because the table is full.
	authGateFullWait = time.Second
)

// newAuthGate returns nil, the gate that lets everything through, when lim turns the limit off.
func newAuthGate(lim service.Limits) *authGate {
	if lim.AuthFailures <= 0 {
		return nil
	}
	refill := lim.AuthFailureRefill
	if refill <= 0 {
		refill = 1
	}
	return &authGate{burst: float64(lim.AuthFailures), refill: refill, buckets: map[string]*failBucket{}}
}

// clientAddress is what the failure limit counts by: the host of the request's remote address (no
// port: a client opens a new port per connection), and for IPv6 its /64, since one client commonly
// holds a whole /64 and could otherwise use a fresh address for every guess.
func clientAddress(r *http.Request) string {
	host := r.RemoteAddr
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		host = h
	}
	return limitKey(host)
}

// limitKey is host's key in the gate: an IPv4 address (IPv4-mapped IPv6 included) as itself, an
// IPv6 address as its /64 prefix, anything else as it is.
func limitKey(host string) string {
	a, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	return netip.PrefixFrom(a.WithZone(""), 64).Masked().String()
}

// take reserves one unit for an authentication attempt from addr. It reports false, with the wait
// until a unit is back, when addr's failures have emptied its bucket. tracked is false (and ok too)
// when the address could not be tracked because the map is full: the attempt is refused.
func (g *authGate) take(addr string, now time.Time) (ok, tracked bool, wait time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if now.Sub(g.swept) > authGateSweepEvery {
		g.sweepLocked(now)
	}
	b := g.buckets[addr]
	if b == nil {
		if len(g.buckets) >= authGateMax && now.Sub(g.swept) > time.Second {
			g.sweepLocked(now)
		}
		if len(g.buckets) >= authGateMax {
			return false, false, authGateFullWait
		}
		b = &failBucket{units: g.burst, at: now}
		g.buckets[addr] = b
	}
	g.refillLocked(b, now)
	if b.units < 1 {
		return false, true, time.Duration((1 - b.units) / g.refill * float64(time.Second))
	}
	b.units--
	return true, true, 0
}

// blocked reports whether addr's failures have emptied its bucket, and the wait until a unit is back,
// without reserving anything.
func (g *authGate) blocked(addr string, now time.Time) (bool, time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	b := g.buckets[addr]
	if b == nil {
		return false, 0
	}
	g.refillLocked(b, now)
	if b.units < 1 {
		return true, time.Duration((1 - b.units) / g.refill * float64(time.Second))
	}
	return false, 0
}

// give returns the unit take reserved, after a successful authentication (or one that failed for
// another reason than the token, such as a database error).
func (g *authGate) give(addr string, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	b := g.buckets[addr]
	if b == nil {
		return
	}
	g.refillLocked(b, now)
	b.units = min(g.burst, b.units+1)
	if b.units >= g.burst {
		delete(g.buckets, addr) // a full bucket is the same as none: well-behaved clients leave no entry
	}
}

func (g *authGate) refillLocked(b *failBucket, now time.Time) {
	if now.After(b.at) {
		b.units = min(g.burst, b.units+now.Sub(b.at).Seconds()*g.refill)
		b.at = now
	}
}

// sweepLocked forgets the buckets that have filled up again, so the map holds only the addresses that
// failed in the last burst/refill seconds.
func (g *authGate) sweepLocked(now time.Time) {
	for addr, b := range g.buckets {
		if g.refillLocked(b, now); b.units >= g.burst {
			delete(g.buckets, addr)
		}
	}
	g.swept = now
}

// gateAuth runs authenticate behind the per-address failure limit.
func (s *Server) gateAuth(w http.ResponseWriter, r *http.Request) (service.Principal, error) {
	token := bearerToken(r.Header.Get("Authorization"))
	return s.gated(w, r, token, func(ctx context.Context) (service.Principal, error) {
		return s.svc.PrincipalOfBearer(ctx, token)
	})
}

// bearerToken is the token of an Authorization header of the Bearer scheme, "" for another scheme or
// none. The scheme is case-insensitive and may be followed by several spaces (RFC 9110 section 11.1,
// RFC 6750 section 2.1).
func bearerToken(h string) string {
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimLeft(token, " ")
}

// gated runs auth, the check of token for request r, behind the per-address failure limit: a 401 from
// auth uses up one unit of r's address. An address whose units are used up is refused before anything
// else, valid tokens included. Otherwise a token the token cache holds (valid, seen in the last TTL)
// passes without a unit, and concurrent checks of one token from one address are one check.
func (s *Server) gated(w http.ResponseWriter, r *http.Request, token string, auth func(context.Context) (service.Principal, error)) (service.Principal, error) {
	g := s.authGate
	if g == nil {
		return auth(r.Context())
	}
	addr := clientAddress(r)
	if blocked, wait := g.blocked(addr, time.Now()); blocked {
		return service.Principal{}, g.refuse(w, addr, wait)
	}
	hash := ""
	if token != "" {
		hash = service.HashToken(token)
		if p, ok := s.svc.CachedPrincipal(hash); ok {
			return p, nil
		}
	}
	v, err, _ := g.flight.Do(addr+" "+hash, func() (any, error) {
		ok, tracked, wait := g.take(addr, time.Now())
		if !ok && !tracked {
			return wait, errGateFull
		}
		if !ok {
			return wait, errRefused
		}
		// Not cancelled with the first request's client, whose check the others wait for; bounded instead.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), authCheckTimeout)
		defer cancel()
		p, err := auth(ctx)
		if e, isAPI := service.AsError(err); tracked && (err == nil || !isAPI || e.Status != http.StatusUnauthorized) {
			g.give(addr, time.Now())
		}
		return p, err
	})
	if errors.Is(err, errRefused) {
		wait, _ := v.(time.Duration)
		return service.Principal{}, g.refuse(w, addr, wait)
	}
	if errors.Is(err, errGateFull) {
		w.Header().Set("Retry-After", strconv.Itoa(int(authGateFullWait/time.Second)))
		return service.Principal{}, &service.Error{Status: http.StatusTooManyRequests, Title: "Too many failed authentications",
			Detail: "The server is refusing authentication from new addresses for a moment: too many addresses failed authentication at once. Retry after Retry-After."}
	}
	p, _ := v.(service.Principal)
	return p, err
}

// authCheckTimeout bounds a token check that several requests wait for (one indexed read, or a token
// cache hit), now that no single client's going away cancels it.
const authCheckTimeout = 10 * time.Second

// errRefused is what a check that found the bucket empty returns from the flight, with the wait.
var errRefused = errors.New("refused")

// errGateFull is what a check returns from the flight when the gate tracks as many addresses as it
// may and addr is not one of them.
var errGateFull = errors.New("gate full")

// refuse is the 429 of an address whose failures used its bucket up, with Retry-After on w.
func (g *authGate) refuse(w http.ResponseWriter, addr string, wait time.Duration) error {
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
	return &service.Error{Status: http.StatusTooManyRequests, Title: "Too many failed authentications",
		Detail: fmt.Sprintf("%s failed authentication %.0f times in quick succession (a missing, unknown or revoked token), so requests "+
			"from it are refused, valid tokens included, until Retry-After has passed; it then gets one more attempt every %s. "+
			"Check the token the client sends.", addr, g.burst, time.Duration(float64(time.Second)/g.refill))}
}
