package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/secrets"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/server"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store/sqlstore"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/verify"
)

// probeServer is an API server with a real verifier under egress, and admin tokens of "acme" and
// "other".
type probeServer struct {
	srv    *server.Server
	url    string
	tokens map[string]string
}

func newProbeServer(t *testing.T, egress *verify.EgressPolicy, limits service.Limits) *probeServer {
	t.Helper()
	return newProbeServerAt(t, filepath.Join(t.TempDir(), "modelkeys.db"), secrets.NewMasterKey(), egress, limits)
}

// newProbeServerAt serves the database at dbPath, so that two policies can see the same credentials.
func newProbeServerAt(t *testing.T, dbPath string, key []byte, egress *verify.EgressPolicy, limits service.Limits) *probeServer {
	t.Helper()
	ctx := context.Background()
	st, err := sqlstore.OpenSQLite(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	ring, err := secrets.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(ctx, service.Config{Store: st, Keyring: ring, Version: "test", Limits: limits,
		Verifier: verify.New(verify.Options{Egress: egress, Timeout: 30 * time.Second})})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { hs.Close(); _ = st.Close() })
	ps := &probeServer{srv: srv, url: hs.URL, tokens: map[string]string{}}
	for _, org := range []string{"acme", "other"} {
		tok, _, err := service.CreateToken(ctx, st, org, api.RoleAdmin, org+"-admin", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		ps.tokens[org] = tok
	}
	return ps
}

type answer struct {
	status int
	header http.Header
	body   string
}

func (ps *probeServer) do(t *testing.T, org, method, path string, body any) answer {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, ps.url+path, rd)
	req.Header.Set("Authorization", "Bearer "+ps.tokens[org])
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", method, path, err)
		return answer{}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(b)}
}

func customCred(name, baseURL, key string) map[string]any {
	return map[string]any{"name": name, "provider": "custom", "api_key": key, "settings": map[string]string{"base_url": baseURL}}
}

// countingListener is a loopback model server that counts every connection it accepts.
func countingListener(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var conns atomic.Int32
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"object":"list","data":[{"id":"m1"}]}`))
	}))
	ts.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	ts.Start()
	t.Cleanup(ts.Close)
	return ts, &conns
}

// TestEgressRefusalIs422AndNothingIsSent: with the server's default policy a credential pointing at
// loopback is refused with 422 naming the rule and the flag, on create and on update; re-verification
// and live models say the same; the loopback server receives nothing.
func TestEgressRefusalIs422AndNothingIsSent(t *testing.T) {
	target, conns := countingListener(t)
	ps := newProbeServer(t, verify.ServerEgress(nil), service.Limits{})

	a := ps.do(t, "acme", "POST", "/v1/credentials", customCred("local", target.URL+"/v1", "sk-local-1"))
	if a.status != http.StatusUnprocessableEntity || !strings.Contains(a.body, "settings.base_url") ||
		!strings.Contains(a.body, "the server does not send keys to 127.0.0.1 (loopback address); an operator can allow it with --egress-allow 127.0.0.0/8") {
		t.Fatalf("create: %d %s", a.status, a.body)
	}

	// Stored without verification, then pointed at loopback: the update is refused as well.
	off := customCred("later", "https://llm.example.com/v1", "sk-local-2")
	off["verify"] = false
	a = ps.do(t, "acme", "POST", "/v1/credentials", off)
	var cred api.Credential
	if a.status != http.StatusCreated || json.Unmarshal([]byte(a.body), &cred) != nil {
		t.Fatalf("create with verify = false: %d %s", a.status, a.body)
	}
	a = ps.do(t, "acme", "PATCH", "/v1/credentials/"+cred.ID, map[string]any{"verify": true, "api_key": "sk-local-2", "settings": map[string]string{"base_url": target.URL + "/v1"}})
	if a.status != http.StatusUnprocessableEntity || !strings.Contains(a.body, "--egress-allow 127.0.0.0/8") {
		t.Fatalf("update: %d %s", a.status, a.body)
	}
	if conns.Load() != 0 {
		t.Fatalf("the loopback listener accepted %d connections", conns.Load())
	}
}

// TestEgressRefusalOnReverifyAndModels: a credential stored while its destination was allowed, then
// refused (the operator narrowed --egress-allow), keeps its status on re-verification (the background
// pass and POST /verify) with the reason recorded, and its live model list is a 422 with the same
// words; the loopback server receives nothing once refused.
func TestEgressRefusalOnReverifyAndModels(t *testing.T) {
	target, conns := countingListener(t)
	dbPath, key := filepath.Join(t.TempDir(), "modelkeys.db"), secrets.NewMasterKey()
	open := newProbeServerAt(t, dbPath, key, verify.ServerEgress([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}), service.Limits{})
	a := open.do(t, "acme", "POST", "/v1/credentials", customCred("local", target.URL+"/v1", "sk-local-1"))
	var cred api.Credential
	if a.status != http.StatusCreated || json.Unmarshal([]byte(a.body), &cred) != nil || cred.Status != api.StatusVerified {
		t.Fatalf("create with loopback allowed: %d %s", a.status, a.body)
	}
	before := conns.Load()

	ps := newProbeServerAt(t, dbPath, key, verify.ServerEgress(nil), service.Limits{})
	const want = "the server does not send keys to 127.0.0.1 (loopback address); an operator can allow it with --egress-allow 127.0.0.0/8"
	rep, err := ps.srv.Service().Reverify(context.Background())
	if err != nil || rep.Unreachable != 1 || rep.Invalid != 0 {
		t.Fatalf("Reverify = %+v, %v", rep, err)
	}
	a = ps.do(t, "acme", "GET", "/v1/credentials/"+cred.ID, nil)
	if !strings.Contains(a.body, want) || !strings.Contains(a.body, `"status":"verified"`) {
		t.Errorf("after the background pass: %s", a.body)
	}
	a = ps.do(t, "acme", "POST", "/v1/credentials/"+cred.ID+"/verify", nil)
	if a.status != http.StatusOK || !strings.Contains(a.body, want) || !strings.Contains(a.body, `"status":"verified"`) {
		t.Errorf("POST /verify: %d %s", a.status, a.body)
	}
	a = ps.do(t, "acme", "GET", "/v1/credentials/"+cred.ID+"/models", nil)
	if a.status != http.StatusUnprocessableEntity || !strings.Contains(a.body, want) {
		t.Errorf("models: %d %s", a.status, a.body)
	}
	if n := conns.Load(); n != before {
		t.Fatalf("the loopback listener accepted %d connections after the policy refused it", n-before)
	}
}

// TestEgressAllowOpensLoopback: --egress-allow 127.0.0.0/8 opens loopback for verification and live
// models, and the background pass re-verifies there.
func TestEgressAllowOpensLoopback(t *testing.T) {
	target, conns := countingListener(t)
	ps := newProbeServer(t, verify.ServerEgress([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}), service.Limits{})
	a := ps.do(t, "acme", "POST", "/v1/credentials", customCred("local", target.URL+"/v1", "sk-local-1"))
	var cred api.Credential
	if a.status != http.StatusCreated || json.Unmarshal([]byte(a.body), &cred) != nil || cred.Status != api.StatusVerified {
		t.Fatalf("create with loopback allowed: %d %s", a.status, a.body)
	}
	if a := ps.do(t, "acme", "GET", "/v1/credentials/"+cred.ID+"/models", nil); a.status != 200 || !strings.Contains(a.body, `"m1"`) {
		t.Fatalf("models with loopback allowed: %d %s", a.status, a.body)
	}
	if rep, err := ps.srv.Service().Reverify(context.Background()); err != nil || rep.Verified != 1 {
		t.Fatalf("Reverify = %+v, %v", rep, err)
	}
	if conns.Load() == 0 {
		t.Fatal("the allowed loopback listener saw nothing")
	}
}
