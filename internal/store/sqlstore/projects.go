package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

const projectColumns = "id, name, description, inherit_organization_credentials, version, created_at, updated_at"

func (t *tx) InsertProject(ctx context.Context, orgID string, p api.Project) error {
	_, err := t.write(ctx, `INSERT INTO projects (id, org_id, name, description, inherit_organization_credentials,
		version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		p.ID, orgID, p.Name, p.Description, p.InheritOrganizationCredentials, p.Version,
		formatTime(p.CreatedAt), formatTime(p.UpdatedAt))
	if t.d.violation(err) == violationForeignKey {
		return fmt.Errorf("organization %s: %w", orgID, store.ErrNotFound)
	}
	return t.d.mapErr(err, fmt.Sprintf("project %q", p.Name))
}

func (t *tx) GetProject(ctx context.Context, orgID, id string) (api.Project, error) {
	rows, err := t.query(ctx, "SELECT "+projectColumns+" FROM projects WHERE org_id = ? AND id = ?", orgID, id)
	if err != nil {
		return api.Project{}, err
	}
	ps, err := scanProjects(rows)
	if err != nil {
		return api.Project{}, err
	}
	if len(ps) == 0 {
		return api.Project{}, fmt.Errorf("project %s: %w", id, store.ErrNotFound)
	}
	return ps[0], nil
}

// ListProjects lists the organisation's projects by id; name "" does not filter; limit <= 0 means
// DefaultLimit.
func (t *tx) ListProjects(ctx context.Context, orgID string, name, afterID string, limit int) ([]api.Project, error) {
	q := "SELECT " + projectColumns + " FROM projects WHERE org_id = ?"
	args := []any{orgID}
	if name != "" {
		q += " AND name = ?"
		args = append(args, name)
	}
	if afterID != "" {
		q += " AND id > ?"
		args = append(args, afterID)
	}
	q += " ORDER BY id LIMIT ?"
	args = append(args, limitOrDefault(limit))
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return scanProjects(rows)
}

// ListProjectsByPrefix lists the organisation's projects whose name starts with namePrefix, by id.
func (t *tx) ListProjectsByPrefix(ctx context.Context, orgID string, namePrefix, afterID string, limit int) ([]api.Project, error) {
	l := newListQuery("p", "SELECT p.id, p.name, p.description, p.inherit_organization_credentials, p.version, p.created_at, p.updated_at FROM projects p", []any{orgID})
	l.prefix("name", namePrefix)
	q, args := l.page(afterID, limit)
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return scanProjects(rows)
}

func scanProjects(rows *sql.Rows) ([]api.Project, error) {
	defer rows.Close()
	out := []api.Project{}
	for rows.Next() {
		var p api.Project
		var created, updated string
		if err := rows.Scan(&p.ID, &p.Name, &p.Description, &p.InheritOrganizationCredentials, &p.Version,
			&created, &updated); err != nil {
			return nil, err
		}
		var err error
		if p.CreatedAt, err = parseTime(created); err != nil {
			return nil, err
		}
		if p.UpdatedAt, err = parseTime(updated); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// UpdateProject writes name, description, inherit_organization_credentials, version and updated_at
// when the stored version is expectVersion.
func (t *tx) UpdateProject(ctx context.Context, orgID string, p api.Project, expectVersion int64) error {
	res, err := t.write(ctx, `UPDATE projects SET name = ?, description = ?, inherit_organization_credentials = ?,
		version = ?, updated_at = ? WHERE id = ? AND org_id = ? AND version = ?`,
		p.Name, p.Description, p.InheritOrganizationCredentials, p.Version, formatTime(p.UpdatedAt),
		p.ID, orgID, expectVersion)
	return t.versionedResult(ctx, res, err, "projects", "project", p.Name, orgID, p.ID, expectVersion)
}

// DeleteProject deletes the project and its model and credential policies. A project that still holds credentials or
// connections, or that federation rules confine their tokens to, is refused with ErrInUse: project_id is not a foreign key (the empty string stands for the
// organisation), so this check is what keeps such objects from outliving their scope unseen.
func (t *tx) DeleteProject(ctx context.Context, orgID, id string) error {
	if id == "" {
		// '' is the organisation scope, never a project row.
		return fmt.Errorf("project: %w", store.ErrNotFound)
	}
	var one int
	err := t.queryRow(ctx, "SELECT 1 FROM projects WHERE id = ? AND org_id = ?", id, orgID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("project %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return err
	}
	rows, err := t.query(ctx, `SELECT id FROM credentials WHERE org_id = ? AND project_id = ?
		UNION ALL SELECT id FROM connections WHERE org_id = ? AND project_id = ?
		UNION ALL SELECT id FROM federation_rules WHERE org_id = ? AND project_id = ?`, orgID, id, orgID, id, orgID, id)
	if err != nil {
		return err
	}
	var users []string
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			rows.Close()
			return err
		}
		users = append(users, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(users) > 0 {
		sort.Strings(users)
		return fmt.Errorf("project %s holds %s: %w", id, strings.Join(users, ", "), ErrInUse)
	}
	if _, err := t.exec(ctx, "DELETE FROM model_policies WHERE org_id = ? AND project_id = ?", orgID, id); err != nil {
		return err
	}
	if _, err := t.exec(ctx, "DELETE FROM credential_policies WHERE org_id = ? AND project_id = ?", orgID, id); err != nil {
		return err
	}
	_, err = t.exec(ctx, "DELETE FROM projects WHERE id = ? AND org_id = ?", id, orgID)
	return err
}
