package service

import (
	"context"
	"testing"
	"time"
)

// TestProbeLimiterBackgroundWaits: a probe of the background re-verifier (a patient context) waits for
// a slot however short Limits.ProbeWait is, where a caller's probe gets a 429; entries of idle
// organisations are dropped.
func TestProbeLimiterBackgroundWaits(t *testing.T) {
	var l probeLimiter
	waiting := make(chan string, 4)
	l.onWait = func(org string) { waiting <- org }
	ctx := context.Background()
	release, err := l.acquire(ctx, "org_a", 1, time.Nanosecond)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.acquire(ctx, "org_a", 1, time.Nanosecond); err == nil {
		t.Fatal("a second probe got the only slot")
	} else if e, ok := AsError(err); !ok || e.Status != StatusTooManyRequests {
		t.Fatalf("second probe: %v, want a 429", err)
	}
	<-waiting

	got := make(chan error, 1)
	go func() {
		r, err := l.acquire(context.WithValue(ctx, patientProbes{}, true), "org_a", 1, time.Nanosecond)
		if err == nil {
			r()
		}
		got <- err
	}()
	<-waiting
	release()
	select {
	case err := <-got:
		if err != nil {
			t.Fatalf("background probe: %v, want it to wait for the slot", err)
		}
	case <-time.After(20 * time.Second): // a guard against hanging, not a synchronisation
		t.Fatal("the background probe never got the released slot")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.orgs) != 0 {
		t.Errorf("idle organisations kept: %v", l.orgs)
	}
}
