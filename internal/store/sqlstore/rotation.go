package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// The rotation journal of managed credentials (migration 0010) and the two credential columns it
// adds: purpose, and rotation as JSON.

// storedRotation is the rotation column: what the credential keeps between rotations.
type storedRotation struct {
	Mode              string `json:"mode"`
	AdminCredentialID string `json:"admin_credential_id"`
	Overlap           string `json:"overlap,omitempty"`
	KeyID             string `json:"key_id,omitempty"`
	LastError         string `json:"last_error,omitempty"`
}

// rotationColumn writes c.Rotation for the rotation column; "" when there is none.
func rotationColumn(c api.Credential) (string, error) {
	if c.Rotation == nil || c.Rotation.Mode == "" {
		return "", nil
	}
	b, err := json.Marshal(storedRotation{Mode: c.Rotation.Mode, AdminCredentialID: c.Rotation.AdminCredentialID,
		Overlap: c.Rotation.Overlap, KeyID: c.Rotation.KeyID, LastError: c.Rotation.LastError})
	return string(b), err
}

func purposeOrInference(p string) string {
	if p == "" {
		return api.PurposeInference
	}
	return p
}

// rotationActiveColumn is the state of a credential's rotation under way, read with the credential:
// "step|old_key_id|revoke_at", NULL when none.
const rotationActiveColumn = `(SELECT r.step || '|' || r.old_key_id || '|' || COALESCE(r.revoke_at, '') FROM credential_rotations r WHERE r.credential_id = c.id AND r.kind = 'rotate')`

// applyRotation fills c.Rotation from the rotation column and the rotation under way.
func applyRotation(c *api.Credential, raw string, active sql.NullString) error {
	if raw == "" {
		return nil
	}
	var sr storedRotation
	if err := json.Unmarshal([]byte(raw), &sr); err != nil {
		return fmt.Errorf("credential %s: stored rotation: %w", c.ID, err)
	}
	r := &api.CredentialRotation{Mode: sr.Mode, AdminCredentialID: sr.AdminCredentialID, Overlap: sr.Overlap,
		KeyID: sr.KeyID, LastError: sr.LastError, State: api.RotationIdle}
	if active.Valid {
		parts := strings.SplitN(active.String, "|", 3)
		for len(parts) < 3 {
			parts = append(parts, "")
		}
		r.State = parts[0]
		if parts[0] == api.RotationSwitched {
			r.PreviousKeyID = parts[1]
			if parts[2] != "" {
				at := parts[2]
				if t, err := parseTime(at); err == nil {
					at = t.Format(time.RFC3339)
				}
				r.PreviousKeyRevokeAt = &at
			}
		}
	}
	c.Rotation = r
	return nil
}

const rotationColumns = `id, org_id, credential_id, kind, provider, settings, admin_credential_id, step, new_key_name,
	new_key_id, old_key_id, sealed_key_id, sealed_wrapped_key, sealed_ciphertext, revoke_at, overlap, trigger_kind,
	actor, message, lease_owner, lease_until, created_at, updated_at`

func (t *tx) InsertRotation(ctx context.Context, r store.RotationEntry) error {
	settings, err := marshalMap(r.Settings)
	if err != nil {
		return err
	}
	_, err = t.write(ctx, `INSERT INTO credential_rotations (`+rotationColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.OrgID, r.CredentialID, r.Kind, r.Provider, settings, r.AdminCredentialID, r.Step, r.NewKeyName,
		r.NewKeyID, r.OldKeyID, r.SealedKeyID, r.SealedWrappedKey, r.SealedCiphertext, formatTimePtr(r.RevokeAt),
		r.Overlap, r.Trigger, r.Actor, r.Message, r.LeaseOwner, leaseText(r.LeaseUntil), formatTime(r.CreatedAt), formatTime(r.UpdatedAt))
	return t.d.mapErr(err, "a rotation of credential "+r.CredentialID)
}

func leaseText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return formatTime(t)
}

func scanRotation(row scanner) (store.RotationEntry, error) {
	var r store.RotationEntry
	var settings, lease, created, updated string
	var revoke sql.NullString
	if err := row.Scan(&r.ID, &r.OrgID, &r.CredentialID, &r.Kind, &r.Provider, &settings, &r.AdminCredentialID, &r.Step,
		&r.NewKeyName, &r.NewKeyID, &r.OldKeyID, &r.SealedKeyID, &r.SealedWrappedKey, &r.SealedCiphertext, &revoke,
		&r.Overlap, &r.Trigger, &r.Actor, &r.Message, &r.LeaseOwner, &lease, &created, &updated); err != nil {
		return r, err
	}
	var err error
	if r.Settings, err = unmarshalMap(settings); err != nil {
		return r, err
	}
	if r.RevokeAt, err = parseTimePtr(revoke); err != nil {
		return r, err
	}
	if lease != "" {
		if r.LeaseUntil, err = parseTime(lease); err != nil {
			return r, err
		}
	}
	if r.CreatedAt, err = parseTime(created); err != nil {
		return r, err
	}
	r.UpdatedAt, err = parseTime(updated)
	return r, err
}

func (t *tx) ActiveRotation(ctx context.Context, orgID, credentialID string) (store.RotationEntry, error) {
	r, err := scanRotation(t.queryRow(ctx, `SELECT `+rotationColumns+` FROM credential_rotations
		WHERE org_id = ? AND credential_id = ? AND kind = 'rotate'`, orgID, credentialID))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("rotation of credential %s: %w", credentialID, store.ErrNotFound)
	}
	return r, err
}

func (t *tx) GetRotation(ctx context.Context, id string) (store.RotationEntry, error) {
	r, err := scanRotation(t.queryRow(ctx, `SELECT `+rotationColumns+` FROM credential_rotations WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("rotation %s: %w", id, store.ErrNotFound)
	}
	return r, err
}

func (t *tx) ListRotations(ctx context.Context) ([]store.RotationEntry, error) {
	rows, err := t.query(ctx, `SELECT `+rotationColumns+` FROM credential_rotations ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.RotationEntry
	for rows.Next() {
		r, err := scanRotation(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ClaimRotation is a compare-and-swap on the lease: one UPDATE, so two replicas claiming together
// cannot both win (PostgreSQL's row lock orders them; SQLite has one writer).
func (t *tx) ClaimRotation(ctx context.Context, id, owner string, now, until time.Time) (bool, error) {
	res, err := t.write(ctx, `UPDATE credential_rotations SET lease_owner = ?, lease_until = ?
		WHERE id = ? AND (lease_owner = '' OR lease_owner = ? OR lease_until < ?)`,
		owner, formatTime(until), id, owner, formatTime(now))
	if err != nil {
		return false, err
	}
	n, err := affected(res)
	return n == 1, err
}

func (t *tx) UpdateRotation(ctx context.Context, r store.RotationEntry, expectStep string) (bool, error) {
	res, err := t.write(ctx, `UPDATE credential_rotations SET step = ?, new_key_id = ?, old_key_id = ?, sealed_key_id = ?,
		sealed_wrapped_key = ?, sealed_ciphertext = ?, revoke_at = ?, message = ?, lease_until = ?, updated_at = ?
		WHERE id = ? AND step = ? AND lease_owner = ?`,
		r.Step, r.NewKeyID, r.OldKeyID, r.SealedKeyID, r.SealedWrappedKey, r.SealedCiphertext, formatTimePtr(r.RevokeAt),
		r.Message, leaseText(r.LeaseUntil), formatTime(r.UpdatedAt), r.ID, expectStep, r.LeaseOwner)
	if err != nil {
		return false, err
	}
	n, err := affected(res)
	return n == 1, err
}

func (t *tx) DeleteRotation(ctx context.Context, id, owner string) error {
	_, err := t.write(ctx, `DELETE FROM credential_rotations WHERE id = ? AND lease_owner = ?`, id, owner)
	return err
}

func (t *tx) ManagedCredentialRefs(ctx context.Context) ([]store.CredentialRef, error) {
	rows, err := t.query(ctx, "SELECT org_id, id FROM credentials WHERE rotation <> '' ORDER BY org_id, id")
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

func (t *tx) CredentialsUsingAdmin(ctx context.Context, orgID, adminID string) ([]string, error) {
	// The admin id is matched inside the JSON as text: ids are [a-z0-9_] only, so the quoted pattern
	// cannot match a longer id.
	rows, err := t.query(ctx, `SELECT id FROM credentials WHERE org_id = ? AND rotation LIKE ?
		UNION SELECT credential_id FROM credential_rotations WHERE org_id = ? AND admin_credential_id = ?`,
		orgID, `%"admin_credential_id":"`+adminID+`"%`, orgID, adminID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
