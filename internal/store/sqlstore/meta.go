package sqlstore

import (
	"context"
	"database/sql"
	"errors"
)

func (t *tx) GetMeta(ctx context.Context, key string) (string, bool, error) {
	var v string
	err := t.queryRow(ctx, "SELECT value FROM meta WHERE key = ?", key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return v, true, nil
}

// LockMeta reads a meta value and locks its row until the transaction ends: shared (FOR SHARE) beside
// other shared holders, or exclusive (FOR UPDATE), which waits for every holder and makes later ones
// wait. SQLite needs no lock: its write transactions run one at a time.
func (t *tx) LockMeta(ctx context.Context, key string, exclusive bool) (string, bool, error) {
	if t.d.name != DialectPostgres {
		return t.GetMeta(ctx, key)
	}
	lock := " FOR SHARE"
	if exclusive {
		lock = " FOR UPDATE"
	}
	var v string
	err := t.queryRow(ctx, "SELECT value FROM meta WHERE key = ?"+lock, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return v, true, nil
}

func (t *tx) PutMeta(ctx context.Context, key, value string) error {
	_, err := t.exec(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	return err
}

func (t *tx) InsertMeta(ctx context.Context, key, value string) error {
	_, err := t.write(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)`, key, value)
	return t.d.mapErr(err, "meta "+key)
}
