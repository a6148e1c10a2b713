package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// --metrics-listen serves /metrics without a token on its own address; on --listen, /metrics takes the
// --metrics-token (and is a 404 without one); a short token stops the start.
func TestServeMetricsListenAndToken(t *testing.T) {
	clearEnv(t)
	db := filepath.Join(t.TempDir(), "metrics.db")
	get := func(url, token string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode == http.StatusOK && !strings.Contains(string(body), "modelkeys_credentials") {
			t.Errorf("%s: no modelkeys_credentials in the metrics", url)
		}
		return resp.StatusCode
	}

	url, logs, stop := startServe(t, "--dev", "--db", db, "--metrics-listen", "127.0.0.1:0")
	var metricsURL string
	for _, line := range strings.Split(logs.String(), "\n") {
		var l struct{ Msg, URL string }
		if json.Unmarshal([]byte(line), &l) == nil && strings.HasPrefix(l.Msg, "serving /metrics") {
			metricsURL = l.URL
		}
	}
	if metricsURL == "" {
		t.Fatalf("no metrics listener in the log:\n%s", logs.String())
	}
	if got := get(metricsURL, ""); got != http.StatusOK {
		t.Errorf("--metrics-listen without a token: %d", got)
	}
	if got := get(url+"/metrics", ""); got != http.StatusNotFound {
		t.Errorf("/metrics on --listen without --metrics-token: %d, want 404", got)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	const token = "a-metrics-token-of-enough-characters"
	t.Setenv("MODELKEYS_METRICS_TOKEN", token)
	url, _, stop = startServe(t, "--dev", "--db", db)
	if got := get(url+"/metrics", token); got != http.StatusOK {
		t.Errorf("/metrics on --listen with the metrics token: %d", got)
	}
	if got := get(url+"/metrics", ""); got != http.StatusUnauthorized {
		t.Errorf("/metrics on --listen without a token: %d, want 401", got)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	var stderr strings.Builder
	err := run(context.Background(), []string{"serve", "--dev", "--db", db, "--listen", "127.0.0.1:0", "--metrics-token", "short"}, &stderr, &stderr)
	if err == nil || !strings.Contains(err.Error(), "--metrics-token") {
		t.Errorf("a short --metrics-token: %v", err)
	}
}
