package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

// --console-token-signin=false takes the token form off the sign-in page and refuses a posted token.
func TestServeConsoleTokenSignInFlag(t *testing.T) {
	clearEnv(t)
	t.Setenv("MODELKEYS_UI", "")
	t.Setenv("MODELKEYS_CONSOLE_TOKEN_SIGNIN", "")
	db := filepath.Join(t.TempDir(), "ui.db")
	for _, tc := range []struct {
		args      []string
		tokenForm bool
	}{
		{nil, true},
		{[]string{"--console-token-signin=false"}, false},
	} {
		base, logs, stop := startServe(t, append([]string{"--dev", "--db", db}, tc.args...)...)
		resp, err := http.Get(base + "/ui/login")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if got := strings.Contains(string(body), `id="token"`); got != tc.tokenForm {
			t.Errorf("serve %v: token form shown = %v, want %v", tc.args, got, tc.tokenForm)
		}
		if !tc.tokenForm {
			resp, err := http.PostForm(base+"/ui/login", url.Values{"token": {"mkt_whatever"}, "csrf": {"x"}})
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("serve %v: POST /ui/login is %d, want 403", tc.args, resp.StatusCode)
			}
		}
		if err := stop(); err != nil {
			t.Fatalf("serve %v: %v\n%s", tc.args, err, logs.String())
		}
	}
}

// The callback's public URL must be https (plain http only on loopback), without a path.
func TestServeConsolePublicURLIsChecked(t *testing.T) {
	clearEnv(t)
	t.Setenv("MODELKEYS_CONSOLE_PUBLIC_URL", "")
	dir := t.TempDir()
	for _, bad := range []string{"http://keys.example.com", "https://keys.example.com/console", "keys.example.com"} {
		var out lockedBuffer
		err := run(context.Background(), []string{"serve", "--dev", "--db", filepath.Join(dir, "x.db"), "--listen", "127.0.0.1:0", "--console-public-url", bad}, &out, &out)
		if err == nil || !strings.Contains(err.Error(), "--console-public-url") {
			t.Errorf("--console-public-url %s: err = %v", bad, err)
		}
	}
}
