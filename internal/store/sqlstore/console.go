package sqlstore

import (
	"context"
	"strings"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// SearchAudit lists events newest first, below q.BeforeID, narrowed by object, actor and action.
// Each filter is an equality on an indexed column (org_id, column, id; migration 0013), so a page
// costs an index range scan of its own length however long the log is.
func (t *tx) SearchAudit(ctx context.Context, orgID string, q store.AuditQuery) ([]api.AuditEvent, error) {
	var where strings.Builder
	args := []any{orgID}
	where.WriteString("org_id = ?")
	if q.BeforeID > 0 {
		where.WriteString(" AND id < ?")
		args = append(args, q.BeforeID)
	}
	for _, f := range []struct{ col, v string }{{"object_id", q.ObjectID}, {"object_type", q.ObjectType}, {"actor", q.Actor}, {"action", q.Action}} {
		if f.v != "" {
			where.WriteString(" AND " + f.col + " = ?")
			args = append(args, f.v)
		}
	}
	args = append(args, limitOrDefault(q.Limit))
	rows, err := t.query(ctx, `SELECT `+auditColumns+` FROM audit_events WHERE `+where.String()+` ORDER BY id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, err
	}
	return scanAuditRows(rows)
}

// ObjectNames looks the ids up among credentials, connections and projects by primary key.
func (t *tx) ObjectNames(ctx context.Context, orgID string, ids []string) (map[string]string, error) {
	out := map[string]string{}
	if len(ids) == 0 {
		return out, nil
	}
	marks := strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",")
	args := make([]any, 0, 3*(len(ids)+1))
	var parts []string
	for _, table := range []string{"credentials", "connections", "projects"} {
		parts = append(parts, "SELECT id, name FROM "+table+" WHERE org_id = ? AND id IN ("+marks+")")
		args = append(args, orgID)
		for _, id := range ids {
			args = append(args, id)
		}
	}
	rows, err := t.query(ctx, strings.Join(parts, " UNION ALL "), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, err
		}
		out[id] = name
	}
	return out, rows.Err()
}

// CountByProject counts with two aggregates over the (org_id, project_id) indexes.
func (t *tx) CountByProject(ctx context.Context, orgID string) (map[string]int, map[string]int, error) {
	count := func(table string) (map[string]int, error) {
		rows, err := t.query(ctx, "SELECT project_id, COUNT(*) FROM "+table+" WHERE org_id = ? GROUP BY project_id", orgID)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		out := map[string]int{}
		for rows.Next() {
			var p string
			var n int
			if err := rows.Scan(&p, &n); err != nil {
				return nil, err
			}
			out[p] = n
		}
		return out, rows.Err()
	}
	creds, err := count("credentials")
	if err != nil {
		return nil, nil, err
	}
	conns, err := count("connections")
	return creds, conns, err
}
