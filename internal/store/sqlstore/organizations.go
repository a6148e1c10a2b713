package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/idgen"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// EnsureOrganization returns the organisation called name, creating it (with a new org_... id) when
// missing. Two callers racing to create it both get the same row.
func (t *tx) EnsureOrganization(ctx context.Context, name string) (store.Organization, error) {
	if name == "" {
		return store.Organization{}, errors.New("organization name is empty")
	}
	// ON CONFLICT DO NOTHING, then read: under READ COMMITTED the read sees a row that a concurrent
	// transaction committed while the insert waited on it.
	if _, err := t.exec(ctx, `INSERT INTO organizations (id, name, created_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO NOTHING`, idgen.New("org"), name, formatTime(time.Now())); err != nil {
		return store.Organization{}, err
	}
	return t.scanOrganization(t.queryRow(ctx, "SELECT id, name, created_at FROM organizations WHERE name = ?", name), name)
}

func (t *tx) GetOrganization(ctx context.Context, id string) (store.Organization, error) {
	return t.scanOrganization(t.queryRow(ctx, "SELECT id, name, created_at FROM organizations WHERE id = ?", id), id)
}

func (t *tx) scanOrganization(row scanner, ref string) (store.Organization, error) {
	var o store.Organization
	var created string
	err := row.Scan(&o.ID, &o.Name, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return o, fmt.Errorf("organization %s: %w", ref, store.ErrNotFound)
	}
	if err != nil {
		return o, err
	}
	o.CreatedAt, err = parseTime(created)
	return o, err
}
