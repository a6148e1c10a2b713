package provider

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/hashicorp/terraform-plugin-log/tflog"

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
	embeddedStores = map[string]embeddedStore{}
)

// embeddedStore is an open embedded store and what opening it found.
type embeddedStore struct {
	transport http.RoundTripper
	// created: the database file did not exist and this process made it (said once, as a warning).
	created bool
	// keyFile is the master key file beside the database; "" when MODELKEYS_MASTER_KEY gave the key.
	keyFile string
	// ignoreFile is the .gitignore written into a store directory this process made; "" if none.
	ignoreFile string
}

// openEmbedded serves the server's own handler over the SQLite file at path, in-process. The master
// key comes from MODELKEYS_MASTER_KEY or a key file beside the database, made on first use (mode 0600),
// which `modelkeys-server serve --db PATH` finds too. A store directory it makes gets a .gitignore of
// `*`, so `git add .` or a CI cache of the working directory does not pick up the key beside the
// database.
func openEmbedded(ctx context.Context, path, version string) (embeddedStore, error) {
	embeddedMu.Lock()
	defer embeddedMu.Unlock()
	if es, ok := embeddedStores[path]; ok {
		return es, nil
	}
	var es embeddedStore
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		es.created = true
		dir := filepath.Dir(path)
		if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return es, fmt.Errorf("create the store's directory %s: %w", dir, err)
			}
			es.ignoreFile = filepath.Join(dir, ".gitignore")
			// Only in a directory made here: in an existing one, `*` would hide the user's own files.
			if err := os.WriteFile(es.ignoreFile, []byte(storeGitignore), 0o600); err != nil {
				return es, fmt.Errorf("write %s: %w", es.ignoreFile, err)
			}
		}
	}
	key, keyFile, err := embeddedMasterKey(path)
	if err != nil {
		return es, err
	}
	es.keyFile = keyFile
	ring, err := secrets.NewKeyring(key)
	if err != nil {
		return es, err
	}
	st, err := sqlstore.OpenSQLite(ctx, path)
	if err != nil {
		return es, fmt.Errorf("open %s: %w", path, err)
	}
	// Embedded mode checks keys like the server does; MODELKEYS_PROVIDER_BASE_URLS points probes at
	// proxies or local fakes. There is no re-verification loop: the process lives for one run.
	baseURLs, err := verify.ParseBaseURLs(os.Getenv("MODELKEYS_PROVIDER_BASE_URLS"))
	if err != nil {
		_ = st.Close()
		return es, fmt.Errorf("MODELKEYS_PROVIDER_BASE_URLS: %w", err)
	}
	srv, err := server.New(ctx, service.Config{Store: st, Keyring: ring, Embedded: true, Version: version,
		Verifier: verify.New(verify.Options{BaseURLs: baseURLs, Egress: verify.EmbeddedEgress()})})
	if err != nil {
		_ = st.Close()
		return es, fmt.Errorf("open %s: %w", path, err)
	}
	es.transport = server.InProcessTransport(srv.Handler())
	// Managed rotation has no background loop here either: each run does what is due once, at open
	// (old keys whose overlap ended are revoked, due managed credentials rotated), so the refresh
	// that follows takes it in. A vendor that does not answer leaves it to the next run.
	if _, err := srv.Service().SweepRotations(ctx); err != nil {
		tflog.Warn(ctx, "managed rotations due in the embedded store could not run; the next run retries", map[string]any{"error": err.Error()})
	}
	kept := es
	kept.created = false // said by the configuration that made it, not by later ones in this process
	embeddedStores[path] = kept
	return es, nil
}

// firstUseWarning is what a new store says: where it is, where its key is and how to keep the key
// apart from the database, and what to check if existing objects were expected.
func (es embeddedStore) firstUseWarning(path string, src endpointSource) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Created a new, empty embedded store at %s (endpoint %s). ", path, src.describe())
	b.WriteString("Everything this configuration manages will live in that file. If you expected objects made before, this is the wrong store: " +
		"check MODELKEYS_ENDPOINT and the endpoint argument (a relative file:// path depends on the working directory, " +
		"and the default is " + DefaultEndpoint + " in it), then run again; the new store can simply be deleted.\n\n")
	if es.keyFile != "" {
		fmt.Fprintf(&b, "Its master key, which decrypts every secret in it, is %s. Back it up: without it the secrets are lost. "+
			"To keep it apart from the database, store its contents elsewhere, set MODELKEYS_MASTER_KEY to them and delete the file.", es.keyFile)
	} else {
		b.WriteString("Its master key is the one in MODELKEYS_MASTER_KEY; keep it: without it the secrets are lost.")
	}
	if es.ignoreFile != "" {
		fmt.Fprintf(&b, " %s keeps the database and the key out of git; keep them out of CI caches and artifacts too.", es.ignoreFile)
	} else {
		b.WriteString(" Keep the database and the key out of version control, CI caches and artifacts.")
	}
	return b.String()
}

// storeGitignore is the .gitignore of a store directory: everything in it (the database, its -wal and
// -shm files, the master key) stays out of version control.
const storeGitignore = "# Written by terraform-provider-modelkeys: this directory holds the embedded store's database\n" +
	"# and the master key that decrypts it. Neither belongs in version control.\n*\n"

// embeddedMasterKey is the key from MODELKEYS_MASTER_KEY, or else from the key file beside the
// database (made on first use), with that file's path.
func embeddedMasterKey(dbPath string) ([]byte, string, error) {
	if v := os.Getenv("MODELKEYS_MASTER_KEY"); v != "" {
		key, err := secrets.ParseMasterKey(v)
		if err != nil {
			return nil, "", fmt.Errorf("MODELKEYS_MASTER_KEY: %w", err)
		}
		return key, "", nil
	}
	file := secrets.KeyFileFor(dbPath)
	key, _, err := secrets.EnsureMasterKeyFile(file)
	return key, file, err
}
