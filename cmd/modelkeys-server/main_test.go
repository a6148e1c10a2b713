package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/secrets"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/server"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store/sqlstore"
)

// clearEnv keeps the developer's environment out of the commands under test.
func clearEnv(t *testing.T) {
	for _, k := range []string{"MODELKEYS_MASTER_KEY", "MODELKEYS_MASTER_KEY_FILE", "MODELKEYS_DB", "MODELKEYS_LISTEN", "MODELKEYS_DEV",
		"MODELKEYS_BOOTSTRAP_TOKEN", "MODELKEYS_ALLOW_REVEAL", "MODELKEYS_TLS_CERT", "MODELKEYS_TLS_KEY", "MODELKEYS_RATE_LIMIT"} {
		t.Setenv(k, "")
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestTokenCreateListRevoke(t *testing.T) {
	clearEnv(t)
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "tokens.db")

	var out bytes.Buffer
	if err := run(ctx, []string{"token", "create", "--db", db, "--org", "acme", "--role", "editor", "--name", "ci"}, &out, &out); err != nil {
		t.Fatalf("token create: %v\n%s", err, out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	value := lines[0]
	if !strings.HasPrefix(value, service.TokenPrefix) || len(value) < 40 {
		t.Fatalf("token create printed %q first, want the token", value)
	}
	m := regexp.MustCompile(`token (tok_[0-9a-v]+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("token create does not print the token id: %s", out.String())
	}
	id := m[1]
	key := secrets.NewMasterKey()

	out.Reset()
	if err := run(ctx, []string{"token", "list", "--db", db}, &out, &out); err != nil {
		t.Fatalf("token list: %v", err)
	}
	list := out.String()
	for _, want := range []string{id, "acme", "ci", "editor"} {
		if !strings.Contains(list, want) {
			t.Errorf("token list lacks %q:\n%s", want, list)
		}
	}
	if strings.Contains(list, value) || strings.Contains(list, value[len(service.TokenPrefix):]) {
		t.Error("token list shows the token value")
	}
	row := lineWith(list, id)
	if !strings.HasSuffix(strings.TrimSpace(row), "-") {
		t.Errorf("fresh token listed as revoked: %q", row)
	}

	// The token works against a server on that database until it is revoked.
	if code := statusWith(t, db, key, value); code != 200 {
		t.Fatalf("new token: HTTP %d", code)
	}
	out.Reset()
	if err := run(ctx, []string{"token", "revoke", "--db", db, id}, &out, &out); err != nil {
		t.Fatalf("token revoke: %v", err)
	}
	if !strings.Contains(out.String(), "revoked "+id) {
		t.Errorf("revoke output %q", out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"token", "list", "--db", db}, &out, &out); err != nil {
		t.Fatal(err)
	}
	if row := lineWith(out.String(), id); strings.HasSuffix(strings.TrimSpace(row), " -") {
		t.Errorf("revoked token not shown revoked: %q", row)
	}
	if code := statusWith(t, db, key, value); code != 401 {
		t.Fatalf("revoked token: HTTP %d, want 401", code)
	}
	if err := run(ctx, []string{"token", "revoke", "--db", db, "tok_nope"}, &out, &out); err == nil {
		t.Error("revoking an unknown token succeeded")
	}
	var ue usageError
	if err := run(ctx, []string{"token", "create", "--db", db, "--org", "acme", "--role", "owner", "--name", "x"}, &out, &out); !errors.As(err, &ue) {
		t.Errorf("role owner: %v, want a usage error", err)
	}
	// No --org: refused, naming the flag and embedded mode's organisation, rather than a token for
	// organisation "default" that sees nothing of acme's.
	err := run(ctx, []string{"token", "create", "--db", db, "--role", "editor", "--name", "no-org"}, &out, &out)
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "--org") || !strings.Contains(err.Error(), "organisation default") {
		t.Errorf("token create without --org: %v, want a usage error naming --org", err)
	}
}

func lineWith(text, s string) string {
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

// statusWith answers the HTTP status of GET /v1/credentials with token on a server over db.
func statusWith(t *testing.T, db string, key []byte, token string) int {
	t.Helper()
	ctx := context.Background()
	st, err := sqlstore.OpenSQLite(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ring, err := secrets.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(ctx, service.Config{Store: st, Keyring: ring})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/v1/credentials", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	return rec.Code
}

func writeKeyFile(t *testing.T, path string, key []byte) {
	t.Helper()
	if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestServeRefusesWithoutMasterKey(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"serve", "--db", filepath.Join(dir, "m.db"), "--listen", "127.0.0.1:0"}, &stderr, &stderr)
	if err == nil {
		t.Fatal("serve started without a master key")
	}
	msg := err.Error()
	for _, want := range []string{"MODELKEYS_MASTER_KEY", "head -c 32 /dev/urandom | base64", "--master-key-file", "--dev"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not say %q", msg, want)
		}
	}
	if _, err := os.Stat(secrets.KeyFileFor(filepath.Join(dir, "m.db"))); !os.IsNotExist(err) {
		t.Error("serve without --dev created a key file")
	}
	// A key that is not 32 bytes of base64 is refused with the same advice.
	t.Setenv("MODELKEYS_MASTER_KEY", "c2hvcnQ=")
	err = run(context.Background(), []string{"serve", "--db", filepath.Join(dir, "m.db"), "--listen", "127.0.0.1:0"}, &stderr, &stderr)
	if err == nil || !strings.Contains(err.Error(), "head -c 32") {
		t.Errorf("short master key: %v", err)
	}
	// A key file that others can read is refused.
	t.Setenv("MODELKEYS_MASTER_KEY", "")
	kf := filepath.Join(dir, "loose.key")
	writeKeyFile(t, kf, secrets.NewMasterKey())
	if err := os.Chmod(kf, 0o644); err != nil {
		t.Fatal(err)
	}
	err = run(context.Background(), []string{"serve", "--db", filepath.Join(dir, "m.db"), "--listen", "127.0.0.1:0", "--master-key-file", kf}, &stderr, &stderr)
	if err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("world-readable key file: %v", err)
	}
}

// startServe runs `serve args...` in a goroutine and returns its base URL once it listens, plus a stop
// function that cancels it and returns run's error.
func startServe(t *testing.T, args ...string) (string, *lockedBuffer, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &lockedBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...), logs, logs) }()
	deadline := time.Now().Add(15 * time.Second)
	for {
		for _, line := range strings.Split(logs.String(), "\n") {
			var l struct {
				Msg string `json:"msg"`
				URL string `json:"url"`
			}
			if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "modelkeys-server listening" && l.URL != "" {
				var once sync.Once
				var stopErr error
				return l.URL, logs, func() error {
					once.Do(func() {
						cancel()
						select {
						case stopErr = <-done:
						case <-time.After(20 * time.Second):
							stopErr = errors.New("serve did not stop after cancel")
						}
					})
					return stopErr
				}
			}
		}
		select {
		case err := <-done:
			cancel()
			t.Fatalf("serve exited before listening: %v\n%s", err, logs.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve did not start:\n%s", logs.String())
		}
	}
}

func TestServeDevCreatesKeyFile(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "dev.db")
	url, logs, stop := startServe(t, "--dev", "--db", db)
	defer stop()
	keyFile := secrets.KeyFileFor(db)
	info, err := os.Stat(keyFile)
	if err != nil {
		t.Fatalf("serve --dev did not create %s: %v", keyFile, err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("key file mode %o, want 600", perm)
	}
	if _, err := secrets.ReadMasterKeyFile(keyFile); err != nil {
		t.Errorf("key file does not hold a master key: %v", err)
	}
	if !strings.Contains(logs.String(), "created a new master key file") {
		t.Errorf("no warning about the new key file:\n%s", logs.String())
	}
	resp, err := http.Get(url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("healthz: %d", resp.StatusCode)
	}
	if err := stop(); err != nil {
		t.Fatalf("serve after cancel: %v", err)
	}
	// A second start reuses the key rather than replacing it.
	before, _ := os.ReadFile(keyFile)
	_, logs2, stop2 := startServe(t, "--dev", "--db", db)
	if err := stop2(); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(keyFile)
	if !bytes.Equal(before, after) {
		t.Error("a second serve --dev replaced the key file")
	}
	if strings.Contains(logs2.String(), "created a new master key file") {
		t.Error("second start claims to have created a key file")
	}
}

func TestServeBootstrapToken(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	t.Setenv("MODELKEYS_BOOTSTRAP_TOKEN", "boot-0123456789abcdef-xyz")
	t.Setenv("MODELKEYS_MASTER_KEY", base64.StdEncoding.EncodeToString(secrets.NewMasterKey()))
	url, logs, stop := startServe(t, "--db", filepath.Join(dir, "b.db"))
	defer stop()
	c, err := client.New(client.Config{BaseURL: url, Token: "boot-0123456789abcdef-xyz", MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListCredentials(context.Background(), client.CredentialListOptions{}); err != nil {
		t.Fatalf("bootstrap token: %v", err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), "boot-0123456789abcdef-xyz") {
		t.Error("the server logged the bootstrap token")
	}
}

func TestRotateMasterKey(t *testing.T) {
	clearEnv(t)
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "rot.db")
	oldKey, newKey := secrets.NewMasterKey(), secrets.NewMasterKey()
	oldFile, newFile := filepath.Join(dir, "old.key"), filepath.Join(dir, "new.key")
	writeKeyFile(t, oldFile, oldKey)
	writeKeyFile(t, newFile, newKey)

	// Credentials written under the old key.
	type rec struct{ id, key, token, fingerprint string }
	var recs []rec
	withServer(t, db, oldKey, func(c *client.Client) {
		for i, name := range []string{"a", "b", "c"} {
			key := "sk-rotate-" + name + "-0123456789abcdef"
			in := api.CredentialCreate{Name: name, Provider: "openai", APIKey: &key, Verify: new(bool)}
			var tok string
			if i == 2 {
				tok = "proxy-token-0123456789"
				in = api.CredentialCreate{Name: name, Provider: "custom", APIKey: &key, AuthToken: &tok,
					Settings: map[string]string{"base_url": "https://gw.example.com/v1"}}
			}
			cr, err := c.CreateCredential(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			recs = append(recs, rec{cr.ID, key, tok, cr.SecretFingerprint})
		}
	})

	var out bytes.Buffer
	if err := run(ctx, []string{"rotate-master-key", "--db", db, "--master-key-file", oldFile, "--new-key-file", newFile}, &out, &out); err != nil {
		t.Fatalf("rotate-master-key: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "re-wrapped 5 data keys") { // 4 secrets and the fingerprint key
		t.Errorf("rotate output: %s", out.String())
	}

	// Only the new key now: every secret opens, every fingerprint is unchanged.
	withServer(t, db, newKey, func(c *client.Client) {
		for _, r := range recs {
			got, err := c.RevealCredential(ctx, r.id)
			if err != nil {
				t.Fatalf("reveal %s with the new key: %v", r.id, err)
			}
			if got.APIKey != r.key || got.AuthToken != r.token {
				t.Errorf("credential %s decrypted to other values after rotation", r.id)
			}
			cr, err := c.GetCredential(ctx, r.id)
			if err != nil {
				t.Fatal(err)
			}
			if cr.SecretFingerprint != r.fingerprint {
				t.Errorf("credential %s fingerprint changed with the master key", r.id)
			}
		}
		// A new secret under the new key fingerprints like before for the same value.
		key := recs[0].key
		cr, err := c.CreateCredential(ctx, api.CredentialCreate{Name: "again", Provider: "openai", APIKey: &key, Verify: new(bool)})
		if err != nil {
			t.Fatal(err)
		}
		if cr.SecretFingerprint != recs[0].fingerprint {
			t.Error("fingerprints of the same key differ before and after rotation")
		}
	})

	// The old key alone no longer opens the database, and says why.
	st, err := sqlstore.OpenSQLite(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ring, _ := secrets.NewKeyring(oldKey)
	if _, err := server.New(ctx, service.Config{Store: st, Keyring: ring}); err == nil || !strings.Contains(err.Error(), "another master key") {
		t.Errorf("old key after rotation: %v", err)
	}
	// No plaintext anywhere in the database files.
	_ = st.Close()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		b, err := os.ReadFile(db + suffix)
		if err != nil {
			continue
		}
		for _, r := range recs {
			if bytes.Contains(b, []byte(r.key)) || (r.token != "" && bytes.Contains(b, []byte(r.token))) {
				t.Errorf("%s holds a plaintext secret", filepath.Base(db+suffix))
			}
		}
	}
	if err := run(ctx, []string{"rotate-master-key", "--db", db, "--master-key-file", oldFile}, &out, &out); !errors.As(err, new(usageError)) {
		t.Errorf("rotate without --new-key-file: %v, want a usage error", err)
	}
}

// withServer runs fn with an admin client of a reveal-enabled server over db with master key key.
func withServer(t *testing.T, db string, key []byte, fn func(*client.Client)) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlstore.OpenSQLite(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ring, err := secrets.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(ctx, service.Config{Store: st, Keyring: ring, AllowReveal: true})
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	token, _, err := service.CreateToken(ctx, st, "acme", api.RoleAdmin, "rotation-test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	c, err := client.New(client.Config{BaseURL: ts.URL, Token: token, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	fn(c)
}

func TestServeTLS(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	pool := writeSelfSignedCert(t, certFile, keyFile)
	t.Setenv("MODELKEYS_MASTER_KEY", base64.StdEncoding.EncodeToString(secrets.NewMasterKey()))
	url, _, stop := startServe(t, "--db", filepath.Join(dir, "tls.db"), "--tls-cert", certFile, "--tls-key", keyFile)
	defer stop()
	if !strings.HasPrefix(url, "https://") {
		t.Fatalf("TLS server announces %s", url)
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := hc.Get(url + "/healthz")
	if err != nil {
		t.Fatalf("healthz over TLS: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("healthz over TLS: %d", resp.StatusCode)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	var ue usageError
	if err := run(context.Background(), []string{"serve", "--tls-cert", certFile}, io.Discard, io.Discard); !errors.As(err, &ue) {
		t.Errorf("--tls-cert without --tls-key: %v, want a usage error", err)
	}
}

func writeSelfSignedCert(t *testing.T, certFile, keyFile string) *x509.CertPool {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool
}

// TestServeAuthFailureLimit: --auth-failure-limit (and its variable) bound failed authentications per
// client address; 0 turns the limit off; a negative limit or a refill of 0 is a usage error.
func TestServeAuthFailureLimit(t *testing.T) {
	clearEnv(t)
	t.Setenv("MODELKEYS_AUTH_FAILURE_LIMIT", "")
	t.Setenv("MODELKEYS_AUTH_FAILURE_REFILL", "")
	statuses := func(url string, n int) []int {
		var got []int
		for range n {
			req, _ := http.NewRequest(http.MethodGet, url+"/v1/credentials", nil)
			req.Header.Set("Authorization", "Bearer mkt_unknown")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			got = append(got, resp.StatusCode)
		}
		return got
	}
	dir := t.TempDir()
	url, _, stop := startServe(t, "--dev", "--db", filepath.Join(dir, "a.db"), "--auth-failure-limit", "2", "--auth-failure-refill", "0.01")
	if got := fmt.Sprint(statuses(url, 3)); got != "[401 401 429]" {
		t.Errorf("--auth-failure-limit 2: statuses %s, want [401 401 429]", got)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MODELKEYS_AUTH_FAILURE_LIMIT", "0")
	url, _, stop = startServe(t, "--dev", "--db", filepath.Join(dir, "a.db"))
	for _, s := range statuses(url, 12) {
		if s != http.StatusUnauthorized {
			t.Fatalf("MODELKEYS_AUTH_FAILURE_LIMIT=0: HTTP %d, want 401 every time", s)
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MODELKEYS_AUTH_FAILURE_LIMIT", "")
	for _, args := range [][]string{{"--auth-failure-limit", "-1"}, {"--auth-failure-refill", "0"}} {
		var stderr bytes.Buffer
		err := run(context.Background(), append([]string{"serve", "--dev", "--db", filepath.Join(dir, "a.db"), "--listen", "127.0.0.1:0"}, args...), &stderr, &stderr)
		if err == nil || !strings.Contains(err.Error(), "--auth-failure-limit") {
			t.Errorf("serve %v: %v, want a usage error naming the flags", args, err)
		}
	}
}
