package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/secrets"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
)

func rotateMasterKey(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlagSet("rotate-master-key", stdout)
	dsn := dbFlag(fs)
	var mk masterKeyOptions
	mk.register(fs)
	newFile := fs.String("new-key-file", "", "file holding the new base64 master key (make one: head -c 32 /dev/urandom | base64 > F; chmod 600 F). Servers running on the database keep the old key until restarted: they refuse to write secrets meanwhile")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	mk.markFlags(fs)
	if *newFile == "" {
		return usageError{"usage: modelkeys-server rotate-master-key --new-key-file F [--master-key-file CURRENT] [--db DB]"}
	}
	oldKey, oldSource, _, err := mk.load(*dsn)
	if err != nil {
		return fmt.Errorf("current master key: %w", err)
	}
	newKey, err := secrets.ReadMasterKeyFile(*newFile)
	if err != nil {
		return err
	}
	ring, err := secrets.NewKeyring(newKey, oldKey)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, *dsn)
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := service.RotateMasterKey(ctx, st, ring)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(stdout, "re-wrapped %d data keys from master key %s (%s) to %s.\n", n, secrets.KeyID(oldKey), oldSource, secrets.KeyID(newKey)); err != nil {
		return err
	}
	// The key file beside a SQLite database is found without being named (serve --dev, the Terraform
	// provider's embedded mode): it must hold the new key now, or neither could open the database.
	if !isPostgres(*dsn) && oldSource == secrets.KeyFileFor(sqlitePath(*dsn)) {
		if err := replaceKeyFile(oldSource, *newFile); err != nil {
			return fmt.Errorf("the database now needs the new key, but %s still holds the old one: %w; copy %s over it", oldSource, err, *newFile)
		}
		_, err = fmt.Fprintf(stdout, "%s now holds the new key.\nRestart every server that uses this database.\n", oldSource)
		return err
	}
	_, err = fmt.Fprintf(stdout, "Restart every server that uses this database with the new key alone: --master-key-file %s, or MODELKEYS_MASTER_KEY set to its contents.\nUntil then they refuse to write secrets (503) and cannot read the re-wrapped ones.\n", *newFile)
	return err
}

// replaceKeyFile puts the new key file's contents at path atomically, mode 0600.
func replaceKeyFile(path, newFile string) error {
	b, err := os.ReadFile(newFile)
	if err != nil {
		return err
	}
	tmp := path + ".new"
	if err := os.WriteFile(tmp, b, 0o600); err != nil { //nolint:gosec // the operator names this key file on the command line
		return err
	}
	return os.Rename(tmp, path)
}
