package client

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// deadURL is a loopback address where nothing listens any more.
func deadURL(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL
	srv.Close()
	return u
}

// TestUnreachableStopsTheRun: with StopAfterUnreachable, the first call that finds nothing listening
// says what to check, and every later call fails at once with the same cause instead of waiting out
// its own retries.
func TestUnreachableStopsTheRun(t *testing.T) {
	t.Parallel()
	u := deadURL(t)
	c, err := New(Config{BaseURL: u, MaxRetries: 1, RetryWaitMin: time.Second, RetryWaitMax: time.Second, StopAfterUnreachable: true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.WhoAmI(context.Background())
	ue, ok := AsUnreachable(err)
	if !ok {
		t.Fatalf("err = %v, want an UnreachableError", err)
	}
	if ue.BaseURL != u || !strings.Contains(err.Error(), "MODELKEYS_ENDPOINT") || !strings.Contains(err.Error(), "Nothing answers") {
		t.Errorf("message does not say where and what to check: %v", err)
	}
	start := time.Now()
	for range 20 {
		_, err = c.ListProviders(context.Background())
		if second, ok := AsUnreachable(err); !ok || second != ue {
			t.Fatalf("later call: %v, want the first failure", err)
		}
	}
	if d := time.Since(start); d > 900*time.Millisecond { // one retry would wait a second
		t.Errorf("20 later calls took %s: they waited for retries", d)
	}
	if !strings.Contains(err.Error(), "not sent") {
		t.Errorf("a call not sent does not say so: %v", err)
	}
}

// TestUnreachableWithoutStopKeepsTrying: without StopAfterUnreachable (the server's own tests, other
// callers), each call tries on its own.
func TestUnreachableWithoutStopKeepsTrying(t *testing.T) {
	t.Parallel()
	c, err := New(Config{BaseURL: deadURL(t), MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = c.ListProviders(context.Background())
	_, err = c.ListProviders(context.Background())
	if _, ok := AsUnreachable(err); !ok || strings.Contains(err.Error(), "not sent") {
		t.Errorf("second call: %v, want its own attempt", err)
	}
}

// TestHTTPSToPlainHTTPServer: an https endpoint on a plain-HTTP server is named as such, and not retried:
// every attempt would get the same answer.
func TestHTTPSToPlainHTTPServer(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { hits.Add(1) }))
	t.Cleanup(srv.Close)
	c, err := New(Config{BaseURL: strings.Replace(srv.URL, "http://", "https://", 1), MaxRetries: 3, RetryWaitMin: 2 * time.Second, StopAfterUnreachable: true})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = c.WhoAmI(context.Background())
	if d := time.Since(start); d > 1500*time.Millisecond { // a retry would wait 2 s
		t.Errorf("took %s: retried", d)
	}
	if !strings.Contains(err.Error(), "plain HTTP but the endpoint is https") {
		t.Errorf("err = %v, want it to name the plain-HTTP server", err)
	}
	var re *RetryError
	if !errors.As(err, &re) || re.Attempts != 1 {
		t.Errorf("err = %#v, want one attempt", err)
	}
}

// TestSlowAnswerIsNotUnreachable: a timeout waiting for an answer is one call's problem; it does not
// stop the client.
func TestSlowAnswerIsNotUnreachable(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	c, err := New(Config{BaseURL: srv.URL, MaxRetries: -1, RequestTimeout: 500 * time.Millisecond, StopAfterUnreachable: true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ListProviders(context.Background())
	if err == nil {
		t.Fatal("want a timeout")
	}
	if _, ok := AsUnreachable(err); ok || c.down.Load() != nil {
		t.Errorf("a slow answer stopped the client: %v", err)
	}
}
