package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// applyLifecycle computes c's rotation_due_at, lifecycle status and policy violations from now, its
// stored times and the effective credential policy of its scope. The most urgent status wins:
// expired, expiring, rotation_due, ok.
func applyLifecycle(pol effectiveCredentialPolicy, c *api.Credential, now time.Time) {
	c.RotationDueAt, c.LifecycleSince, c.LifecycleMessage = nil, nil, ""
	c.LifecycleStatus = api.LifecycleOK
	if period := pol.effectivePeriod(*c); period > 0 {
		due := c.RotatedAt.Add(period).UTC()
		c.RotationDueAt = &due
	}
	at := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	switch {
	case c.ExpiresAt != nil && !now.Before(*c.ExpiresAt):
		since := c.ExpiresAt.UTC()
		c.LifecycleStatus, c.LifecycleSince = api.LifecycleExpired, &since
		c.LifecycleMessage = fmt.Sprintf("The key of credential %q expired at %s: its provider no longer accepts it and the connections using it are invalid. "+
			"Rotate it now: set the new key, and the new key's expires_at.", c.Name, at(since))
	case c.ExpiresAt != nil && !now.Before(c.ExpiresAt.Add(-pol.warning)):
		since := c.ExpiresAt.Add(-pol.warning).UTC()
		c.LifecycleStatus, c.LifecycleSince = api.LifecycleExpiring, &since
		c.LifecycleMessage = fmt.Sprintf("The key of credential %q expires at %s, in %s. Rotate it before then: set the new key, and the new key's expires_at.",
			c.Name, at(*c.ExpiresAt), roundDuration(c.ExpiresAt.Sub(now)))
	case c.RotationDueAt != nil && !now.Before(*c.RotationDueAt):
		since := *c.RotationDueAt
		c.LifecycleStatus, c.LifecycleSince = api.LifecycleRotationDue, &since
		c.LifecycleMessage = fmt.Sprintf("The key of credential %q was last rotated at %s and was due for rotation at %s (every %s). "+
			"Rotate it: set a new key (in Terraform, a new api_key, or a new api_key_wo with a higher api_key_wo_version).",
			c.Name, at(c.RotatedAt), at(since), catalog.FormatDuration(pol.effectivePeriod(*c)))
	}
	c.PolicyViolations = []string{}
	for _, v := range pol.violations(*c) {
		c.PolicyViolations = append(c.PolicyViolations, v.Message)
	}
}

// roundDuration writes d to the hour, or to the minute below a day, for messages.
func roundDuration(d time.Duration) string {
	if d >= catalog.Day {
		return catalog.FormatDuration(d.Truncate(time.Hour))
	}
	return d.Truncate(time.Minute).String()
}

// lifecycleCache computes lifecycle fields, reading each scope's credential policy once per request.
type lifecycleCache struct {
	s        *Service
	tx       store.Tx
	orgID    string
	now      time.Time
	policies map[string]effectiveCredentialPolicy
}

func newLifecycleCache(s *Service, tx store.Tx, orgID string) *lifecycleCache {
	return &lifecycleCache{s: s, tx: tx, orgID: orgID, now: s.now(), policies: map[string]effectiveCredentialPolicy{}}
}

func (l *lifecycleCache) policy(ctx context.Context, projectID string) (effectiveCredentialPolicy, error) {
	pol, ok := l.policies[projectID]
	if !ok {
		var err error
		if pol, err = l.s.effectiveCredentialPolicy(ctx, l.tx, l.orgID, projectID); err != nil {
			return pol, err
		}
		l.policies[projectID] = pol
	}
	return pol, nil
}

// known records the effective policy of projectID's scope from the policies read with a credential
// (GetCredentialInScope), so that filling the credential asks the store for nothing more.
func (l *lifecycleCache) known(projectID string, pols store.ScopeCredentialPolicies) {
	l.policies[projectID] = combineScopePolicies(pols, projectID)
}

func (l *lifecycleCache) fill(ctx context.Context, c *api.Credential) error {
	pol, err := l.policy(ctx, c.ProjectID)
	if err != nil {
		return err
	}
	applyLifecycle(pol, c, l.now)
	return nil
}

// withLifecycle fills c's lifecycle fields with a read of its own (for answers built outside one:
// create, update, verify); the scope's policies are one statement.
func (s *Service) withLifecycle(ctx context.Context, orgID string, c api.Credential) (api.Credential, error) {
	err := s.readOne(ctx, func(tx store.Tx) error { return newLifecycleCache(s, tx, orgID).fill(ctx, &c) })
	return c, err
}

// normalizePeriod checks a rotation_period and writes it canonically ("2160h" is stored as "90d").
func normalizePeriod(period string) (string, []api.FieldError) {
	if period == "" {
		return "", nil
	}
	norm, err := catalog.NormalizeDuration(period)
	if err != nil {
		return "", []api.FieldError{{Field: "rotation_period", Message: err.Error() + "."}}
	}
	return norm, nil
}

// parseExpiry checks an expires_at; "" is none.
func parseExpiry(expires string) (*time.Time, []api.FieldError) {
	if expires == "" {
		return nil, nil
	}
	t, err := catalog.ParseTimestamp(expires)
	if err != nil {
		return nil, []api.FieldError{{Field: "expires_at", Message: err.Error() + "."}}
	}
	return &t, nil
}

func sameTime(a, b *time.Time) bool {
	return (a == nil) == (b == nil) && (a == nil || a.Equal(*b))
}

// LifecycleReport counts what one lifecycle sweep found.
type LifecycleReport struct {
	Checked     int
	Transitions int
	Errors      int
	// ByStatus counts the credentials in each lifecycle status.
	ByStatus map[string]int
}

// lifecycleActor is the audit actor of the transitions the sweep records.
const lifecycleActor = "modelkeys-server"

// SweepLifecycle computes every credential's lifecycle status and records each change since the last
// sweep (or write): the stored status is updated, without a new version, and the audit log gets an
// event with action "lifecycle", field lifecycle_status and the old and new status. It runs beside
// re-verification; reads compute the status on their own, so the sweep only keeps the record.
func (s *Service) SweepLifecycle(ctx context.Context) (LifecycleReport, error) {
	rep := LifecycleReport{ByStatus: map[string]int{}}
	var refs []store.CredentialRef
	if err := s.read(ctx, func(tx store.Tx) error {
		var err error
		refs, err = tx.ListAllCredentialRefs(ctx)
		return err
	}); err != nil {
		return rep, err
	}
	caches := map[string]*lifecycleCache{}
	for _, ref := range refs {
		if ctx.Err() != nil {
			return rep, ctx.Err()
		}
		err := s.tx(ctx, func(tx store.Tx) error {
			c, err := tx.GetCredential(ctx, ref.OrgID, ref.ID)
			if err != nil {
				return err
			}
			recorded := c.LifecycleStatus
			cache := caches[ref.OrgID]
			if cache == nil || cache.tx != tx {
				// Policies are read again in each transaction: a cache from another one is stale.
				cache = newLifecycleCache(s, tx, ref.OrgID)
				caches[ref.OrgID] = cache
			}
			if err := cache.fill(ctx, &c); err != nil {
				return err
			}
			rep.Checked++
			rep.ByStatus[c.LifecycleStatus]++
			if recorded == c.LifecycleStatus {
				return nil
			}
			if err := tx.SetCredentialLifecycle(ctx, ref.OrgID, ref.ID, c.LifecycleStatus); err != nil {
				return err
			}
			rep.Transitions++
			if slices.Index(api.LifecycleStatuses, c.LifecycleStatus) > slices.Index(api.LifecycleStatuses, recorded) {
				s.log.Warn("a credential's lifecycle status changed", "org", ref.OrgID, "credential", ref.ID, "from", recorded, "to", c.LifecycleStatus)
			}
			return s.auditChanges(ctx, tx, Principal{OrgID: ref.OrgID, Actor: lifecycleActor}, "lifecycle", "credential", ref.ID,
				[]string{"lifecycle_status"}, []api.AuditChange{{Field: "lifecycle_status", From: recorded, To: c.LifecycleStatus}})
		})
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted since the list
		}
		if err != nil {
			rep.Errors++
			s.log.Warn("lifecycle sweep could not check a credential", "org", ref.OrgID, "credential", ref.ID, "error", err)
		}
	}
	s.log.Info("swept credential lifecycles", "checked", rep.Checked, "transitions", rep.Transitions, "errors", rep.Errors)
	return rep, nil
}

// LifecycleCounts counts every organisation's credentials by computed lifecycle status, for /metrics,
// in two statements whatever the number of credentials: the classes of credentials (organisation,
// project, rotation_period) with their scopes' policies, then one aggregate that compares each
// credential's times with its class's thresholds. The thresholds come from the rules applyLifecycle
// uses (expiring from expires_at - warning, rotation due at rotated_at + effectivePeriod), so a count
// and a read of the same credential agree.
func (s *Service) LifecycleCounts(ctx context.Context) (map[string]int, error) {
	var counts map[string]int
	err := s.read(ctx, func(tx store.Tx) error {
		classes, err := tx.CredentialLifecycleClasses(ctx)
		if err != nil {
			return err
		}
		now := s.now()
		thresholds := make([]store.LifecycleThreshold, 0, len(classes))
		for _, c := range classes {
			pol := combineScopePolicies(c.Policies, c.ProjectID)
			th := store.LifecycleThreshold{OrgID: c.OrgID, ProjectID: c.ProjectID, RotationPeriod: c.RotationPeriod,
				ExpiringIfBefore: now.Add(pol.warning)}
			if period := pol.effectivePeriod(api.Credential{RotationPeriod: c.RotationPeriod}); period > 0 {
				due := now.Add(-period)
				th.DueIfRotatedBefore = &due
			}
			thresholds = append(thresholds, th)
		}
		counts, err = tx.CountCredentialsByLifecycle(ctx, now, thresholds)
		return err
	})
	return counts, err
}
