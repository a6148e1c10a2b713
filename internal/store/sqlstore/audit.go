package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// InsertAudit appends e; the database assigns the id (e.ID is ignored).
func (t *tx) InsertAudit(ctx context.Context, orgID string, e api.AuditEvent) error {
	fields, err := marshalList(e.Fields)
	if err != nil {
		return err
	}
	changes := []byte("[]")
	if len(e.Changes) > 0 {
		if changes, err = json.Marshal(e.Changes); err != nil {
			return err
		}
	}
	if t.d.name == DialectPostgres {
		// Concurrent PostgreSQL transactions can take sequence ids in one order and commit in the
		// other, and a reader paging with after=11 would then never see 10. Holding this lock from the
		// event's insert to the commit (the event is the last write of every transaction that makes
		// one) gives the events of one organisation ids in commit order. SQLite has one writer.
		if _, err := t.exec(ctx, "SELECT pg_advisory_xact_lock(CAST(? AS integer), hashtext(?))", pgAuditLockClass, orgID); err != nil {
			return fmt.Errorf("lock the audit log: %w", err)
		}
	}
	claims := "{}"
	if len(e.ActorClaims) > 0 {
		if claims, err = marshalMap(e.ActorClaims); err != nil {
			return err
		}
	}
	_, err = t.write(ctx, `INSERT INTO audit_events (org_id, time, actor, action, object_type, object_id, fields, changes,
		actor_federation_rule, actor_claims, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, orgID, formatTime(e.Time), e.Actor, e.Action, e.ObjectType, e.ObjectID, fields, string(changes),
		e.ActorFederationRule, claims, e.Detail)
	if t.d.violation(err) == violationForeignKey {
		return fmt.Errorf("organization %s: %w", orgID, store.ErrNotFound)
	}
	return err
}

// pgAuditLockClass is the first key of the advisory lock InsertAudit takes on PostgreSQL ("au"), the
// second being a hash of the organisation id.
const pgAuditLockClass = 0x6175

// ListAudit lists the organisation's events with id > afterID, oldest first; limit <= 0 means
// DefaultLimit.
func (t *tx) ListAudit(ctx context.Context, orgID string, afterID int64, limit int) ([]api.AuditEvent, error) {
	rows, err := t.query(ctx, `SELECT `+auditColumns+` FROM audit_events
		WHERE org_id = ? AND id > ? ORDER BY id LIMIT ?`, orgID, afterID, limitOrDefault(limit))
	if err != nil {
		return nil, err
	}
	return scanAuditRows(rows)
}

// auditColumns are the columns scanAuditRows reads, in its order.
const auditColumns = `id, time, actor, action, object_type, object_id, fields, changes,
		actor_federation_rule, actor_claims, detail`

// scanAuditRows reads auditColumns rows and closes them.
func scanAuditRows(rows *sql.Rows) ([]api.AuditEvent, error) {
	defer rows.Close()
	out := []api.AuditEvent{}
	for rows.Next() {
		var e api.AuditEvent
		var at, fields, changes, claims string
		var err error
		if err = rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.ObjectType, &e.ObjectID, &fields, &changes,
			&e.ActorFederationRule, &claims, &e.Detail); err != nil {
			return nil, err
		}
		if claims != "" && claims != "{}" {
			if e.ActorClaims, err = unmarshalMap(claims); err != nil {
				return nil, err
			}
		}
		if changes != "" && changes != "[]" {
			if err := json.Unmarshal([]byte(changes), &e.Changes); err != nil {
				return nil, fmt.Errorf("stored audit changes: %w", err)
			}
		}
		if e.Time, err = parseTime(at); err != nil {
			return nil, err
		}
		if e.Fields, err = unmarshalList(fields); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
