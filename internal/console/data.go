package console

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// The console reads whole lists through the service's paged methods: an organisation holds at most
// a few hundred credentials (the server's --max-credentials), so a page shows all of them.

const pageSize = 500

// maxAuditScan bounds the audit events read to find each object's history: the store pages the log
// oldest first, so the console reads it through to the newest.
const maxAuditScan = 100_000

// every reads all pages of a list: page fetches the one after the given token ("" for the first).
func every[T any](page func(after string) (api.List[T], error)) ([]T, error) {
	var out []T
	after := ""
	for {
		got, err := page(after)
		if err != nil {
			return nil, err
		}
		out = append(out, got.Items...)
		if got.NextPageToken == "" {
			return out, nil
		}
		after = got.NextPageToken
	}
}

func (c *Console) allCredentials(ctx context.Context, p service.Principal, f store.CredentialFilter) ([]api.Credential, error) {
	f.Limit = pageSize
	return every(func(after string) (api.List[api.Credential], error) {
		f.AfterID = after
		return c.svc.ListCredentials(ctx, p, f)
	})
}

func (c *Console) allConnections(ctx context.Context, p service.Principal, f store.ConnectionFilter) ([]api.Connection, error) {
	f.Limit = pageSize
	return every(func(after string) (api.List[api.Connection], error) {
		f.AfterID = after
		return c.svc.ListConnections(ctx, p, f)
	})
}

// allProjects is every project, by name.
func (c *Console) allProjects(ctx context.Context, p service.Principal) ([]api.Project, error) {
	out, err := every(func(after string) (api.List[api.Project], error) {
		return c.svc.ListProjects(ctx, p, "", after, pageSize)
	})
	slices.SortFunc(out, func(a, b api.Project) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	return out, err
}

// inventory is what the overview pages list together: every project and, as asked, every
// credential and connection the principal can see.
type inventory struct {
	projects    []api.Project
	credentials []api.Credential
	connections []api.Connection
}

func (c *Console) inventory(ctx context.Context, p service.Principal, credentials, connections bool) (inv inventory, err error) {
	if inv.projects, err = c.allProjects(ctx, p); err != nil {
		return inv, err
	}
	if credentials {
		if inv.credentials, err = c.allCredentials(ctx, p, store.CredentialFilter{}); err != nil {
			return inv, err
		}
	}
	if connections {
		inv.connections, err = c.allConnections(ctx, p, store.ConnectionFilter{})
	}
	return inv, err
}

// auditLog is the organisation's audit events, oldest first, and whether maxAuditScan cut it short.
type auditLog struct {
	events    []api.AuditEvent
	truncated bool
}

func (c *Console) readAudit(ctx context.Context, p service.Principal) (auditLog, error) {
	var log auditLog
	var after int64
	for {
		page, err := c.svc.ListAudit(ctx, p, after, pageSize)
		if err != nil {
			return log, err
		}
		log.events = append(log.events, page.Items...)
		if page.NextPageToken == "" {
			return log, nil
		}
		if len(log.events) >= maxAuditScan {
			log.truncated = true
			return log, nil
		}
		if after, err = strconv.ParseInt(page.NextPageToken, 10, 64); err != nil {
			return log, err
		}
	}
}

// of lists the events of one object, newest first.
func (l auditLog) of(objectID string) []api.AuditEvent {
	var out []api.AuditEvent
	for i := len(l.events) - 1; i >= 0; i-- {
		if l.events[i].ObjectID == objectID {
			out = append(out, l.events[i])
		}
	}
	return out
}

// byObject is each object's events, newest first.
func (l auditLog) byObject() map[string][]api.AuditEvent {
	out := map[string][]api.AuditEvent{}
	for i := len(l.events) - 1; i >= 0; i-- {
		e := l.events[i]
		out[e.ObjectID] = append(out[e.ObjectID], e)
	}
	return out
}

// keySetAt is when a credential's secret was last written (its create or a rotation), from its
// events (newest first); nil when the log does not say.
func keySetAt(events []api.AuditEvent) *api.AuditEvent {
	for i := range events {
		if slices.Contains(events[i].Fields, api.SecretAPIKey) || slices.Contains(events[i].Fields, api.SecretAuthToken) {
			return &events[i]
		}
	}
	return nil
}
