package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// credentialSelect reads credentials; has_api_key and has_auth_token come from the secrets table
// (point lookups on its primary key) so they can never disagree with what is stored.
const credentialSelect = `SELECT c.id, c.name, c.description, c.provider, c.project_id, c.settings, c.labels,
	EXISTS (SELECT 1 FROM credential_secrets s WHERE s.credential_id = c.id AND s.field = ?),
	EXISTS (SELECT 1 FROM credential_secrets s WHERE s.credential_id = c.id AND s.field = ?),
	c.secret_hint, c.secret_fingerprint, c.secret_version, c.status, c.status_message, c.verified_at,
	c.verify, c.managed_by, c.version, c.created_at, c.updated_at, c.rotation_period, c.expires_at, c.rotated_at, c.lifecycle_status
	FROM credentials c`

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
	_, err = t.write(ctx, `INSERT INTO credentials (id, org_id, project_id, name, description, provider, settings, labels,
		secret_hint, secret_fingerprint, secret_version, status, status_message, verified_at, verify, managed_by, version, created_at, updated_at,
		rotation_period, expires_at, rotated_at, lifecycle_status)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, orgID, c.ProjectID, c.Name, c.Description, c.Provider, settings, labels,
		c.SecretHint, c.SecretFingerprint, c.SecretVersion, c.Status, c.StatusMessage, formatTimePtr(c.VerifiedAt),
		c.Verify, c.ManagedBy, c.Version, formatTime(c.CreatedAt), formatTime(c.UpdatedAt),
		c.RotationPeriod, formatTimePtr(c.ExpiresAt), formatTime(rotatedAt(c)), lifecycleOrOK(c.LifecycleStatus))
	if t.d.violation(err) == violationForeignKey {
		return fmt.Errorf("organization %s: %w", orgID, store.ErrNotFound)
	}
	return t.d.mapErr(err, fmt.Sprintf("credential %q", c.Name))
}

func (t *tx) GetCredential(ctx context.Context, orgID, id string) (api.Credential, error) {
	args := append(append([]any{}, credentialSelectArgs...), orgID, id)
	rows, err := t.query(ctx, credentialSelect+" WHERE c.org_id = ? AND c.id = ?", args...)
	if err != nil {
		return api.Credential{}, err
	}
	cs, err := t.finishCredentials(ctx, orgID, rows)
	if err != nil {
		return api.Credential{}, err
	}
	if len(cs) == 0 {
		return api.Credential{}, fmt.Errorf("credential %s: %w", id, store.ErrNotFound)
	}
	return cs[0], nil
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
	return t.finishCredentials(ctx, orgID, rows)
}

// finishCredentials scans rows of credentialSelect and fills ConnectionIDs with one more query for
// all of them.
func (t *tx) finishCredentials(ctx context.Context, orgID string, rows *sql.Rows) ([]api.Credential, error) {
	out, err := scanCredentials(rows)
	if err != nil || len(out) == 0 {
		return out, err
	}
	ids := make([]any, 0, len(out)+1)
	ids = append(ids, orgID)
	index := make(map[string]int, len(out))
	for i, c := range out {
		ids = append(ids, c.ID)
		index[c.ID] = i
	}
	q := "SELECT credential_id, id FROM connections WHERE org_id = ? AND credential_id IN (" +
		placeholders(len(out)) + ") ORDER BY credential_id, id"
	query := t.query
	if len(out) > 1 {
		// One query text per list length: preparing them would fill the statement cache with texts
		// that may never come back. A single credential's read is the shape worth preparing.
		query = t.queryUnprepared
	}
	crows, err := query(ctx, q, ids...)
	if err != nil {
		return nil, err
	}
	defer crows.Close()
	for crows.Next() {
		var credID, connID string
		if err := crows.Scan(&credID, &connID); err != nil {
			return nil, err
		}
		if i, ok := index[credID]; ok {
			out[i].ConnectionIDs = append(out[i].ConnectionIDs, connID)
		}
	}
	if err := crows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		// ORDER BY sorts already; sort again so the contract does not hang on collation.
		sort.Strings(out[i].ConnectionIDs)
	}
	return out, nil
}

func scanCredentials(rows *sql.Rows) ([]api.Credential, error) {
	defer rows.Close()
	out := []api.Credential{}
	for rows.Next() {
		var c api.Credential
		var settings, labels, created, updated string
		var verified, expires sql.NullString
		var rotated string
		if err := rows.Scan(&c.ID, &c.Name, &c.Description, &c.Provider, &c.ProjectID, &settings, &labels,
			&c.HasAPIKey, &c.HasAuthToken, &c.SecretHint, &c.SecretFingerprint, &c.SecretVersion, &c.Status,
			&c.StatusMessage, &verified, &c.Verify, &c.ManagedBy, &c.Version, &created, &updated,
			&c.RotationPeriod, &expires, &rotated, &c.LifecycleStatus); err != nil {
			return nil, err
		}
		var err error
		if c.Settings, err = unmarshalMap(settings); err != nil {
			return nil, err
		}
		if c.Labels, err = unmarshalMap(labels); err != nil {
			return nil, err
		}
		if c.VerifiedAt, err = parseTimePtr(verified); err != nil {
			return nil, err
		}
		if c.CreatedAt, err = parseTime(created); err != nil {
			return nil, err
		}
		if c.UpdatedAt, err = parseTime(updated); err != nil {
			return nil, err
		}
		if c.ExpiresAt, err = parseTimePtr(expires); err != nil {
			return nil, err
		}
		c.RotatedAt = c.CreatedAt
		if rotated != "" {
			if c.RotatedAt, err = parseTime(rotated); err != nil {
				return nil, err
			}
		}
		c.ConnectionIDs = []string{}
		out = append(out, c)
	}
	return out, rows.Err()
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
	res, err := t.write(ctx, `UPDATE credentials SET name = ?, description = ?, settings = ?, labels = ?,
		secret_hint = ?, secret_fingerprint = ?, secret_version = ?, status = ?, status_message = ?, verified_at = ?,
		verify = ?, managed_by = ?, version = ?, updated_at = ?, rotation_period = ?, expires_at = ?, rotated_at = ?, lifecycle_status = ?
		WHERE id = ? AND org_id = ? AND version = ?`,
		c.Name, c.Description, settings, labels, c.SecretHint, c.SecretFingerprint, c.SecretVersion, c.Status,
		c.StatusMessage, formatTimePtr(c.VerifiedAt), c.Verify, c.ManagedBy, c.Version, formatTime(c.UpdatedAt),
		c.RotationPeriod, formatTimePtr(c.ExpiresAt), formatTime(rotatedAt(c)), lifecycleOrOK(c.LifecycleStatus),
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
