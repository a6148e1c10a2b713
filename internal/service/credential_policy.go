package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// defaultCredentialPolicy is what a scope without a stored credential policy has: no rules, and the
// default expiry warning.
func defaultCredentialPolicy(projectID string) api.CredentialPolicy {
	return api.CredentialPolicy{ProjectID: projectID, AllowedProviders: []string{}, ExpiryWarning: catalog.FormatDuration(catalog.DefaultExpiryWarning)}
}

func (s *Service) credentialPolicyOf(ctx context.Context, tx store.Tx, orgID, projectID string) (api.CredentialPolicy, error) {
	pol, err := tx.GetCredentialPolicy(ctx, orgID, projectID)
	if errors.Is(err, store.ErrNotFound) {
		return defaultCredentialPolicy(projectID), nil
	}
	if err != nil {
		return pol, err
	}
	return storedOrDefault(&pol, projectID), nil
}

// storedOrDefault is a scope's stored credential policy (nil: none) with the defaults filled in.
func storedOrDefault(pol *api.CredentialPolicy, projectID string) api.CredentialPolicy {
	if pol == nil {
		return defaultCredentialPolicy(projectID)
	}
	p := *pol
	if p.ExpiryWarning == "" {
		p.ExpiryWarning = catalog.FormatDuration(catalog.DefaultExpiryWarning)
	}
	return p
}

// effectiveCredentialPolicy is the organisation's credential policy combined with a project's, the
// stricter of each rule: providers both allow, the shorter maximum rotation period, the longer expiry
// warning, verification when either requires it.
type effectiveCredentialPolicy struct {
	// allowed is nil when every provider is allowed.
	allowed     []string
	allowedBy   string // the scope(s) whose lists make allowed
	maxRotation time.Duration
	maxBy       string
	warning     time.Duration
	requireBy   string // "" when verification is not required
}

func (s *Service) effectiveCredentialPolicy(ctx context.Context, tx store.Tx, orgID, projectID string) (effectiveCredentialPolicy, error) {
	pols, err := tx.ScopeCredentialPolicies(ctx, orgID, projectID)
	if err != nil {
		return effectiveCredentialPolicy{}, err
	}
	return combineScopePolicies(pols, projectID), nil
}

// combineScopePolicies is the effective policy of projectID's scope from the policies stored for it.
func combineScopePolicies(pols store.ScopeCredentialPolicies, projectID string) effectiveCredentialPolicy {
	return combineCredentialPolicies(storedOrDefault(pols.Organization, ""), storedOrDefault(pols.Project, projectID), projectID)
}

// combineCredentialPolicies is the effective policy of projectID's scope from the organisation's
// policy and, for a project (projectID not ""), the project's.
func combineCredentialPolicies(org, proj api.CredentialPolicy, projectID string) effectiveCredentialPolicy {
	e := effectiveCredentialPolicy{warning: catalog.DefaultExpiryWarning}
	e.add(org, "the organisation's")
	e.warning = mustDuration(org.ExpiryWarning, catalog.DefaultExpiryWarning)
	if projectID != "" {
		e.add(proj, "project "+projectID+"'s")
		e.warning = max(e.warning, mustDuration(proj.ExpiryWarning, catalog.DefaultExpiryWarning))
	}
	return e
}

func (e *effectiveCredentialPolicy) add(p api.CredentialPolicy, scope string) {
	if len(p.AllowedProviders) > 0 {
		if e.allowed == nil {
			e.allowed, e.allowedBy = slices.Clone(p.AllowedProviders), scope
		} else {
			e.allowed = slices.DeleteFunc(e.allowed, func(id string) bool { return !slices.Contains(p.AllowedProviders, id) })
			e.allowedBy += " and " + scope
		}
	}
	if p.MaxRotationPeriod != "" {
		if d := mustDuration(p.MaxRotationPeriod, 0); d > 0 && (e.maxRotation == 0 || d < e.maxRotation) {
			e.maxRotation, e.maxBy = d, scope
		}
	}
	if p.RequireVerification && e.requireBy == "" {
		e.requireBy = scope
	}
}

func mustDuration(s string, fallback time.Duration) time.Duration {
	if s == "" { // unset: the common case, and ParseDuration would build an error to say so
		return fallback
	}
	d, err := catalog.ParseDuration(s)
	if err != nil {
		return fallback
	}
	return d
}

// providerAllowed reports whether credentials for provider may be in the scope.
func (e effectiveCredentialPolicy) providerAllowed(provider string) bool {
	return e.allowed == nil || slices.Contains(e.allowed, provider)
}

func (e effectiveCredentialPolicy) allowedList() string {
	if len(e.allowed) == 0 {
		return "none (the policies allow no provider in common)"
	}
	return strings.Join(e.allowed, ", ")
}

// violations checks a credential against the policy; each problem is a field error in the request's
// JSON names, with a sentence that says what to do.
func (e effectiveCredentialPolicy) violations(c api.Credential) []api.FieldError {
	var out []api.FieldError
	if !e.providerAllowed(c.Provider) {
		out = append(out, api.FieldError{Field: "provider", Message: fmt.Sprintf(
			"Provider %q is not allowed by %s credential policy; the allowed providers are: %s.", c.Provider, e.allowedBy, e.allowedList())})
	}
	if c.RotationPeriod != "" && e.maxRotation > 0 {
		if d := mustDuration(c.RotationPeriod, 0); d > e.maxRotation {
			out = append(out, api.FieldError{Field: "rotation_period", Message: fmt.Sprintf(
				"rotation_period %s is longer than the max_rotation_period %s of %s credential policy; set it to %s or less.",
				c.RotationPeriod, catalog.FormatDuration(e.maxRotation), e.maxBy, catalog.FormatDuration(e.maxRotation))})
		}
	}
	if e.requireBy != "" && !c.Verify {
		out = append(out, api.FieldError{Field: "verify", Message: fmt.Sprintf(
			"%s credential policy requires verification, so verify = false is refused; set verify = true.", upperFirst(e.requireBy))})
	}
	return out
}

// effectivePeriod is the rotation period that decides rotation_due_at: the credential's own, capped
// by the policy's maximum, which also applies to credentials without one; 0 for none.
func (e effectiveCredentialPolicy) effectivePeriod(c api.Credential) time.Duration {
	own := mustDuration(c.RotationPeriod, 0)
	switch {
	case own == 0:
		return e.maxRotation
	case e.maxRotation > 0 && e.maxRotation < own:
		return e.maxRotation
	}
	return own
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// checkCredentialPolicy refuses a credential that breaks the effective policy of its scope (422).
func (s *Service) checkCredentialPolicy(ctx context.Context, tx store.Tx, orgID string, c api.Credential) error {
	pol, err := s.effectiveCredentialPolicy(ctx, tx, orgID, c.ProjectID)
	if err != nil {
		return err
	}
	if v := pol.violations(c); len(v) > 0 {
		return invalid(v...)
	}
	return nil
}

// GetCredentialPolicy reads a scope's own credential policy (not the effective one).
func (s *Service) GetCredentialPolicy(ctx context.Context, p Principal, projectID string) (api.CredentialPolicy, error) {
	var pol api.CredentialPolicy
	err := s.read(ctx, func(tx store.Tx) error {
		if err := projectMustExist(ctx, tx, p, projectID); err != nil {
			return err
		}
		var err error
		pol, err = s.credentialPolicyOf(ctx, tx, p.OrgID, projectID)
		return err
	})
	return pol, err
}

func checkCredentialPolicyPut(in *api.CredentialPolicyPut) []api.FieldError {
	var out []api.FieldError
	for _, id := range in.AllowedProviders {
		if _, ok := catalog.Provider(id); !ok {
			out = append(out, api.FieldError{Field: "allowed_providers", Message: fmt.Sprintf("%q is not a catalog provider; use one of: %s.", id, strings.Join(catalog.ProviderIDs(), ", "))})
		}
	}
	if in.MaxRotationPeriod != "" {
		norm, err := catalog.NormalizeDuration(in.MaxRotationPeriod)
		if err != nil {
			out = append(out, api.FieldError{Field: "max_rotation_period", Message: err.Error() + "."})
		}
		in.MaxRotationPeriod = norm
	}
	if in.ExpiryWarning == "" {
		in.ExpiryWarning = catalog.FormatDuration(catalog.DefaultExpiryWarning)
	} else {
		norm, err := catalog.NormalizeDuration(in.ExpiryWarning)
		if err != nil {
			out = append(out, api.FieldError{Field: "expiry_warning", Message: err.Error() + "."})
		}
		in.ExpiryWarning = norm
	}
	return out
}

// PutCredentialPolicy writes a scope's credential policy. Existing credentials that the new policy
// refuses are kept: they show policy_violations, and their next change is refused until fixed.
func (s *Service) PutCredentialPolicy(ctx context.Context, p Principal, projectID string, in api.CredentialPolicyPut, ifMatch int64) (api.CredentialPolicy, error) {
	if err := requireWrite(p); err != nil {
		return api.CredentialPolicy{}, err
	}
	if fields := checkCredentialPolicyPut(&in); len(fields) > 0 {
		return api.CredentialPolicy{}, invalid(fields...)
	}
	next := api.CredentialPolicy{ProjectID: projectID, AllowedProviders: sortedUnique(in.AllowedProviders), MaxRotationPeriod: in.MaxRotationPeriod,
		ExpiryWarning: in.ExpiryWarning, RequireVerification: in.RequireVerification, UpdatedAt: s.now()}
	err := s.tx(ctx, func(tx store.Tx) error {
		if err := projectMustExist(ctx, tx, p, projectID); err != nil {
			return err
		}
		cur, err := s.credentialPolicyOf(ctx, tx, p.OrgID, projectID)
		if err != nil {
			return err
		}
		if ifMatch != 0 && ifMatch != cur.Version {
			return preconditionFailed("credential policy", policyObjectID(projectID), ifMatch, cur.Version)
		}
		if cur.Version > 0 && slices.Equal(cur.AllowedProviders, next.AllowedProviders) && cur.MaxRotationPeriod == next.MaxRotationPeriod &&
			cur.ExpiryWarning == next.ExpiryWarning && cur.RequireVerification == next.RequireVerification {
			next = cur
			return nil
		}
		next.Version = cur.Version + 1
		if err := tx.PutCredentialPolicy(ctx, p.OrgID, next, cur.Version); err != nil {
			return err
		}
		return s.audit(ctx, tx, p, "update", "credential_policy", policyObjectID(projectID),
			[]string{"allowed_providers", "max_rotation_period", "expiry_warning", "require_verification"})
	})
	if errors.Is(err, store.ErrVersionMismatch) {
		return api.CredentialPolicy{}, lostRace("credential policy", policyObjectID(projectID))
	}
	return next, err
}

// DeleteCredentialPolicy resets a scope to no rules.
func (s *Service) DeleteCredentialPolicy(ctx context.Context, p Principal, projectID string, ifMatch int64) error {
	return s.deleteScopePolicy(ctx, p, projectID, ifMatch, "credential policy", "credential_policy",
		func(tx store.Tx) (int64, error) {
			cur, err := s.credentialPolicyOf(ctx, tx, p.OrgID, projectID)
			return cur.Version, err
		},
		func(tx store.Tx) error { return tx.DeleteCredentialPolicy(ctx, p.OrgID, projectID) })
}
