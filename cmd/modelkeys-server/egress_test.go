package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/secrets"
)

// loopbackModels is a loopback model server that counts the connections it accepts.
func loopbackModels(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var conns atomic.Int32
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"object":"list","data":[{"id":"local-model"}]}`))
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

const egressToken = "boot-egress-0123456789abcdef"

func startEgressServe(t *testing.T, args ...string) string {
	t.Helper()
	clearEnv(t)
	t.Setenv("MODELKEYS_EGRESS_ALLOW", "")
	t.Setenv("MODELKEYS_PROVIDER_BASE_URLS", "")
	t.Setenv("MODELKEYS_BOOTSTRAP_TOKEN", egressToken)
	t.Setenv("MODELKEYS_MASTER_KEY", base64.StdEncoding.EncodeToString(secrets.NewMasterKey()))
	url, _, stop := startServe(t, append([]string{"--db", filepath.Join(t.TempDir(), "e.db")}, args...)...)
	t.Cleanup(func() { _ = stop() })
	return url
}

func createCustom(t *testing.T, api, baseURL string) (int, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"name": "local", "provider": "custom", "api_key": "sk-local-key-1", "settings": map[string]string{"base_url": baseURL}})
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, api+"/v1/credentials", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+egressToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServeEgressRefusesLoopbackByDefault: a plain `serve` does not probe its own loopback: the create
// is a 422 naming the rule and the flag, and the loopback listener receives nothing.
func TestServeEgressRefusesLoopbackByDefault(t *testing.T) {
	target, conns := loopbackModels(t)
	api := startEgressServe(t)
	status, body := createCustom(t, api, target.URL+"/v1")
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, "the server does not send keys to 127.0.0.1 (loopback address); an operator can allow it with --egress-allow 127.0.0.0/8") {
		t.Fatalf("create: %d %s", status, body)
	}
	if n := conns.Load(); n != 0 {
		t.Fatalf("the loopback listener accepted %d connections", n)
	}
}

// TestServeEgressAllowLoopback: --egress-allow 127.0.0.0/8 opens loopback.
func TestServeEgressAllowLoopback(t *testing.T) {
	target, conns := loopbackModels(t)
	api := startEgressServe(t, "--egress-allow", "127.0.0.0/8", "--egress-allow", "::1/128")
	status, body := createCustom(t, api, target.URL+"/v1")
	if status != http.StatusCreated || !strings.Contains(body, `"status":"verified"`) {
		t.Fatalf("create: %d %s", status, body)
	}
	if conns.Load() == 0 {
		t.Fatal("the allowed loopback listener saw nothing")
	}
}

// TestServeEgressBadSettings: a bad CIDR or a base URL with a query stops the start, naming the flag.
func TestServeEgressBadSettings(t *testing.T) {
	clearEnv(t)
	t.Setenv("MODELKEYS_PROVIDER_BASE_URLS", "")
	dir := t.TempDir()
	for _, tc := range []struct {
		env  string
		args []string
		want string
	}{
		{"", []string{"--egress-allow", "10.0.0.0"}, "--egress-allow: \"10.0.0.0\" is not a CIDR range"},
		{"", []string{"--egress-allow", "127.0.0.0/8", "--egress-allow", "nonsense"}, "--egress-allow: \"nonsense\" is not a CIDR range"},
		{"10.0.0.0/8,300.0.0.0/8", nil, "MODELKEYS_EGRESS_ALLOW: \"300.0.0.0/8\" is not a CIDR range"},
		{"", []string{"--provider-base-url", "openai=https://proxy.example.com/v1?x="}, "must not contain a query"},
		{"", []string{"--provider-base-url", "openai=https://proxy.example.com/v1#"}, "must not contain a fragment"},
		{"", []string{"--provider-base-url", "openai=https://u:p@proxy.example.com/v1"}, "user name or password"},
	} {
		t.Setenv("MODELKEYS_EGRESS_ALLOW", tc.env)
		var out bytes.Buffer
		err := run(context.Background(), append([]string{"serve", "--db", filepath.Join(dir, "x.db"), "--listen", "127.0.0.1:0"}, tc.args...), &out, &out)
		var ue usageError
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.As(err, &ue) {
			t.Errorf("%v (env %q): %v, want a usage error with %q", tc.args, tc.env, err, tc.want)
		}
	}
}
