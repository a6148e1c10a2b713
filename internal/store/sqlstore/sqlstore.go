// Package sqlstore implements store.Store over database/sql, once, for both SQLite (modernc.org/sqlite,
// pure Go, so the binaries stay static) and PostgreSQL (pgx v5 through its database/sql adapter).
//
// Queries are written once with '?' placeholders and rebound to $1, $2, ... for PostgreSQL; column
// types are chosen so the same Go values scan on both (timestamps are fixed-width UTC text, maps and
// lists JSON text, booleans the drivers' own). Only the migrations differ per dialect.
package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// Dialect names, as Store.Dialect reports them.
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

// ErrInUse is returned (wrapped, with the names of what stands in the way) when a delete would break a
// reference: a credential that connections use, a project that still holds credentials or connections.
// The service checks for these first to answer 409 with the list; this error is the database's
// guarantee behind that check, for the race where a connection is created in between.
var ErrInUse = errors.New("in use")

// Store is an open SQLite or PostgreSQL database. It is safe for concurrent use.
type Store struct {
	db *sql.DB
	// rdb serves read-only transactions. On SQLite it is a pool of query-only connections that WAL
	// lets read in parallel with each other and with the writer; on PostgreSQL it is db.
	rdb *sql.DB
	d   dialect
	// group merges concurrent SQLite write transactions into one commit; nil on PostgreSQL, whose
	// writers run in parallel.
	group *groupCommit
	// stmts and rstmts cache prepared statements for db and rdb on SQLite; nil on PostgreSQL.
	stmts, rstmts *stmtCache
}

var (
	_ store.Store        = (*Store)(nil)
	_ store.LeaderLocker = (*Store)(nil)
)

// dialect is everything that differs between the backends at run time.
type dialect struct {
	name   string
	txOpts *sql.TxOptions
	// statements counts the statements a store's transactions run (Store.Statements); each Store has
	// its own.
	statements *atomic.Int64
}

// withCounter is d with a statement counter of its own, for one Store.
func (d dialect) withCounter() dialect {
	d.statements = new(atomic.Int64)
	return d
}

// Statements is how many SQL statements the store's transactions have run since it opened (migrations
// and savepoints aside): what tests and benchmarks use to show that a request costs a fixed number
// of round trips, whatever the data.
func (s *Store) Statements() int64 { return s.d.statements.Load() }

var (
	sqliteDialect = dialect{
		name: DialectSQLite,
		// The driver's _txlock=immediate makes every BEGIN a BEGIN IMMEDIATE; SQLite has a single
		// isolation level (serializable), so there is nothing to ask for here.
		txOpts: nil,
	}
	postgresDialect = dialect{
		name: DialectPostgres,
		// Every write is a single-row statement guarded by a version or a unique key, so READ COMMITTED
		// gives the needed guarantees without serialization failures to retry.
		txOpts: &sql.TxOptions{Isolation: sql.LevelReadCommitted},
	}
)

// Open opens a database named the way the server's --db flag and MODELKEYS_DB take it:
// postgres://... or postgresql://... for PostgreSQL; file:PATH, file://PATH or a bare path for SQLite.
func Open(ctx context.Context, dsn string) (*Store, error) {
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return OpenPostgres(ctx, dsn)
	case strings.HasPrefix(dsn, "file://"):
		return OpenSQLite(ctx, strings.TrimPrefix(dsn, "file://"))
	case strings.HasPrefix(dsn, "file:"):
		return OpenSQLite(ctx, strings.TrimPrefix(dsn, "file:"))
	default:
		return OpenSQLite(ctx, dsn)
	}
}

// sqliteBusyTimeout is how long a SQLite write waits for another process's lock.
const sqliteBusyTimeout = 10 * time.Second

// SQLiteDSN is the modernc.org/sqlite data source name OpenSQLite uses for path. Pragmas run on every
// new connection, busy_timeout first (the driver orders it so), then:
//
//   - journal_mode(WAL): readers never block the writer and a second process (an embedded provider
//     and a server on the same file) can share the database;
//   - synchronous(FULL): a commit is on disk when it returns, even after a power cut (NORMAL in WAL
//     mode may lose the last commits, and a lost credential write is worse than a slower apply);
//   - foreign_keys(1): SQLite leaves them off by default;
//   - busy_timeout(10000): wait up to 10s for another process's write lock instead of failing with
//     SQLITE_BUSY at once.
//
// _txlock=immediate makes every transaction BEGIN IMMEDIATE: it takes the write lock at BEGIN, where
// the busy handler can wait for it, rather than at the first write, where a deferred transaction
// that already read must fail (SQLITE_BUSY, no wait) to avoid a deadlock between two upgraders.
func SQLiteDSN(path string) string {
	// SQLite reads "file:" names as URIs: it decodes %HH in the path and ends it at '?' or '#'.
	// Escaping those three makes any file name safe (Clean also turns a leading "//", which would be
	// read as a URI authority, into "/").
	escaped := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(filepath.Clean(path))
	return "file:" + escaped + "?" + strings.Join([]string{
		"_pragma=busy_timeout(" + strconv.Itoa(int(sqliteBusyTimeout/time.Millisecond)) + ")",
		"_pragma=journal_mode(WAL)",
		"_pragma=synchronous(FULL)",
		"_pragma=foreign_keys(1)",
		"_txlock=immediate",
	}, "&")
}

// OpenSQLite opens (creating when missing) the SQLite database at path and brings its schema up to
// date. The parent directory is created 0700 and a new file 0600: the secrets in it are encrypted,
// but names, settings and token hashes are nobody else's business.
func OpenSQLite(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("sqlite: create directory for %s: %w", path, err)
		}
	}
	// Create the file ourselves so it gets 0600; SQLite gives its -wal and -shm files the same mode.
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		_ = f.Close()
	} else if !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("sqlite: create %s: %w", path, err)
	}

	db, err := sql.Open("sqlite", SQLiteDSN(path))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// One connection. Every transaction is BEGIN IMMEDIATE, so SQLite runs one writer at a time anyway;
	// with more connections the losers would poll in SQLite's busy handler (sleeps of up to 100ms),
	// while with one they queue in database/sql and are handed the connection the moment it is free.
	// The busy handler is then only for the other process on the same file. The cost: a transaction
	// must not call Store.Tx again from inside fn (it would wait for itself); none of ours do.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)

	s := &Store{db: db, rdb: db, d: sqliteDialect.withCounter()}
	if err := s.migrate(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("sqlite %s: %w", path, err)
	}
	rdb, err := sql.Open("sqlite", sqliteReadDSN(path))
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("sqlite: open %s for reading: %w", path, err)
	}
	rdb.SetMaxOpenConns(readConns)
	rdb.SetMaxIdleConns(readConns)
	s.rdb = rdb
	s.stmts, s.rstmts = newStmtCache(db), newStmtCache(rdb)
	s.group = newGroupCommit(db, s.d, s.stmts)
	return s, nil
}

// readConns bounds the SQLite read pool: reads are short, so a few connections keep every core busy.
const readConns = 4

// sqliteReadDSN is SQLiteDSN for the read pool: deferred transactions that never take the write lock,
// and query_only so that a write through this pool fails loudly instead of racing the writer.
func sqliteReadDSN(path string) string {
	return strings.Replace(SQLiteDSN(path), "_txlock=immediate", "_txlock=deferred&_pragma=query_only(1)", 1)
}

// PostgreSQL pool defaults. Several stateless replicas share one database, so each keeps its pool
// modest; the lifetime lets connections move to a new primary after a failover. Idle connections are
// kept up to MaxOpenConns: a pool that keeps fewer than the requests in flight closes connections as
// they are given back and dials new ones a moment later (at 16 requests in flight with 10 kept, a read's
// p99 was 100 ms, against 5 ms with all kept); the idle time closes them once the load is gone.
const (
	pgMaxOpenConns    = 20
	pgConnMaxLifetime = 30 * time.Minute
	pgConnMaxIdleTime = 5 * time.Minute
)

// PostgresOptions size the connection pool. Zero fields take the defaults above.
type PostgresOptions struct {
	MaxOpenConns    int           // most connections open at once (default 20)
	MaxIdleConns    int           // most kept idle (default and most: MaxOpenConns)
	ConnMaxLifetime time.Duration // a connection is replaced after this long (default 30m)
	ConnMaxIdleTime time.Duration // an idle connection is closed after this long (default 5m)
}

func (o PostgresOptions) withDefaults() PostgresOptions {
	if o.MaxOpenConns <= 0 {
		o.MaxOpenConns = pgMaxOpenConns
	}
	if o.MaxIdleConns <= 0 || o.MaxIdleConns > o.MaxOpenConns {
		o.MaxIdleConns = o.MaxOpenConns
	}
	if o.ConnMaxLifetime <= 0 {
		o.ConnMaxLifetime = pgConnMaxLifetime
	}
	if o.ConnMaxIdleTime <= 0 {
		o.ConnMaxIdleTime = pgConnMaxIdleTime
	}
	return o
}

// OpenPostgres opens the PostgreSQL database at url (postgres://user:pass@host:port/db?sslmode=...,
// anything pgx accepts) with the default pool and brings its schema up to date.
func OpenPostgres(ctx context.Context, url string) (*Store, error) {
	return OpenPostgresWithOptions(ctx, url, PostgresOptions{})
}

// OpenPostgresWithOptions is OpenPostgres with a pool sized by opts.
func OpenPostgresWithOptions(ctx context.Context, url string, opts PostgresOptions) (*Store, error) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		// pgx's parse errors can quote the URL, password included; keep only the kind of failure.
		return nil, errors.New("postgres: invalid connection URL")
	}
	opts = opts.withDefaults()
	db.SetMaxOpenConns(opts.MaxOpenConns)
	db.SetMaxIdleConns(opts.MaxIdleConns)
	db.SetConnMaxLifetime(opts.ConnMaxLifetime)
	db.SetConnMaxIdleTime(opts.ConnMaxIdleTime)

	s := &Store{db: db, rdb: db, d: postgresDialect.withCounter()}
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	if err := s.migrate(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return s, nil
}

// Dialect reports "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.d.name }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// TryLeaderLock takes a PostgreSQL session-level advisory lock keyed by name, without waiting, on a
// connection it keeps out of the pool until release (the lock belongs to that session; if the
// session dies, PostgreSQL drops the lock and another replica can take it). On SQLite, whose file one
// process serves, it is always ok.
func (s *Store) TryLeaderLock(ctx context.Context, name string) (release func(), ok bool, err error) {
	if s.d.name != DialectPostgres {
		return func() {}, true, nil
	}
	h := fnv.New64a()
	h.Write([]byte("modelkeys:" + name))
	key := int64(h.Sum64())
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("leader lock %s: %w", name, err)
	}
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&ok); err != nil {
		_ = conn.Close()
		return nil, false, fmt.Errorf("leader lock %s: %w", name, err)
	}
	if !ok {
		_ = conn.Close()
		return nil, false, nil
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var unlocked bool
			if err := conn.QueryRowContext(ctx, "SELECT pg_advisory_unlock($1)", key).Scan(&unlocked); err != nil || !unlocked {
				// Never hand a session that may still hold the lock back to the pool: discard it.
				_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			}
			_ = conn.Close()
		})
	}, true, nil
}

// Close closes the pool.
func (s *Store) Close() error {
	if s.group != nil {
		s.group.close()
	}
	if s.stmts != nil {
		s.stmts.close()
		s.rstmts.close()
	}
	if s.rdb != nil && s.rdb != s.db {
		return errors.Join(s.rdb.Close(), s.db.Close())
	}
	return s.db.Close()
}

// ReadTx runs fn in a read-only transaction. Its writes fail. On SQLite it runs beside the writer
// instead of queueing behind it.
func (s *Store) ReadTx(ctx context.Context, fn func(store.Tx) error) error {
	opts := s.d.txOpts
	if s.d.name == DialectPostgres {
		opts = &sql.TxOptions{Isolation: sql.LevelReadCommitted, ReadOnly: true}
	}
	sqlTx, err := s.rdb.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("begin read transaction: %w", err)
	}
	defer func() { _ = sqlTx.Rollback() }() // nothing to commit
	return fn(&tx{tx: sqlTx, d: s.d, stmts: s.rstmts})
}

// ReadOne runs fn, which reads with exactly one statement, outside any transaction: one statement
// reads one consistent snapshot by itself on both backends, and a read that needs no transaction
// skips BEGIN and ROLLBACK, which on SQLite cost a credential read a tenth of its time (each is
// parsed anew) and on PostgreSQL two round trips. A write or a second statement fails.
func (s *Store) ReadOne(ctx context.Context, fn func(store.Tx) error) error {
	return fn(&tx{one: s.rdb, d: s.d, stmts: s.rstmts})
}

// Tx runs fn in one transaction: BEGIN IMMEDIATE on SQLite, READ COMMITTED on PostgreSQL. It commits
// when fn returns nil and rolls back when fn returns an error or panics (the panic goes on). A write
// that a constraint refuses (ErrDuplicate, ErrNotFound for a missing parent, ErrInUse) leaves the
// transaction usable on both backends. fn must not call Tx again: on SQLite the inner call would wait
// for the outer one's connection.
func (s *Store) Tx(ctx context.Context, fn func(store.Tx) error) (err error) {
	if s.group != nil {
		return s.group.do(ctx, fn)
	}
	sqlTx, err := s.db.BeginTx(ctx, s.d.txOpts)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	done := false
	defer func() {
		if !done {
			// Reached only by a panic in fn: undo its writes, then let the panic continue.
			_ = sqlTx.Rollback()
		}
	}()
	ferr := fn(&tx{tx: sqlTx, d: s.d, stmts: s.stmts})
	done = true
	if ferr != nil {
		if rerr := sqlTx.Rollback(); rerr != nil && !errors.Is(rerr, sql.ErrTxDone) {
			return errors.Join(ferr, fmt.Errorf("rollback: %w", rerr))
		}
		return ferr
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", s.d.mapErr(err, ""))
	}
	return nil
}

// rebind turns '?' placeholders into PostgreSQL's $1, $2, ... Queries in this package never hold a
// '?' inside a string literal, so no quoting rules are needed.
func (d dialect) rebind(q string) string {
	if d.name != DialectPostgres || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// isBusy reports SQLite's SQLITE_BUSY (any extended code).
func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}

// Constraint kinds the drivers report, by their own codes rather than message text.
const (
	violationNone = iota
	violationUnique
	violationForeignKey
)

func (d dialect) violation(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return violationUnique
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return violationForeignKey
		case sqlite3.SQLITE_CONSTRAINT_TRIGGER:
			// ON DELETE RESTRICT runs as a built-in trigger and reports itself under this code.
			if strings.Contains(se.Error(), "FOREIGN KEY constraint failed") {
				return violationForeignKey
			}
		}
		return violationNone
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505": // unique_violation
			return violationUnique
		case "23503": // foreign_key_violation
			return violationForeignKey
		}
	}
	return violationNone
}

// mapErr turns a unique violation into store.ErrDuplicate, naming what (e.g. `credential "prod"`).
// Other errors are returned unchanged; foreign keys are mapped by the callers, who know which side
// of the reference they are on.
func (d dialect) mapErr(err error, what string) error {
	if err == nil {
		return nil
	}
	if d.violation(err) == violationUnique {
		if what == "" {
			return store.ErrDuplicate
		}
		return fmt.Errorf("%s already exists: %w", what, store.ErrDuplicate)
	}
	return err
}
