package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// Migrations are NNNN_description.sql files, applied in order of NNNN. A released file is never
// edited: a change is a new file, in both directories, with the same number.
//
//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFS embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the dialect's migrations in order.
func (d dialect) migrations() ([]migration, error) {
	dir := "migrations/" + d.name
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s/%s: name must start with a positive number and '_'", dir, name)
		}
		b, err := fs.ReadFile(migrationFS, path.Join(dir, name))
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: name, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i := range ms {
		if ms[i].version != i+1 {
			return nil, fmt.Errorf("migrations/%s: expected version %d, found %s", d.name, i+1, ms[i].name)
		}
	}
	return ms, nil
}

// SchemaVersion is the newest schema version this binary knows (the same for both dialects).
func SchemaVersion() int {
	ms, err := sqliteDialect.migrations()
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].version
}

// pgMigrationLock is the pg_advisory_xact_lock key that serialises migrators: replicas starting
// together must not apply the same migration twice. ("modelkeys" as bytes, to stay clear of other
// applications' keys.)
const pgMigrationLock = 0x6d6f64656c6b6579

// migrate applies the pending migrations in one transaction and refuses a database that a newer
// modelkeys has migrated past what this binary knows, rather than writing rows it cannot read
// correctly.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := s.d.migrations()
	if err != nil {
		return err
	}
	known := ms[len(ms)-1].version

	apply := func(tx *sql.Tx) error {
		if s.d.name == DialectPostgres {
			// Held to the end of this transaction; a second replica waits here, then finds the
			// migrations applied. (On SQLite the BEGIN IMMEDIATE of this transaction does the same.)
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", int64(pgMigrationLock)); err != nil {
				return fmt.Errorf("lock migrations: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER NOT NULL PRIMARY KEY,
			name       TEXT    NOT NULL,
			applied_at TEXT    NOT NULL
		)`); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		var current int
		if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&current); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if current > known {
			return fmt.Errorf("%w: the database is at schema version %d, this modelkeys knows up to %d; upgrade modelkeys",
				store.ErrSchemaTooNew, current, known)
		}
		for _, m := range ms {
			if m.version <= current {
				continue
			}
			// Both drivers run a multi-statement string when it has no arguments (pgx then uses the
			// simple protocol).
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("apply migration %s: %w", m.name, err)
			}
			if _, err := tx.ExecContext(ctx, s.d.rebind("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"),
				m.version, m.name, formatTime(time.Now())); err != nil {
				return fmt.Errorf("record migration %s: %w", m.name, err)
			}
		}
		return nil
	}
	// Processes opening a new SQLite file together (a server and an embedded provider, say) race to
	// turn it to WAL mode, and SQLite can then answer a BEGIN IMMEDIATE with SQLITE_BUSY without
	// calling the busy handler. It happens only around that first open, so the migration, which
	// every open runs first, waits it out here as busy_timeout would.
	deadline := time.Now().Add(sqliteBusyTimeout)
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		err := s.rawTx(ctx, apply)
		if s.d.name != DialectSQLite || !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

// rawTx is Tx for internal work on the bare *sql.Tx.
func (s *Store) rawTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, s.d.txOpts)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}
