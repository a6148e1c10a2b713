package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// policyColumnsPO and policyColumnsPP are joinedPolicy's columns of the organisation's (po) and the
// project's (pp) credential policy, as credentialInScopeSelect joins them.
const (
	policyColumnsPO = `po.allowed_providers, po.max_rotation_period, po.expiry_warning, po.require_verification, po.version, po.updated_at`
	policyColumnsPP = `pp.allowed_providers, pp.max_rotation_period, pp.expiry_warning, pp.require_verification, pp.version, pp.updated_at`
)

// joinedPolicy scans a credential_policies row's columns, all NULL when a LEFT JOIN found none.
type joinedPolicy struct {
	providers, maxRotation, warning, updated sql.NullString
	require                                  sql.NullBool
	version                                  sql.NullInt64
}

func (j *joinedPolicy) dest() []any {
	return []any{&j.providers, &j.maxRotation, &j.warning, &j.require, &j.version, &j.updated}
}

// policy is the scanned policy of projectID's scope, or nil when there was no row.
func (j *joinedPolicy) policy(projectID string) (*api.CredentialPolicy, error) {
	if !j.version.Valid {
		return nil, nil
	}
	p := &api.CredentialPolicy{ProjectID: projectID, MaxRotationPeriod: j.maxRotation.String, ExpiryWarning: j.warning.String,
		RequireVerification: j.require.Bool, Version: j.version.Int64}
	var err error
	if p.AllowedProviders, err = unmarshalList(j.providers.String); err != nil {
		return nil, err
	}
	if p.UpdatedAt, err = parseTime(j.updated.String); err != nil {
		return nil, err
	}
	return p, nil
}

// scopePoliciesSelect reads the organisation's and the project's policy in one statement, as
// credentialInScopeSelect joins them to a credential.
const scopePoliciesSelect = `SELECT ` + policyColumnsPO + `, ` + policyColumnsPP + `
	FROM (SELECT 1) AS one
	LEFT JOIN credential_policies po ON po.org_id = ? AND po.project_id = ''
	LEFT JOIN credential_policies pp ON pp.org_id = ? AND pp.project_id = ? AND pp.project_id <> ''`

// ScopeCredentialPolicies reads the policies stored for projectID's scope (the organisation's, and
// the project's unless projectID is "") in one statement.
func (t *tx) ScopeCredentialPolicies(ctx context.Context, orgID, projectID string) (store.ScopeCredentialPolicies, error) {
	var pols store.ScopeCredentialPolicies
	var po, pp joinedPolicy
	if err := t.queryRow(ctx, scopePoliciesSelect, orgID, orgID, projectID).Scan(append(po.dest(), pp.dest()...)...); err != nil {
		return pols, err
	}
	var err error
	if pols.Organization, err = po.policy(""); err != nil {
		return pols, err
	}
	pols.Project, err = pp.policy(projectID)
	return pols, err
}

func (t *tx) GetCredentialPolicy(ctx context.Context, orgID, projectID string) (api.CredentialPolicy, error) {
	var j joinedPolicy
	err := t.queryRow(ctx, `SELECT `+policyColumnsPO+`
		FROM credential_policies po WHERE po.org_id = ? AND po.project_id = ?`, orgID, projectID).Scan(j.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return api.CredentialPolicy{}, fmt.Errorf("credential policy of %s: %w", scopeName(projectID), store.ErrNotFound)
	}
	if err != nil {
		return api.CredentialPolicy{}, err
	}
	p, err := j.policy(projectID)
	if err != nil {
		return api.CredentialPolicy{}, err
	}
	return *p, nil
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
