package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// connectionSelect joins the credential for Provider: it is the credential's, never stored twice. A
// connection whose credential was deleted with force has a NULL credential_id, read as "" (and no
// provider).
const connectionSelect = `SELECT n.id, n.name, COALESCE(n.credential_id, ''), n.model, n.project_id, n.parameters, n.enabled,
	COALESCE(c.provider, ''), n.status, n.status_message, n.version, n.created_at, n.updated_at
	FROM connections n LEFT JOIN credentials c ON c.org_id = n.org_id AND c.id = n.credential_id`

// InsertConnection stores c (Provider is ignored: it is read from the credential). A credential that
// is not the organisation's is ErrNotFound.
func (t *tx) InsertConnection(ctx context.Context, orgID string, c api.Connection) error {
	_, err := t.write(ctx, `INSERT INTO connections (id, org_id, project_id, name, credential_id, model, parameters, enabled,
		status, status_message, version, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, orgID, c.ProjectID, c.Name, nullIfEmpty(c.CredentialID), c.Model, c.Parameters, c.Enabled,
		c.Status, c.StatusMessage, c.Version, formatTime(c.CreatedAt), formatTime(c.UpdatedAt))
	if t.d.violation(err) == violationForeignKey {
		return fmt.Errorf("credential %s: %w", c.CredentialID, store.ErrNotFound)
	}
	return t.d.mapErr(err, fmt.Sprintf("connection %q", c.Name))
}

func (t *tx) GetConnection(ctx context.Context, orgID, id string) (api.Connection, error) {
	rows, err := t.query(ctx, connectionSelect+" WHERE n.org_id = ? AND n.id = ?", orgID, id)
	if err != nil {
		return api.Connection{}, err
	}
	cs, err := scanConnections(rows)
	if err != nil {
		return api.Connection{}, err
	}
	if len(cs) == 0 {
		return api.Connection{}, fmt.Errorf("connection %s: %w", id, store.ErrNotFound)
	}
	return cs[0], nil
}

// ListConnections lists the organisation's connections by id. Filter: ProjectID as in
// ListCredentials ("" all, OrgScope organisation-wide, else that project); CredentialID and Name
// and Model match exactly when set, NamePrefix by prefix; AfterID and Limit page (Limit <= 0 means DefaultLimit).
func (t *tx) ListConnections(ctx context.Context, orgID string, f store.ConnectionFilter) ([]api.Connection, error) {
	l := newListQuery("n", connectionSelect, []any{orgID})
	l.scope(f.ProjectID)
	l.eq("credential_id", f.CredentialID)
	l.eq("name", f.Name)
	l.eq("model", f.Model)
	l.prefix("name", f.NamePrefix)
	q, args := l.page(f.AfterID, f.Limit)
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return scanConnections(rows)
}

func scanConnections(rows *sql.Rows) ([]api.Connection, error) {
	defer rows.Close()
	out := []api.Connection{}
	for rows.Next() {
		var c api.Connection
		var created, updated string
		if err := rows.Scan(&c.ID, &c.Name, &c.CredentialID, &c.Model, &c.ProjectID, &c.Parameters, &c.Enabled,
			&c.Provider, &c.Status, &c.StatusMessage, &c.Version, &created, &updated); err != nil {
			return nil, err
		}
		var err error
		if c.CreatedAt, err = parseTime(created); err != nil {
			return nil, err
		}
		if c.UpdatedAt, err = parseTime(updated); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// UpdateConnection writes name, credential_id, model, parameters, enabled, status, version and
// updated_at when the stored version is expectVersion. ProjectID and CreatedAt are not written. An
// empty CredentialID leaves the connection without a credential (NULL), as a forced delete does.
func (t *tx) UpdateConnection(ctx context.Context, orgID string, c api.Connection, expectVersion int64) error {
	res, err := t.write(ctx, `UPDATE connections SET name = ?, credential_id = ?, model = ?, parameters = ?, enabled = ?,
		status = ?, status_message = ?, version = ?, updated_at = ?
		WHERE id = ? AND org_id = ? AND version = ?`,
		c.Name, nullIfEmpty(c.CredentialID), c.Model, c.Parameters, c.Enabled, c.Status, c.StatusMessage, c.Version,
		formatTime(c.UpdatedAt), c.ID, orgID, expectVersion)
	if t.d.violation(err) == violationForeignKey {
		return fmt.Errorf("credential %s: %w", c.CredentialID, store.ErrNotFound)
	}
	return t.versionedResult(ctx, res, err, "connections", "connection", c.Name, orgID, c.ID, expectVersion)
}

func (t *tx) DeleteConnection(ctx context.Context, orgID, id string) error {
	res, err := t.exec(ctx, "DELETE FROM connections WHERE id = ? AND org_id = ?", id, orgID)
	if err != nil {
		return err
	}
	n, err := affected(res)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("connection %s: %w", id, store.ErrNotFound)
	}
	return nil
}

// nullIfEmpty stores "" as NULL, for the columns where NULL means "none" and a foreign key must not
// check it.
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
