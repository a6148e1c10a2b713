package store

import (
	"context"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

// AuditQuery narrows SearchAudit: events with id below BeforeID (0: from the newest), newest first,
// of one object, actor or action when those are set (exact matches; each has an index, migration
// 0011), at most Limit of them.
type AuditQuery struct {
	BeforeID   int64
	ObjectID   string
	ObjectType string
	Actor      string
	Action     string
	Limit      int
}

// Credential sorts of SearchCredentials.
const (
	SortName    = "name"    // by name, A to Z
	SortNewest  = "newest"  // newest first
	SortRotated = "rotated" // the longest unrotated key first
)

// CredentialSearch narrows and orders SearchCredentials. Query keeps the credentials whose name or a
// label holds it (case-insensitive; "key=value" matches that label exactly). After is the keyset
// cursor of the page before (the sort value and id of its last row, as CredentialCursor makes it).
type CredentialSearch struct {
	Query     string
	ProjectID string // "" all, OrgScope ("-") the organisation's, else that project's
	Provider  string
	Status    string
	Sort      string
	// AfterKey is the last row's sort value: its name, its id, or its rotated_at in RFC 3339.
	AfterKey string
	AfterID  string
	Limit    int
}

// ConsoleReads are the bounded reads of the web console's pages: each touches only the rows the page
// shows (or an index), never the whole audit log or every credential.
type ConsoleReads interface {
	// SearchAudit lists the organisation's events newest first, narrowed by q.
	SearchAudit(ctx context.Context, orgID string, q AuditQuery) ([]api.AuditEvent, error)
	// SearchCredentials is one page of credentials, narrowed and sorted (keyset paging on an index
	// of the sort column, migration 0011).
	SearchCredentials(ctx context.Context, orgID string, q CredentialSearch) ([]api.Credential, error)
	// LatestEvents is the newest event of each object among ids.
	LatestEvents(ctx context.Context, orgID string, ids []string) (map[string]api.AuditEvent, error)
	// ObjectNames names the credentials, connections and projects among ids; ids it does not know
	// (deleted objects, tokens) are absent from the answer.
	ObjectNames(ctx context.Context, orgID string, ids []string) (map[string]string, error)
	// ConnectionRefs are the id, name, credential and model of each connection of one scope ("" the
	// organisation), without the statuses a full read computes: the models page names them.
	ConnectionRefs(ctx context.Context, orgID, projectID string) ([]ConnectionRef, error)
	// CountByProject counts the credentials and connections of each scope ("" the organisation).
	CountByProject(ctx context.Context, orgID string) (credentials, connections map[string]int, err error)
}

// ConnectionRef names a connection and what it connects.
type ConnectionRef struct {
	ID, Name, CredentialID, Provider, Model string
}
