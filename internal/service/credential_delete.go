package service

import (
	"context"
	"fmt"
	"strings"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// DeleteCredential removes a credential and its secrets. One that connections use is refused with a
// 409 naming them, unless force is set: then an admin may delete it anyway, and its connections are
// left without a credential and invalid until they are pointed at another. Each detached connection
// is audited as an update, the credential's delete with the connections it left.
func (s *Service) DeleteCredential(ctx context.Context, p Principal, id string, ifMatch int64, force bool) error {
	if err := requireWrite(p); err != nil {
		return err
	}
	if force {
		if err := requireAdmin(p); err != nil {
			return err
		}
	}
	if err := s.credentialInScope(ctx, p, id); err != nil {
		return err
	}
	var retire []string
	err := s.tx(ctx, func(tx store.Tx) error {
		c, err := tx.GetCredential(ctx, p.OrgID, id)
		if err != nil {
			return storeErr(err, "credential", id)
		}
		if ifMatch != 0 && ifMatch != c.Version {
			return preconditionFailed("credential", id, ifMatch, c.Version)
		}
		if len(c.ConnectionIDs) > 0 && !force {
			return conflict(fmt.Sprintf("Credential %q is used by %d connection(s): %s. Delete those connections or point them at another credential first, or, as an admin, delete it with force=true to leave them invalid.",
				c.Name, len(c.ConnectionIDs), strings.Join(c.ConnectionIDs, ", ")), c.ConnectionIDs...)
		}
		if retire, err = s.deleteRotationRules(ctx, tx, p, c); err != nil {
			return err
		}
		for _, connID := range c.ConnectionIDs {
			if err := s.detachConnection(ctx, tx, p, connID, c); err != nil {
				return err
			}
		}
		if err := tx.DeleteCredential(ctx, p.OrgID, id); err != nil {
			return storeErr(err, "credential", id)
		}
		var fields []string
		if len(c.ConnectionIDs) > 0 {
			fields = []string{"force"} // the connections' own events say which were detached
		}
		return s.audit(ctx, tx, p, "delete", "credential", id, fields)
	})
	for _, rid := range retire {
		if err != nil {
			break
		}
		// A managed credential's keys are revoked now if the vendor answers; otherwise the sweep does.
		if _, rerr := s.driveRotation(ctx, rid, true); rerr != nil {
			s.log.Warn("the deleted credential's key could not be revoked yet; the rotation sweep retries", "credential", id, "error", rerr)
		}
	}
	return err
}

// detachConnection leaves a connection of cred without a credential, as a forced delete of cred does.
func (s *Service) detachConnection(ctx context.Context, tx store.Tx, p Principal, connID string, cred api.Credential) error {
	conn, err := tx.GetConnection(ctx, p.OrgID, connID)
	if err != nil {
		return storeErr(err, "connection", connID)
	}
	next := conn
	next.CredentialID, next.Status = "", api.ConnectionInvalid
	next.StatusMessage = fmt.Sprintf("Its credential %q (%s, %s) was deleted by %s; point credential_id at another credential.",
		cred.Name, cred.ID, cred.Provider, p.Actor)
	next.Version, next.UpdatedAt = conn.Version+1, s.now()
	if err := tx.UpdateConnection(ctx, p.OrgID, next, conn.Version); err != nil {
		return storeErr(err, "connection", connID)
	}
	return s.auditChanges(ctx, tx, p, "update", "connection", connID, []string{"credential_id"},
		[]api.AuditChange{{Field: "credential_id", From: cred.ID, To: ""}})
}
