package verify

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
)

// mockLLMVersion pins the third-party OpenAI-compatible mock the end-to-end test runs.
const mockLLMVersion = "0.1.29"

// mockLLMConfig answers GET /v1/models by a rule on the Authorization header. Rules are evaluated in
// order and the last match wins: a realistic OpenAI 401 for any request, a model list for the right key.
const mockLLMConfig = `rules:
  - path: "/v1/models"
    method: "GET"
    match: "@"
    response:
      status: 401
      content: |
        {"error": {"message": "Incorrect API key provided.", "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}}
  - path: "/v1/models"
    method: "GET"
    match: "headers.authorization == 'Bearer sk-mock-right-key'"
    response:
      status: 200
      content: |
        {"object": "list", "data": [{"id": "gpt-5.2", "object": "model", "owned_by": "openai"}]}
`

// TestVerifyCustomAgainstMockLLM checks the custom-provider probe against @dwmkerr/mock-llm, installed
// with npm into a temporary directory. It is skipped where npm is absent or the install fails (offline).
func TestVerifyCustomAgainstMockLLM(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test with npm skipped in -short mode")
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Skip("npm is not installed: skipping the end-to-end test against @dwmkerr/mock-llm")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: skipping the end-to-end test against @dwmkerr/mock-llm")
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	install := exec.CommandContext(ctx, npm, "install", "--no-audit", "--no-fund", "--no-save", "--loglevel=error", "@dwmkerr/mock-llm@"+mockLLMVersion)
	install.Dir = dir
	if out, err := install.CombinedOutput(); err != nil {
		t.Skipf("could not install @dwmkerr/mock-llm@%s with npm (offline?): %v\n%s", mockLLMVersion, err, out)
	}
	cfg := filepath.Join(dir, "mock-llm.yaml")
	if err := os.WriteFile(cfg, []byte(mockLLMConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	srv := exec.Command(node, filepath.Join(dir, "node_modules", "@dwmkerr", "mock-llm", "dist", "main.js"), "--config", cfg)
	srv.Dir = dir
	srv.Env = append(os.Environ(), "HOST=127.0.0.1", fmt.Sprintf("PORT=%d", port))
	var logs strings.Builder
	srv.Stdout, srv.Stderr = &logs, &logs
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Process.Kill(); _ = srv.Wait() })

	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(base + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("mock-llm did not start: %v\n%s", err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}

	p, _ := catalog.Provider("custom")
	v := New(Options{Timeout: 5 * time.Second})
	settings := map[string]string{"base_url": base + "/v1"}
	if r := v.Verify(context.Background(), p, settings, map[string]string{api.SecretAPIKey: "sk-mock-right-key"}); !r.OK {
		t.Errorf("right key: %+v\n%s", r, logs.String())
	}
	models, err := v.ListModels(context.Background(), p, settings, map[string]string{api.SecretAPIKey: "sk-mock-right-key"})
	if err != nil || len(models) != 1 || models[0] != "gpt-5.2" {
		t.Errorf("ListModels = %v, %v", models, err)
	}
	r := v.Verify(context.Background(), p, settings, map[string]string{api.SecretAPIKey: "sk-mock-wrong-key"})
	if r.OK || !r.Refused || r.Message != "HTTP 401: Incorrect API key provided." {
		t.Errorf("wrong key: %+v", r)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
