package service

import (
	"fmt"
	"slices"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

// policyDecision says whether a model may be used and, when not, which rule refused it.
type policyDecision struct {
	Allowed bool
	Reason  string
}

// evaluatePolicy applies one scope's policy to provider/model, whose publisher is publisher ("" when
// unknown, as for custom servers). scope names the policy in the reason ("organisation", "project X").
func evaluatePolicy(pol api.ModelPolicy, scope, provider, model, publisher string) policyDecision {
	ref := provider + "/" + model
	switch pol.Mode {
	case api.PolicyAllowlist:
		if slices.Contains(pol.Models, ref) || (publisher != "" && slices.Contains(pol.Publishers, publisher)) {
			return policyDecision{Allowed: true}
		}
		if publisher == "" {
			return policyDecision{Reason: fmt.Sprintf("the %s model policy is an allowlist that does not include model %q, and its publisher is unknown "+
				"(neither the catalog nor its rules name the maker of %s models called %q), so no publisher in the policy can allow it; add %q to the policy's models",
				scope, ref, provider, model, ref)}
		}
		return policyDecision{Reason: fmt.Sprintf("the %s model policy is an allowlist that includes neither model %q nor its publisher %q", scope, ref, publisher)}
	case api.PolicyDenylist:
		if slices.Contains(pol.Models, ref) {
			return policyDecision{Reason: fmt.Sprintf("the %s model policy denies model %q", scope, ref)}
		}
		if publisher != "" && slices.Contains(pol.Publishers, publisher) {
			return policyDecision{Reason: fmt.Sprintf("the %s model policy denies publisher %q (model %q)", scope, publisher, ref)}
		}
	}
	return policyDecision{Allowed: true}
}

// effectivePolicy is the organisation's policy intersected with a project's: a model must pass both.
type effectivePolicy struct {
	org, project api.ModelPolicy
	projectID    string
}

func (e effectivePolicy) decide(provider, model, publisher string) policyDecision {
	if d := evaluatePolicy(e.org, "organisation", provider, model, publisher); !d.Allowed {
		return d
	}
	if e.projectID != "" {
		return evaluatePolicy(e.project, "project "+e.projectID, provider, model, publisher)
	}
	return policyDecision{Allowed: true}
}
