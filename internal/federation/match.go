package federation

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// Limits of a rule's conditions.
const (
	MaxConditions      = 32
	MaxConditionLength = 1024
)

// Match tells whether the claims satisfy every condition: claim name -> pattern, where `*` matches
// any run of characters (none included) and everything else matches itself. A claim that is a list
// (such as `groups`) matches when one of its items does; numbers and booleans are compared by their
// JSON text (`run_id` = "12345", `email_verified` = "true"). A missing claim, or one that is an
// object, matches nothing, not even "*". No conditions match nothing.
func Match(conditions map[string]string, c Claims) bool {
	if len(conditions) == 0 {
		return false
	}
	for name, pattern := range conditions {
		if !claimMatches(c[name], pattern) {
			return false
		}
	}
	return true
}

func claimMatches(v any, pattern string) bool {
	if list, ok := v.([]any); ok {
		for _, item := range list {
			if s, ok := scalarText(item); ok && Glob(pattern, s) {
				return true
			}
		}
		return false
	}
	if list, ok := v.([]string); ok {
		for _, s := range list {
			if Glob(pattern, s) {
				return true
			}
		}
		return false
	}
	s, ok := scalarText(v)
	return ok && Glob(pattern, s)
}

// Glob matches s against pattern, where `*` matches any run of characters. It runs in time
// proportional to len(pattern)*len(s) at worst (no backtracking blow-up).
func Glob(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p < len(pattern) && pattern[p] == s[i]:
			p++
			i++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// isWildcard tells whether a pattern matches every value (only `*`).
func isWildcard(pattern string) bool {
	return strings.Trim(pattern, "*") == ""
}

// unpinningClaims are claims that do not say whose token it is: every token of the issuer has the
// same iss, the requester of a token picks its aud (any GitHub workflow may ask for any audience),
// and the rest are times, ids, sign-in bookkeeping, and what every repository or project of a
// shared CI issuer has too (a main branch, a pull_request event, an environment named production,
// a verified email). A rule pinned only by these trusts every token the issuer signs, which for a
// shared issuer (GitHub Actions, gitlab.com, HCP Terraform, Google) is everyone's.
var unpinningClaims = map[string]bool{
	"iss": true, "aud": true, "exp": true, "nbf": true, "iat": true, "jti": true, "nonce": true,
	"auth_time": true, "at_hash": true, "c_hash": true, "sid": true, "azp": true, "email_verified": true,
	"ref": true, "ref_type": true, "ref_protected": true, "base_ref": true, "head_ref": true, "sha": true,
	"event_name": true, "pipeline_source": true, "runner_environment": true, "environment": true,
	"environment_protected": true, "deployment_tier": true, "workflow": true, "run_id": true,
	"run_number": true, "run_attempt": true, "pipeline_id": true, "job_id": true,
	"terraform_run_phase": true, "terraform_run_id": true,
}

// CheckConditions refuses conditions a rule must not have: none at all, an empty claim name or
// pattern, or only wildcards (a rule that trusts every token of the issuer). The error says what to
// fix and names the claim.
func CheckConditions(conditions map[string]string) error {
	if len(conditions) == 0 {
		return errors.New(`at least one condition is needed: map a claim to the value it must have, for example "sub" = "repo:my-org/my-repo:ref:refs/heads/main"`)
	}
	if len(conditions) > MaxConditions {
		return fmt.Errorf("at most %d conditions are allowed, not %d", MaxConditions, len(conditions))
	}
	names := make([]string, 0, len(conditions))
	for name := range conditions {
		names = append(names, name)
	}
	sort.Strings(names)
	onlyWildcards, pinsSubject := true, false
	for _, name := range names {
		pattern := conditions[name]
		if strings.TrimSpace(name) == "" {
			return errors.New("a condition has an empty claim name: name the claim it checks, such as sub, repository or groups")
		}
		if name != strings.TrimSpace(name) || !utf8.ValidString(name) || len(name) > 256 {
			return fmt.Errorf("condition %q: the claim name must be valid text without surrounding spaces, at most 256 bytes", name)
		}
		if pattern == "" {
			return fmt.Errorf(`condition %q: the pattern is empty; write the value the claim must have (use * for "any run of characters")`, name)
		}
		if !utf8.ValidString(pattern) || len(pattern) > MaxConditionLength {
			return fmt.Errorf("condition %q: the pattern must be valid text of at most %d bytes", name, MaxConditionLength)
		}
		if !isWildcard(pattern) {
			onlyWildcards = false
			if !unpinningClaims[name] {
				pinsSubject = true
			}
		}
	}
	if onlyWildcards {
		return fmt.Errorf("the conditions (%s) are all wildcards, so the rule would trust every token of the identity provider: pin at least one claim to a value, such as sub or repository", strings.Join(names, ", "))
	}
	if !pinsSubject {
		return fmt.Errorf("the conditions (%s) pin only claims that every token of the identity provider can carry (iss, aud, times, ids, branches, events, environments), so the rule would trust every token it signs, anyone's: pin a claim that names whose token it is, such as sub, repository, project_path, terraform_organization_name or email", strings.Join(names, ", "))
	}
	return nil
}
