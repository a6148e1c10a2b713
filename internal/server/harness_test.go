package server

// The harness runs the real API handler behind an httptest server on a real database (a SQLite file,
// or a fresh PostgreSQL database from pgtest for the "postgres" leg of forEachBackend), with a fresh
// master key, a JSON slog logger the test can read, and tokens for organisations "acme" (admin, editor,
// viewer) and "other" (admin). Tests drive it with internal/client and, where the client cannot express
// a case, with raw net/http.

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/secrets"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store/pgtest"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store/sqlstore"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// backends are the stores every server test runs against (see forEachBackend).
var backends = []string{sqlstore.DialectSQLite, sqlstore.DialectPostgres}

// forEachBackend runs test once per backend, as parallel subtests named after the backend; newHarness
// reads the backend from the subtest's name, so a test body needs no change to run on both. The
// PostgreSQL leg skips (through pgtest) where PostgreSQL is not installed.
func forEachBackend(t *testing.T, test func(t *testing.T)) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b, test)
	}
}

// backendOf is the backend of the forEachBackend leg t runs in (its own or an ancestor's name says
// which); SQLite outside forEachBackend.
func backendOf(t testing.TB) string {
	if parts := strings.Split(t.Name(), "/"); len(parts) > 1 && parts[1] == sqlstore.DialectPostgres {
		return sqlstore.DialectPostgres
	}
	return sqlstore.DialectSQLite
}

// syncBuffer is a bytes.Buffer safe for the server's concurrent log writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.b.Bytes())
}

func (s *syncBuffer) String() string { return string(s.Bytes()) }

type harnessOptions struct {
	allowReveal bool
	limits      *service.Limits
	// wrap puts something (a flaky proxy, say) between the listener and the API handler.
	wrap      func(http.Handler) http.Handler
	masterKey []byte
	dbPath    string
	verifier  service.Verifier
	backend   string // "" for backendOf(t)
	replicas  int    // > 1: that many servers on one PostgreSQL database behind a round-robin proxy
	now       func() time.Time
	// config changes every server's service.Config last (an egress policy, a token cache TTL).
	config func(*service.Config)
}

func withConfig(f func(*service.Config)) func(*harnessOptions) {
	return func(o *harnessOptions) { o.config = f }
}

// withReplicas runs n servers (n > 1), each with its own store, on one PostgreSQL database behind a
// round-robin reverse proxy: h.ts is the proxy, h.srv and h.store the first replica.
func withReplicas(n int) func(*harnessOptions) {
	return func(o *harnessOptions) { o.replicas, o.backend = n, sqlstore.DialectPostgres }
}

func withLimits(l service.Limits) func(*harnessOptions) {
	return func(o *harnessOptions) { o.limits = &l }
}

func withVerifier(v service.Verifier) func(*harnessOptions) {
	return func(o *harnessOptions) { o.verifier = v }
}

func withReveal() func(*harnessOptions) { return func(o *harnessOptions) { o.allowReveal = true } }

func withWrap(w func(http.Handler) http.Handler) func(*harnessOptions) {
	return func(o *harnessOptions) { o.wrap = w }
}

// testMetricsToken is the harness servers' --metrics-token.
const testMetricsToken = "metrics-token-for-tests-0123456789"

type harness struct {
	t       testing.TB
	dir     string
	backend string // sqlstore.DialectSQLite or sqlstore.DialectPostgres
	dbPath  string // the SQLite file; "" on PostgreSQL
	dsn     string // the PostgreSQL URL; "" on SQLite
	key     []byte
	store   *sqlstore.Store
	keyring *secrets.Keyring
	srv     *Server
	ts      *httptest.Server
	logs    *syncBuffer

	// With withReplicas: every replica (the first is srv/store) and the servers behind the proxy.
	replicaStores  []*sqlstore.Store
	replicaServers []*Server
	replicaTS      []*httptest.Server

	// tokens by role: "admin", "editor", "viewer" of acme; "other" is the admin of organisation other.
	tokens   map[string]string
	tokenIDs map[string]string
	admin    *client.Client
	editor   *client.Client
	viewer   *client.Client
	other    *client.Client

	secretsMu sync.Mutex
	secrets   []string // every plaintext secret a test sent

	closeOnce sync.Once
}

func newHarness(t testing.TB, opts ...func(*harnessOptions)) *harness {
	t.Helper()
	var o harnessOptions
	for _, f := range opts {
		f(&o)
	}
	ctx := context.Background()
	h := &harness{t: t, dir: t.TempDir(), logs: &syncBuffer{}, tokens: map[string]string{}, tokenIDs: map[string]string{}}
	h.backend = o.backend
	if h.backend == "" {
		h.backend = backendOf(t)
	}
	if h.backend == sqlstore.DialectPostgres {
		h.dsn = pgtest.Start(t) // skips t without PostgreSQL
	} else {
		h.dbPath = filepath.Join(h.dir, "modelkeys.db")
		if o.dbPath != "" {
			h.dbPath = o.dbPath
		}
	}
	h.key = o.masterKey
	if h.key == nil {
		h.key = secrets.NewMasterKey()
	}
	var err error
	if h.keyring, err = secrets.NewKeyring(h.key); err != nil {
		t.Fatal(err)
	}
	if h.dsn != "" {
		h.store, err = sqlstore.OpenPostgres(ctx, h.dsn)
	} else {
		h.store, err = sqlstore.OpenSQLite(ctx, h.dbPath)
	}
	if err != nil {
		t.Fatalf("open %s: %v", h.backend, err)
	}
	limits := service.DefaultLimits()
	if o.limits != nil {
		limits = *o.limits
	}
	cfg := service.Config{
		Store:       h.store,
		Keyring:     h.keyring,
		Logger:      slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Limits:      limits,
		AllowReveal: o.allowReveal,
		Verifier:    o.verifier,
		Version:     "test",
		Now:         o.now,
	}
	if o.config != nil {
		o.config(&cfg)
	}
	h.srv, err = New(ctx, cfg)
	if err != nil {
		_ = h.store.Close()
		t.Fatalf("server.New: %v", err)
	}
	h.srv.SetMetricsToken(testMetricsToken)
	handler := validateOpenAPI(t, h.srv.Handler()) // every exchange is checked against /openapi.json
	if o.replicas > 1 {
		h.replicaStores, h.replicaServers = []*sqlstore.Store{h.store}, []*Server{h.srv}
		for range o.replicas - 1 {
			st, err := sqlstore.OpenPostgres(ctx, h.dsn)
			if err != nil {
				t.Fatalf("open replica store: %v", err)
			}
			rcfg := service.Config{
				Store: st, Keyring: h.keyring, Limits: limits, AllowReveal: o.allowReveal, Verifier: o.verifier, Version: "test",
				Logger: slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
			}
			if o.config != nil {
				o.config(&rcfg)
			}
			srv, err := New(ctx, rcfg)
			if err != nil {
				_ = st.Close()
				t.Fatalf("server.New (replica): %v", err)
			}
			srv.SetMetricsToken(testMetricsToken)
			h.replicaStores, h.replicaServers = append(h.replicaStores, st), append(h.replicaServers, srv)
		}
		var urls []*url.URL
		for _, srv := range h.replicaServers {
			ts := httptest.NewServer(validateOpenAPI(t, srv.Handler()))
			h.replicaTS = append(h.replicaTS, ts)
			u, _ := url.Parse(ts.URL)
			urls = append(urls, u)
		}
		handler = roundRobin(urls)
	}
	if o.wrap != nil {
		handler = o.wrap(handler)
	}
	h.ts = httptest.NewServer(handler)
	t.Cleanup(h.Close)

	for role, spec := range map[string][3]string{
		"admin":  {"acme", api.RoleAdmin, "acme-admin"},
		"editor": {"acme", api.RoleEditor, "acme-editor"},
		"viewer": {"acme", api.RoleViewer, "acme-viewer"},
		"other":  {"other", api.RoleAdmin, "other-admin"},
	} {
		value, tok, err := service.CreateToken(ctx, h.store, spec[0], spec[1], spec[2], time.Now())
		if err != nil {
			t.Fatalf("CreateToken %s: %v", role, err)
		}
		h.tokens[role], h.tokenIDs[role] = value, tok.ID
	}
	h.admin = h.client(h.tokens["admin"])
	h.editor = h.client(h.tokens["editor"])
	h.viewer = h.client(h.tokens["viewer"])
	h.other = h.client(h.tokens["other"])
	return h
}

// client makes a typed client with fast retries for token.
func (h *harness) client(token string) *client.Client {
	h.t.Helper()
	c, err := client.New(client.Config{
		BaseURL:        h.ts.URL,
		Token:          token,
		UserAgent:      "modelkeys-server-tests",
		RequestTimeout: 30 * time.Second,
		MaxRetries:     2,
		RetryWaitMin:   time.Millisecond,
		RetryWaitMax:   10 * time.Millisecond,
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return c
}

// Close stops the HTTP server and closes the store; safe to call more than once.
func (h *harness) Close() {
	h.closeOnce.Do(func() {
		h.ts.Close()
		for _, ts := range h.replicaTS {
			ts.Close()
		}
		if err := h.store.Close(); err != nil {
			h.t.Errorf("closing the store: %v", err)
		}
		for _, st := range h.replicaStores[min(1, len(h.replicaStores)):] {
			if err := st.Close(); err != nil {
				h.t.Errorf("closing a replica's store: %v", err)
			}
		}
	})
}

// roundRobin is a reverse proxy that sends each request to the next of targets in turn, as a load
// balancer in front of several replicas would.
func roundRobin(targets []*url.URL) http.Handler {
	var next atomic.Uint64
	return &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(targets[(next.Add(1)-1)%uint64(len(targets))])
			r.Out.Host = r.In.Host
		},
	}
}

// secret makes a fresh, unmistakable plaintext key and remembers it for the leak scans.
func (h *harness) secret(prefix string) string {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		h.t.Fatal(err)
	}
	s := prefix + "PLAINTEXT" + hex.EncodeToString(b)
	h.remember(s)
	return s
}

func (h *harness) remember(s string) {
	h.secretsMu.Lock()
	defer h.secretsMu.Unlock()
	h.secrets = append(h.secrets, s)
}

func (h *harness) usedSecrets() []string {
	h.secretsMu.Lock()
	defer h.secretsMu.Unlock()
	return append([]string(nil), h.secrets...)
}

// rawResponse is what a raw request got back.
type rawResponse struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r rawResponse) problem(t testing.TB) api.Problem {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != api.ProblemContentType {
		t.Fatalf("status %d: Content-Type %q, want %s; body %s", r.Status, ct, api.ProblemContentType, r.Body)
	}
	var p api.Problem
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatalf("status %d: body is not a problem document: %v: %s", r.Status, err, r.Body)
	}
	if p.Status != r.Status {
		t.Fatalf("problem status %d differs from HTTP status %d", p.Status, r.Status)
	}
	if p.Type == "" || p.Title == "" {
		t.Fatalf("problem without type or title: %s", r.Body)
	}
	return p
}

// do sends a raw request. token "" sends no Authorization header; headers are name, value pairs.
func (h *harness) do(method, path, token string, body []byte, headers ...string) rawResponse {
	h.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, h.ts.URL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := h.ts.Client().Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return rawResponse{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// countCredentials counts every credential of organisation acme straight from the store.
func (h *harness) countCredentials(org string) int {
	h.t.Helper()
	n := 0
	err := h.store.Tx(context.Background(), func(tx store.Tx) error {
		o, err := tx.EnsureOrganization(context.Background(), org)
		if err != nil {
			return err
		}
		n, err = tx.CountCredentials(context.Background(), o.ID)
		return err
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return n
}

// scanForSecrets fails the test when any remembered plaintext appears in the database files or the
// server's logs. It closes the harness first, so SQLite has written (and checkpointed) everything.
func (h *harness) scanForSecrets() {
	h.t.Helper()
	h.Close()
	used := h.usedSecrets()
	if len(used) == 0 {
		h.t.Fatal("no secrets were used; the scan would prove nothing")
	}
	// API tokens are stored hashed and never logged either.
	for _, tok := range h.tokens {
		used = append(used, tok)
	}
	if h.backend == sqlstore.DialectPostgres {
		h.scanPostgresForSecrets(used)
	} else {
		h.scanSQLiteFilesForSecrets(used)
	}
	logs := h.logs.Bytes()
	if len(logs) == 0 {
		h.t.Fatal("the server logged nothing; the log scan would prove nothing")
	}
	for _, s := range used {
		if bytes.Contains(logs, []byte(s)) {
			h.t.Errorf("server logs hold a plaintext secret (%s...)", s[:12])
		}
	}
}

// scanSQLiteFilesForSecrets reads the raw bytes of the database and its journal files.
func (h *harness) scanSQLiteFilesForSecrets(used []string) {
	h.t.Helper()
	scanned := 0
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		b, err := os.ReadFile(h.dbPath + suffix)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			h.t.Fatal(err)
		}
		scanned++
		for _, s := range used {
			if bytes.Contains(b, []byte(s)) {
				h.t.Errorf("database file %s holds a plaintext secret (%s...)", filepath.Base(h.dbPath+suffix), s[:12])
			}
		}
	}
	if scanned == 0 {
		h.t.Fatal("no database file to scan")
	}
}

// scanPostgresForSecrets reads every row of every table of the test's PostgreSQL database as text
// (bytea shows as hex there, so it looks for the hex form too). PostgreSQL's files are shared by the
// whole test cluster and owned by its system user, so the rows are the honest equivalent of the
// SQLite file scan.
func (h *harness) scanPostgresForSecrets(used []string) {
	h.t.Helper()
	db, rebind := h.rawDB()
	defer db.Close()
	ctx := context.Background()
	rows, err := db.QueryContext(ctx, rebind(`SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`))
	if err != nil {
		h.t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			h.t.Fatal(err)
		}
		tables = append(tables, name)
	}
	if err := rows.Close(); err != nil {
		h.t.Fatal(err)
	}
	if len(tables) == 0 {
		h.t.Fatal("no table to scan")
	}
	var dump bytes.Buffer
	for _, table := range tables {
		rows, err := db.QueryContext(ctx, `SELECT CAST(t AS text) FROM "`+table+`" t`)
		if err != nil {
			h.t.Fatal(err)
		}
		for rows.Next() {
			var row string
			if err := rows.Scan(&row); err != nil {
				h.t.Fatal(err)
			}
			dump.WriteString(table + ": " + row + "\n")
		}
		if err := rows.Close(); err != nil {
			h.t.Fatal(err)
		}
	}
	if !bytes.Contains(dump.Bytes(), []byte("credential_secrets: ")) {
		h.t.Fatal("no sealed secret rows; the scan would prove nothing")
	}
	for _, s := range used {
		if bytes.Contains(dump.Bytes(), []byte(s)) || bytes.Contains(dump.Bytes(), []byte(hex.EncodeToString([]byte(s)))) {
			h.t.Errorf("PostgreSQL rows hold a plaintext secret (%s...)", s[:12])
		}
	}
}

// rawDB opens the harness's database beside the store, for tests that reach past the API with plain
// SQL; rebind turns the query's '?' placeholders into the backend's.
func (h *harness) rawDB() (db *sql.DB, rebind func(string) string) {
	h.t.Helper()
	var err error
	rebind = func(q string) string { return q }
	if h.backend == sqlstore.DialectPostgres {
		db, err = sql.Open("pgx", h.dsn)
		rebind = func(q string) string {
			var b strings.Builder
			n := 0
			for _, r := range q {
				if r == '?' {
					n++
					fmt.Fprintf(&b, "$%d", n)
					continue
				}
				b.WriteRune(r)
			}
			return b.String()
		}
	} else {
		db, err = sql.Open("sqlite", sqlstore.SQLiteDSN(h.dbPath))
	}
	if err != nil {
		h.t.Fatal(err)
	}
	return db, rebind
}

// ---- small helpers -------------------------------------------------------------------------------

func ptr[T any](v T) *T { return &v }

// apiError asserts err is an API error with status and returns it.
func apiError(t testing.TB, err error, status int) *client.APIError {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want HTTP %d", status)
	}
	ae, ok := client.AsAPIError(err)
	if !ok {
		t.Fatalf("got %v, want an API error with HTTP %d", err, status)
	}
	if ae.Status != status {
		t.Fatalf("got HTTP %d (%v), want %d", ae.Status, err, status)
	}
	return ae
}

// fieldError returns the problem's error for field, failing when there is none.
func fieldError(t testing.TB, p api.Problem, field string) api.FieldError {
	t.Helper()
	for _, fe := range p.Errors {
		if fe.Field == field {
			return fe
		}
	}
	t.Fatalf("no error for field %q in %+v", field, p.Errors)
	return api.FieldError{}
}

// openAICred is a valid openai create request with key.
func openAICred(name, key string) api.CredentialCreate {
	return api.CredentialCreate{
		Name:     name,
		Provider: "openai",
		APIKey:   ptr(key),
		Settings: map[string]string{"organization_id": "org-test"},
		Verify:   ptr(false),
	}
}

func (h *harness) mustCreate(c *client.Client, in api.CredentialCreate) *api.Credential {
	h.t.Helper()
	if in.APIKey != nil {
		h.remember(*in.APIKey)
	}
	if in.AuthToken != nil {
		h.remember(*in.AuthToken)
	}
	out, err := c.CreateCredential(context.Background(), in)
	if err != nil {
		h.t.Fatalf("create credential %q: %v", in.Name, err)
	}
	return out
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func containsAny(haystack []byte, needles []string) (string, bool) {
	for _, n := range needles {
		if n != "" && bytes.Contains(haystack, []byte(n)) {
			return n, true
		}
	}
	return "", false
}
