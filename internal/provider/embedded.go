package provider

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sync"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/secrets"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/server"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store/sqlstore"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/verify"
)

// embeddedStores keeps one open store per database file for the life of the process: Terraform
// configures the provider more than once per run (and tests run many steps), and every configuration
// must share one handle so that SQLite's locking, not luck, orders the writes.
var (
	embeddedMu     sync.Mutex
	embeddedStores = map[string]http.RoundTripper{}
)

// openEmbedded serves the server's own handler over the SQLite file at path, in-process. The master
// key comes from MODELKEYS_MASTER_KEY or a key file beside the database, made on first use (mode 0600),
// which `modelkeys-server serve --db PATH` finds too.
func openEmbedded(ctx context.Context, path, version string) (http.RoundTripper, error) {
	embeddedMu.Lock()
	defer embeddedMu.Unlock()
	if t, ok := embeddedStores[path]; ok {
		return t, nil
	}
	key, err := embeddedMasterKey(path)
	if err != nil {
		return nil, err
	}
	ring, err := secrets.NewKeyring(key)
	if err != nil {
		return nil, err
	}
	st, err := sqlstore.OpenSQLite(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// Embedded mode checks keys like the server does; MODELKEYS_PROVIDER_BASE_URLS points probes at
	// proxies or local fakes. There is no re-verification loop: the process lives for one run.
	baseURLs, err := verify.ParseBaseURLs(os.Getenv("MODELKEYS_PROVIDER_BASE_URLS"))
	if err != nil {
		_ = st.Close()
		return nil, fmt.Errorf("MODELKEYS_PROVIDER_BASE_URLS: %w", err)
	}
	srv, err := server.New(ctx, service.Config{Store: st, Keyring: ring, Embedded: true, Version: version,
		Verifier: verify.New(verify.Options{BaseURLs: baseURLs, Egress: verify.EmbeddedEgress()})})
	if err != nil {
		_ = st.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	t := server.InProcessTransport(srv.Handler())
	embeddedStores[path] = t
	return t, nil
}

func embeddedMasterKey(dbPath string) ([]byte, error) {
	if v := os.Getenv("MODELKEYS_MASTER_KEY"); v != "" {
		key, err := secrets.ParseMasterKey(v)
		if err != nil {
			return nil, fmt.Errorf("MODELKEYS_MASTER_KEY: %w", err)
		}
		return key, nil
	}
	key, _, err := secrets.EnsureMasterKeyFile(secrets.KeyFileFor(dbPath))
	return key, err
}
