// Shared acceptance-test harness: the test server, the provider factories, the keys the tests use,
// configuration builders and loaders, API fixtures, and the checks many tests share (CheckDestroy,
// secrets not in state, error text as Terraform wraps it). One file, as cloudflare's
// internal/acctest/acctest.go: a test file holds tests; what several of them need lives here.

package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"text/template"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/secrets"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/server"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store/pgtest"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store/sqlstore"
)

// protoV6Providers serves the provider in-process: no registry, no plugin binary.
var protoV6Providers = map[string]func() (tfprotov6.ProviderServer, error){
	"modelkeys": func() (tfprotov6.ProviderServer, error) { return NewProtocol6Server("test")(), nil },
}

func TestMain(m *testing.M) {
	// Terraform warns about a CLI configuration file that does not exist, and the environment of these
	// machines points at one; give it an empty real file.
	var rc string
	if f, err := os.CreateTemp("", "terraformrc"); err == nil {
		_ = f.Close()
		rc = f.Name()
		_ = os.Setenv("TF_CLI_CONFIG_FILE", rc)
	}
	code := m.Run()
	pgtest.Stop() // the cluster of MODELKEYS_TEST_BACKEND=postgres-replicas, if one was started
	if rc != "" {
		_ = os.Remove(rc) // not deferred: os.Exit runs no deferred calls
	}
	os.Exit(code)
}

// testAccPreCheck fails clearly when no terraform binary can be found: these tests never download one.
func testAccPreCheck(t *testing.T) {
	t.Helper()
	if p := os.Getenv("TF_ACC_TERRAFORM_PATH"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("TF_ACC_TERRAFORM_PATH=%s: %v", p, err)
		}
		return
	}
	if _, err := exec.LookPath("terraform"); err != nil {
		t.Fatal("acceptance tests need terraform >= 1.11 on PATH or in TF_ACC_TERRAFORM_PATH; nothing is downloaded")
	}
}

// testServer is the real modelkeys API handler on a temp SQLite file, over loopback HTTP; or, with
// MODELKEYS_TEST_BACKEND=postgres-replicas, two replicas on one fresh PostgreSQL database behind a
// round-robin proxy, so the whole suite runs unchanged against a highly available deployment.
type testServer struct {
	URL    string
	Token  string
	Client *client.Client
	DBPath string // the SQLite file; "" on PostgreSQL
	Logs   *syncBuffer
	srv    *server.Server // the (first) replica
}

// envTestBackend picks the server behind newTestServer: unset for SQLite, "postgres-replicas", or
// "postgres-replicas-or-sqlite" (make test's pass on the newest Terraform: the replicas where
// PostgreSQL is installed, SQLite where it is not, so that pass tests the newest Terraform anyway).
const envTestBackend = "MODELKEYS_TEST_BACKEND"

var sqliteFallbackNote sync.Once

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

type serverOption func(*service.Config)

func newTestServer(t *testing.T, opts ...serverOption) *testServer {
	t.Helper()
	switch b := os.Getenv(envTestBackend); b {
	case "", "sqlite":
	case "postgres-replicas":
		return newReplicatedTestServer(t, opts...)
	case "postgres-replicas-or-sqlite":
		ok, why := pgtest.Available()
		if ok {
			return newReplicatedTestServer(t, opts...)
		}
		sqliteFallbackNote.Do(func() { fmt.Fprintf(os.Stderr, "%s=%s: %s; this pass runs on SQLite\n", envTestBackend, b, why) })
	default:
		t.Fatalf("%s=%s: want sqlite, postgres-replicas or postgres-replicas-or-sqlite", envTestBackend, b)
	}
	ctx := context.Background()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "modelkeys.db")
	st, err := sqlstore.OpenSQLite(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := secrets.EnsureMasterKeyFile(secrets.KeyFileFor(dbPath))
	if err != nil {
		t.Fatal(err)
	}
	ring, err := secrets.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	logs := &syncBuffer{}
	srv := newServer(t, st, ring, logs, opts)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	ts := newAdminClient(t, st, hs.URL)
	ts.DBPath, ts.Logs, ts.srv = dbPath, logs, srv
	return ts
}

// newServer is the API handler on st, logging at debug level into logs.
func newServer(t *testing.T, st *sqlstore.Store, ring *secrets.Keyring, logs *syncBuffer, opts []serverOption) *server.Server {
	t.Helper()
	cfg := service.Config{Store: st, Keyring: ring, Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), Version: "test"}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := server.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// newAdminClient makes an admin token of organisation "acme" in st and a client that uses it at url,
// retrying fast.
func newAdminClient(t *testing.T, st *sqlstore.Store, url string) *testServer {
	t.Helper()
	token, _, err := service.CreateToken(context.Background(), st, "acme", "admin", "acceptance", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(client.Config{BaseURL: url, Token: token, RetryWaitMin: time.Millisecond, RetryWaitMax: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return &testServer{URL: url, Token: token, Client: c}
}

// providerConfig is the provider block that points at this server.
func (s *testServer) providerConfig() string {
	return fmt.Sprintf(`
provider "modelkeys" {
  endpoint = %q
  token    = %q
}
`, s.URL, s.Token)
}

// providerConfigInProject is the provider block with the provider's default project set.
func (s *testServer) providerConfigInProject(projectID string) string {
	return fmt.Sprintf(`
provider "modelkeys" {
  endpoint = %q
  token    = %q
  project  = %q
}
`, s.URL, s.Token, projectID)
}

func clientListAll() client.CredentialListOptions { return client.CredentialListOptions{} }

// newReplicatedTestServer starts two server replicas, each with its own pool, on a fresh PostgreSQL
// database, behind a reverse proxy that alternates between them request by request.
func newReplicatedTestServer(t *testing.T, opts ...serverOption) *testServer {
	t.Helper()
	ctx := context.Background()
	dsn := pgtest.Start(t) // skips without PostgreSQL
	key := secrets.NewMasterKey()
	ring, err := secrets.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	var (
		first   *server.Server
		stores  []*sqlstore.Store
		targets []*url.URL
		closers []func()
	)
	t.Cleanup(func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	})
	for range 2 {
		st, err := sqlstore.OpenPostgres(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		closers = append(closers, func() { _ = st.Close() })
		stores = append(stores, st)
		srv := newServer(t, st, ring, logs, opts)
		if first == nil {
			first = srv
		}
		hs := httptest.NewServer(srv.Handler())
		closers = append(closers, hs.Close)
		u, _ := url.Parse(hs.URL)
		targets = append(targets, u)
	}
	var next atomic.Uint64
	front := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(targets[(next.Add(1)-1)%uint64(len(targets))])
		r.Out.Host = r.In.Host
	}})
	closers = append(closers, front.Close)
	ts := newAdminClient(t, stores[0], front.URL)
	ts.Logs, ts.srv = logs, first
	return ts
}

// The keys used in these tests. Each must never show up in state (write-only path), logs or errors.
const (
	keyOne   = "sk-proj-first-key-0000000000000000001"
	keyTwo   = "sk-proj-second-key-000000000000000002"
	keyOther = "sk-proj-rotated-by-hand-00000000000003"

	tokenOne   = "proxy-token-first-aaaaaaaaaaaaaaaaaa01"
	tokenTwo   = "proxy-token-second-bbbbbbbbbbbbbbbbb02"
	tokenOther = "proxy-token-by-hand-ccccccccccccccccc03"
)

// Keys of the credentials the data source tests create out of band. None may reach the state.
const (
	dsKeyOrg     = "sk-proj-datasource-org-key-00000000000000a1"
	dsKeyProject = "sk-proj-datasource-project-key-000000000b2"
)

const (
	credAddr    = "modelkeys_credential.test"
	connAddr    = "modelkeys_connection.test"
	projectAddr = "modelkeys_project.test"
)

var compareSame = compare.ValuesSame()

// testConfig is testdata/NAME.tf run as a text/template with data (nil for none). The files are valid
// HCL: template actions stand only inside strings and comments, and the provider block, which names
// the test's server, comes from the caller: s.providerConfig() + testConfig(t, "name", data).
func testConfig(t *testing.T, name string, data any) string {
	t.Helper()
	tmpl, err := template.ParseFiles(filepath.Join("testdata", name+".tf"))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := tmpl.Option("missingkey=error").Execute(&b, data); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// credentialConfig is the provider block and a credential "test" with body as its arguments.
func credentialConfig(s *testServer, body string) string {
	return s.providerConfig() + `
resource "modelkeys_credential" "test" {
` + body + `
}
`
}

// connectionConfig is an OpenAI credential "openai" and a connection "test" through it, with body as
// the connection's further arguments.
func connectionConfig(s *testServer, body string) string {
	return connectionConfigOn(s, "openai", body)
}

// connectionConfigOn is connectionConfig with the connection on credential cred: "openai", or one
// that the caller's configuration adds.
func connectionConfigOn(s *testServer, cred, body string) string {
	return s.providerConfig() + fmt.Sprintf(`
resource "modelkeys_credential" "openai" {
  name           = "openai"
  model_provider = "openai"
  api_key        = %q
  verify         = false
}

resource "modelkeys_connection" "test" {
  name          = "assistant"
  credential_id = modelkeys_credential.%s.id
%s
}
`, keyOne, cred, body)
}

// words matches text whatever line wrapping Terraform puts between its words.
func words(text string) *regexp.Regexp {
	parts := strings.Fields(text)
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile(`(?s)` + strings.Join(parts, `\s+`))
}

// wrappedText matches an error message that Terraform may have wrapped: pattern is a regular
// expression in which every space matches any run of white space.
func wrappedText(pattern string) *regexp.Regexp {
	return regexp.MustCompile("(?s)" + strings.ReplaceAll(pattern, " ", `\s+`))
}

// errorCases are configurations that must fail: by name, a body for the test's configuration and the
// pattern its error must match.
type errorCases map[string]struct{ body, want string }

// errorTest runs errorCases, each as a one-step test of its own.
type errorTest struct {
	config        func(body string) string         // the whole configuration of a case
	match         func(want string) *regexp.Regexp // regexp.MustCompile, words or wrappedText
	planOnly      bool
	versionChecks []tfversion.TerraformVersionCheck
}

// run runs every case in parallel and returns once they have all finished, so that the caller can
// then check that none of them reached the server. The cases share the caller's server: each must
// leave it as it found it, which is what the caller's check after run proves.
func (e errorTest) run(t *testing.T, cases errorCases) {
	t.Helper()
	t.Run("cases", func(t *testing.T) {
		for name, tc := range cases {
			t.Run(name, func(t *testing.T) {
				resource.ParallelTest(t, resource.TestCase{
					PreCheck:                 func() { testAccPreCheck(t) },
					ProtoV6ProviderFactories: protoV6Providers,
					TerraformVersionChecks:   e.versionChecks,
					Steps: []resource.TestStep{{
						Config:      e.config(tc.body),
						PlanOnly:    e.planOnly,
						ExpectError: e.match(tc.want),
					}},
				})
			})
		}
	})
}

// checkAllDestroyed is the CheckDestroy of every test that creates through a server: it walks the
// managed resources of the state as it was before the destroy and asks the API, through the real
// client, for each one by type (destroyedChecks). A modelkeys resource type without a check there
// fails, so that a new resource cannot go unchecked.
func checkAllDestroyed(s *testServer) resource.TestCheckFunc {
	return func(st *terraform.State) error {
		ctx := context.Background()
		for addr, rs := range st.RootModule().Resources {
			if strings.HasPrefix(addr, "data.") || !strings.HasPrefix(rs.Type, "modelkeys_") {
				continue // data sources, and other providers' resources (terraform_data, echo)
			}
			check, ok := destroyedChecks[rs.Type]
			if !ok {
				return fmt.Errorf("%s: checkAllDestroyed has no check for resource type %s", addr, rs.Type)
			}
			if err := check(ctx, s.Client, rs.Primary); err != nil {
				return fmt.Errorf("%s (%s): %w", addr, rs.Primary.ID, err)
			}
		}
		return nil
	}
}

// destroyedChecks says, per resource type, whether the API still has what a state instance names:
// credentials, connections and projects must answer 404; a model policy must be back to mode "all",
// or answer 404 because its project went too.
var destroyedChecks = map[string]func(context.Context, *client.Client, *terraform.InstanceState) error{
	"modelkeys_credential": func(ctx context.Context, c *client.Client, is *terraform.InstanceState) error {
		_, err := c.GetCredential(ctx, is.ID)
		return goneErr(err)
	},
	"modelkeys_connection": func(ctx context.Context, c *client.Client, is *terraform.InstanceState) error {
		_, err := c.GetConnection(ctx, is.ID)
		return goneErr(err)
	},
	"modelkeys_project": func(ctx context.Context, c *client.Client, is *terraform.InstanceState) error {
		_, err := c.GetProject(ctx, is.ID)
		return goneErr(err)
	},
	"modelkeys_identity_provider": func(ctx context.Context, c *client.Client, is *terraform.InstanceState) error {
		_, err := c.GetIdentityProvider(ctx, is.ID)
		return goneErr(err)
	},
	"modelkeys_federation_rule": func(ctx context.Context, c *client.Client, is *terraform.InstanceState) error {
		_, err := c.GetFederationRule(ctx, is.ID)
		return goneErr(err)
	},
	"modelkeys_model_policy": func(ctx context.Context, c *client.Client, is *terraform.InstanceState) error {
		pol, err := c.GetModelPolicy(ctx, is.Attributes["project_id"])
		switch {
		case client.IsNotFound(err):
			return nil
		case err != nil:
			return err
		case pol.Mode != api.PolicyAll || len(pol.Models) > 0 || len(pol.Publishers) > 0:
			return fmt.Errorf("policy still %s %v %v after destroy", pol.Mode, pol.Models, pol.Publishers)
		}
		return nil
	},
}

// goneErr is nil when a read answered 404, and says what it answered otherwise.
func goneErr(err error) error {
	if client.IsNotFound(err) {
		return nil
	}
	return fmt.Errorf("still exists after destroy (err %v)", err)
}

// captureAttr copies an attribute of the state into *dst, for use by later steps' PreConfig.
func captureAttr(addr, attr string, dst *string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		rs, ok := s.RootModule().Resources[addr]
		if !ok {
			return fmt.Errorf("%s not in state", addr)
		}
		*dst = rs.Primary.Attributes[attr]
		return nil
	}
}

// stateHoldsNone fails when the state holds any of secrets: in an attribute of any object (named in
// the error), or anywhere else in the state as Terraform wrote it (the error then names no place, and
// never the secret). A state without attributes fails too, since scanning it proves nothing.
func stateHoldsNone(secrets ...string) resource.TestCheckFunc {
	return func(st *terraform.State) error {
		scanned := 0
		for _, m := range st.Modules {
			for addr, rs := range m.Resources {
				for name, v := range rs.Primary.Attributes {
					scanned++
					for _, sec := range secrets {
						if strings.Contains(v, sec) {
							return fmt.Errorf("%s.%s holds a credential's secret", addr, name)
						}
					}
				}
			}
		}
		if scanned == 0 {
			return fmt.Errorf("the state has no attributes: the scan proves nothing")
		}
		raw, err := json.Marshal(st)
		if err != nil {
			return err
		}
		for _, sec := range secrets {
			if bytes.Contains(raw, []byte(sec)) {
				return fmt.Errorf("state holds a write-only secret")
			}
		}
		return nil
	}
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func boolPtr(b bool) *bool { return &b }

// dsProject creates a project through the API, outside Terraform.
func dsProject(t *testing.T, s *testServer, in api.ProjectCreate) *api.Project {
	t.Helper()
	p, err := s.Client.CreateProject(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// dsCredential creates a credential through the API, outside Terraform, without asking the provider.
func dsCredential(t *testing.T, s *testServer, in api.CredentialCreate) *api.Credential {
	t.Helper()
	in.Verify = boolPtr(false)
	c, err := s.Client.CreateCredential(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// dsConnection creates a connection through the API, outside Terraform.
func dsConnection(t *testing.T, s *testServer, in api.ConnectionCreate) *api.Connection {
	t.Helper()
	c, err := s.Client.CreateConnection(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// credentialFixture is an organisation credential and a project credential of the same name, and a
// connection that uses the organisation one.
type credentialFixture struct {
	project    *api.Project
	orgCred    *api.Credential
	projCred   *api.Credential
	connection *api.Connection
}

func newCredentialFixture(t *testing.T, s *testServer) credentialFixture {
	t.Helper()
	var f credentialFixture
	f.project = dsProject(t, s, api.ProjectCreate{Name: "team-a"})
	key, projKey := dsKeyOrg, dsKeyProject
	f.orgCred = dsCredential(t, s, api.CredentialCreate{
		Name: "shared", Description: "organisation key", Provider: "openai", APIKey: &key,
		Settings: map[string]string{"organization_id": "org-123"}, Labels: map[string]string{"team": "ml"},
	})
	f.projCred = dsCredential(t, s, api.CredentialCreate{Name: "shared", Provider: "mistral", ProjectID: f.project.ID, APIKey: &projKey})
	f.connection = dsConnection(t, s, api.ConnectionCreate{Name: "chat", CredentialID: f.orgCred.ID, Model: "gpt-4o-mini"})
	return f
}
