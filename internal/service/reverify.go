package service

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// ReverifyConcurrency bounds how many probes one re-verification pass runs at once, so a server with
// many credentials does not flood a provider (or itself).
const ReverifyConcurrency = 4

// ReverifyReport counts what one pass found.
type ReverifyReport struct {
	Checked     int // credentials probed
	Verified    int // the provider accepted the key
	Invalid     int // the provider refused the key: status is now invalid
	Unreachable int // no verdict (outage, timeout): status kept, error recorded in status_message
	Skipped     int // verify = false, or gone before its turn
	Errors      int // could not be read or written (a concurrent edit, a database error)
}

// Reverify probes every credential of every organisation again and records the results, so a key
// revoked at its provider turns status "invalid" and the next terraform plan shows it. Credentials
// with verify = false are skipped. Outages keep the last status. A status is an observation, so the
// credential's version does not change. Nothing happens when the server has no verifier.
func (s *Service) Reverify(ctx context.Context) (ReverifyReport, error) {
	var rep ReverifyReport
	if s.cfg.Verifier == nil {
		return rep, nil
	}
	var refs []store.CredentialRef
	if err := s.read(ctx, func(tx store.Tx) error {
		var err error
		refs, err = tx.ListAllCredentialRefs(ctx)
		return err
	}); err != nil {
		return rep, err
	}

	var mu sync.Mutex
	sem := make(chan struct{}, ReverifyConcurrency)
	var wg sync.WaitGroup
	for _, ref := range refs {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(ref store.CredentialRef) {
			defer func() { <-sem; wg.Done() }()
			outcome := s.reverifyOne(ctx, ref)
			mu.Lock()
			defer mu.Unlock()
			switch outcome {
			case api.StatusVerified:
				rep.Checked++
				rep.Verified++
			case api.StatusInvalid:
				rep.Checked++
				rep.Invalid++
			case "unreachable":
				rep.Checked++
				rep.Unreachable++
			case "skipped":
				rep.Skipped++
			default:
				rep.Errors++
			}
		}(ref)
	}
	wg.Wait()
	s.log.Info("re-verified credentials", "checked", rep.Checked, "verified", rep.Verified, "invalid", rep.Invalid,
		"unreachable", rep.Unreachable, "skipped", rep.Skipped, "errors", rep.Errors)
	return rep, ctx.Err()
}

// reverifyOne probes one credential; it returns its new status, "unreachable", "skipped" or "error".
func (s *Service) reverifyOne(ctx context.Context, ref store.CredentialRef) string {
	var c api.Credential
	err := s.tx(ctx, func(tx store.Tx) error {
		var err error
		c, err = tx.GetCredential(ctx, ref.OrgID, ref.ID)
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return "skipped"
	case err != nil:
		s.log.Warn("re-verification could not read a credential", "org", ref.OrgID, "credential", ref.ID, "error", err)
		return "error"
	case !c.Verify:
		return "skipped"
	}
	// No caller waits on the background pass: it waits for its organisation's probe slots instead of
	// giving up after Limits.ProbeWait.
	next, err := s.reverify(context.WithValue(ctx, patientProbes{}, true), ref.OrgID, ref.ID)
	if err != nil {
		// A concurrent edit wins: its own verification (if any) is newer than ours.
		s.log.Warn("re-verification could not record a result", "org", ref.OrgID, "credential", ref.ID, "error", err)
		return "error"
	}
	if next.Status == api.StatusInvalid && c.Status != api.StatusInvalid {
		s.log.Warn("a credential's key was refused by its provider", "org", ref.OrgID, "credential", ref.ID, "provider", c.Provider)
	}
	// A verdict stamps verified_at; no verdict leaves it as it was.
	if next.VerifiedAt == nil || (c.VerifiedAt != nil && next.VerifiedAt.Equal(*c.VerifiedAt)) {
		return "unreachable"
	}
	return next.Status
}

// ReverifyLock lets only one replica run a pass at a time. It returns acquired false when another
// replica holds it, and release to call when the pass ends. Several servers on one PostgreSQL database
// should pass a lock built on pg_try_advisory_lock (the PostgreSQL work owns that); a single server,
// or SQLite, passes nil, which always runs. Passes are idempotent, so a missing lock costs only
// duplicate probes, never wrong results.
type ReverifyLock func(ctx context.Context) (release func(), acquired bool, err error)

// RunReverifier re-verifies every credential, and sweeps their lifecycles (SweepLifecycle), each
// interval until ctx ends. interval <= 0 turns it off. The first pass starts after a random delay of up to a tenth of the interval (at most five
// minutes), and each later wait varies by ±10%, so replicas and restarts do not probe in step.
func (s *Service) RunReverifier(ctx context.Context, interval time.Duration, lock ReverifyLock) {
	if interval <= 0 {
		return // without a verifier the loop still sweeps lifecycles (SweepLifecycle)
	}
	wait := time.Duration(rand.Int64N(int64(min(interval/10, 5*time.Minute)) + 1))
	for {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		s.reverifyPass(ctx, lock)
		wait = jitter(interval)
	}
}

func (s *Service) reverifyPass(ctx context.Context, lock ReverifyLock) {
	if lock != nil {
		release, ok, err := lock(ctx)
		if err != nil {
			s.log.Warn("re-verification lock failed; skipping this pass", "error", err)
			return
		}
		if !ok {
			s.log.Debug("another replica is re-verifying credentials; skipping this pass")
			return
		}
		defer release()
	}
	if _, err := s.Reverify(ctx); err != nil && ctx.Err() == nil {
		s.log.Warn("re-verification pass failed", "error", err)
	}
	if _, err := s.SweepLifecycle(ctx); err != nil && ctx.Err() == nil {
		s.log.Warn("lifecycle sweep failed", "error", err)
	}
}

// jitter spreads d by ±10%.
func jitter(d time.Duration) time.Duration {
	spread := int64(d) / 10
	if spread <= 0 {
		return d
	}
	return d - time.Duration(spread) + time.Duration(rand.Int64N(2*spread+1))
}
