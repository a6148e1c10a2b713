package main

import (
	"context"
	"fmt"
	"io"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/secrets"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/server"
)

func rotateMasterKey(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlagSet("rotate-master-key", stdout)
	dsn := dbFlag(fs)
	var mk masterKeyOptions
	mk.register(fs)
	newFile := fs.String("new-key-file", "", "file holding the new base64 master key (make one: head -c 32 /dev/urandom | base64 > F; chmod 600 F)")
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
	n, err := server.RotateMasterKey(ctx, st, ring)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "re-wrapped %d data keys from master key %s (%s) to %s.\nStart the server with the new key alone now: --master-key-file %s, or MODELKEYS_MASTER_KEY set to its contents.\n",
		n, secrets.KeyID(oldKey), oldSource, secrets.KeyID(newKey), *newFile)
	return err
}
