package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/secrets"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/server"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store/sqlstore"
)

// TestRotateReplacesTheKeyFileBesideTheDatabase: the key file beside a SQLite database is found
// without being named (serve --dev, embedded mode), so after a rotation it must hold the new key.
func TestRotateReplacesTheKeyFileBesideTheDatabase(t *testing.T) {
	t.Setenv("MODELKEYS_MASTER_KEY", "")
	t.Setenv("MODELKEYS_MASTER_KEY_FILE", "")
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "modelkeys.db")
	oldKey, _, err := secrets.EnsureMasterKeyFile(secrets.KeyFileFor(db))
	if err != nil {
		t.Fatal(err)
	}
	open := func(key []byte) error {
		st, err := sqlstore.OpenSQLite(ctx, db)
		if err != nil {
			return err
		}
		defer st.Close()
		ring, _ := secrets.NewKeyring(key)
		_, err = server.New(ctx, service.Config{Store: st, Keyring: ring})
		return err
	}
	if err := open(oldKey); err != nil {
		t.Fatal(err)
	}
	newKey := secrets.NewMasterKey()
	newFile := filepath.Join(dir, "new.key")
	if err := os.WriteFile(newFile, []byte(base64.StdEncoding.EncodeToString(newKey)), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(ctx, []string{"rotate-master-key", "--db", db, "--new-key-file", newFile}, &out, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "now holds the new key") {
		t.Errorf("output does not say the key file was replaced:\n%s", out.String())
	}
	beside, err := secrets.ReadMasterKeyFile(secrets.KeyFileFor(db))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(beside, newKey) {
		t.Fatal("the key file beside the database still holds the old key")
	}
	if err := open(beside); err != nil {
		t.Fatalf("the database does not open with the key file beside it: %v", err)
	}
}

func TestServeRefusesAnUnparsableEnvironment(t *testing.T) {
	t.Setenv("MODELKEYS_RATE_LIMIT", "ten")
	t.Setenv("MODELKEYS_VERIFY_TIMEOUT", "30")
	var out bytes.Buffer
	err := run(context.Background(), []string{"serve", "--db", filepath.Join(t.TempDir(), "x.db"), "--dev", "--listen", "127.0.0.1:0"}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), `MODELKEYS_RATE_LIMIT="ten"`) || !strings.Contains(err.Error(), "MODELKEYS_VERIFY_TIMEOUT") {
		t.Fatalf("err = %v, want both variables named", err)
	}
}
