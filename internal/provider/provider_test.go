package provider

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/secrets"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/server"
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
	if f, err := os.CreateTemp("", "terraformrc"); err == nil {
		_ = f.Close()
		_ = os.Setenv("TF_CLI_CONFIG_FILE", f.Name())
		defer os.Remove(f.Name())
	}
	code := m.Run()
	pgtest.Stop() // the cluster of MODELKEYS_TEST_BACKEND=postgres-replicas, if one was started
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

// envTestBackend picks the server behind newTestServer: unset for SQLite, "postgres-replicas".
const envTestBackend = "MODELKEYS_TEST_BACKEND"

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

type serverOption func(*server.Config)

func newTestServer(t *testing.T, opts ...serverOption) *testServer {
	t.Helper()
	switch b := os.Getenv(envTestBackend); b {
	case "", "sqlite":
	case "postgres-replicas":
		return newReplicatedTestServer(t, opts...)
	default:
		t.Fatalf("%s=%s: want sqlite or postgres-replicas", envTestBackend, b)
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
	logs := &syncBuffer{}
	cfg := server.Config{Store: st, Keyring: ring, Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), Version: "test"}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := server.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	token, _, err := server.CreateToken(ctx, st, "acme", "admin", "acceptance", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(client.Config{BaseURL: hs.URL, Token: token, RetryWaitMin: time.Millisecond, RetryWaitMax: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		hs.Close()
		_ = st.Close()
	})
	return &testServer{URL: hs.URL, Token: token, Client: c, DBPath: dbPath, Logs: logs, srv: srv}
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
		cfg := server.Config{Store: st, Keyring: ring, Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), Version: "test"}
		for _, o := range opts {
			o(&cfg)
		}
		srv, err := server.New(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
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
	token, _, err := server.CreateToken(ctx, stores[0], "acme", "admin", "acceptance", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(client.Config{BaseURL: front.URL, Token: token, RetryWaitMin: time.Millisecond, RetryWaitMax: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return &testServer{URL: front.URL, Token: token, Client: c, Logs: logs, srv: first}
}

// TestAccProvider_unknownConfiguration: an endpoint known only after apply configures the provider at
// apply time; planning with it unknown must not crash.
func TestAccProvider_unknownConfiguration(t *testing.T) {
	s := newTestServer(t)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		ExternalProviders:        map[string]resource.ExternalProvider{"terraform": {Source: "terraform.io/builtin/terraform"}},
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf(`
resource "terraform_data" "endpoint" {
  input = %q
}

provider "modelkeys" {
  endpoint = terraform_data.endpoint.output
  token    = %q
}

resource "modelkeys_project" "p" {
  name = "late-configured"
}
`, s.URL, s.Token),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("modelkeys_project.p", tfjsonpath.New("name"), knownvalue.StringExact("late-configured")),
			},
		}},
	})
}
