package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// DefaultLimit is the page size of the List methods when the caller's limit is zero or negative.
const DefaultLimit = 100

// OrgScope is the ProjectID filter value that selects organisation-wide objects only, in both
// store.CredentialFilter and store.ConnectionFilter: "" does not filter, "-" selects the
// organisation scope, any other value that project.
const OrgScope = "-"

// tx implements store.Tx on one database/sql transaction.
type tx struct {
	tx *sql.Tx
	d  dialect
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

func (t *tx) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	ctx, q = t.stmtCtx(ctx), t.d.rebind(q)
	if s := t.prepared(ctx, q); s != nil {
		return s.ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, q, args...)
}

// prepared is q's cached statement in this transaction, or nil (run q unprepared).
func (t *tx) prepared(ctx context.Context, q string) *sql.Stmt {
	if t.stmts == nil {
		return nil
	}
	return t.stmts.stmt(ctx, t.tx, q)
}

// write runs a statement that a constraint may refuse (a taken name, a missing or still-used parent).
// PostgreSQL aborts the whole transaction on any failed statement, SQLite only the statement; a
// savepoint around the statement gives PostgreSQL SQLite's behaviour, so on both backends the caller
// can go on after ErrDuplicate (look up the idempotency key that was taken, say) in the same
// transaction. The price is two short round trips per write on PostgreSQL.
func (t *tx) write(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if t.d.name != DialectPostgres {
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
	if s := t.prepared(ctx, q); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, q, args...)
}

// queryUnprepared is query for texts built per call, which the statement cache should not keep.
func (t *tx) queryUnprepared(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return t.tx.QueryContext(t.stmtCtx(ctx), t.d.rebind(q), args...)
}

func (t *tx) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	ctx, q = t.stmtCtx(ctx), t.d.rebind(q)
	if s := t.prepared(ctx, q); s != nil {
		return s.QueryRowContext(ctx, args...)
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
	m := map[string]string{}
	if s == "" {
		return m, nil
	}
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

// placeholders returns "?, ?, ?" for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// newID returns prefix + 24 random hex digits.
func newID(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand panics rather than return an error)
	return prefix + hex.EncodeToString(b[:])
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

// ---- meta -----------------------------------------------------------------------------------------

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

// ---- organisations and tokens -----------------------------------------------------------------------

// EnsureOrganization returns the organisation called name, creating it (with a new org_... id) when
// missing. Two callers racing to create it both get the same row.
func (t *tx) EnsureOrganization(ctx context.Context, name string) (store.Organization, error) {
	if name == "" {
		return store.Organization{}, errors.New("organization name is empty")
	}
	// ON CONFLICT DO NOTHING, then read: under READ COMMITTED the read sees a row that a concurrent
	// transaction committed while the insert waited on it.
	if _, err := t.exec(ctx, `INSERT INTO organizations (id, name, created_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO NOTHING`, newID("org_"), name, formatTime(time.Now())); err != nil {
		return store.Organization{}, err
	}
	return t.scanOrganization(t.queryRow(ctx, "SELECT id, name, created_at FROM organizations WHERE name = ?", name), name)
}

func (t *tx) GetOrganization(ctx context.Context, id string) (store.Organization, error) {
	return t.scanOrganization(t.queryRow(ctx, "SELECT id, name, created_at FROM organizations WHERE id = ?", id), id)
}

func (t *tx) scanOrganization(row *sql.Row, ref string) (store.Organization, error) {
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

func (t *tx) InsertToken(ctx context.Context, tk store.Token) error {
	_, err := t.write(ctx, `INSERT INTO tokens (id, org_id, name, role, hash, created_at, revoked_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		tk.ID, tk.OrgID, tk.Name, tk.Role, tk.Hash, formatTime(tk.CreatedAt), formatTimePtr(tk.RevokedAt))
	if t.d.violation(err) == violationForeignKey {
		return fmt.Errorf("organization %s: %w", tk.OrgID, store.ErrNotFound)
	}
	return t.d.mapErr(err, "token")
}

const tokenColumns = "id, org_id, name, role, hash, created_at, revoked_at"

// TokenByHash finds a token of any organisation, revoked ones included (the caller checks RevokedAt).
func (t *tx) TokenByHash(ctx context.Context, hash string) (store.Token, error) {
	rows, err := t.query(ctx, "SELECT "+tokenColumns+" FROM tokens WHERE hash = ?", hash)
	if err != nil {
		return store.Token{}, err
	}
	tks, err := scanTokens(rows)
	if err != nil {
		return store.Token{}, err
	}
	if len(tks) == 0 {
		return store.Token{}, fmt.Errorf("token: %w", store.ErrNotFound)
	}
	return tks[0], nil
}

// ListTokens lists every organisation's tokens (for the command line), by organisation then id.
func (t *tx) ListTokens(ctx context.Context) ([]store.Token, error) {
	rows, err := t.query(ctx, "SELECT "+tokenColumns+" FROM tokens ORDER BY org_id, id")
	if err != nil {
		return nil, err
	}
	return scanTokens(rows)
}

func scanTokens(rows *sql.Rows) ([]store.Token, error) {
	defer rows.Close()
	out := []store.Token{}
	for rows.Next() {
		var tk store.Token
		var created string
		var revoked sql.NullString
		if err := rows.Scan(&tk.ID, &tk.OrgID, &tk.Name, &tk.Role, &tk.Hash, &created, &revoked); err != nil {
			return nil, err
		}
		var err error
		if tk.CreatedAt, err = parseTime(created); err != nil {
			return nil, err
		}
		if tk.RevokedAt, err = parseTimePtr(revoked); err != nil {
			return nil, err
		}
		out = append(out, tk)
	}
	return out, rows.Err()
}

// RevokeToken marks the token revoked at at. Revoking a revoked token keeps the first time.
func (t *tx) RevokeToken(ctx context.Context, id string, at time.Time) error {
	res, err := t.exec(ctx, "UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?", formatTime(at), id)
	if err != nil {
		return err
	}
	n, err := affected(res)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("token %s: %w", id, store.ErrNotFound)
	}
	return nil
}

// ---- credentials ------------------------------------------------------------------------------------

// credentialSelect reads credentials; has_api_key and has_auth_token come from the secrets table
// (point lookups on its primary key) so they can never disagree with what is stored.
const credentialSelect = `SELECT c.id, c.name, c.description, c.provider, c.project_id, c.settings, c.labels,
	EXISTS (SELECT 1 FROM credential_secrets s WHERE s.credential_id = c.id AND s.field = ?),
	EXISTS (SELECT 1 FROM credential_secrets s WHERE s.credential_id = c.id AND s.field = ?),
	c.secret_hint, c.secret_fingerprint, c.secret_version, c.status, c.status_message, c.verified_at,
	c.verify, c.version, c.created_at, c.updated_at
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
		secret_hint, secret_fingerprint, secret_version, status, status_message, verified_at, verify, version, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, orgID, c.ProjectID, c.Name, c.Description, c.Provider, settings, labels,
		c.SecretHint, c.SecretFingerprint, c.SecretVersion, c.Status, c.StatusMessage, formatTimePtr(c.VerifiedAt),
		c.Verify, c.Version, formatTime(c.CreatedAt), formatTime(c.UpdatedAt))
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
// exactly when set; AfterID and Limit page (Limit <= 0 means DefaultLimit).
func (t *tx) ListCredentials(ctx context.Context, orgID string, f store.CredentialFilter) ([]api.Credential, error) {
	l := newListQuery("c", credentialSelect, append(append([]any{}, credentialSelectArgs...), orgID))
	l.scope(f.ProjectID)
	l.eq("provider", f.Provider)
	l.eq("name", f.Name)
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
		var verified sql.NullString
		if err := rows.Scan(&c.ID, &c.Name, &c.Description, &c.Provider, &c.ProjectID, &settings, &labels,
			&c.HasAPIKey, &c.HasAuthToken, &c.SecretHint, &c.SecretFingerprint, &c.SecretVersion, &c.Status,
			&c.StatusMessage, &verified, &c.Verify, &c.Version, &created, &updated); err != nil {
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
		c.ConnectionIDs = []string{}
		out = append(out, c)
	}
	return out, rows.Err()
}

// UpdateCredential writes the mutable fields of c (name, description, settings, labels, the secret
// metadata, status, verified_at, version, updated_at) when the stored version is expectVersion.
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
		verify = ?, version = ?, updated_at = ?
		WHERE id = ? AND org_id = ? AND version = ?`,
		c.Name, c.Description, settings, labels, c.SecretHint, c.SecretFingerprint, c.SecretVersion, c.Status,
		c.StatusMessage, formatTimePtr(c.VerifiedAt), c.Verify, c.Version, formatTime(c.UpdatedAt),
		c.ID, orgID, expectVersion)
	return t.versionedResult(ctx, res, err, "credentials", "credential", c.Name, orgID, c.ID, expectVersion)
}

// DeleteCredential deletes the credential and (by cascade) its secrets. A credential that connections
// use is refused with ErrInUse, whatever the service checked before.
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

// ---- secrets ----------------------------------------------------------------------------------------

// PutSecret inserts or replaces one secret field of a credential of s.OrgID (ErrNotFound when the
// organisation has no such credential).
func (t *tx) PutSecret(ctx context.Context, s store.SealedSecret) error {
	// Check the owner first: the upsert's conflict target (credential_id, field) would otherwise let
	// a caller with the wrong organisation reach another organisation's row.
	var one int
	err := t.queryRow(ctx, "SELECT 1 FROM credentials WHERE id = ? AND org_id = ?", s.CredentialID, s.OrgID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("credential %s: %w", s.CredentialID, store.ErrNotFound)
	}
	if err != nil {
		return err
	}
	_, err = t.write(ctx, `INSERT INTO credential_secrets (org_id, credential_id, field, key_id, wrapped_key, ciphertext)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (credential_id, field) DO UPDATE SET
			key_id = excluded.key_id, wrapped_key = excluded.wrapped_key, ciphertext = excluded.ciphertext`,
		s.OrgID, s.CredentialID, s.Field, s.KeyID, nonNilBytes(s.WrappedKey), nonNilBytes(s.Ciphertext))
	if t.d.violation(err) == violationForeignKey {
		return fmt.Errorf("credential %s: %w", s.CredentialID, store.ErrNotFound)
	}
	return err
}

// nonNilBytes keeps an empty value from being stored as NULL (the columns are NOT NULL).
func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

const secretColumns = "org_id, credential_id, field, key_id, wrapped_key, ciphertext"

// GetSecrets returns the credential's secret fields, by field name; none is an empty list.
func (t *tx) GetSecrets(ctx context.Context, orgID, credentialID string) ([]store.SealedSecret, error) {
	rows, err := t.query(ctx, "SELECT "+secretColumns+" FROM credential_secrets WHERE org_id = ? AND credential_id = ? ORDER BY field",
		orgID, credentialID)
	if err != nil {
		return nil, err
	}
	return scanSecrets(rows)
}

// DeleteSecret removes one secret field; ErrNotFound when the credential has no such field.
func (t *tx) DeleteSecret(ctx context.Context, orgID, credentialID, field string) error {
	res, err := t.exec(ctx, "DELETE FROM credential_secrets WHERE org_id = ? AND credential_id = ? AND field = ?",
		orgID, credentialID, field)
	if err != nil {
		return err
	}
	n, err := affected(res)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("secret %s of credential %s: %w", field, credentialID, store.ErrNotFound)
	}
	return nil
}

// RewrapSecret replaces the key id and wrapped data key of one secret, if its wrapped key is still
// oldWrappedKey (a compare-and-swap: a secret rewritten since it was read is never put back). ok is
// false when it was not, or when the secret is gone.
func (t *tx) RewrapSecret(ctx context.Context, s store.SealedSecret, oldWrappedKey []byte) (bool, error) {
	res, err := t.exec(ctx, `UPDATE credential_secrets SET key_id = ?, wrapped_key = ?
		WHERE org_id = ? AND credential_id = ? AND field = ? AND wrapped_key = ?`,
		s.KeyID, nonNilBytes(s.WrappedKey), s.OrgID, s.CredentialID, s.Field, nonNilBytes(oldWrappedKey))
	if err != nil {
		return false, err
	}
	n, err := affected(res)
	return n == 1, err
}

// CountSecretsNotWrappedBy counts the secrets whose data key another master key than keyID wraps.
func (t *tx) CountSecretsNotWrappedBy(ctx context.Context, keyID string) (int, error) {
	var n int
	err := t.queryRow(ctx, "SELECT COUNT(*) FROM credential_secrets WHERE key_id <> ?", keyID).Scan(&n)
	return n, err
}

// ListAllSecrets lists every organisation's secrets (master key rotation), by credential then field.
func (t *tx) ListAllSecrets(ctx context.Context) ([]store.SealedSecret, error) {
	rows, err := t.query(ctx, "SELECT "+secretColumns+" FROM credential_secrets ORDER BY credential_id, field")
	if err != nil {
		return nil, err
	}
	return scanSecrets(rows)
}

func scanSecrets(rows *sql.Rows) ([]store.SealedSecret, error) {
	defer rows.Close()
	out := []store.SealedSecret{}
	for rows.Next() {
		var s store.SealedSecret
		if err := rows.Scan(&s.OrgID, &s.CredentialID, &s.Field, &s.KeyID, &s.WrappedKey, &s.Ciphertext); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// ---- connections ------------------------------------------------------------------------------------

// connectionSelect joins the credential for Provider: it is the credential's, never stored twice.
const connectionSelect = `SELECT n.id, n.name, n.credential_id, n.model, n.project_id, n.parameters, n.enabled,
	c.provider, n.status, n.status_message, n.version, n.created_at, n.updated_at
	FROM connections n JOIN credentials c ON c.org_id = n.org_id AND c.id = n.credential_id`

// InsertConnection stores c (Provider is ignored: it is read from the credential). A credential that
// is not the organisation's is ErrNotFound.
func (t *tx) InsertConnection(ctx context.Context, orgID string, c api.Connection) error {
	_, err := t.write(ctx, `INSERT INTO connections (id, org_id, project_id, name, credential_id, model, parameters, enabled,
		status, status_message, version, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, orgID, c.ProjectID, c.Name, c.CredentialID, c.Model, c.Parameters, c.Enabled,
		c.Status, c.StatusMessage, c.Version, formatTime(c.CreatedAt), formatTime(c.UpdatedAt))
	if t.d.violation(err) == violationForeignKey {
		return fmt.Errorf("credential %s: %w", c.CredentialID, store.ErrNotFound)
	}
	return t.d.mapErr(err, fmt.Sprintf("connection %q", c.Name))
}

func (t *tx) GetConnection(ctx context.Context, orgID, id string) (api.Connection, error) {
	rows, err := t.query(ctx, connectionSelect+" WHERE n.org_id = ? AND n.id = ?", orgID, id)
	if err != nil {
		return api.Connection{}, err
	}
	cs, err := scanConnections(rows)
	if err != nil {
		return api.Connection{}, err
	}
	if len(cs) == 0 {
		return api.Connection{}, fmt.Errorf("connection %s: %w", id, store.ErrNotFound)
	}
	return cs[0], nil
}

// ListConnections lists the organisation's connections by id. Filter: ProjectID as in
// ListCredentials ("" all, OrgScope organisation-wide, else that project); CredentialID and Name
// match exactly when set; AfterID and Limit page (Limit <= 0 means DefaultLimit).
func (t *tx) ListConnections(ctx context.Context, orgID string, f store.ConnectionFilter) ([]api.Connection, error) {
	l := newListQuery("n", connectionSelect, []any{orgID})
	l.scope(f.ProjectID)
	l.eq("credential_id", f.CredentialID)
	l.eq("name", f.Name)
	q, args := l.page(f.AfterID, f.Limit)
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return scanConnections(rows)
}

func scanConnections(rows *sql.Rows) ([]api.Connection, error) {
	defer rows.Close()
	out := []api.Connection{}
	for rows.Next() {
		var c api.Connection
		var created, updated string
		if err := rows.Scan(&c.ID, &c.Name, &c.CredentialID, &c.Model, &c.ProjectID, &c.Parameters, &c.Enabled,
			&c.Provider, &c.Status, &c.StatusMessage, &c.Version, &created, &updated); err != nil {
			return nil, err
		}
		var err error
		if c.CreatedAt, err = parseTime(created); err != nil {
			return nil, err
		}
		if c.UpdatedAt, err = parseTime(updated); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// UpdateConnection writes name, credential_id, model, parameters, enabled, status, version and
// updated_at when the stored version is expectVersion. ProjectID and CreatedAt are not written.
func (t *tx) UpdateConnection(ctx context.Context, orgID string, c api.Connection, expectVersion int64) error {
	res, err := t.write(ctx, `UPDATE connections SET name = ?, credential_id = ?, model = ?, parameters = ?, enabled = ?,
		status = ?, status_message = ?, version = ?, updated_at = ?
		WHERE id = ? AND org_id = ? AND version = ?`,
		c.Name, c.CredentialID, c.Model, c.Parameters, c.Enabled, c.Status, c.StatusMessage, c.Version,
		formatTime(c.UpdatedAt), c.ID, orgID, expectVersion)
	if t.d.violation(err) == violationForeignKey {
		return fmt.Errorf("credential %s: %w", c.CredentialID, store.ErrNotFound)
	}
	return t.versionedResult(ctx, res, err, "connections", "connection", c.Name, orgID, c.ID, expectVersion)
}

func (t *tx) DeleteConnection(ctx context.Context, orgID, id string) error {
	res, err := t.exec(ctx, "DELETE FROM connections WHERE id = ? AND org_id = ?", id, orgID)
	if err != nil {
		return err
	}
	n, err := affected(res)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("connection %s: %w", id, store.ErrNotFound)
	}
	return nil
}

// ---- model policies ---------------------------------------------------------------------------------

func (t *tx) GetModelPolicy(ctx context.Context, orgID, projectID string) (api.ModelPolicy, error) {
	var p api.ModelPolicy
	var models, publishers, updated string
	err := t.queryRow(ctx, `SELECT project_id, mode, models, publishers, version, updated_at
		FROM model_policies WHERE org_id = ? AND project_id = ?`, orgID, projectID).
		Scan(&p.ProjectID, &p.Mode, &models, &publishers, &p.Version, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("model policy of %s: %w", scopeName(projectID), store.ErrNotFound)
	}
	if err != nil {
		return p, err
	}
	if p.Models, err = unmarshalList(models); err != nil {
		return p, err
	}
	if p.Publishers, err = unmarshalList(publishers); err != nil {
		return p, err
	}
	p.UpdatedAt, err = parseTime(updated)
	return p, err
}

func scopeName(projectID string) string {
	if projectID == "" {
		return "the organization"
	}
	return "project " + projectID
}

// PutModelPolicy inserts or replaces the policy of p.ProjectID's scope. With expectVersion 0 it writes
// unconditionally; otherwise the stored policy must be at expectVersion, and a scope with no stored
// policy is ErrVersionMismatch too (the If-Match named a version that does not exist).
func (t *tx) PutModelPolicy(ctx context.Context, orgID string, p api.ModelPolicy, expectVersion int64) error {
	models, err := marshalList(p.Models)
	if err != nil {
		return err
	}
	publishers, err := marshalList(p.Publishers)
	if err != nil {
		return err
	}
	if expectVersion == 0 {
		_, err := t.write(ctx, `INSERT INTO model_policies (org_id, project_id, mode, models, publishers, version, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (org_id, project_id) DO UPDATE SET mode = excluded.mode, models = excluded.models,
				publishers = excluded.publishers, version = excluded.version, updated_at = excluded.updated_at`,
			orgID, p.ProjectID, p.Mode, models, publishers, p.Version, formatTime(p.UpdatedAt))
		if t.d.violation(err) == violationForeignKey {
			return fmt.Errorf("organization %s: %w", orgID, store.ErrNotFound)
		}
		return err
	}
	res, err := t.exec(ctx, `UPDATE model_policies SET mode = ?, models = ?, publishers = ?, version = ?, updated_at = ?
		WHERE org_id = ? AND project_id = ? AND version = ?`,
		p.Mode, models, publishers, p.Version, formatTime(p.UpdatedAt), orgID, p.ProjectID, expectVersion)
	if err != nil {
		return err
	}
	n, err := affected(res)
	if err != nil {
		return err
	}
	if n == 0 {
		var v int64
		err := t.queryRow(ctx, "SELECT version FROM model_policies WHERE org_id = ? AND project_id = ?", orgID, p.ProjectID).Scan(&v)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("model policy of %s has no stored version %d: %w", scopeName(p.ProjectID), expectVersion, store.ErrVersionMismatch)
		}
		if err != nil {
			return err
		}
		return fmt.Errorf("model policy of %s is at version %d, not %d: %w", scopeName(p.ProjectID), v, expectVersion, store.ErrVersionMismatch)
	}
	return nil
}

// DeleteModelPolicy removes the scope's policy (it is then mode all); ErrNotFound when it has none.
func (t *tx) DeleteModelPolicy(ctx context.Context, orgID, projectID string) error {
	res, err := t.exec(ctx, "DELETE FROM model_policies WHERE org_id = ? AND project_id = ?", orgID, projectID)
	if err != nil {
		return err
	}
	n, err := affected(res)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("model policy of %s: %w", scopeName(projectID), store.ErrNotFound)
	}
	return nil
}

// ---- projects ---------------------------------------------------------------------------------------

const projectColumns = "id, name, description, inherit_organization_credentials, version, created_at, updated_at"

func (t *tx) InsertProject(ctx context.Context, orgID string, p api.Project) error {
	_, err := t.write(ctx, `INSERT INTO projects (id, org_id, name, description, inherit_organization_credentials,
		version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		p.ID, orgID, p.Name, p.Description, p.InheritOrganizationCredentials, p.Version,
		formatTime(p.CreatedAt), formatTime(p.UpdatedAt))
	if t.d.violation(err) == violationForeignKey {
		return fmt.Errorf("organization %s: %w", orgID, store.ErrNotFound)
	}
	return t.d.mapErr(err, fmt.Sprintf("project %q", p.Name))
}

func (t *tx) GetProject(ctx context.Context, orgID, id string) (api.Project, error) {
	rows, err := t.query(ctx, "SELECT "+projectColumns+" FROM projects WHERE org_id = ? AND id = ?", orgID, id)
	if err != nil {
		return api.Project{}, err
	}
	ps, err := scanProjects(rows)
	if err != nil {
		return api.Project{}, err
	}
	if len(ps) == 0 {
		return api.Project{}, fmt.Errorf("project %s: %w", id, store.ErrNotFound)
	}
	return ps[0], nil
}

// ListProjects lists the organisation's projects by id; name "" does not filter; limit <= 0 means
// DefaultLimit.
func (t *tx) ListProjects(ctx context.Context, orgID string, name, afterID string, limit int) ([]api.Project, error) {
	q := "SELECT " + projectColumns + " FROM projects WHERE org_id = ?"
	args := []any{orgID}
	if name != "" {
		q += " AND name = ?"
		args = append(args, name)
	}
	if afterID != "" {
		q += " AND id > ?"
		args = append(args, afterID)
	}
	q += " ORDER BY id LIMIT ?"
	args = append(args, limitOrDefault(limit))
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return scanProjects(rows)
}

func scanProjects(rows *sql.Rows) ([]api.Project, error) {
	defer rows.Close()
	out := []api.Project{}
	for rows.Next() {
		var p api.Project
		var created, updated string
		if err := rows.Scan(&p.ID, &p.Name, &p.Description, &p.InheritOrganizationCredentials, &p.Version,
			&created, &updated); err != nil {
			return nil, err
		}
		var err error
		if p.CreatedAt, err = parseTime(created); err != nil {
			return nil, err
		}
		if p.UpdatedAt, err = parseTime(updated); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// UpdateProject writes name, description, inherit_organization_credentials, version and updated_at
// when the stored version is expectVersion.
func (t *tx) UpdateProject(ctx context.Context, orgID string, p api.Project, expectVersion int64) error {
	res, err := t.write(ctx, `UPDATE projects SET name = ?, description = ?, inherit_organization_credentials = ?,
		version = ?, updated_at = ? WHERE id = ? AND org_id = ? AND version = ?`,
		p.Name, p.Description, p.InheritOrganizationCredentials, p.Version, formatTime(p.UpdatedAt),
		p.ID, orgID, expectVersion)
	return t.versionedResult(ctx, res, err, "projects", "project", p.Name, orgID, p.ID, expectVersion)
}

// DeleteProject deletes the project and its model policy. A project that still holds credentials or
// connections is refused with ErrInUse: project_id is not a foreign key (the empty string stands for the
// organisation), so this check is what keeps such objects from outliving their scope unseen.
func (t *tx) DeleteProject(ctx context.Context, orgID, id string) error {
	if id == "" {
		// '' is the organisation scope, never a project row.
		return fmt.Errorf("project: %w", store.ErrNotFound)
	}
	var one int
	err := t.queryRow(ctx, "SELECT 1 FROM projects WHERE id = ? AND org_id = ?", id, orgID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("project %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return err
	}
	rows, err := t.query(ctx, `SELECT id FROM credentials WHERE org_id = ? AND project_id = ?
		UNION ALL SELECT id FROM connections WHERE org_id = ? AND project_id = ?`, orgID, id, orgID, id)
	if err != nil {
		return err
	}
	var users []string
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			rows.Close()
			return err
		}
		users = append(users, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(users) > 0 {
		sort.Strings(users)
		return fmt.Errorf("project %s holds %s: %w", id, strings.Join(users, ", "), ErrInUse)
	}
	if _, err := t.exec(ctx, "DELETE FROM model_policies WHERE org_id = ? AND project_id = ?", orgID, id); err != nil {
		return err
	}
	_, err = t.exec(ctx, "DELETE FROM projects WHERE id = ? AND org_id = ?", id, orgID)
	return err
}

// ---- idempotency ------------------------------------------------------------------------------------

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

// ---- audit ------------------------------------------------------------------------------------------

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
	_, err = t.write(ctx, `INSERT INTO audit_events (org_id, time, actor, action, object_type, object_id, fields, changes)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, orgID, formatTime(e.Time), e.Actor, e.Action, e.ObjectType, e.ObjectID, fields, string(changes))
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
	rows, err := t.query(ctx, `SELECT id, time, actor, action, object_type, object_id, fields, changes FROM audit_events
		WHERE org_id = ? AND id > ? ORDER BY id LIMIT ?`, orgID, afterID, limitOrDefault(limit))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []api.AuditEvent{}
	for rows.Next() {
		var e api.AuditEvent
		var at, fields, changes string
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.ObjectType, &e.ObjectID, &fields, &changes); err != nil {
			return nil, err
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

// listQuery builds a list query on one table: the organisation, a scope filter, exact matches and
// keyset paging by id. Column names come from this package, never from callers.
type listQuery struct {
	alias string
	q     string
	args  []any
}

// newListQuery starts from a SELECT ending in "FROM table alias"; args hold the SELECT's own arguments
// followed by the organisation id.
func newListQuery(alias, selectSQL string, args []any) *listQuery {
	return &listQuery{alias: alias, q: selectSQL + " WHERE " + alias + ".org_id = ?", args: args}
}

// scope filters by project: "" does not filter, OrgScope selects organisation-wide rows.
func (l *listQuery) scope(projectID string) {
	switch projectID {
	case "":
	case OrgScope:
		l.q += " AND " + l.alias + ".project_id = ''"
	default:
		l.eq("project_id", projectID)
	}
}

// eq adds an exact match when value is set.
func (l *listQuery) eq(column, value string) {
	if value == "" {
		return
	}
	l.q += " AND " + l.alias + "." + column + " = ?"
	l.args = append(l.args, value)
}

// page finishes the query: rows after afterID, in id order, at most limit (DefaultLimit when <= 0).
func (l *listQuery) page(afterID string, limit int) (string, []any) {
	if afterID != "" {
		l.q += " AND " + l.alias + ".id > ?"
		l.args = append(l.args, afterID)
	}
	l.q += " ORDER BY " + l.alias + ".id LIMIT ?"
	return l.q, append(l.args, limitOrDefault(limit))
}
