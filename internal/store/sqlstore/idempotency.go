package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

func (t *tx) GetIdempotency(ctx context.Context, orgID, key string) (store.Idempotency, error) {
	var i store.Idempotency
	var created string
	err := t.queryRow(ctx, `SELECT org_id, key, request_hash, object_type, object_id, created_at
		FROM idempotency_keys WHERE org_id = ? AND key = ?`, orgID, key).
		Scan(&i.OrgID, &i.Key, &i.RequestHash, &i.ObjectType, &i.ObjectID, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return i, fmt.Errorf("idempotency key: %w", store.ErrNotFound)
	}
	if err != nil {
		return i, err
	}
	i.CreatedAt, err = parseTime(created)
	return i, err
}

func (t *tx) InsertIdempotency(ctx context.Context, i store.Idempotency) error {
	_, err := t.write(ctx, `INSERT INTO idempotency_keys (org_id, key, request_hash, object_type, object_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, i.OrgID, i.Key, i.RequestHash, i.ObjectType, i.ObjectID, formatTime(i.CreatedAt))
	if t.d.violation(err) == violationForeignKey {
		return fmt.Errorf("organization %s: %w", i.OrgID, store.ErrNotFound)
	}
	return t.d.mapErr(err, "idempotency key")
}
