package service

// Project scope: a principal whose ProjectID is set (a token exchanged under a federation rule with a
// project_id, or a console sign-in through such a people rule) sees and changes only that project's
// objects: its credentials, connections and policies, and the project itself, read-only. The
// organisation's own objects (organisation-wide credentials, connections and policies, other
// projects, the audit log, identity providers, federation rules) are out of its reach. Objects it
// reaches by id are a 404 when they lie outside its project (it learns nothing of them); requests
// that name another scope are a 403 that says which project the token is confined to.
//
// Every service entry point that takes a Principal and touches a scoped object calls one of these.

import (
	"context"
	"fmt"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// Scoped reports whether p is confined to one project.
func (p Principal) Scoped() bool { return p.ProjectID != "" }

// sees reports whether p may see an object of projectID's scope ("" is the organisation's).
func (p Principal) sees(projectID string) bool { return p.ProjectID == "" || p.ProjectID == projectID }

// scopeHides is the 404 of an object outside p's project (nil when p sees it): an object p may not
// see is, to p, an object that does not exist.
func scopeHides(p Principal, projectID, kind, id string) error {
	if p.sees(projectID) {
		return nil
	}
	return notFound(kind, id)
}

// scopeRefuses is the 403 of a request that names a scope other than p's project (nil when it names
// p's project, or p is not confined).
func scopeRefuses(p Principal, projectID, what string) error {
	if p.sees(projectID) {
		return nil
	}
	return forbidden(outOfScope(p, what))
}

func outOfScope(p Principal, what string) string {
	return fmt.Sprintf("%q is confined to project %s by its federation rule, so it cannot reach %s; use a token of the organisation, or a rule with that scope.", p.Actor, p.ProjectID, what)
}

// requireUnscoped is the 403 of an organisation-wide action (the audit log, projects' lifecycle) for
// a confined principal.
func requireUnscoped(p Principal, what string) error {
	if p.Scoped() {
		return forbidden(outOfScope(p, what))
	}
	return nil
}

// requireOrgAdmin: an admin of the whole organisation (identity providers and federation rules are
// the organisation's trust).
func requireOrgAdmin(p Principal) error {
	if err := requireAdmin(p); err != nil {
		return err
	}
	return requireUnscoped(p, "identity providers and federation rules")
}

// scopedListFilter turns a list's project filter into the one p may ask for: a confined principal
// lists its project ("" becomes its project); naming the organisation scope or another project is
// a 403.
func scopedListFilter(p Principal, projectID string) (string, error) {
	if !p.Scoped() {
		return projectID, nil
	}
	switch projectID {
	case "", p.ProjectID:
		return p.ProjectID, nil
	case "-":
		return "", forbidden(outOfScope(p, "the organisation's own objects"))
	}
	return "", forbidden(outOfScope(p, "project "+projectID))
}

// scopeOfPolicy checks a policy request for scope projectID ("" is the organisation's policy).
func scopeOfPolicy(p Principal, projectID string) error {
	if projectID == "" {
		return requireUnscoped(p, "the organisation's policies")
	}
	return scopeRefuses(p, projectID, "project "+projectID)
}

// credentialInScope is the 404 of a credential outside p's project; it costs a read only for a
// confined principal. Entry points that act on a credential by id call it before anything else (a
// credential never changes project, so the answer holds for the rest of the request).
func (s *Service) credentialInScope(ctx context.Context, p Principal, id string) error {
	if !p.Scoped() {
		return nil
	}
	var c api.Credential
	err := s.readOne(ctx, func(tx store.Tx) error {
		var err error
		c, err = tx.GetCredential(ctx, p.OrgID, id)
		return storeErr(err, "credential", id)
	})
	if err != nil {
		return err
	}
	return scopeHides(p, c.ProjectID, "credential", id)
}

// connectionInScope is credentialInScope for a connection.
func (s *Service) connectionInScope(ctx context.Context, p Principal, id string) error {
	if !p.Scoped() {
		return nil
	}
	var c api.Connection
	err := s.readOne(ctx, func(tx store.Tx) error {
		var err error
		c, err = tx.GetConnection(ctx, p.OrgID, id)
		return storeErr(err, "connection", id)
	})
	if err != nil {
		return err
	}
	return scopeHides(p, c.ProjectID, "connection", id)
}

// CredentialInScope is the 404 of a credential p may not see (outside its project); for the
// endpoints of other files that act on a credential by id (the access-token endpoint, rotation).
func (s *Service) CredentialInScope(ctx context.Context, p Principal, id string) error {
	return s.credentialInScope(ctx, p, id)
}

// scopeName names a scope in a refusal.
func scopeName(projectID string) string {
	if projectID == "" {
		return "the organisation's own objects (set project_id to its project)"
	}
	return "project " + projectID
}
