package console_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/console"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/secrets"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/server"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store/pgtest"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store/sqlstore"
)

// BenchmarkConsolePages measures the server time of every console page (the handler, without a
// network) with many credentials and a long audit log, on SQLite and PostgreSQL:
//
//	go test ./internal/console/ -run '^$' -bench ConsolePages -benchtime 50x
//
// The sizes: 10,000 credentials with 100,000 audit events, and 10,000 with 1,000,000 (skipped with
// -short). The data is written with bulk inserts in one transaction, so seeding takes seconds, not
// the hours that 10,000 verified creates through the API would. BENCHMARKS.md has the table.
func BenchmarkConsolePages(b *testing.B) {
	sizes := []struct {
		name          string
		creds, events int
	}{{"10k_creds_100k_events", 10_000, 100_000}, {"10k_creds_1M_events", 10_000, 1_000_000}}
	for _, backend := range []string{sqlstore.DialectSQLite, sqlstore.DialectPostgres} {
		for _, size := range sizes {
			b.Run(backend+"/"+size.name, func(b *testing.B) {
				if size.events >= 1_000_000 && testing.Short() {
					b.Skip("the 1,000,000-event size is skipped with -short")
				}
				env := seedBench(b, backend, size.creds, size.events)
				for _, pg := range env.pages {
					b.Run(pg.name, func(b *testing.B) {
						env.get(b, pg.path) // warm the statement cache and the database's buffers; b.Loop times what follows
						for b.Loop() {
							env.get(b, pg.path)
						}
					})
				}
			})
		}
	}
}

type benchEnv struct {
	h      http.Handler
	cookie string
	pages  []struct{ name, path string }
}

func (e *benchEnv) get(b *testing.B, path string) {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Cookie", e.cookie)
	req.Header.Set("Accept-Encoding", "gzip")
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("GET %s: %d\n%s", path, rec.Code, rec.Body.String())
	}
}

func seedBench(b *testing.B, backend string, nCreds, nEvents int) *benchEnv {
	b.Helper()
	ctx := context.Background()
	var st *sqlstore.Store
	var raw *sql.DB
	var err error
	if backend == sqlstore.DialectPostgres {
		dsn := pgtest.Start(b)
		if st, err = sqlstore.OpenPostgres(ctx, dsn); err == nil {
			raw, err = sql.Open("pgx", dsn)
		}
	} else {
		path := filepath.Join(b.TempDir(), "bench.db")
		if st, err = sqlstore.OpenSQLite(ctx, path); err == nil {
			raw, err = sql.Open("sqlite", sqlstore.SQLiteDSN(path))
		}
	}
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = raw.Close(); _ = st.Close() })
	ring, err := secrets.NewKeyring(secrets.NewMasterKey())
	if err != nil {
		b.Fatal(err)
	}
	limits := service.DefaultLimits()
	limits.MaxCredentialsPerOrg = 2 * nCreds
	srv, err := server.New(ctx, service.Config{Store: st, Keyring: ring, Limits: limits, Verifier: &fakeVerifier{}, Version: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	srv.Mount(console.Prefix, console.New(srv, console.Options{}))
	token, _, err := service.CreateToken(ctx, st, "acme", api.RoleAdmin, "alice", time.Now())
	if err != nil {
		b.Fatal(err)
	}
	svc := srv.Service()
	admin, err := svc.PrincipalOfTokenHash(ctx, service.HashToken(token))
	if err != nil {
		b.Fatal(err)
	}
	var projects []api.Project
	for i := range 5 {
		pr, _, err := svc.CreateProject(ctx, admin, api.ProjectCreate{Name: fmt.Sprintf("team-%d", i), InheritOrganizationCredentials: i%2 == 0}, nil)
		if err != nil {
			b.Fatal(err)
		}
		projects = append(projects, pr)
	}
	if _, err := svc.PutCredentialPolicy(ctx, admin, "", api.CredentialPolicyPut{MaxRotationPeriod: "90d"}, 0); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	bulkSeed(b, raw, backend, admin.OrgID, projects, nCreds, nEvents)
	b.Logf("%s: seeded %d credentials and %d audit events in %s", backend, nCreds, nEvents, time.Since(start).Round(time.Millisecond))

	env := &benchEnv{h: srv.Handler()}
	env.cookie = benchSignIn(b, env.h, token)
	mid := fmt.Sprintf("cred_b%07d", nCreds/2)
	env.pages = []struct{ name, path string }{
		{"credentials", "/ui/credentials"},
		{"credentials_page2", "/ui/credentials?sort=name&after=" + mid + "&key=" + url.QueryEscape(fmt.Sprintf("key-%07d", nCreds/2))},
		{"credentials_search_label", "/ui/credentials?q=team%3Dt3"},
		{"credentials_search_name", "/ui/credentials?q=key-00042"},
		{"credentials_oldest_key", "/ui/credentials?sort=rotated"},
		{"credentials_rotation_due", "/ui/credentials?lifecycle=rotation_due"},
		{"credentials_violations", "/ui/credentials?violations=yes"},
		{"credentials_project", "/ui/credentials?project=" + projects[1].ID},
		{"credential", "/ui/credentials/" + mid},
		{"credential_edit", "/ui/credentials/" + mid + "/edit"},
		{"credential_delete", "/ui/credentials/" + mid + "/delete"},
		{"credential_new", "/ui/credentials/new?provider=openai"},
		{"credential_pick", "/ui/credentials/new"},
		{"connections", "/ui/connections"},
		{"connect_form", "/ui/connections/new?credential=" + mid},
		{"models", "/ui/models"},
		{"projects", "/ui/projects"},
		{"project", "/ui/projects/" + projects[0].ID},
		{"policies", "/ui/policies"},
		{"permissions", "/ui/permissions"},
		{"audit", "/ui/audit"},
		{"audit_old_page", fmt.Sprintf("/ui/audit?before=%d", nEvents/10)},
		{"audit_by_object", "/ui/audit?object=" + mid},
		{"audit_by_actor", "/ui/audit?actor=bob"},
		{"audit_by_action", "/ui/audit?action=delete"},
	}
	return env
}

// bulkSeed writes nCreds credentials (a tenth in projects, one in three with a rotation period, some
// overdue), a connection for every tenth, and nEvents audit events about them, in one transaction of
// multi-row inserts.
func bulkSeed(b *testing.B, db *sql.DB, backend, orgID string, projects []api.Project, nCreds, nEvents int) {
	b.Helper()
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	base := time.Now().UTC().Add(-400 * 24 * time.Hour)
	ts := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z07:00") }
	insert := func(head string, cols int, rows int, row func(i int) []any) {
		const batch = 400
		for from := 0; from < rows; from += batch {
			n := min(batch, rows-from)
			var q strings.Builder
			q.WriteString(head)
			args := make([]any, 0, n*cols)
			for i := range n {
				if i > 0 {
					q.WriteString(",")
				}
				q.WriteString("(")
				for c := range cols {
					if c > 0 {
						q.WriteString(",")
					}
					if backend == sqlstore.DialectPostgres {
						fmt.Fprintf(&q, "$%d", len(args)+c+1)
					} else {
						q.WriteString("?")
					}
				}
				q.WriteString(")")
				args = append(args, row(from+i)...)
			}
			if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
				b.Fatalf("%s: %v", head, err)
			}
		}
	}
	providers := []string{"openai", "anthropic", "mistral", "gemini", "deepseek"}
	insert(`INSERT INTO credentials (id, org_id, project_id, name, description, provider, labels, secret_hint, secret_version,
		status, verify, version, created_at, updated_at, rotation_period, rotated_at) VALUES `, 16, nCreds, func(i int) []any {
		project := ""
		if i%10 == 0 {
			project = projects[i/10%len(projects)].ID
		}
		period := ""
		if i%3 == 0 {
			period = "30d"
		}
		created := base.Add(time.Duration(i) * time.Minute)
		rotated := created.Add(time.Duration(i%365) * 24 * time.Hour)
		return []any{fmt.Sprintf("cred_b%07d", i), orgID, project, fmt.Sprintf("key-%07d", i), "bench key", providers[i%len(providers)],
			fmt.Sprintf(`{"env":"prod","team":"t%d"}`, i%20), "sk-...abcd", 1, api.StatusVerified, true, 1, ts(created), ts(rotated), period, ts(rotated)}
	})
	insert(`INSERT INTO connections (id, org_id, project_id, name, credential_id, model, enabled, status, version, created_at, updated_at) VALUES `,
		11, nCreds/10, func(i int) []any {
			c := i * 10
			project := ""
			if c%10 == 0 {
				project = projects[c/10%len(projects)].ID
			}
			return []any{fmt.Sprintf("conn_b%07d", i), orgID, project, fmt.Sprintf("conn-%07d", i), fmt.Sprintf("cred_b%07d", c), "gpt-4o-mini", true, "ready", 1, ts(base), ts(base)}
		})
	actors := []string{"alice", "terraform-ci", "bob", "erin"}
	actions := []string{"update", "update", "update", "verify", "create", "delete"}
	insert(`INSERT INTO audit_events (org_id, time, actor, action, object_type, object_id, fields) VALUES `, 7, nEvents, func(i int) []any {
		return []any{orgID, ts(base.Add(time.Duration(i) * time.Second)), actors[i%len(actors)], actions[i%len(actions)], "credential",
			fmt.Sprintf("cred_b%07d", (i*7919)%nCreds), `["labels"]`}
	})
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	// PostgreSQL's autovacuum would analyze tables this size soon after; SQLite is left as the server
	// leaves it (no ANALYZE).
	if backend == sqlstore.DialectPostgres {
		if _, err := db.ExecContext(ctx, "ANALYZE"); err != nil {
			b.Fatal(err)
		}
	}
}

var benchCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// benchSignIn signs in through the handler and returns the Cookie header of the session.
func benchSignIn(b *testing.B, h http.Handler, token string) string {
	b.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/ui/login", nil))
	m := benchCSRF.FindStringSubmatch(rec.Body.String())
	if m == nil {
		b.Fatal("no CSRF token on the sign-in page")
	}
	var cookies []string
	for _, c := range rec.Result().Cookies() {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	req := httptest.NewRequest(http.MethodPost, "/ui/login", strings.NewReader(url.Values{"csrf": {m[1]}, "token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", strings.Join(cookies, "; "))
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther {
		b.Fatalf("sign in: %d\n%s", rec.Code, rec.Body.String())
	}
	for _, c := range rec.Result().Cookies() {
		if strings.HasSuffix(c.Name, "modelkeys_session") {
			return c.Name + "=" + c.Value
		}
	}
	b.Fatal("no session cookie")
	return ""
}
