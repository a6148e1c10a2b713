package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// credentialColumns are a credential's columns (alias c). has_api_key and has_auth_token come from the
// secrets table (point lookups on its primary key) so they can never disagree with what is stored;
// connection_ids are aggregated on the connections_credential index, in the same statement, since a
// second query per read costs more than the aggregate (string_agg with ORDER BY: PostgreSQL, and
// SQLite since 3.44).
const credentialColumns = `c.id, c.name, c.description, c.provider, c.project_id, c.settings, c.labels,
	EXISTS (SELECT 1 FROM credential_secrets s WHERE s.credential_id = c.id AND s.field = ?),
	EXISTS (SELECT 1 FROM credential_secrets s WHERE s.credential_id = c.id AND s.field = ?),
	c.secret_hint, c.secret_fingerprint, c.secret_version, c.status, c.status_message, c.verified_at,
	c.verify, c.managed_by, c.version, c.created_at, c.updated_at, c.rotation_period, c.expires_at, c.rotated_at, c.lifecycle_status,
	c.destination_set_by_token, c.destination_set_by, c.destination_set_at, c.purpose, c.rotation, ` + rotationActiveColumn + `,
	(SELECT string_agg(n.id, ',' ORDER BY n.id) FROM connections n WHERE n.org_id = c.org_id AND n.credential_id = c.id)`

// credentialSelect reads credentials; list filters follow it.
const credentialSelect = `SELECT ` + credentialColumns + ` FROM credentials c`

// credentialInScopeSelect reads one credential with the credential policies of its scope as stored:
// po the organisation's, pp its project's (no row for an organisation-wide credential).
const credentialInScopeSelect = `SELECT ` + credentialColumns + `, ` + policyColumnsPO + `, ` + policyColumnsPP + `
	FROM credentials c
	LEFT JOIN credential_policies po ON po.org_id = c.org_id AND po.project_id = ''
	LEFT JOIN credential_policies pp ON pp.org_id = c.org_id AND pp.project_id = c.project_id AND c.project_id <> ''
	WHERE c.org_id = ? AND c.id = ?`

var credentialSelectArgs = []any{api.SecretAPIKey, api.SecretAuthToken}

// InsertCredential stores c as it is (the service sets id, status, versions and times). ProjectID ""
// is the organisation scope. ConnectionIDs and HasAPIKey/HasAuthToken are ignored: they are derived.
func (t *tx) InsertCredential(ctx context.Context, orgID string, c api.Credential) error {
	settings, err := marshalMap(c.Settings)
	if err != nil {
		return err
	}
	labels, err := marshalMap(c.Labels)
	if err != nil {
		return err
	}
	rotation, err := rotationColumn(c)
	if err != nil {
		return err
	}
	_, err = t.write(ctx, `INSERT INTO credentials (id, org_id, project_id, name, description, provider, settings, labels,
		secret_hint, secret_fingerprint, secret_version, status, status_message, verified_at, verify, managed_by, version, created_at, updated_at,
		rotation_period, expires_at, rotated_at, lifecycle_status, destination_set_by_token, destination_set_by, destination_set_at, purpose, rotation)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, orgID, c.ProjectID, c.Name, c.Description, c.Provider, settings, labels,
		c.SecretHint, c.SecretFingerprint, c.SecretVersion, c.Status, c.StatusMessage, formatTimePtr(c.VerifiedAt),
		c.Verify, c.ManagedBy, c.Version, formatTime(c.CreatedAt), formatTime(c.UpdatedAt),
		c.RotationPeriod, formatTimePtr(c.ExpiresAt), formatTime(rotatedAt(c)), lifecycleOrOK(c.LifecycleStatus),
		c.DestinationSetByToken, c.DestinationSetBy, formatTimePtr(c.DestinationSetAt), purposeOrInference(c.Purpose), rotation)
	if t.d.violation(err) == violationForeignKey {
		return fmt.Errorf("organization %s: %w", orgID, store.ErrNotFound)
	}
	return t.d.mapErr(err, fmt.Sprintf("credential %q", c.Name))
}

func (t *tx) GetCredential(ctx context.Context, orgID, id string) (api.Credential, error) {
	c, _, err := t.GetCredentialInScope(ctx, orgID, id)
	return c, err
}

// GetCredentialInScope reads a credential and its scope's stored credential policies in one statement.
func (t *tx) GetCredentialInScope(ctx context.Context, orgID, id string) (api.Credential, store.ScopeCredentialPolicies, error) {
	var pols store.ScopeCredentialPolicies
	var po, pp joinedPolicy
	c, err := scanCredential(t.queryRow(ctx, credentialInScopeSelect, append(append([]any{}, credentialSelectArgs...), orgID, id)...),
		append(po.dest(), pp.dest()...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return c, pols, fmt.Errorf("credential %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return c, pols, err
	}
	if pols.Organization, err = po.policy(""); err != nil {
		return c, pols, err
	}
	pols.Project, err = pp.policy(c.ProjectID)
	return c, pols, err
}

// ListCredentials lists the organisation's credentials by id. Filter: ProjectID "" does not filter,
// OrgScope ("-") selects organisation-wide ones, anything else that project; Provider and Name match
// exactly when set, NamePrefix by prefix, Status exactly; AfterID and Limit page (Limit <= 0 means DefaultLimit).
func (t *tx) ListCredentials(ctx context.Context, orgID string, f store.CredentialFilter) ([]api.Credential, error) {
	l := newListQuery("c", credentialSelect, append(append([]any{}, credentialSelectArgs...), orgID))
	l.scope(f.ProjectID)
	l.eq("provider", f.Provider)
	l.eq("name", f.Name)
	l.prefix("name", f.NamePrefix)
	l.eq("status", f.Status)
	q, args := l.page(f.AfterID, f.Limit)
	rows, err := t.query(ctx, q, args...)
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

// scanCredential scans credentialColumns, then extra.
func scanCredential(row scanner, extra ...any) (api.Credential, error) {
	// One allocation for the scan targets (each would escape on its own), and dest sized once.
	var v struct {
		c                                           api.Credential
		settings, labels, created, updated, rotated string
		verified, expires, destSetAt, connections   sql.NullString
		rotation                                    string
		rotationActive                              sql.NullString
	}
	c := &v.c
	dest := make([]any, 0, 31+len(extra))
	dest = append(dest, &c.ID, &c.Name, &c.Description, &c.Provider, &c.ProjectID, &v.settings, &v.labels,
		&c.HasAPIKey, &c.HasAuthToken, &c.SecretHint, &c.SecretFingerprint, &c.SecretVersion, &c.Status,
		&c.StatusMessage, &v.verified, &c.Verify, &c.ManagedBy, &c.Version, &v.created, &v.updated,
		&c.RotationPeriod, &v.expires, &v.rotated, &c.LifecycleStatus,
		&c.DestinationSetByToken, &c.DestinationSetBy, &v.destSetAt, &c.Purpose, &v.rotation, &v.rotationActive, &v.connections)
	dest = append(dest, extra...)
	if err := row.Scan(dest...); err != nil {
		return *c, err
	}
	var err error
	if c.Settings, err = unmarshalMap(v.settings); err != nil {
		return *c, err
	}
	if c.Labels, err = unmarshalMap(v.labels); err != nil {
		return *c, err
	}
	if c.VerifiedAt, err = parseTimePtr(v.verified); err != nil {
		return *c, err
	}
	if c.CreatedAt, err = parseTime(v.created); err != nil {
		return *c, err
	}
	if c.UpdatedAt, err = parseTime(v.updated); err != nil {
		return *c, err
	}
	if c.ExpiresAt, err = parseTimePtr(v.expires); err != nil {
		return *c, err
	}
	if c.DestinationSetAt, err = parseTimePtr(v.destSetAt); err != nil {
		return *c, err
	}
	if err = applyRotation(c, v.rotation, v.rotationActive); err != nil {
		return *c, err
	}
	c.RotatedAt = c.CreatedAt
	if v.rotated != "" {
		if c.RotatedAt, err = parseTime(v.rotated); err != nil {
			return *c, err
		}
	}
	c.ConnectionIDs = []string{}
	if v.connections.String != "" {
		c.ConnectionIDs = strings.Split(v.connections.String, ",")
		// string_agg orders already; sort again so the contract does not hang on collation.
		sort.Strings(c.ConnectionIDs)
	}
	return *c, nil
}

// UpdateCredential writes the mutable fields of c (name, description, settings, labels, the secret
// metadata, status, verified_at, managed_by, version, updated_at, the lifecycle fields) when the stored
// version is expectVersion.
// Provider, ProjectID and CreatedAt never change after create and are not written.
func (t *tx) UpdateCredential(ctx context.Context, orgID string, c api.Credential, expectVersion int64) error {
	settings, err := marshalMap(c.Settings)
	if err != nil {
		return err
	}
	labels, err := marshalMap(c.Labels)
	if err != nil {
		return err
	}
	rotation, err := rotationColumn(c)
	if err != nil {
		return err
	}
	res, err := t.write(ctx, `UPDATE credentials SET name = ?, description = ?, settings = ?, labels = ?,
		secret_hint = ?, secret_fingerprint = ?, secret_version = ?, status = ?, status_message = ?, verified_at = ?,
		verify = ?, managed_by = ?, version = ?, updated_at = ?, rotation_period = ?, expires_at = ?, rotated_at = ?, lifecycle_status = ?,
		destination_set_by_token = ?, destination_set_by = ?, destination_set_at = ?, rotation = ?
		WHERE id = ? AND org_id = ? AND version = ?`,
		c.Name, c.Description, settings, labels, c.SecretHint, c.SecretFingerprint, c.SecretVersion, c.Status,
		c.StatusMessage, formatTimePtr(c.VerifiedAt), c.Verify, c.ManagedBy, c.Version, formatTime(c.UpdatedAt),
		c.RotationPeriod, formatTimePtr(c.ExpiresAt), formatTime(rotatedAt(c)), lifecycleOrOK(c.LifecycleStatus),
		c.DestinationSetByToken, c.DestinationSetBy, formatTimePtr(c.DestinationSetAt), rotation,
		c.ID, orgID, expectVersion)
	return t.versionedResult(ctx, res, err, "credentials", "credential", c.Name, orgID, c.ID, expectVersion)
}

// DeleteCredential deletes the credential and (by cascade) its secrets. A credential that connections
// use is refused with ErrInUse, whatever the service checked before: a forced delete detaches them
// first (UpdateConnection with no CredentialID).
func (t *tx) DeleteCredential(ctx context.Context, orgID, id string) error {
	res, err := t.write(ctx, "DELETE FROM credentials WHERE id = ? AND org_id = ?", id, orgID)
	if t.d.violation(err) == violationForeignKey {
		return fmt.Errorf("credential %s is used by connections: %w", id, ErrInUse)
	}
	if err != nil {
		return err
	}
	n, err := affected(res)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("credential %s: %w", id, store.ErrNotFound)
	}
	return nil
}

func (t *tx) CountCredentials(ctx context.Context, orgID string) (int, error) {
	var n int
	// Kept by triggers (migration 0002): one row read, however many credentials there are.
	err := t.queryRow(ctx, "SELECT credential_count FROM organizations WHERE id = ?", orgID).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("organization %s: %w", orgID, store.ErrNotFound)
	}
	return n, err
}

// LockOrganization locks the organisation's row until the transaction ends. FOR NO KEY UPDATE
// conflicts with itself but not with the KEY SHARE locks of foreign-key checks, so it serialises the
// limit checks of one organisation without making every insert under it wait. SQLite runs one
// write transaction at a time (BEGIN IMMEDIATE), so there is nothing to lock.
func (t *tx) LockOrganization(ctx context.Context, orgID string) error {
	if t.d.name != DialectPostgres {
		return nil
	}
	var id string
	err := t.queryRow(ctx, "SELECT id FROM organizations WHERE id = ? FOR NO KEY UPDATE", orgID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("organization %s: %w", orgID, store.ErrNotFound)
	}
	return err
}

// ListAllCredentialRefs lists every organisation's credentials, by organisation then id.
func (t *tx) ListAllCredentialRefs(ctx context.Context) ([]store.CredentialRef, error) {
	rows, err := t.query(ctx, "SELECT org_id, id FROM credentials ORDER BY org_id, id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []store.CredentialRef{}
	for rows.Next() {
		var r store.CredentialRef
		if err := rows.Scan(&r.OrgID, &r.ID); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// SetCredentialLifecycle records the lifecycle status the server last saw, without changing the
// credential's version: it is an observation, like status. ErrNotFound when the credential is gone.
func (t *tx) SetCredentialLifecycle(ctx context.Context, orgID, id, status string) error {
	res, err := t.write(ctx, "UPDATE credentials SET lifecycle_status = ? WHERE id = ? AND org_id = ?", status, id, orgID)
	if err != nil {
		return err
	}
	n, err := affected(res)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("credential %s: %w", id, store.ErrNotFound)
	}
	return nil
}

// rotatedAt is when c's secret last changed; a zero RotatedAt (a caller that does not set it) is the
// creation.
func rotatedAt(c api.Credential) time.Time {
	if c.RotatedAt.IsZero() {
		return c.CreatedAt
	}
	return c.RotatedAt
}

func lifecycleOrOK(s string) string {
	if s == "" {
		return api.LifecycleOK
	}
	return s
}
