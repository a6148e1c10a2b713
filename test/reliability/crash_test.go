package reliability

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// TestCrashMidApply kills the server with SIGKILL while Terraform is creating n credentials and n
// connections, restarts it on the same port and database, applies again and checks: the apply
// converges, PRAGMA integrity_check is ok, no duplicates, no orphans.
func TestCrashMidApply(t *testing.T) {
	needTerraform(t)
	n := 50
	if full {
		n = 250 // 500 resources
	}
	d := dir(t, "server")
	db := d + "/modelkeys.db"
	srv := startServer(t, d, db, "127.0.0.1:0")
	keys := make([]string, n)
	for i := range keys {
		keys[i] = newKey(fmt.Sprintf("crash%d", i))
	}
	w := newWorkspace(t, "ws-writeonly", credsAndConns(n, func(i int) string { return keys[i] }, true),
		"MODELKEYS_ENDPOINT="+srv.URL, "MODELKEYS_TOKEN="+bootstrapToken, "MODELKEYS_MAX_RETRIES=2")

	type result struct {
		out string
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := w.tf(context.Background(), "apply", "-auto-approve")
		done <- result{out, err}
	}()

	// Kill once the server has answered about half of the credential creates.
	posts := []byte(`"route":"POST /v1/credentials"`)
	deadline := time.Now().Add(3 * time.Minute)
	for {
		b, _ := os.ReadFile(srv.log)
		if bytes.Count(b, posts) >= n/2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server never saw %d creates", n/2)
		}
		time.Sleep(20 * time.Millisecond)
	}
	srv.kill()
	t.Logf("killed the server (SIGKILL) after %d credential creates", n/2)
	listen := strings.TrimPrefix(srv.URL, "http://")
	time.Sleep(300 * time.Millisecond)
	srv = startServer(t, d, db, listen)

	first := <-done
	t.Logf("the apply that saw the crash: err=%v", first.err)
	if first.err != nil {
		if strings.Contains(first.out, "panic") || strings.Contains(first.out, "crash") {
			t.Errorf("the provider crashed:\n%s", tail(first.out, 3000))
		}
	}
	out := w.mustTF("apply", "-auto-approve")
	t.Logf("second apply: %s", lastLine(out, "Apply complete"))
	checkConverged(t, w, srv.URL, n)
	if out := w.mustTF("plan", "-detailed-exitcode"); !strings.Contains(out, "No changes") {
		t.Errorf("plan after converging is not empty:\n%s", tail(out, 3000))
	}

	srv.kill()
	conn, err := sql.Open("sqlite", "file:"+db+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var check string
	if err := conn.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Errorf("PRAGMA integrity_check = %q, %v", check, err)
	}
	var fk int
	rows, err := conn.Query("PRAGMA foreign_key_check")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		fk++
	}
	rows.Close()
	if fk != 0 {
		t.Errorf("PRAGMA foreign_key_check found %d violations", fk)
	}
	t.Logf("integrity_check=%s foreign_key_check violations=%d", check, fk)
}

func lastLine(out, prefix string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return "(no line starting " + prefix + ")"
}
