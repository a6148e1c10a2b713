package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

func (t *tx) GetModelPolicy(ctx context.Context, orgID, projectID string) (api.ModelPolicy, error) {
	var p api.ModelPolicy
	var models, publishers, updated string
	err := t.queryRow(ctx, `SELECT project_id, mode, models, publishers, version, updated_at
		FROM model_policies WHERE org_id = ? AND project_id = ?`, orgID, projectID).
		Scan(&p.ProjectID, &p.Mode, &models, &publishers, &p.Version, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("model policy of %s: %w", scopeName(projectID), store.ErrNotFound)
	}
	if err != nil {
		return p, err
	}
	if p.Models, err = unmarshalList(models); err != nil {
		return p, err
	}
	if p.Publishers, err = unmarshalList(publishers); err != nil {
		return p, err
	}
	p.UpdatedAt, err = parseTime(updated)
	return p, err
}

func scopeName(projectID string) string {
	if projectID == "" {
		return "the organization"
	}
	return "project " + projectID
}

// PutModelPolicy inserts or replaces the policy of p.ProjectID's scope. With expectVersion 0 it writes
// unconditionally; otherwise the stored policy must be at expectVersion, and a scope with no stored
// policy is ErrVersionMismatch too (the If-Match named a version that does not exist).
func (t *tx) PutModelPolicy(ctx context.Context, orgID string, p api.ModelPolicy, expectVersion int64) error {
	models, err := marshalList(p.Models)
	if err != nil {
		return err
	}
	publishers, err := marshalList(p.Publishers)
	if err != nil {
		return err
	}
	if expectVersion == 0 {
		_, err := t.write(ctx, `INSERT INTO model_policies (org_id, project_id, mode, models, publishers, version, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (org_id, project_id) DO UPDATE SET mode = excluded.mode, models = excluded.models,
				publishers = excluded.publishers, version = excluded.version, updated_at = excluded.updated_at`,
			orgID, p.ProjectID, p.Mode, models, publishers, p.Version, formatTime(p.UpdatedAt))
		if t.d.violation(err) == violationForeignKey {
			return fmt.Errorf("organization %s: %w", orgID, store.ErrNotFound)
		}
		return err
	}
	res, err := t.exec(ctx, `UPDATE model_policies SET mode = ?, models = ?, publishers = ?, version = ?, updated_at = ?
		WHERE org_id = ? AND project_id = ? AND version = ?`,
		p.Mode, models, publishers, p.Version, formatTime(p.UpdatedAt), orgID, p.ProjectID, expectVersion)
	if err != nil {
		return err
	}
	n, err := affected(res)
	if err != nil {
		return err
	}
	if n == 0 {
		var v int64
		err := t.queryRow(ctx, "SELECT version FROM model_policies WHERE org_id = ? AND project_id = ?", orgID, p.ProjectID).Scan(&v)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("model policy of %s has no stored version %d: %w", scopeName(p.ProjectID), expectVersion, store.ErrVersionMismatch)
		}
		if err != nil {
			return err
		}
		return fmt.Errorf("model policy of %s is at version %d, not %d: %w", scopeName(p.ProjectID), v, expectVersion, store.ErrVersionMismatch)
	}
	return nil
}

// DeleteModelPolicy removes the scope's policy (it is then mode all); ErrNotFound when it has none.
func (t *tx) DeleteModelPolicy(ctx context.Context, orgID, projectID string) error {
	res, err := t.exec(ctx, "DELETE FROM model_policies WHERE org_id = ? AND project_id = ?", orgID, projectID)
	if err != nil {
		return err
	}
	n, err := affected(res)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("model policy of %s: %w", scopeName(projectID), store.ErrNotFound)
	}
	return nil
}
