package service

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
)

// Defaults of Limits.ProbesPerOrg and Limits.ProbeWait.
const (
	DefaultProbesPerOrg = 4
	DefaultProbeWait    = 2 * time.Second
)

// probeLimiter bounds the provider probes (verify, re-verify, live model lists) one organisation has
// in flight, so that one organisation's editors cannot turn the server into a fast scanner or crowd
// out the others. A probe beyond the bound waits up to Limits.ProbeWait for a slot, then is a 429.
type probeLimiter struct {
	mu   sync.Mutex
	orgs map[string]*orgProbes
	// onWait, when set (tests), is called when a probe starts waiting for a slot.
	onWait func(orgID string)
}

type orgProbes struct {
	slots chan struct{}
	users int // holders and waiters; the entry is dropped at zero
}

// patientProbes marks a context whose probes wait for a slot as long as the context lives: the
// background re-verifier, which has no caller to answer.
type patientProbes struct{}

func (l *probeLimiter) acquire(ctx context.Context, orgID string, size int, wait time.Duration) (func(), error) {
	l.mu.Lock()
	if l.orgs == nil {
		l.orgs = map[string]*orgProbes{}
	}
	o := l.orgs[orgID]
	if o == nil {
		o = &orgProbes{slots: make(chan struct{}, size)}
		l.orgs[orgID] = o
	}
	o.users++
	onWait := l.onWait
	l.mu.Unlock()
	done := func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if o.users--; o.users == 0 {
			delete(l.orgs, orgID)
		}
	}
	release := func() { <-o.slots; done() }

	select {
	case o.slots <- struct{}{}:
		return release, nil
	default:
	}
	if onWait != nil {
		onWait(orgID)
	}
	var expired <-chan time.Time
	if ctx.Value(patientProbes{}) == nil {
		t := time.NewTimer(wait)
		defer t.Stop()
		expired = t.C
	}
	select {
	case o.slots <- struct{}{}:
		return release, nil
	case <-expired:
		done()
		return nil, &Error{Status: StatusTooManyRequests, Title: "Too many requests",
			Detail: fmt.Sprintf("This organisation already has %d provider checks (verifications and model lists) in flight; retry after the Retry-After delay.", size)}
	case <-ctx.Done():
		done()
		return nil, ctx.Err()
	}
}

// probe runs fn, a call to the Verifier or ModelLister, in one of the organisation's probe slots.
func (s *Service) probe(ctx context.Context, orgID string, fn func()) error {
	size, wait := s.cfg.Limits.ProbesPerOrg, s.cfg.Limits.ProbeWait
	if size <= 0 {
		size = DefaultProbesPerOrg
	}
	if wait <= 0 {
		wait = DefaultProbeWait
	}
	release, err := s.probes.acquire(ctx, orgID, size, wait)
	if err != nil {
		return err
	}
	defer release()
	fn()
	return nil
}

// egressError is the 422 of a verification the egress policy stopped: nothing was sent. It is also
// api.ErrEgressRefused, so that a re-verification can record it instead of failing.
type egressError struct{ err *Error }

func (e egressError) Error() string   { return e.err.Error() }
func (e egressError) Unwrap() []error { return []error{e.err, api.ErrEgressRefused} }

// egressRefused words the 422, on the URL setting that chose the destination when there is one.
func egressRefused(settings map[string]string, msg string) error {
	field := api.SecretAPIKey // Vertex: the key file's token_uri
	var urls []string
	for k := range settings {
		if catalog.IsURLSetting(k) {
			urls = append(urls, k)
		}
	}
	if len(urls) > 0 {
		sort.Strings(urls)
		field = "settings." + urls[0]
	}
	return egressError{InvalidField(field, "The key was not checked and nothing was sent: %s.", msg)}
}

func isEgressRefusal(err error) bool { return errors.Is(err, api.ErrEgressRefused) }
