package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// DefaultLimit is the page size of the List methods when the caller's limit is zero or negative.
const DefaultLimit = 100

// OrgScope is the ProjectID filter value that selects organisation-wide objects only, in both
// store.CredentialFilter and store.ConnectionFilter: "" does not filter, "-" selects the
// organisation scope, any other value that project.
const OrgScope = "-"

// tx implements store.Tx on one database/sql transaction, or, for ReadOne, on one statement outside
// any transaction.
type tx struct {
	tx *sql.Tx
	// one, set instead of tx by ReadOne, is the read pool its single statement runs on; ran records
	// that it has run, so that a second statement is refused rather than read from another snapshot.
	one *sql.DB
	ran bool
	d   dialect
	// shared marks a transaction that group commit shares between callers. Its statements ignore the
	// caller's cancellation: SQLite answers an interrupted write by rolling back the whole transaction,
	// which would take the other callers' writes with it. The caller's context is checked before its
	// turn instead, and its work is a few short statements.
	shared bool
	// stmts caches prepared statements on SQLite; nil on PostgreSQL.
	stmts *stmtCache
}

// stmtCtx is the context a statement runs with.
func (t *tx) stmtCtx(ctx context.Context) context.Context {
	if t.shared {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

var _ store.Tx = (*tx)(nil)

// errReadOne and errSecondStatement refuse what a ReadOne function may not do: a write (on
// PostgreSQL the read pool is the writer's, so nothing else would stop it; every write in this package
// goes through exec or write, never query), and a second statement, which would read a different
// snapshot from the first.
var (
	errReadOne         = errors.New("ReadOne cannot write: use Tx")
	errSecondStatement = errors.New("ReadOne runs one statement: use ReadTx for several")
)

func (t *tx) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if t.one != nil {
		return nil, errReadOne
	}
	ctx, q = t.stmtCtx(ctx), t.d.rebind(q)
	t.d.statements.Add(1)
	if s := t.prepared(ctx, q); s != nil {
		return s.ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, q, args...)
}

// prepared is q's cached statement in this transaction (or on the read pool, for ReadOne), or nil
// (run q unprepared).
func (t *tx) prepared(ctx context.Context, q string) *sql.Stmt {
	if t.stmts == nil {
		return nil
	}
	s := t.stmts.stmt(q)
	if s == nil || t.one != nil {
		return s
	}
	return t.tx.StmtContext(ctx, s)
}

// claimOne is called before a ReadOne statement runs: it refuses the second one.
func (t *tx) claimOne() error {
	if t.ran {
		return errSecondStatement
	}
	t.ran = true
	return nil
}

// write runs a statement that a constraint may refuse (a taken name, a missing or still-used parent).
// PostgreSQL aborts the whole transaction on any failed statement, SQLite only the statement; a
// savepoint around the statement gives PostgreSQL SQLite's behaviour, so on both backends the caller
// can go on after ErrDuplicate (look up the idempotency key that was taken, say) in the same
// transaction. The price is two short round trips per write on PostgreSQL.
func (t *tx) write(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if t.d.name != DialectPostgres || t.one != nil {
		return t.exec(ctx, q, args...)
	}
	if _, err := t.tx.ExecContext(ctx, "SAVEPOINT write"); err != nil {
		return nil, err
	}
	res, err := t.exec(ctx, q, args...)
	if err != nil {
		if _, rerr := t.tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT write"); rerr != nil {
			return nil, errors.Join(err, rerr)
		}
		return nil, err
	}
	if _, err := t.tx.ExecContext(ctx, "RELEASE SAVEPOINT write"); err != nil {
		return nil, err
	}
	return res, nil
}

func (t *tx) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	ctx, q = t.stmtCtx(ctx), t.d.rebind(q)
	t.d.statements.Add(1)
	if t.one != nil {
		if err := t.claimOne(); err != nil {
			return nil, err
		}
	}
	if s := t.prepared(ctx, q); s != nil {
		return s.QueryContext(ctx, args...)
	}
	if t.one != nil {
		return t.one.QueryContext(ctx, q, args...)
	}
	return t.tx.QueryContext(ctx, q, args...)
}

// scanner is what *sql.Row and *sql.Rows have in common.
type scanner interface{ Scan(dest ...any) error }

// errRow is a row whose Scan reports why its statement did not run.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

func (t *tx) queryRow(ctx context.Context, q string, args ...any) scanner {
	ctx, q = t.stmtCtx(ctx), t.d.rebind(q)
	t.d.statements.Add(1)
	if t.one != nil {
		if err := t.claimOne(); err != nil {
			return errRow{err}
		}
	}
	if s := t.prepared(ctx, q); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	if t.one != nil {
		return t.one.QueryRowContext(ctx, q, args...)
	}
	return t.tx.QueryRowContext(ctx, q, args...)
}

// ---- values ---------------------------------------------------------------------------------------

// timeLayout is fixed-width (always nine fraction digits, always Z) so stored times sort as text and
// round-trip to the nanosecond.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func formatTimePtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return formatTime(*t)
}

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored time %q: %w", s, err)
	}
	return t.UTC(), nil
}

func parseTimePtr(s sql.NullString) (*time.Time, error) {
	if !s.Valid {
		return nil, nil
	}
	t, err := parseTime(s.String)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// JSON columns. nil maps and slices are stored as {} and [] and always read back non-nil, so the API
// shows {} and [] rather than null.

func marshalMap(m map[string]string) (string, error) {
	if m == nil {
		return "{}", nil
	}
	b, err := json.Marshal(m)
	return string(b), err
}

func unmarshalMap(s string) (map[string]string, error) {
	if s == "" || s == "{}" { // most labels, many settings: skip the decoder
		return map[string]string{}, nil
	}
	m := map[string]string{}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("stored map: %w", err)
	}
	if m == nil { // the text "null"
		m = map[string]string{}
	}
	return m, nil
}

func marshalList(l []string) (string, error) {
	if l == nil {
		return "[]", nil
	}
	b, err := json.Marshal(l)
	return string(b), err
}

func unmarshalList(s string) ([]string, error) {
	l := []string{}
	if s == "" {
		return l, nil
	}
	if err := json.Unmarshal([]byte(s), &l); err != nil {
		return nil, fmt.Errorf("stored list: %w", err)
	}
	if l == nil {
		l = []string{}
	}
	return l, nil
}

func limitOrDefault(n int) int {
	if n <= 0 {
		return DefaultLimit
	}
	return n
}

// versionedResult finishes an UPDATE ... WHERE id AND org_id AND version: a refused write is mapped,
// and no row changed means not found or a lost race (ErrVersionMismatch), whichever is true.
func (t *tx) versionedResult(ctx context.Context, res sql.Result, err error, table, kind, name, orgID, id string, expect int64) error {
	if err != nil {
		return t.d.mapErr(err, fmt.Sprintf("%s %q", kind, name))
	}
	n, err := affected(res)
	if err != nil {
		return err
	}
	if n == 0 {
		return t.versionCheck(ctx, table, kind, orgID, id, expect)
	}
	return nil
}

// versionCheck tells an update that matched no row apart: the row is absent from this organisation
// (ErrNotFound) or has moved on (ErrVersionMismatch).
func (t *tx) versionCheck(ctx context.Context, table, kind, orgID, id string, expect int64) error {
	var v int64
	err := t.queryRow(ctx, "SELECT version FROM "+table+" WHERE id = ? AND org_id = ?", id, orgID).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s %s: %w", kind, id, store.ErrNotFound)
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("%s %s is at version %d, not %d: %w", kind, id, v, expect, store.ErrVersionMismatch)
}

func affected(res sql.Result) (int64, error) {
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("rows affected: %w", err)
	}
	return n, nil
}
