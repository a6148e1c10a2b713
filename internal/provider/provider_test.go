package provider

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/secrets"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/server"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store/sqlstore"
)

// protoV6Providers serves the provider in-process: no registry, no plugin binary.
var protoV6Providers = map[string]func() (tfprotov6.ProviderServer, error){
	"modelkeys": providerserver.NewProtocol6WithError(New("test")()),
}

func TestMain(m *testing.M) {
	// Terraform warns about a CLI configuration file that does not exist, and the environment of these
	// machines points at one; give it an empty real file.
	if f, err := os.CreateTemp("", "terraformrc"); err == nil {
		_ = f.Close()
		_ = os.Setenv("TF_CLI_CONFIG_FILE", f.Name())
		defer os.Remove(f.Name())
	}
	os.Exit(m.Run())
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

// testServer is the real modelkeys API handler on a temp SQLite file, over loopback HTTP.
type testServer struct {
	URL    string
	Token  string
	Client *client.Client
	DBPath string
	Logs   *syncBuffer
	srv    *server.Server
}

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
