package main

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// serve mounts the web console by default; --ui=false leaves /ui to the API's 404.
func TestServeConsoleFlag(t *testing.T) {
	clearEnv(t)
	t.Setenv("MODELKEYS_UI", "")
	db := filepath.Join(t.TempDir(), "ui.db")
	for _, tc := range []struct {
		args []string
		want int
	}{
		{nil, http.StatusOK},
		{[]string{"--ui=false"}, http.StatusNotFound},
	} {
		url, logs, stop := startServe(t, append([]string{"--dev", "--db", db}, tc.args...)...)
		resp, err := http.Get(url + "/ui/login")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("serve %v: GET /ui/login is %d, want %d", tc.args, resp.StatusCode, tc.want)
		}
		if tc.want == http.StatusOK && !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("serve: /ui/login is %q", resp.Header.Get("Content-Type"))
		}
		if err := stop(); err != nil {
			t.Fatalf("serve %v: %v\n%s", tc.args, err, logs.String())
		}
	}
}
