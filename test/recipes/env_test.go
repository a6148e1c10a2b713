// Package recipes runs the CI recipes under examples/ci as their CI systems would: each job's shell
// steps in order, against a modelkeys-server on loopback, signing in with OIDC tokens from a local
// issuer that stands in for GitHub Actions, GitLab and HCP Terraform. No modelkeys token is set in
// any job. The recipes need Terraform 1.14+ (actions): the tests run in `make test`'s run on the
// newest Terraform (scripts/terraform.sh testacc) and skip on an older one.
package recipes

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
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

	"github.com/modelkeys/terraform-provider-modelkeys/internal/federation/federationtest"
)

const adminToken = "recipes-bootstrap-admin-token-0123456789"

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

var (
	buildOnce sync.Once
	buildErr  error
	binDir    string
	repoRoot  string
)

// terraformPath is the Terraform the recipes run with: TF_ACC_TERRAFORM_PATH or PATH's, 1.14 or newer.
func terraformPath(t *testing.T) string {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("TF_ACC is not set: the recipe tests run Terraform")
	}
	tf := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if tf == "" {
		tf, _ = exec.LookPath("terraform")
	}
	if tf == "" {
		t.Skip("terraform not found (TF_ACC_TERRAFORM_PATH or PATH)")
	}
	out, err := exec.Command(tf, "version", "-json").Output()
	if err != nil {
		t.Fatalf("%s version: %v", tf, err)
	}
	var v struct {
		Version string `json:"terraform_version"`
	}
	_ = json.Unmarshal(out, &v)
	if !atLeast(v.Version, 1, 14) {
		t.Skipf("the recipes need Terraform 1.14 or newer (actions); %s is %s: they run in make testacc-terraform-latest", tf, v.Version)
	}
	for _, tool := range []string{"bash", "jq", "awk", "sed"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the recipes' steps need %s, which is not installed", tool)
		}
	}
	return tf
}

// build makes the provider (in a filesystem mirror, so that `terraform init` installs it as from a
// registry) and the server, once per test binary.
func build(t *testing.T) {
	t.Helper()
	buildOnce.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		repoRoot = filepath.Join(filepath.Dir(file), "..", "..")
		// Shared by every test of the package (built once), so not t.TempDir: TestMain removes it.
		binDir, buildErr = os.MkdirTemp("", "modelkeys-recipes-") //nolint:usetesting // see above
		if buildErr != nil {
			return
		}
		provider := filepath.Join(binDir, "mirror", "registry.terraform.io", "modelkeys", "modelkeys", "0.0.1",
			runtime.GOOS+"_"+runtime.GOARCH, "terraform-provider-modelkeys_v0.0.1")
		for pkg, out := range map[string]string{".": provider, "./cmd/modelkeys-server": filepath.Join(binDir, "modelkeys-server")} {
			cmd := exec.Command("go", "build", "-o", out, pkg)
			cmd.Dir = repoRoot
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if b, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
}

// recipeEnv is one test's world: a server, a vendor standing in for OpenAI and Anthropic, an OIDC
// issuer, and the commands a CI job finds on PATH.
type recipeEnv struct {
	t        *testing.T
	tf       string // the real terraform
	url      string // the modelkeys server
	issuer   *federationtest.Issuer
	vendor   *vendor
	shims    string // gh, apk, terraform (the real one, without -backend-config)
	ghLog    string // what the gh shim was asked, one JSON object per call
	cliConf  string
	minted   []string // every OIDC token handed to a job, never to appear in any output
	mintedMu sync.Mutex
}

func newRecipeEnv(t *testing.T) *recipeEnv {
	t.Helper()
	tf := terraformPath(t)
	build(t)
	e := &recipeEnv{t: t, tf: tf, issuer: federationtest.NewIssuer(t), vendor: newVendor(t)}
	d := t.TempDir()
	e.url = startServer(t, d, e.vendor.srv.URL)

	e.shims = filepath.Join(d, "shims")
	e.ghLog = filepath.Join(d, "gh.log")
	must(t, os.MkdirAll(e.shims, 0o755))
	writeExec(t, filepath.Join(e.shims, "terraform"), fmt.Sprintf(`#!/bin/sh
# terraform without -backend-config: the recipes' remote state is a local backend here.
if [ "$1" = init ]; then
  shift
  for a in "$@"; do shift; case "$a" in -backend-config=*) ;; *) set -- "$@" "$a" ;; esac; done
  exec %q init "$@"
fi
exec %q "$@"
`, tf, tf))
	// gh: record the call, with the body file's text, and answer issue lists with no issue.
	writeExec(t, filepath.Join(e.shims, "gh"), fmt.Sprintf(`#!/bin/sh
body=""
prev=""
for a in "$@"; do
  if [ "$prev" = --body-file ]; then body=$(cat "$a"); fi
  prev=$a
done
jq -cn --arg args "$*" --arg body "$body" '{args: $args, body: $body}' >> %q
`, e.ghLog))
	writeExec(t, filepath.Join(e.shims, "apk"), "#!/bin/sh\nexit 0\n")
	writeExec(t, filepath.Join(e.shims, "curl"), "#!/bin/sh\necho 'curl must not be called in the recipe tests' >&2\nexit 1\n")

	e.cliConf = filepath.Join(d, "terraformrc")
	must(t, os.WriteFile(e.cliConf, []byte(fmt.Sprintf(`provider_installation {
  filesystem_mirror {
    path    = %q
    include = ["registry.terraform.io/modelkeys/modelkeys"]
  }
}
`, filepath.Join(binDir, "mirror"))), 0o600))
	return e
}

// baseEnv is the environment of every job: PATH with the shims first, the CLI configuration, and
// nothing of this machine's modelkeys or Terraform settings.
func (e *recipeEnv) baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "MODELKEYS_") || strings.HasPrefix(k, "TF_") || strings.HasPrefix(k, "ACTIONS_") || k == "PATH" || k == "CHECKPOINT_DISABLE" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "PATH="+e.shims+string(os.PathListSeparator)+os.Getenv("PATH"),
		"TF_CLI_CONFIG_FILE="+e.cliConf, "CHECKPOINT_DISABLE=1")
}

// mint issues an OIDC token with claims, remembered so that tests can check it never leaks.
func (e *recipeEnv) mint(claims map[string]any) string {
	tok := e.issuer.Mint(claims)
	e.mintedMu.Lock()
	e.minted = append(e.minted, tok)
	e.mintedMu.Unlock()
	return tok
}

// noTokens fails the test when out holds a minted OIDC token or an exchanged modelkeys token.
func (e *recipeEnv) noTokens(what, out string) {
	e.t.Helper()
	e.mintedMu.Lock()
	defer e.mintedMu.Unlock()
	for _, tok := range e.minted {
		if strings.Contains(out, tok) || strings.Contains(out, strings.SplitN(tok, ".", 3)[2]) {
			e.t.Errorf("%s holds an OIDC token", what)
		}
	}
	if regexp.MustCompile(`mk[a-z]_[A-Za-z0-9_-]{20,}`).MatchString(out) {
		e.t.Errorf("%s holds a modelkeys token", what)
	}
}

// actionsTokenEndpoint stands in for GitHub's ACTIONS_ID_TOKEN_REQUEST_URL: it answers the request
// token with an OIDC token over claims, for the audience the caller asks.
func (e *recipeEnv) actionsTokenEndpoint(claims map[string]any) []string {
	requestToken := randomHex(16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+requestToken {
			http.Error(w, "bad request token", http.StatusUnauthorized)
			return
		}
		c := map[string]any{"aud": r.URL.Query().Get("audience")}
		for k, v := range claims {
			c[k] = v
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"value": e.mint(c)})
	}))
	e.t.Cleanup(srv.Close)
	return []string{"ACTIONS_ID_TOKEN_REQUEST_URL=" + srv.URL + "/token?api-version=2.0", "ACTIONS_ID_TOKEN_REQUEST_TOKEN=" + requestToken}
}

// ghCalls returns the gh shim's log and empties it.
func (e *recipeEnv) ghCalls() []ghCall {
	e.t.Helper()
	b, _ := os.ReadFile(e.ghLog)
	_ = os.Remove(e.ghLog)
	var calls []ghCall
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var c ghCall
		must(e.t, json.Unmarshal(line, &c))
		calls = append(calls, c)
	}
	return calls
}

type ghCall struct {
	Args string `json:"args"`
	Body string `json:"body"`
}

// applyTrust applies a recipe's trust configuration as the admin and returns its output named output.
func (e *recipeEnv) applyTrust(dir, output string, vars map[string]string) map[string]string {
	e.t.Helper()
	ws := filepath.Join(e.t.TempDir(), "trust")
	copyDir(e.t, filepath.Join(repoRoot, "examples", "ci", dir), ws)
	env := append(e.baseEnv(), "MODELKEYS_ENDPOINT="+e.url, "MODELKEYS_TOKEN="+adminToken)
	for k, v := range vars {
		env = append(env, "TF_VAR_"+k+"="+v)
	}
	for _, args := range [][]string{{"init", "-no-color"}, {"apply", "-auto-approve", "-no-color"}} {
		cmd := exec.Command(e.tf, args...)
		cmd.Dir, cmd.Env = ws, env
		if out, err := cmd.CombinedOutput(); err != nil {
			e.t.Fatalf("the admin's terraform %s of %s: %v\n%s", args[0], dir, err, out)
		}
	}
	cmd := exec.Command(e.tf, "output", "-json", output)
	cmd.Dir, cmd.Env = ws, env
	out, err := cmd.Output()
	if err != nil {
		e.t.Fatalf("terraform output %s: %v", output, err)
	}
	var m map[string]string
	must(e.t, json.Unmarshal(out, &m))
	return m
}

// checkout copies a recipe's configuration to workspace/infra/modelkeys, with its remote backend
// replaced by a local one (an override file, as a test would do), and returns the workspace.
func checkout(t *testing.T, dir string) string {
	t.Helper()
	ws := t.TempDir()
	cfg := filepath.Join(ws, "infra", "modelkeys")
	copyDir(t, filepath.Join(repoRoot, "examples", "ci", dir), cfg)
	must(t, os.RemoveAll(filepath.Join(cfg, "trust")))
	must(t, os.WriteFile(filepath.Join(cfg, "zz_backend_override.tf"), []byte("terraform {\n  backend \"local\" {}\n}\n"), 0o600))
	return ws
}

// admin calls the server's API with the admin token.
func (e *recipeEnv) admin(method, path string, body any, out any) int {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.url+path, rd)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		must(e.t, json.Unmarshal(b, out))
	}
	return resp.StatusCode
}

// startServer runs modelkeys-server on a fresh SQLite database, with the vendor on loopback as
// OpenAI's and Anthropic's base URL and loopback opened to the egress policy (the issuer is there).
func startServer(t *testing.T, d, vendorURL string) string {
	t.Helper()
	logPath := filepath.Join(d, "server.log")
	lf, err := os.Create(logPath)
	must(t, err)
	cmd := exec.Command(filepath.Join(binDir, "modelkeys-server"), "serve", "--dev", "--db", filepath.Join(d, "modelkeys.db"),
		"--listen", "127.0.0.1:0", "--reverify-interval", "0", "--token-cache-ttl", "0",
		"--egress-allow", "127.0.0.0/8",
		"--provider-base-url", "openai="+vendorURL+"/v1", "--provider-base-url", "anthropic="+vendorURL)
	cmd.Env = append(os.Environ(), "MODELKEYS_BOOTSTRAP_TOKEN="+adminToken)
	cmd.Stdout, cmd.Stderr = lf, lf
	must(t, cmd.Start())
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); _ = lf.Close(); close(exited) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })
	re := regexp.MustCompile(`"url":"([^"]+)"`)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		b, _ := os.ReadFile(logPath)
		if m := re.FindSubmatch(b); m != nil {
			return string(m[1])
		}
		select {
		case <-exited:
			t.Fatalf("modelkeys-server exited:\n%s", b)
		default:
		}
	}
	b, _ := os.ReadFile(logPath)
	t.Fatalf("modelkeys-server did not start:\n%s", b)
	return ""
}

// vendor stands in for OpenAI and Anthropic: their model lists answer the live keys only.
type vendor struct {
	srv  *httptest.Server
	mu   sync.Mutex
	live map[string]bool
}

func newVendor(t *testing.T) *vendor {
	v := &vendor{live: map[string]bool{}}
	v.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		model := "gpt-4o-mini"
		if k := r.Header.Get("x-api-key"); k != "" {
			key, model = k, "claude-sonnet-4-5"
		}
		v.mu.Lock()
		ok := v.live[key]
		v.mu.Unlock()
		if r.URL.Path != "/v1/models" || !ok {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":{"message":"Incorrect API key provided","type":"invalid_request_error"}}`))
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"data": []map[string]string{{"id": model}}, "has_more": false})
	}))
	t.Cleanup(v.srv.Close)
	return v
}

// key makes a key the vendor accepts.
func (v *vendor) key(prefix string) string {
	k := prefix + randomHex(20)
	v.mu.Lock()
	v.live[k] = true
	v.mu.Unlock()
	return k
}

// revoke makes the vendor refuse k from now on.
func (v *vendor) revoke(k string) {
	v.mu.Lock()
	delete(v.live, k)
	v.mu.Unlock()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func writeExec(t *testing.T, path, text string) {
	t.Helper()
	must(t, os.WriteFile(path, []byte(text), 0o755))
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	must(t, filepath.WalkDir(from, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o644)
	}))
}

// exchange trades an OIDC token at /v1/oauth/token under rule and returns the status.
func exchange(t *testing.T, e *recipeEnv, rule, token string) int {
	t.Helper()
	resp, err := http.PostForm(e.url+"/v1/oauth/token", url.Values{
		"grant_type":         {"urn:ietf:params:oauth:grant-type:token-exchange"},
		"subject_token":      {token},
		"subject_token_type": {"urn:ietf:params:oauth:token-type:jwt"},
		"federation_rule":    {rule},
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

// auditActors checks that the credentials were created by an exchanged token of the rule named
// rule, with the subject's claims, and by nothing else.
func auditActors(t *testing.T, e *recipeEnv, rule string) {
	t.Helper()
	var events struct {
		Items []map[string]any `json:"items"`
	}
	e.admin("GET", "/v1/audit-events?limit=100", nil, &events)
	n := 0
	for _, ev := range events.Items {
		if ev["action"] != "create" || ev["object_type"] != "credential" {
			continue
		}
		n++
		b, _ := json.Marshal(ev)
		if !strings.Contains(string(b), rule) || !strings.Contains(string(b), "acme/infra") {
			t.Errorf("a credential created by the pipeline must be audited with its rule %q and the run's claims: %s", rule, b)
		}
	}
	if n == 0 {
		t.Errorf("no credential creation was audited: %v", events.Items)
	}
}
