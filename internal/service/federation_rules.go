package service

// Federation rules: which tokens of an identity provider are trusted, as whom, in which scope and for
// how long (issue 33). Admin-only, organisation scope. Every change bumps the version, and a token
// issued under a rule is valid only while the rule is at the version it was issued under, so any
// change ends the tokens issued before it (see exchanged_tokens.go).

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/federation"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/idgen"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// Token lifetimes of a rule.
const (
	DefaultTokenTTL = 15 * time.Minute
	MaxTokenTTL     = time.Hour
	maxRuleCreds    = 200
)

// CreateFederationRule stores a new rule (admin only).
func (s *Service) CreateFederationRule(ctx context.Context, p Principal, in api.FederationRuleCreate, idem *IdempotencyKey) (api.FederationRule, bool, error) {
	if err := requireOrgAdmin(p); err != nil {
		return api.FederationRule{}, false, err
	}
	now := s.now()
	r := api.FederationRule{ID: idgen.New("fr"), Name: in.Name, IdentityProviderID: in.IdentityProviderID, Kind: in.Kind,
		Conditions: nonNilMap(in.Conditions), Role: in.Role, ProjectID: in.ProjectID, TokenTTL: in.TokenTTL,
		Credentials: nonNilList(in.Credentials), Version: 1, CreatedAt: now, UpdatedAt: now}
	if r.Kind == "" {
		r.Kind = api.FederationWorkload
	}
	if r.TokenTTL == "" {
		r.TokenTTL = "15m"
	}
	var fields []api.FieldError
	fields = append(fields, checkName(r.Name)...)
	fields = append(fields, checkID("identity_provider_id", r.IdentityProviderID)...)
	fields = append(fields, checkRuleShape(r)...)
	if len(fields) > 0 {
		return api.FederationRule{}, false, invalid(fields...)
	}
	id, replayed, err := s.createOnce(ctx, p, idem, "federation_rule", func(tx store.Tx) (string, error) {
		if err := checkRuleReferences(ctx, tx, p.OrgID, r); err != nil {
			return "", err
		}
		if err := tx.InsertFederationRule(ctx, p.OrgID, r); err != nil {
			switch {
			case errors.Is(err, store.ErrDuplicate):
				return "", conflict(fmt.Sprintf("A federation rule named %q already exists; names are unique in an organisation.", r.Name))
			case errors.Is(err, store.ErrNotFound):
				return "", InvalidField("identity_provider_id", "identity provider %q does not exist in this organisation.", r.IdentityProviderID)
			}
			return "", err
		}
		return r.ID, s.audit(ctx, tx, p, "create", "federation_rule", r.ID, ruleFields(r))
	})
	if err != nil {
		return api.FederationRule{}, false, err
	}
	if replayed {
		r, err = s.GetFederationRule(ctx, p, id)
	}
	return r, replayed, err
}

func ruleFields(r api.FederationRule) []string {
	f := []string{"name", "identity_provider_id", "kind", "conditions", "role", "token_ttl"}
	if r.ProjectID != "" {
		f = append(f, "project_id")
	}
	if len(r.Credentials) > 0 {
		f = append(f, "credentials")
	}
	return f
}

// GetFederationRule reads one rule (admin only).
func (s *Service) GetFederationRule(ctx context.Context, p Principal, id string) (api.FederationRule, error) {
	if err := requireOrgAdmin(p); err != nil {
		return api.FederationRule{}, err
	}
	var r api.FederationRule
	err := s.readOne(ctx, func(tx store.Tx) error {
		var err error
		r, err = tx.GetFederationRule(ctx, p.OrgID, id)
		return storeErr(err, "federation rule", id)
	})
	return r, err
}

// ListFederationRules pages the organisation's rules (admin only).
func (s *Service) ListFederationRules(ctx context.Context, p Principal, f store.FederationRuleFilter) (api.List[api.FederationRule], error) {
	if err := requireOrgAdmin(p); err != nil {
		return api.List[api.FederationRule]{}, err
	}
	if f.Kind != "" && f.Kind != api.FederationWorkload && f.Kind != api.FederationPeople {
		return api.List[api.FederationRule]{}, InvalidField("kind", "kind must be %q or %q, not %q.", api.FederationWorkload, api.FederationPeople, f.Kind)
	}
	limit := clampLimit(f.Limit)
	f.Limit = limit + 1
	out := api.List[api.FederationRule]{Items: []api.FederationRule{}}
	err := s.readOne(ctx, func(tx store.Tx) error {
		items, err := tx.ListFederationRules(ctx, p.OrgID, f)
		if err != nil {
			return err
		}
		items, out.NextPageToken = pageOf(items, limit, func(x api.FederationRule) string { return x.ID })
		out.Items = append(out.Items, items...)
		return nil
	})
	return out, err
}

// UpdateFederationRule patches a rule. Any change (a new version) ends the tokens issued under it.
func (s *Service) UpdateFederationRule(ctx context.Context, p Principal, id string, in api.FederationRulePatch, ifMatch int64) (api.FederationRule, error) {
	if err := requireOrgAdmin(p); err != nil {
		return api.FederationRule{}, err
	}
	var out api.FederationRule
	err := s.tx(ctx, func(tx store.Tx) error {
		cur, err := tx.GetFederationRule(ctx, p.OrgID, id)
		if err != nil {
			return storeErr(err, "federation rule", id)
		}
		if ifMatch != 0 && ifMatch != cur.Version {
			return preconditionFailed("federation rule", id, ifMatch, cur.Version)
		}
		next := cur
		var changed []string
		if in.Name != nil && *in.Name != cur.Name {
			next.Name, changed = *in.Name, append(changed, "name")
		}
		if in.Conditions != nil && !maps.Equal(*in.Conditions, cur.Conditions) {
			next.Conditions, changed = nonNilMap(*in.Conditions), append(changed, "conditions")
		}
		if in.Role != nil && *in.Role != cur.Role {
			next.Role, changed = *in.Role, append(changed, "role")
		}
		if in.ProjectID != nil && *in.ProjectID != cur.ProjectID {
			next.ProjectID, changed = *in.ProjectID, append(changed, "project_id")
		}
		if in.TokenTTL != nil && *in.TokenTTL != cur.TokenTTL {
			next.TokenTTL, changed = *in.TokenTTL, append(changed, "token_ttl")
			if next.TokenTTL == "" {
				next.TokenTTL = "15m"
			}
		}
		if in.Credentials != nil && !slices.Equal(*in.Credentials, cur.Credentials) {
			next.Credentials, changed = nonNilList(*in.Credentials), append(changed, "credentials")
		}
		out = next
		if len(changed) == 0 {
			return nil
		}
		fields := checkRuleShape(next)
		if slices.Contains(changed, "name") {
			fields = append(checkName(next.Name), fields...)
		}
		if len(fields) > 0 {
			return invalid(fields...)
		}
		if err := checkRuleReferences(ctx, tx, p.OrgID, next); err != nil {
			return err
		}
		next.Version, next.UpdatedAt = cur.Version+1, s.now()
		if err := tx.UpdateFederationRule(ctx, p.OrgID, next, cur.Version); err != nil {
			if errors.Is(err, store.ErrDuplicate) {
				return conflict(fmt.Sprintf("A federation rule named %q already exists.", next.Name))
			}
			return storeErr(err, "federation rule", id)
		}
		out = next
		return s.audit(ctx, tx, p, "update", "federation_rule", id, changed)
	})
	if errors.Is(err, store.ErrVersionMismatch) {
		return api.FederationRule{}, lostRace("federation rule", id)
	}
	if err == nil && out.Version != 0 {
		s.forgetRuleTokens(id)
	}
	return out, err
}

// DeleteFederationRule deletes a rule and every token issued under it.
func (s *Service) DeleteFederationRule(ctx context.Context, p Principal, id string, ifMatch int64) error {
	if err := requireOrgAdmin(p); err != nil {
		return err
	}
	err := s.tx(ctx, func(tx store.Tx) error {
		cur, err := tx.GetFederationRule(ctx, p.OrgID, id)
		if err != nil {
			return storeErr(err, "federation rule", id)
		}
		if ifMatch != 0 && ifMatch != cur.Version {
			return preconditionFailed("federation rule", id, ifMatch, cur.Version)
		}
		if err := tx.DeleteFederationRule(ctx, p.OrgID, id); err != nil {
			return storeErr(err, "federation rule", id)
		}
		return s.audit(ctx, tx, p, "delete", "federation_rule", id, nil)
	})
	if err == nil {
		s.forgetRuleTokens(id)
	}
	return err
}

// checkRuleShape checks what a rule's own fields must be (no database needed).
func checkRuleShape(r api.FederationRule) []api.FieldError {
	var out []api.FieldError
	switch r.Kind {
	case api.FederationWorkload:
		if r.Role != api.RoleViewer && r.Role != api.RoleEditor {
			out = append(out, api.FieldError{Field: "role", Message: fmt.Sprintf("a workload rule's role is %q or %q, not %q: a machine never gets an admin token.", api.RoleViewer, api.RoleEditor, r.Role)})
		}
	case api.FederationPeople:
		if !ValidRole(r.Role) {
			out = append(out, api.FieldError{Field: "role", Message: fmt.Sprintf("role must be %q, %q or %q, not %q.", api.RoleViewer, api.RoleEditor, api.RoleAdmin, r.Role)})
		}
		if len(r.Credentials) > 0 {
			out = append(out, api.FieldError{Field: "credentials", Message: "credentials are for workload rules (the keyless credentials a job may fetch vendor tokens for); a people rule has none."})
		}
	default:
		out = append(out, api.FieldError{Field: "kind", Message: fmt.Sprintf("kind must be %q (token exchange) or %q (console sign-in), not %q.", api.FederationWorkload, api.FederationPeople, r.Kind)})
	}
	if err := federation.CheckConditions(r.Conditions); err != nil {
		out = append(out, api.FieldError{Field: "conditions", Message: err.Error() + "."})
	} else {
		for _, name := range slices.Sorted(maps.Keys(r.Conditions)) {
			if catalog.ValidateText(name) != nil || catalog.ValidateText(r.Conditions[name]) != nil {
				out = append(out, api.FieldError{Field: "conditions." + name, Message: "a condition's claim name and pattern must not hold control or invisible format characters."})
			}
		}
	}
	out = append(out, checkID("project_id", r.ProjectID)...)
	if _, err := parseTokenTTL(r.TokenTTL); err != nil {
		out = append(out, api.FieldError{Field: "token_ttl", Message: err.Error() + "."})
	}
	if len(r.Credentials) > maxRuleCreds {
		out = append(out, api.FieldError{Field: "credentials", Message: fmt.Sprintf("at most %d credentials.", maxRuleCreds)})
	}
	seen := map[string]bool{}
	for i, c := range r.Credentials {
		field := fmt.Sprintf("credentials[%d]", i)
		switch {
		case c == "*" && len(r.Credentials) > 1:
			out = append(out, api.FieldError{Field: field, Message: `"*" stands for every credential in the rule's scope and comes alone.`})
		case c == "" || catalog.ValidateText(c) != nil:
			out = append(out, api.FieldError{Field: field, Message: `a credential id, or "*".`})
		case seen[c]:
			out = append(out, api.FieldError{Field: field, Message: fmt.Sprintf("credential %q is listed twice.", c)})
		}
		seen[c] = true
	}
	return out
}

// parseTokenTTL reads a rule's token_ttl: a Go duration above zero and at most an hour.
func parseTokenTTL(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("token_ttl %q is not a duration; write it as Go does, such as \"15m\" or \"1h\"", s)
	}
	if d <= 0 || d > MaxTokenTTL {
		return 0, fmt.Errorf("token_ttl must be above 0 and at most 1h, not %s: a longer-lived token is what federation replaces", s)
	}
	return d, nil
}

// checkRuleReferences checks what a rule names, in the write's transaction: the provider (and what
// it must have for the rule's kind), the project, the credentials (in the rule's scope).
func checkRuleReferences(ctx context.Context, tx store.Tx, orgID string, r api.FederationRule) error {
	ip, err := tx.GetIdentityProvider(ctx, orgID, r.IdentityProviderID)
	if errors.Is(err, store.ErrNotFound) {
		return InvalidField("identity_provider_id", "identity provider %q does not exist in this organisation.", r.IdentityProviderID)
	}
	if err != nil {
		return err
	}
	switch {
	case r.Kind == api.FederationWorkload && len(ip.Audiences) == 0:
		return InvalidField("identity_provider_id", "identity provider %q has no audiences, so no workload token could be accepted; set the `aud` its tokens carry in its audiences first.", ip.Name)
	case r.Kind == api.FederationPeople && ip.ClientID == "":
		return InvalidField("identity_provider_id", "identity provider %q has no client_id, so nobody can sign in with it; set the console's OAuth client_id on it first.", ip.Name)
	}
	if r.ProjectID != "" {
		if _, err := tx.GetProject(ctx, orgID, r.ProjectID); errors.Is(err, store.ErrNotFound) {
			return InvalidField("project_id", "project %q does not exist in this organisation.", r.ProjectID)
		} else if err != nil {
			return err
		}
	}
	for i, id := range r.Credentials {
		if id == "*" {
			continue
		}
		c, err := tx.GetCredential(ctx, orgID, id)
		if errors.Is(err, store.ErrNotFound) {
			return InvalidField(fmt.Sprintf("credentials[%d]", i), "credential %q does not exist in this organisation.", id)
		}
		if err != nil {
			return err
		}
		if r.ProjectID != "" && c.ProjectID != r.ProjectID {
			return InvalidField(fmt.Sprintf("credentials[%d]", i), "credential %q is not in project %s, to which the rule confines its tokens.", id, r.ProjectID)
		}
	}
	return nil
}
