package service

import (
	"context"
	"errors"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// DefaultRotationSweepInterval is how often the server looks for rotations to resume, old keys to
// revoke and managed credentials due: often enough that an old key is revoked within a minute of the
// end of its overlap.
const DefaultRotationSweepInterval = 20 * time.Second

// RotationReport counts what one sweep did.
type RotationReport struct {
	Resumed int // journal rows driven on (resumed, or revoked after their overlap)
	Started int // scheduled rotations started
	Busy    int // rows another process holds
	Errors  int
}

// SweepRotations drives every journal row that is free and has something to do (a rotation a stopped
// process left, an old key whose overlap has ended, a deleted credential's key), then starts a
// rotation of every managed credential that is due (rotation_due_at passed) or has no key yet.
func (s *Service) SweepRotations(ctx context.Context) (RotationReport, error) {
	var rep RotationReport
	if s.adminAPI() == nil {
		return rep, nil
	}
	var rows []store.RotationEntry
	var refs []store.CredentialRef
	if err := s.read(ctx, func(tx store.Tx) error {
		var err error
		if rows, err = tx.ListRotations(ctx); err != nil {
			return err
		}
		refs, err = tx.ManagedCredentialRefs(ctx)
		return err
	}); err != nil {
		return rep, err
	}
	now := s.now()
	active := map[string]bool{}
	for _, r := range rows {
		if r.Kind == store.RotationKindRotate {
			active[r.CredentialID] = true
		}
		if r.LeaseOwner != "" && r.LeaseOwner != s.rotOwner() && now.Before(r.LeaseUntil) {
			rep.Busy++
			continue
		}
		if r.Step == api.RotationSwitched && r.RevokeAt != nil && now.Before(*r.RevokeAt) {
			continue // still in its overlap
		}
		last, err := s.driveRotation(ctx, r.ID, false)
		if err == nil && last.Step == "" && r.Kind == store.RotationKindRotate {
			delete(active, r.CredentialID) // finished: the credential may be due again
		}
		if err != nil {
			if errors.Is(err, errRotationBusy) {
				rep.Busy++
			} else {
				rep.Errors++
				s.log.Warn("a rotation could not go on; the next sweep retries", "rotation", r.ID, "credential", r.CredentialID, "step", r.Step, "error", err)
			}
			continue
		}
		rep.Resumed++
	}
	for _, ref := range refs {
		if ctx.Err() != nil {
			break
		}
		if active[ref.ID] {
			continue
		}
		c, err := s.GetCredential(ctx, Principal{OrgID: ref.OrgID}, ref.ID)
		if err != nil || !catalog.IsManaged(c.Rotation) {
			continue
		}
		due := !c.HasAPIKey || (c.RotationDueAt != nil && !now.Before(*c.RotationDueAt))
		if !due {
			continue
		}
		if err := s.startRotation(ctx, ref.OrgID, c, TriggerSchedule, rotationActor); err != nil {
			var se *Error
			if errors.As(err, &se) && se.Status == StatusConflict {
				rep.Busy++
				continue
			}
			rep.Errors++
			s.log.Warn("a scheduled rotation failed; the old key stays", "credential", ref.ID, "error", err)
			continue
		}
		rep.Started++
	}
	return rep, ctx.Err()
}

// RunRotations sweeps rotations every interval (DefaultRotationSweepInterval when <= 0) until ctx
// ends. Each row is leased, so replicas may all run it; lock, when set, still lets one sweep at a
// time to spare the database.
func (s *Service) RunRotations(ctx context.Context, interval time.Duration, lock ReverifyLock) {
	if interval <= 0 {
		interval = DefaultRotationSweepInterval
	}
	wait := jitter(interval) / 2 // replicas and restarts do not sweep in step
	for {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		func() {
			if lock != nil {
				release, ok, err := lock(ctx)
				if err != nil || !ok {
					return
				}
				defer release()
			}
			if _, err := s.SweepRotations(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("rotation sweep failed", "error", err)
			}
		}()
		wait = jitter(interval)
	}
}
