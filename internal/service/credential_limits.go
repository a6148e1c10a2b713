package service

import (
	"context"
	"fmt"
	"slices"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

func (s *Service) checkCredentialLimits(ctx context.Context, tx store.Tx, p Principal, provider string) error {
	if s.cfg.Limits.MaxCredentialsPerOrg > 0 || len(s.cfg.Limits.OnePerProvider) > 0 {
		// Count-then-insert holds across replicas only when the creates of one organisation take turns
		// (under READ COMMITTED two of them would both count one short of the limit and both insert).
		if err := tx.LockOrganization(ctx, p.OrgID); err != nil {
			return err
		}
	}
	if limit := s.cfg.Limits.MaxCredentialsPerOrg; limit > 0 {
		n, err := tx.CountCredentials(ctx, p.OrgID)
		if err != nil {
			return err
		}
		if n >= limit {
			return &Error{Status: StatusUnprocessable, Title: "Limit reached",
				Detail: fmt.Sprintf("This organisation already has %d credentials, the most this server allows; delete unused ones, "+
					"or have its operator raise the limit: modelkeys-server serve --max-credentials N (or MODELKEYS_MAX_CREDENTIALS; the default is %d, 0 means no limit).",
					n, DefaultLimits().MaxCredentialsPerOrg)}
		}
	}
	if slices.Contains(s.cfg.Limits.OnePerProvider, provider) {
		existing, err := tx.ListCredentials(ctx, p.OrgID, store.CredentialFilter{Provider: provider, Limit: 1})
		if err != nil {
			return err
		}
		if len(existing) > 0 {
			return conflict(fmt.Sprintf("This server allows one %s credential per organisation, and %q exists; update it instead.", provider, existing[0].Name), existing[0].ID)
		}
	}
	return nil
}
