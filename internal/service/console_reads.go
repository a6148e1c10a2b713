package service

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// The web console's bounded reads. Each page reads what it shows, through an index, so its cost does
// not grow with the audit log or the number of credentials.

// SearchAudit is a page of the audit log, newest first, narrowed by object, actor and action; its
// NextPageToken is the id to pass as BeforeID for the page after (older events).
func (s *Service) SearchAudit(ctx context.Context, p Principal, q store.AuditQuery) (api.List[api.AuditEvent], error) {
	if err := requireUnscoped(p, "the organisation's audit log"); err != nil {
		return api.List[api.AuditEvent]{}, err
	}
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

// CredentialSearchPage is one page of SearchCredentials.
type CredentialSearchPage struct {
	Items []api.Credential
	// NextKey and NextID are the cursor of the next page; NextID is "" on the last page.
	NextKey, NextID string
	// Scanned is how many credentials were read to fill the page: the lifecycle and violation
	// filters are computed, so a rare match can need more than one batch (at most maxSearchScan).
	Scanned int
}

// maxSearchScan bounds the credentials one search reads when a computed filter (lifecycle status,
// policy violations) drops rows: the page then ends early, with a cursor to read on.
const maxSearchScan = 300

// SearchCredentials is a page of credentials for the console: the store's filters and order, then the
// lifecycle status and policy violations the service computes, filtered when asked (lifecycle "" and
// violations false do not filter).
func (s *Service) SearchCredentials(ctx context.Context, p Principal, q store.CredentialSearch, lifecycle string, violations bool) (CredentialSearchPage, error) {
	if lifecycle != "" && !slices.Contains(api.LifecycleStatuses, lifecycle) {
		return CredentialSearchPage{}, InvalidField("lifecycle_status", "lifecycle_status must be one of %s, not %q.", strings.Join(api.LifecycleStatuses, ", "), lifecycle)
	}
	if p.Scoped() {
		q.ProjectID = p.ProjectID
	}
	limit := clampLimit(q.Limit)
	out := CredentialSearchPage{Items: []api.Credential{}}
	err := s.read(ctx, func(tx store.Tx) error {
		cache := newLifecycleCache(s, tx, p.OrgID)
		for {
			q.Limit = limit + 1
			items, err := tx.SearchCredentials(ctx, p.OrgID, q)
			if err != nil {
				return err
			}
			more := len(items) > limit
			if more {
				items = items[:limit]
			}
			for i := range items {
				c := &items[i]
				out.Scanned++
				if err := cache.fill(ctx, c); err != nil {
					return err
				}
				q.AfterKey, q.AfterID = sortKey(q.Sort, *c), c.ID
				if (lifecycle != "" && c.LifecycleStatus != lifecycle) || (violations && len(c.PolicyViolations) == 0) {
					continue
				}
				out.Items = append(out.Items, *c)
				if len(out.Items) == limit {
					if more || i < len(items)-1 {
						out.NextKey, out.NextID = q.AfterKey, q.AfterID
					}
					return nil
				}
			}
			if !more {
				return nil
			}
			if out.Scanned >= maxSearchScan {
				out.NextKey, out.NextID = q.AfterKey, q.AfterID
				return nil
			}
		}
	})
	return out, err
}

// sortKey is c's value of the sort column, as the store compares it.
func sortKey(sort string, c api.Credential) string {
	switch sort {
	case store.SortNewest:
		return c.ID
	case store.SortRotated:
		return c.RotatedAt.UTC().Format(time.RFC3339Nano)
	}
	return c.Name
}

// LatestEvents is each object's newest audit event, for lists that show the last change.
func (s *Service) LatestEvents(ctx context.Context, p Principal, ids []string) (map[string]api.AuditEvent, error) {
	var out map[string]api.AuditEvent
	err := s.read(ctx, func(tx store.Tx) (err error) {
		out, err = tx.LatestEvents(ctx, p.OrgID, ids)
		return err
	})
	return out, err
}

// ConnectionRefs names the connections of one scope ("" the organisation) and what they connect; a
// principal confined to another project gets none.
func (s *Service) ConnectionRefs(ctx context.Context, p Principal, projectID string) ([]store.ConnectionRef, error) {
	if p.Scoped() && p.ProjectID != projectID {
		return []store.ConnectionRef{}, nil
	}
	var out []store.ConnectionRef
	err := s.read(ctx, func(tx store.Tx) (err error) {
		out, err = tx.ConnectionRefs(ctx, p.OrgID, projectID)
		return err
	})
	return out, err
}
