package service

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/idgen"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// CreateProject makes a project.
func (s *Service) CreateProject(ctx context.Context, p Principal, in api.ProjectCreate, idem *IdempotencyKey) (api.Project, bool, error) {
	if err := requireWrite(p); err != nil {
		return api.Project{}, false, err
	}
	if err := requireUnscoped(p, "the organisation's projects"); err != nil {
		return api.Project{}, false, err
	}
	if fields := append(checkName(in.Name), checkDescription(in.Description)...); len(fields) > 0 {
		return api.Project{}, false, invalid(fields...)
	}
	now := s.now()
	pr := api.Project{ID: idgen.New("proj"), Name: in.Name, Description: in.Description,
		InheritOrganizationCredentials: in.InheritOrganizationCredentials, Version: 1, CreatedAt: now, UpdatedAt: now}
	id, replayed, err := s.createOnce(ctx, p, idem, "project", func(tx store.Tx) (string, error) {
		if err := tx.InsertProject(ctx, p.OrgID, pr); err != nil {
			if errors.Is(err, store.ErrDuplicate) {
				return "", conflict(fmt.Sprintf("A project named %q already exists; project names are unique in an organisation.", in.Name))
			}
			return "", err
		}
		fields := []string{"name"}
		if in.Description != "" {
			fields = append(fields, "description")
		}
		if in.InheritOrganizationCredentials {
			fields = append(fields, "inherit_organization_credentials")
		}
		return pr.ID, s.audit(ctx, tx, p, "create", "project", pr.ID, fields)
	})
	if err != nil {
		return api.Project{}, false, err
	}
	if replayed {
		pr, err = s.GetProject(ctx, p, id)
	}
	return pr, replayed, err
}

// GetProject reads a project.
func (s *Service) GetProject(ctx context.Context, p Principal, id string) (api.Project, error) {
	var pr api.Project
	err := s.read(ctx, func(tx store.Tx) error {
		var err error
		if err := scopeHides(p, id, "project", id); err != nil {
			return err
		}
		pr, err = tx.GetProject(ctx, p.OrgID, id)
		return storeErr(err, "project", id)
	})
	return pr, err
}

// ListProjects pages projects, optionally by exact name.
func (s *Service) ListProjects(ctx context.Context, p Principal, name, after string, limit int) (api.List[api.Project], error) {
	return s.ListProjectsFiltered(ctx, p, name, "", after, limit)
}

// ListProjectsFiltered pages projects, optionally by exact name and by name prefix.
func (s *Service) ListProjectsFiltered(ctx context.Context, p Principal, name, namePrefix, after string, limit int) (api.List[api.Project], error) {
	limit = clampLimit(limit)
	out := api.List[api.Project]{Items: []api.Project{}}
	if name != "" && !strings.HasPrefix(name, namePrefix) {
		return out, nil // no name both is name and starts with namePrefix
	}
	if p.Scoped() {
		// A confined principal lists its own project, when it passes the filters.
		pr, err := s.GetProject(ctx, p, p.ProjectID)
		if _, gone := AsError(err); gone {
			return out, nil // its project is gone (a rule keeps it from being deleted, so rarely)
		} else if err != nil {
			return out, err
		}
		if (name == "" || pr.Name == name) && strings.HasPrefix(pr.Name, namePrefix) && pr.ID > after {
			out.Items = append(out.Items, pr)
		}
		return out, nil
	}
	err := s.read(ctx, func(tx store.Tx) error {
		var items []api.Project
		var err error
		if namePrefix != "" && name == "" {
			items, err = tx.ListProjectsByPrefix(ctx, p.OrgID, namePrefix, after, limit+1)
		} else {
			items, err = tx.ListProjects(ctx, p.OrgID, name, after, limit+1)
		}
		if err != nil {
			return err
		}
		items, out.NextPageToken = pageOf(items, limit, func(x api.Project) string { return x.ID })
		out.Items = append(out.Items, items...)
		return nil
	})
	return out, err
}

// UpdateProject patches a project.
func (s *Service) UpdateProject(ctx context.Context, p Principal, id string, in api.ProjectPatch, ifMatch int64) (api.Project, error) {
	if err := requireWrite(p); err != nil {
		return api.Project{}, err
	}
	if err := requireUnscoped(p, "changes to projects (its own is read-only to it)"); err != nil {
		return api.Project{}, err
	}
	var out api.Project
	err := s.tx(ctx, func(tx store.Tx) error {
		cur, err := tx.GetProject(ctx, p.OrgID, id)
		if err != nil {
			return storeErr(err, "project", id)
		}
		if ifMatch != 0 && ifMatch != cur.Version {
			return preconditionFailed("project", id, ifMatch, cur.Version)
		}
		next := cur
		var changed []string
		var fields []api.FieldError
		if in.Name != nil && *in.Name != cur.Name {
			fields = append(fields, checkName(*in.Name)...)
			next.Name, changed = *in.Name, append(changed, "name")
		}
		if in.Description != nil && *in.Description != cur.Description {
			fields = append(fields, checkDescription(*in.Description)...)
			next.Description, changed = *in.Description, append(changed, "description")
		}
		if in.InheritOrganizationCredentials != nil && *in.InheritOrganizationCredentials != cur.InheritOrganizationCredentials {
			next.InheritOrganizationCredentials = *in.InheritOrganizationCredentials
			changed = append(changed, "inherit_organization_credentials")
		}
		if len(fields) > 0 {
			return invalid(fields...)
		}
		out = next
		if len(changed) == 0 {
			return nil
		}
		if !next.InheritOrganizationCredentials && cur.InheritOrganizationCredentials {
			if err := refuseIfInheriting(ctx, tx, p, id); err != nil {
				return err
			}
		}
		next.Version, next.UpdatedAt = cur.Version+1, s.now()
		if err := tx.UpdateProject(ctx, p.OrgID, next, cur.Version); err != nil {
			if errors.Is(err, store.ErrDuplicate) {
				return conflict(fmt.Sprintf("A project named %q already exists.", next.Name))
			}
			return storeErr(err, "project", id)
		}
		out = next
		return s.audit(ctx, tx, p, "update", "project", id, changed)
	})
	if errors.Is(err, store.ErrVersionMismatch) {
		return api.Project{}, lostRace("project", id)
	}
	return out, err
}

// refuseIfInheriting stops a project from dropping inheritance while its connections use organisation
// credentials: they would lose their key without anyone noticing.
func refuseIfInheriting(ctx context.Context, tx store.Tx, p Principal, projectID string) error {
	conns, err := tx.ListConnections(ctx, p.OrgID, store.ConnectionFilter{ProjectID: projectID, Limit: 500})
	if err != nil {
		return err
	}
	var users []string
	for _, c := range conns {
		cred, err := tx.GetCredential(ctx, p.OrgID, c.CredentialID)
		if err == nil && cred.ProjectID == "" {
			users = append(users, c.ID)
		}
	}
	if len(users) > 0 {
		return conflict(fmt.Sprintf("Connections %s of this project use organisation credentials; point them at project credentials before turning inherit_organization_credentials off.", strings.Join(users, ", ")), users...)
	}
	return nil
}

// DeleteProject removes an empty project and its model policy.
func (s *Service) DeleteProject(ctx context.Context, p Principal, id string, ifMatch int64) error {
	if err := requireWrite(p); err != nil {
		return err
	}
	if err := requireUnscoped(p, "changes to projects (its own is read-only to it)"); err != nil {
		return err
	}
	return s.tx(ctx, func(tx store.Tx) error {
		cur, err := tx.GetProject(ctx, p.OrgID, id)
		if err != nil {
			return storeErr(err, "project", id)
		}
		if ifMatch != 0 && ifMatch != cur.Version {
			return preconditionFailed("project", id, ifMatch, cur.Version)
		}
		var users []string
		creds, err := tx.ListCredentials(ctx, p.OrgID, store.CredentialFilter{ProjectID: id, Limit: 500})
		if err != nil {
			return err
		}
		for _, c := range creds {
			users = append(users, c.ID)
		}
		conns, err := tx.ListConnections(ctx, p.OrgID, store.ConnectionFilter{ProjectID: id, Limit: 500})
		if err != nil {
			return err
		}
		for _, c := range conns {
			users = append(users, c.ID)
		}
		rules, err := tx.ListFederationRules(ctx, p.OrgID, store.FederationRuleFilter{ProjectID: id, Limit: 500})
		if err != nil {
			return err
		}
		for _, r := range rules {
			users = append(users, r.ID) // a rule that confines its tokens to the project
		}
		if len(users) > 0 {
			return conflict(fmt.Sprintf("Project %q still holds %s; delete them first.", cur.Name, strings.Join(users, ", ")), users...)
		}
		if err := tx.DeleteModelPolicy(ctx, p.OrgID, id); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err := tx.DeleteProject(ctx, p.OrgID, id); err != nil {
			return storeErr(err, "project", id)
		}
		return s.audit(ctx, tx, p, "delete", "project", id, nil)
	})
}
