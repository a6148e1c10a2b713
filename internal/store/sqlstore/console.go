package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// SearchAudit lists events newest first, below q.BeforeID, narrowed by object, actor and action.
// Each filter is an equality on an indexed column (org_id, column, id; migration 0011), so a page
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

// SearchCredentials pages credentials in the order asked, after the cursor (sort value, id).
func (t *tx) SearchCredentials(ctx context.Context, orgID string, q store.CredentialSearch) ([]api.Credential, error) {
	l := newListQuery("c", credentialSelect, append(append([]any{}, credentialSelectArgs...), orgID))
	l.scope(q.ProjectID)
	l.eq("provider", q.Provider)
	l.eq("status", q.Status)
	if q.Query != "" {
		if k, v, ok := strings.Cut(q.Query, "="); ok && k != "" {
			// The labels column is a JSON object: one label is the text "key":"value".
			l.q += ` AND c.labels LIKE ? ESCAPE '\'`
			l.args = append(l.args, "%"+likeEscape(jsonString(k)+":"+jsonString(v))+"%")
		} else {
			pat := "%" + likeEscape(strings.ToLower(q.Query)) + "%"
			l.q += ` AND (LOWER(c.name) LIKE ? ESCAPE '\' OR LOWER(c.labels) LIKE ? ESCAPE '\')`
			l.args = append(l.args, pat, pat)
		}
	}
	col, desc := "c.name", false
	switch q.Sort {
	case store.SortNewest:
		col, desc = "c.id", true
	case store.SortRotated:
		col = "c.rotated_at"
	}
	if q.AfterID != "" {
		key := q.AfterKey
		if q.Sort == store.SortRotated {
			at, err := time.Parse(time.RFC3339Nano, key)
			if err != nil {
				return nil, fmt.Errorf("credential cursor: %w", err)
			}
			key = formatTime(at)
		}
		if col == "c.id" {
			l.q += " AND c.id < ?"
			l.args = append(l.args, q.AfterID)
		} else {
			// col >= key bounds the index range; the rest skips the rows of key up to the cursor's id.
			l.q += " AND " + col + " >= ? AND (" + col + " > ? OR c.id > ?)"
			l.args = append(l.args, key, key, q.AfterID)
		}
	}
	if desc {
		l.q += " ORDER BY c.id DESC"
	} else {
		l.q += " ORDER BY " + col + ", c.id"
	}
	l.q += " LIMIT ?"
	l.args = append(l.args, limitOrDefault(q.Limit))
	rows, err := t.query(ctx, l.q, l.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []api.Credential{}
	for rows.Next() {
		c, err := scanCredential(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(s)
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// LatestEvents finds each object's newest event id with one aggregate on the (org_id, object_id, id)
// index, then reads those events by primary key.
func (t *tx) LatestEvents(ctx context.Context, orgID string, ids []string) (map[string]api.AuditEvent, error) {
	out := map[string]api.AuditEvent{}
	if len(ids) == 0 {
		return out, nil
	}
	marks := strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",")
	args := []any{orgID}
	for _, id := range ids {
		args = append(args, id)
	}
	args = append(args, orgID)
	rows, err := t.query(ctx, `SELECT `+auditColumns+` FROM audit_events WHERE id IN (
		SELECT MAX(id) FROM audit_events WHERE org_id = ? AND object_id IN (`+marks+`) GROUP BY object_id) AND org_id = ?`, args...)
	if err != nil {
		return nil, err
	}
	events, err := scanAuditRows(rows)
	for _, e := range events {
		out[e.ObjectID] = e
	}
	return out, err
}

// ConnectionRefs reads one scope's connections with their credential's provider, on the
// (org_id, project_id, name) unique index.
func (t *tx) ConnectionRefs(ctx context.Context, orgID, projectID string) ([]store.ConnectionRef, error) {
	rows, err := t.query(ctx, `SELECT n.id, n.name, COALESCE(n.credential_id, ''), COALESCE(c.provider, ''), n.model
		FROM connections n LEFT JOIN credentials c ON c.org_id = n.org_id AND c.id = n.credential_id
		WHERE n.org_id = ? AND n.project_id = ? ORDER BY n.name`, orgID, projectID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []store.ConnectionRef{}
	for rows.Next() {
		var r store.ConnectionRef
		if err := rows.Scan(&r.ID, &r.Name, &r.CredentialID, &r.Provider, &r.Model); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
