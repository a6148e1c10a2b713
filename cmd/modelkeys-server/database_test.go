package main

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/secrets"
)

// TestServeWaitsForTheDatabaseThenGivesUp: with PostgreSQL unreachable, serve retries for
// MODELKEYS_DB_WAIT and then fails with a message that says so (and never shows the password).
func TestServeWaitsForTheDatabaseThenGivesUp(t *testing.T) {
	clearEnv(t)
	t.Setenv("MODELKEYS_MASTER_KEY", base64.StdEncoding.EncodeToString(secrets.NewMasterKey()))
	t.Setenv("MODELKEYS_DB_WAIT", "1500ms")
	// Port 1 on loopback: nothing listens, connections are refused at once.
	dsn := "postgres://modelkeys:s3cret-pass@127.0.0.1:1/modelkeys?sslmode=disable&connect_timeout=1"
	var logs lockedBuffer
	start := time.Now()
	err := run(context.Background(), []string{"serve", "--db", dsn, "--listen", "127.0.0.1:0", "--db-max-open-conns", "4"}, &logs, &logs)
	elapsed := time.Since(start)
	if err == nil {
		t.Fatal("serve started without a database")
	}
	if !strings.Contains(err.Error(), "did not answer within 1.5s") {
		t.Errorf("error does not say how long it waited: %v", err)
	}
	if elapsed < 1500*time.Millisecond || elapsed > 10*time.Second {
		t.Errorf("gave up after %s; want the 1.5s bound (plus one attempt)", elapsed)
	}
	if !strings.Contains(logs.String(), "database not reachable yet; retrying") {
		t.Errorf("no retry was logged:\n%s", logs.String())
	}
	for _, s := range []string{err.Error(), logs.String()} {
		if strings.Contains(s, "s3cret-pass") {
			t.Fatalf("the database password leaked: %s", s)
		}
	}
}

func TestServePoolFlagsAreChecked(t *testing.T) {
	clearEnv(t)
	var ue usageError
	for _, args := range [][]string{
		{"--db-max-open-conns", "-1"},
		{"--db-max-idle-conns", "-2"},
		{"--db-conn-max-lifetime", "-1s"},
		{"--db-conn-max-lifetime", "soon"},
	} {
		err := run(context.Background(), append([]string{"serve", "--db", "postgres://x@127.0.0.1:1/x"}, args...), &lockedBuffer{}, &lockedBuffer{})
		if !errors.As(err, &ue) {
			t.Errorf("serve %v: %v, want a usage error", args, err)
		}
	}
}
