package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

func (t *tx) GetCredentialPolicy(ctx context.Context, orgID, projectID string) (api.CredentialPolicy, error) {
	var p api.CredentialPolicy
	var providers, updated string
	err := t.queryRow(ctx, `SELECT project_id, allowed_providers, max_rotation_period, expiry_warning, require_verification, version, updated_at
		FROM credential_policies WHERE org_id = ? AND project_id = ?`, orgID, projectID).
		Scan(&p.ProjectID, &providers, &p.MaxRotationPeriod, &p.ExpiryWarning, &p.RequireVerification, &p.Version, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("credential policy of %s: %w", scopeName(projectID), store.ErrNotFound)
	}
	if err != nil {
		return p, err
	}
	if p.AllowedProviders, err = unmarshalList(providers); err != nil {
		return p, err
	}
	p.UpdatedAt, err = parseTime(updated)
	return p, err
}

// PutCredentialPolicy inserts or replaces the policy of p.ProjectID's scope, as PutModelPolicy does.
func (t *tx) PutCredentialPolicy(ctx context.Context, orgID string, p api.CredentialPolicy, expectVersion int64) error {
	providers, err := marshalList(p.AllowedProviders)
	if err != nil {
		return err
	}
	if expectVersion == 0 {
		_, err := t.write(ctx, `INSERT INTO credential_policies (org_id, project_id, allowed_providers, max_rotation_period, expiry_warning,
				require_verification, version, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (org_id, project_id) DO UPDATE SET allowed_providers = excluded.allowed_providers,
				max_rotation_period = excluded.max_rotation_period, expiry_warning = excluded.expiry_warning,
				require_verification = excluded.require_verification, version = excluded.version, updated_at = excluded.updated_at`,
			orgID, p.ProjectID, providers, p.MaxRotationPeriod, p.ExpiryWarning, p.RequireVerification, p.Version, formatTime(p.UpdatedAt))
		if t.d.violation(err) == violationForeignKey {
			return fmt.Errorf("organization %s: %w", orgID, store.ErrNotFound)
		}
		return err
	}
	res, err := t.exec(ctx, `UPDATE credential_policies SET allowed_providers = ?, max_rotation_period = ?, expiry_warning = ?,
			require_verification = ?, version = ?, updated_at = ?
		WHERE org_id = ? AND project_id = ? AND version = ?`,
		providers, p.MaxRotationPeriod, p.ExpiryWarning, p.RequireVerification, p.Version, formatTime(p.UpdatedAt), orgID, p.ProjectID, expectVersion)
	if err != nil {
		return err
	}
	n, err := affected(res)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("credential policy of %s is not at version %d: %w", scopeName(p.ProjectID), expectVersion, store.ErrVersionMismatch)
	}
	return nil
}

// DeleteCredentialPolicy removes the scope's policy; ErrNotFound when it has none.
func (t *tx) DeleteCredentialPolicy(ctx context.Context, orgID, projectID string) error {
	res, err := t.exec(ctx, "DELETE FROM credential_policies WHERE org_id = ? AND project_id = ?", orgID, projectID)
	if err != nil {
		return err
	}
	n, err := affected(res)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("credential policy of %s: %w", scopeName(projectID), store.ErrNotFound)
	}
	return nil
}
