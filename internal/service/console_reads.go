package service

import (
	"context"
	"strconv"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// The web console's bounded reads. Each page reads what it shows, through an index, so its cost does
// not grow with the audit log or the number of credentials.

// SearchAudit is a page of the audit log, newest first, narrowed by object, actor and action; its
// NextPageToken is the id to pass as BeforeID for the page after (older events).
func (s *Service) SearchAudit(ctx context.Context, p Principal, q store.AuditQuery) (api.List[api.AuditEvent], error) {
	limit := clampLimit(q.Limit)
	q.Limit = limit + 1
	out := api.List[api.AuditEvent]{Items: []api.AuditEvent{}}
	err := s.read(ctx, func(tx store.Tx) error {
		items, err := tx.SearchAudit(ctx, p.OrgID, q)
		if err != nil {
			return err
		}
		if len(items) > limit {
			items = items[:limit]
			out.NextPageToken = strconv.FormatInt(items[limit-1].ID, 10)
		}
		out.Items = items
		return nil
	})
	return out, err
}

// ObjectNames names the credentials, connections and projects among ids (at most 500), for pages that
// show audit events with names as well as ids.
func (s *Service) ObjectNames(ctx context.Context, p Principal, ids []string) (map[string]string, error) {
	if len(ids) > 500 {
		ids = ids[:500]
	}
	var out map[string]string
	err := s.read(ctx, func(tx store.Tx) (err error) {
		out, err = tx.ObjectNames(ctx, p.OrgID, ids)
		return err
	})
	return out, err
}

// CountCredentials is how many credentials the organisation holds (the number --max-credentials
// caps), from the organisation's counter.
func (s *Service) CountCredentials(ctx context.Context, p Principal) (int, error) {
	var n int
	err := s.read(ctx, func(tx store.Tx) (err error) {
		n, err = tx.CountCredentials(ctx, p.OrgID)
		return err
	})
	return n, err
}

// CountByProject counts credentials and connections per scope ("" the organisation). A principal
// confined to a project sees only its counts.
func (s *Service) CountByProject(ctx context.Context, p Principal) (credentials, connections map[string]int, err error) {
	err = s.read(ctx, func(tx store.Tx) (err error) {
		credentials, connections, err = tx.CountByProject(ctx, p.OrgID)
		return err
	})
	if err == nil && p.Scoped() {
		for _, m := range []map[string]int{credentials, connections} {
			for k := range m {
				if k != p.ProjectID {
					delete(m, k)
				}
			}
		}
	}
	return credentials, connections, err
}
