package service

import (
	"context"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// BlockedConnection is a connection a proposed model policy would block, and the rule that would.
type BlockedConnection struct {
	store.ConnectionRef
	ProjectID string
	Reason    string
}

// maxPreviewBlocked bounds the connections a preview names; Total still counts them all.
const maxPreviewBlocked = 200

// PolicyPreview is what PreviewModelPolicy finds.
type PolicyPreview struct {
	Blocked []BlockedConnection
	// Total is how many connections the policy would block; Newly how many of those the current
	// policy allows (the change's own effect).
	Total, Newly int
}

// PreviewModelPolicy says which connections would be blocked if projectID's policy were in, without
// writing anything: the same checks as PutModelPolicy (a 422 for a policy it would refuse) and the
// same decision connections are judged by (effectivePolicy.decide). The organisation's policy judges
// every scope's connections; a project's, that project's.
func (s *Service) PreviewModelPolicy(ctx context.Context, p Principal, projectID string, in api.ModelPolicyPut) (PolicyPreview, error) {
	var out PolicyPreview
	if fields := checkPolicy(in); len(fields) > 0 {
		return out, invalid(fields...)
	}
	proposed := api.ModelPolicy{ProjectID: projectID, Mode: in.Mode, Models: sortedUnique(in.Models), Publishers: sortedUnique(in.Publishers)}
	err := s.read(ctx, func(tx store.Tx) error {
		if err := projectMustExist(ctx, tx, p, projectID); err != nil {
			return err
		}
		scopes := []string{projectID}
		if projectID == "" {
			for after := ""; ; {
				projects, err := tx.ListProjects(ctx, p.OrgID, "", after, 500)
				if err != nil {
					return err
				}
				for _, pr := range projects {
					scopes = append(scopes, pr.ID)
				}
				if len(projects) < 500 {
					break
				}
				after = projects[len(projects)-1].ID
			}
		}
		for _, scope := range scopes {
			now, err := s.effectivePolicy(ctx, tx, p.OrgID, scope)
			if err != nil {
				return err
			}
			next := now
			if projectID == "" {
				next.org = proposed
			} else {
				next.project = proposed
			}
			refs, err := tx.ConnectionRefs(ctx, p.OrgID, scope)
			if err != nil {
				return err
			}
			for _, ref := range refs {
				pub := connectionPublisher(ref.Provider, ref.Model)
				d := next.decide(ref.Provider, ref.Model, pub)
				if d.Allowed {
					continue
				}
				out.Total++
				if now.decide(ref.Provider, ref.Model, pub).Allowed {
					out.Newly++
				}
				if len(out.Blocked) < maxPreviewBlocked {
					out.Blocked = append(out.Blocked, BlockedConnection{ConnectionRef: ref, ProjectID: scope, Reason: d.Reason})
				}
			}
		}
		return nil
	})
	return out, err
}
