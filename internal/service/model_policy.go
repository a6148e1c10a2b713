package service

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// defaultPolicy is what a scope without a stored policy has: everything allowed.
func defaultPolicy(projectID string) api.ModelPolicy {
	return api.ModelPolicy{ProjectID: projectID, Mode: api.PolicyAll, Models: []string{}, Publishers: []string{}}
}

func (s *Service) policyOf(ctx context.Context, tx store.Tx, orgID, projectID string) (api.ModelPolicy, error) {
	pol, err := tx.GetModelPolicy(ctx, orgID, projectID)
	if errors.Is(err, store.ErrNotFound) {
		return defaultPolicy(projectID), nil
	}
	return pol, err
}

func (s *Service) effectivePolicy(ctx context.Context, tx store.Tx, orgID, projectID string) (effectivePolicy, error) {
	org, err := s.policyOf(ctx, tx, orgID, "")
	if err != nil {
		return effectivePolicy{}, err
	}
	e := effectivePolicy{org: org, projectID: projectID}
	if projectID != "" {
		if e.project, err = s.policyOf(ctx, tx, orgID, projectID); err != nil {
			return effectivePolicy{}, err
		}
	}
	return e, nil
}

// GetModelPolicy reads a scope's own policy (not the effective one).
func (s *Service) GetModelPolicy(ctx context.Context, p Principal, projectID string) (api.ModelPolicy, error) {
	var pol api.ModelPolicy
	err := s.read(ctx, func(tx store.Tx) error {
		if err := projectMustExist(ctx, tx, p, projectID); err != nil {
			return err
		}
		var err error
		pol, err = s.policyOf(ctx, tx, p.OrgID, projectID)
		return err
	})
	return pol, err
}

// PutModelPolicy writes a scope's policy.
func (s *Service) PutModelPolicy(ctx context.Context, p Principal, projectID string, in api.ModelPolicyPut, ifMatch int64) (api.ModelPolicy, error) {
	if err := requireWrite(p); err != nil {
		return api.ModelPolicy{}, err
	}
	if fields := checkPolicy(in); len(fields) > 0 {
		return api.ModelPolicy{}, invalid(fields...)
	}
	next := api.ModelPolicy{ProjectID: projectID, Mode: in.Mode, Models: sortedUnique(in.Models), Publishers: sortedUnique(in.Publishers), UpdatedAt: s.now()}
	err := s.tx(ctx, func(tx store.Tx) error {
		if err := projectMustExist(ctx, tx, p, projectID); err != nil {
			return err
		}
		cur, err := s.policyOf(ctx, tx, p.OrgID, projectID)
		if err != nil {
			return err
		}
		if ifMatch != 0 && ifMatch != cur.Version {
			return preconditionFailed("model policy", policyObjectID(projectID), ifMatch, cur.Version)
		}
		if cur.Mode == next.Mode && slices.Equal(cur.Models, next.Models) && slices.Equal(cur.Publishers, next.Publishers) && cur.Version > 0 {
			next = cur
			return nil
		}
		next.Version = cur.Version + 1
		if err := tx.PutModelPolicy(ctx, p.OrgID, next, cur.Version); err != nil {
			return err
		}
		return s.audit(ctx, tx, p, "update", "model_policy", policyObjectID(projectID), []string{"mode", "models", "publishers"})
	})
	if errors.Is(err, store.ErrVersionMismatch) {
		return api.ModelPolicy{}, lostRace("model policy", policyObjectID(projectID))
	}
	return next, err
}

// DeleteModelPolicy resets a scope to mode all. ifMatch, when not zero, is the version the caller last
// read (412 when the policy changed since).
func (s *Service) DeleteModelPolicy(ctx context.Context, p Principal, projectID string, ifMatch int64) error {
	return s.deleteScopePolicy(ctx, p, projectID, ifMatch, "model policy", "model_policy",
		func(tx store.Tx) (int64, error) {
			cur, err := s.policyOf(ctx, tx, p.OrgID, projectID)
			return cur.Version, err
		},
		func(tx store.Tx) error { return tx.DeleteModelPolicy(ctx, p.OrgID, projectID) })
}

// deleteScopePolicy resets one scope's policy (model or credential): the project must exist, ifMatch
// (when not zero) must be the current version, a scope without a policy is already reset, and the
// reset is audited. kind names the policy in errors, objectType in the audit log.
func (s *Service) deleteScopePolicy(ctx context.Context, p Principal, projectID string, ifMatch int64, kind, objectType string,
	version func(store.Tx) (int64, error), del func(store.Tx) error) error {
	if err := requireWrite(p); err != nil {
		return err
	}
	return s.tx(ctx, func(tx store.Tx) error {
		if err := projectMustExist(ctx, tx, p, projectID); err != nil {
			return err
		}
		if ifMatch != 0 {
			cur, err := version(tx)
			if err != nil {
				return err
			}
			if ifMatch != cur {
				return preconditionFailed(kind, policyObjectID(projectID), ifMatch, cur)
			}
		}
		err := del(tx)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, p, "delete", objectType, policyObjectID(projectID), nil)
	})
}

func policyObjectID(projectID string) string {
	if projectID == "" {
		return "organization"
	}
	return projectID
}

func projectMustExist(ctx context.Context, tx store.Tx, p Principal, projectID string) error {
	// Every policy entry point (and the models list) comes through here: a principal confined to a
	// project reaches only that project's policies (project_scope.go).
	if err := scopeOfPolicy(p, projectID); err != nil {
		return err
	}
	if projectID == "" {
		return nil
	}
	_, err := tx.GetProject(ctx, p.OrgID, projectID)
	return storeErr(err, "project", projectID)
}

func checkPolicy(in api.ModelPolicyPut) []api.FieldError {
	var out []api.FieldError
	switch in.Mode {
	case api.PolicyAll:
		if len(in.Models) > 0 || len(in.Publishers) > 0 {
			out = append(out, api.FieldError{Field: "mode", Message: `mode "all" allows every model, so models and publishers must be empty; use "allowlist" or "denylist" to list them.`})
		}
	case api.PolicyAllowlist, api.PolicyDenylist:
	default:
		out = append(out, api.FieldError{Field: "mode", Message: fmt.Sprintf(`mode must be "all", "allowlist" or "denylist", not %q.`, in.Mode)})
	}
	for _, m := range in.Models {
		if err := catalog.ValidateModelRef(m); err != nil {
			out = append(out, api.FieldError{Field: "models", Message: err.Error()})
		}
	}
	for _, pub := range in.Publishers {
		if err := catalog.ValidatePublisher(pub); err != nil {
			out = append(out, api.FieldError{Field: "publishers", Message: err.Error() + "."})
		}
	}
	return out
}

func sortedUnique(in []string) []string {
	out := slices.Clone(in)
	slices.Sort(out)
	out = slices.Compact(out)
	if out == nil {
		out = []string{}
	}
	return out
}

// ModelFilter narrows ListModels.
type ModelFilter struct {
	Provider, Publisher, Capability, ProjectID string
	// CredentialID lists the models that credential's key reaches instead of the catalog's.
	CredentialID string
}

// ListModels lists catalog models with whether the effective policy of the scope allows each.
func (s *Service) ListModels(ctx context.Context, p Principal, f ModelFilter) (api.List[api.Model], error) {
	out := api.List[api.Model]{Items: []api.Model{}}
	if p.Scoped() && f.ProjectID == "" && f.CredentialID == "" {
		f.ProjectID = p.ProjectID // judged by the policy of the principal's project, the only one it may see
	}
	if f.CredentialID != "" {
		if f.ProjectID != "" {
			return out, InvalidField("project_id", "project_id and credential_id do not go together: a credential's models are judged by the policy of its own scope.")
		}
		reached, err := s.CredentialModels(ctx, p, f.CredentialID)
		if err != nil {
			return out, err
		}
		for _, m := range reached.Items {
			if modelMatches(m, f) {
				out.Items = append(out.Items, m)
			}
		}
		return out, nil
	}
	err := s.read(ctx, func(tx store.Tx) error {
		if err := projectMustExist(ctx, tx, p, f.ProjectID); err != nil {
			return err
		}
		pol, err := s.effectivePolicy(ctx, tx, p.OrgID, f.ProjectID)
		if err != nil {
			return err
		}
		for _, m := range catalog.Models() {
			if !modelMatches(m, f) {
				continue
			}
			m.Allowed = pol.decide(m.Provider, m.ID, m.Publisher).Allowed
			out.Items = append(out.Items, m)
		}
		return nil
	})
	return out, err
}

func modelMatches(m api.Model, f ModelFilter) bool {
	return (f.Provider == "" || m.Provider == f.Provider) && (f.Publisher == "" || m.Publisher == f.Publisher) &&
		(f.Capability == "" || catalog.HasCapability(m, f.Capability))
}
