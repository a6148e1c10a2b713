// Package reliability runs the built provider and server under faults: a fault proxy on the wire, a
// server killed mid-apply, two workspaces racing on one credential, fuzzed input, and a sweep for
// plaintext secrets in everything the suite left behind.
//
// The fast variants run in `make test` (plain `go test ./...`); MODELKEYS_RELIABILITY_FULL=1 (set by
// `make reliability`) runs them at full size: 200 resources under faults, 500 with a crash.
// Terraform comes from TF_ACC_TERRAFORM_PATH or PATH; without it the suite skips.
package reliability

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	root      string // everything the suite writes, swept for secrets at the end
	binDir    string
	terraform string
	full      = os.Getenv("MODELKEYS_RELIABILITY_FULL") == "1"

	secretsMu sync.Mutex
	plaintext []string // every plaintext key handed to Terraform or the API
)

const bootstrapToken = "reliability-bootstrap-token-0123456789"

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	var err error
	root, err = os.MkdirTemp("", "modelkeys-reliability-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(root)
	terraform = os.Getenv("TF_ACC_TERRAFORM_PATH")
	if terraform == "" {
		terraform, _ = exec.LookPath("terraform")
	}
	for _, a := range os.Args {
		if strings.HasPrefix(a, "-test.fuzzworker") || a == "-test.run=^$" {
			terraform = "" // fuzzing only: no Terraform tests, no binaries to build
		}
	}
	if terraform != "" {
		binDir = filepath.Join(root, "bin")
		if err := build(); err != nil {
			fmt.Fprintln(os.Stderr, "building the binaries:", err)
			return 1
		}
	}
	code := m.Run()
	if code == 0 && terraform != "" {
		code = sweep()
	}
	return code
}

func build() error {
	_, file, _, _ := runtime.Caller(0)
	mod := filepath.Join(filepath.Dir(file), "..", "..")
	for pkg, out := range map[string]string{".": "terraform-provider-modelkeys", "./cmd/modelkeys-server": "modelkeys-server"} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(binDir, out), pkg)
		cmd.Dir = mod
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
		}
	}
	return nil
}

func needTerraform(t *testing.T) {
	t.Helper()
	if terraform == "" {
		t.Skip("terraform not found (TF_ACC_TERRAFORM_PATH or PATH)")
	}
}

// newKey returns a fresh plaintext key and remembers it for the final sweep.
func newKey(tag string) string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	k := "sk-rel-" + tag + "-" + hex.EncodeToString(b)
	secretsMu.Lock()
	plaintext = append(plaintext, k)
	secretsMu.Unlock()
	return k
}

// dir makes a directory under root that survives until the sweep.
func dir(t *testing.T, name string) string {
	d := filepath.Join(root, strings.ReplaceAll(t.Name(), "/", "_"), name)
	if err := os.MkdirAll(d, 0o700); err != nil {
		t.Fatal(err)
	}
	return d
}

// --- the server ---

type serverProc struct {
	cmd    *exec.Cmd
	URL    string
	db     string
	log    string
	exited chan struct{}
}

// startServer runs modelkeys-server on db, listening on listen ("127.0.0.1:0" for any port).
func startServer(t *testing.T, d, db, listen string) *serverProc {
	t.Helper()
	logPath := filepath.Join(d, fmt.Sprintf("server-%d.log", time.Now().UnixNano()))
	lf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(binDir, "modelkeys-server"), "serve", "--dev", "--db", db, "--listen", listen,
		"--max-credentials", "100000", "--reverify-interval", "0", "--log-level", "debug")
	cmd.Env = append(os.Environ(), "MODELKEYS_BOOTSTRAP_TOKEN="+bootstrapToken)
	cmd.Stdout, cmd.Stderr = lf, lf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &serverProc{cmd: cmd, db: db, log: logPath, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); _ = lf.Close(); close(s.exited) }()
	t.Cleanup(func() { s.kill() })
	re := regexp.MustCompile(`"url":"([^"]+)"`)
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		b, _ := os.ReadFile(logPath)
		if m := re.FindSubmatch(b); m != nil {
			s.URL = string(m[1])
			return s
		}
		select {
		case <-s.exited:
			t.Fatalf("modelkeys-server exited:\n%s", b)
		default:
		}
	}
	b, _ := os.ReadFile(logPath)
	t.Fatalf("modelkeys-server did not start:\n%s", b)
	return nil
}

// kill sends SIGKILL (kill -9) and waits for the process to go.
func (s *serverProc) kill() {
	if s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
	}
	<-s.exited
}

// --- the API, straight ---

func apiDo(t *testing.T, base, method, path string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, base+path, rd)
	req.Header.Set("Authorization", "Bearer "+bootstrapToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return resp.StatusCode
}

type item struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Description  string `json:"description"`
	CredentialID string `json:"credential_id"`
	Version      int64  `json:"version"`
}

// listAll pages through /v1/credentials or /v1/connections.
func listAll(t *testing.T, base, path string) []item {
	t.Helper()
	var all []item
	token := ""
	for {
		var page struct {
			Items []item `json:"items"`
			Next  string `json:"next_page_token"`
		}
		q := url.Values{"limit": {"100"}}
		if token != "" {
			q.Set("page_token", token)
		}
		if code := apiDo(t, base, "GET", path+"?"+q.Encode(), nil, &page); code != 200 {
			t.Fatalf("GET %s: %d", path, code)
		}
		all = append(all, page.Items...)
		if page.Next == "" {
			return all
		}
		token = page.Next
	}
}

// --- Terraform ---

type workspace struct {
	t   *testing.T
	Dir string
	env []string
	n   int
}

func newWorkspace(t *testing.T, name, config string, env ...string) *workspace {
	d := dir(t, name)
	rc := filepath.Join(d, "terraformrc")
	cfg := fmt.Sprintf("provider_installation {\n  dev_overrides {\n    \"registry.terraform.io/modelkeys/modelkeys\" = %q\n  }\n  direct {}\n}\n", binDir)
	if err := os.WriteFile(rc, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	w := &workspace{t: t, Dir: d}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MODELKEYS_") && !strings.HasPrefix(kv, "TF_") {
			w.env = append(w.env, kv)
		}
	}
	w.env = append(w.env, "TF_CLI_CONFIG_FILE="+rc, "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1", "TF_LOG=TRACE")
	w.env = append(w.env, env...)
	w.write(config)
	return w
}

func (w *workspace) write(config string) {
	if err := os.WriteFile(filepath.Join(w.Dir, "main.tf"), []byte(config), 0o600); err != nil {
		w.t.Fatal(err)
	}
}

// tf runs terraform with a TRACE log of its own (swept at the end) and returns its output.
func (w *workspace) tf(ctx context.Context, args ...string) (string, error) {
	w.n++
	logPath := filepath.Join(w.Dir, fmt.Sprintf("trace-%02d-%s.log", w.n, args[0]))
	flags := []string{"-no-color"}
	if args[0] == "apply" || args[0] == "plan" || args[0] == "destroy" {
		flags = append(flags, "-input=false")
	}
	args = append(append([]string{args[0]}, flags...), args[1:]...)
	cmd := exec.CommandContext(ctx, terraform, args...)
	cmd.Dir = w.Dir
	cmd.Env = append(w.env, "TF_LOG_PATH="+logPath)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func (w *workspace) mustTF(args ...string) string {
	w.t.Helper()
	out, err := w.tf(context.Background(), args...)
	if err != nil {
		w.t.Fatalf("terraform %s: %v\n%s", strings.Join(args, " "), err, tail(out, 4000))
	}
	return out
}

func (w *workspace) stateIDs() map[string]string {
	w.t.Helper()
	out := w.mustTF("show", "-json")
	var st struct {
		Values struct {
			Root struct {
				Resources []struct {
					Address string         `json:"address"`
					Values  map[string]any `json:"values"`
				} `json:"resources"`
			} `json:"root_module"`
		} `json:"values"`
	}
	// terraform show -json prints one JSON document; TRACE logging goes to TF_LOG_PATH, not here.
	if err := json.Unmarshal([]byte(firstJSONLine(out)), &st); err != nil {
		w.t.Fatalf("terraform show -json: %v\n%s", err, tail(out, 2000))
	}
	ids := map[string]string{}
	for _, r := range st.Values.Root.Resources {
		if id, ok := r.Values["id"].(string); ok {
			ids[r.Address] = id
		}
	}
	return ids
}

func firstJSONLine(s string) string {
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "{") {
			return sc.Text()
		}
	}
	return s
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// credsAndConns is a configuration of n credentials with one connection each. key is the plaintext
// key of credential i; writeOnly uses api_key_wo.
func credsAndConns(n int, key func(i int) string, writeOnly bool) string {
	var b strings.Builder
	b.WriteString("terraform {\n  required_providers {\n    modelkeys = { source = \"modelkeys/modelkeys\" }\n  }\n}\n\nprovider \"modelkeys\" {}\n\n")
	for i := range n {
		attr := fmt.Sprintf("api_key = %q", key(i))
		if writeOnly {
			attr = fmt.Sprintf("api_key_wo = %q\n  api_key_wo_version = 1", key(i))
		}
		fmt.Fprintf(&b, "resource \"modelkeys_credential\" \"c%d\" {\n  name = \"rel-cred-%d\"\n  model_provider = \"openai\"\n  %s\n  verify = false\n}\n\n", i, i, attr)
		fmt.Fprintf(&b, "resource \"modelkeys_connection\" \"m%d\" {\n  name = \"rel-conn-%d\"\n  credential_id = modelkeys_credential.c%d.id\n  model = \"gpt-4o-mini\"\n}\n\n", i, i, i)
	}
	return b.String()
}

// checkConverged asserts that the server holds exactly the n credentials and n connections of the
// workspace's state: no duplicates, nothing lost, no orphans.
func checkConverged(t *testing.T, w *workspace, base string, n int) {
	t.Helper()
	creds := listAll(t, base, "/v1/credentials")
	conns := listAll(t, base, "/v1/connections")
	ids := w.stateIDs()
	if len(ids) != 2*n {
		t.Errorf("state holds %d resources, want %d", len(ids), 2*n)
	}
	inState := map[string]bool{}
	for _, id := range ids {
		inState[id] = true
	}
	for _, group := range []struct {
		what  string
		items []item
	}{{"credentials", creds}, {"connections", conns}} {
		names := map[string]int{}
		for _, it := range group.items {
			names[it.Name]++
			if !inState[it.ID] {
				t.Errorf("orphan: %s %s (%s) is on the server but not in Terraform state", group.what, it.Name, it.ID)
			}
		}
		if len(group.items) != n {
			t.Errorf("server holds %d %s, want %d", len(group.items), group.what, n)
		}
		for name, c := range names {
			if c > 1 {
				t.Errorf("duplicate %s name %q: %d", group.what, name, c)
			}
		}
	}
	// Every connection points at a credential that exists.
	credIDs := map[string]bool{}
	for _, c := range creds {
		credIDs[c.ID] = true
	}
	for _, c := range conns {
		if !credIDs[c.CredentialID] {
			t.Errorf("connection %s points at missing credential %s", c.Name, c.CredentialID)
		}
	}
}

// --- the sweep ---

// sweep looks for every plaintext key in every file the suite wrote: databases (and their -wal),
// server logs, TRACE logs and state files. Only the state files of workspaces that use the classic
// api_key argument may hold keys (they are stored there by design, marked sensitive).
func sweep() int {
	secretsMu.Lock()
	keys := append([]string(nil), plaintext...)
	secretsMu.Unlock()
	if len(keys) == 0 {
		return 0
	}
	failed, files := 0, 0
	_ = filepath.Walk(root, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || strings.HasPrefix(path, binDir) {
			return nil //nolint:nilerr // a file that vanished or cannot be listed holds no key: keep walking
		}
		base := filepath.Base(path)
		classic := strings.Contains(path, "classic")
		if classic && (strings.HasSuffix(base, ".tfstate") || strings.HasSuffix(base, ".tfstate.backup") || base == "main.tf") {
			return nil // api_key is kept in state by design; the config holds it as a literal
		}
		if base == "main.tf" || (classic && strings.HasSuffix(base, ".tfplan")) {
			return nil // the configuration is where the test put the keys
		}
		files++
		b, err := os.ReadFile(path)
		if err != nil {
			return nil //nolint:nilerr // a file that cannot be read holds no key we could leak: keep walking
		}
		for _, k := range keys {
			if bytes.Contains(b, []byte(k)) {
				fmt.Fprintf(os.Stderr, "SECRET HYGIENE: plaintext key %s... found in %s\n", k[:12], path)
				failed++
				break
			}
		}
		return nil
	})
	fmt.Fprintf(os.Stderr, "secret hygiene sweep: %d plaintext keys, %d files searched, %d files with a key\n", len(keys), files, failed)
	if failed > 0 {
		return 1
	}
	return 0
}
