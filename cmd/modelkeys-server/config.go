package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/secrets"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store/sqlstore"
)

// envOr returns the environment variable's value, or def: every flag can also come from the
// environment, and a flag given on the command line wins.
func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

// envReader reads typed flag defaults from the environment and remembers the values it could not
// parse, so that a mistyped variable is an error like a mistyped flag, not a silent default.
type envReader struct{ problems []string }

func envParse[T any](e *envReader, name string, def T, parse func(string) (T, error), want string) T {
	v, ok := os.LookupEnv(name)
	if !ok || v == "" {
		return def
	}
	x, err := parse(v)
	if err != nil {
		e.problems = append(e.problems, fmt.Sprintf("%s=%q is not %s", name, v, want))
		return def
	}
	return x
}

func (e *envReader) Bool(name string, def bool) bool {
	return envParse(e, name, def, strconv.ParseBool, "true or false")
}

func (e *envReader) Int(name string, def int) int {
	return envParse(e, name, def, strconv.Atoi, "an integer")
}

func (e *envReader) Float(name string, def float64) float64 {
	return envParse(e, name, def, func(s string) (float64, error) { return strconv.ParseFloat(s, 64) }, "a number")
}

func (e *envReader) Duration(name string, def time.Duration) time.Duration {
	return envParse(e, name, def, time.ParseDuration, "a duration such as 30s or 5m")
}

// err reports every environment variable that did not parse.
func (e *envReader) err() error {
	if len(e.problems) == 0 {
		return nil
	}
	return usageError{"invalid environment: " + strings.Join(e.problems, "; ")}
}

// newFlagSet makes a flag set whose errors come back instead of exiting.
func newFlagSet(name string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	return fs
}

// dbFlag registers --db, shared by every command that opens the database.
func dbFlag(fs *flag.FlagSet) *string {
	return fs.String("db", envOr("MODELKEYS_DB", "./modelkeys.db"), "SQLite file path, or postgres://... URL (env MODELKEYS_DB)")
}

func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// sqlitePath strips the optional file:// scheme.
func sqlitePath(dsn string) string {
	for _, prefix := range []string{"sqlite://", "file://", "file:"} {
		if rest, ok := strings.CutPrefix(dsn, prefix); ok {
			return rest
		}
	}
	return dsn
}

func openStore(ctx context.Context, dsn string) (store.Store, error) {
	return openStoreWith(ctx, dsn, sqlstore.PostgresOptions{})
}

// openStoreWith is openStore with a PostgreSQL pool sized by pool (SQLite ignores it).
func openStoreWith(ctx context.Context, dsn string, pool sqlstore.PostgresOptions) (store.Store, error) {
	if isPostgres(dsn) {
		return sqlstore.OpenPostgresWithOptions(ctx, dsn, pool)
	}
	return sqlstore.OpenSQLite(ctx, sqlitePath(dsn))
}

// masterKeyOptions locate the master key.
type masterKeyOptions struct {
	file         string
	fileFromFlag bool // set by markFlags after parsing
	dev          bool
}

// markFlags records which options came from the command line rather than the environment.
func (o *masterKeyOptions) markFlags(fs *flag.FlagSet) {
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "master-key-file" {
			o.fileFromFlag = true
		}
	})
}

func (o *masterKeyOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&o.file, "master-key-file", envOr("MODELKEYS_MASTER_KEY_FILE", ""), "file holding the base64 master key (env MODELKEYS_MASTER_KEY_FILE; or set MODELKEYS_MASTER_KEY)")
}

// load finds the master key: MODELKEYS_MASTER_KEY, --master-key-file, or the key file beside a SQLite
// database (created there with --dev, and by the Terraform provider's embedded mode).
func (o *masterKeyOptions) load(dsn string) (key []byte, source string, created bool, err error) {
	// A key file named on the command line wins over the environment, as every flag does.
	if o.file != "" && o.fileFromFlag {
		key, err := secrets.ReadMasterKeyFile(o.file)
		return key, o.file, false, err
	}
	if v := os.Getenv("MODELKEYS_MASTER_KEY"); v != "" {
		key, err := secrets.ParseMasterKey(v)
		if err != nil {
			return nil, "", false, fmt.Errorf("MODELKEYS_MASTER_KEY: %w", err)
		}
		return key, "MODELKEYS_MASTER_KEY", false, nil
	}
	if o.file != "" {
		key, err := secrets.ReadMasterKeyFile(o.file)
		return key, o.file, false, err
	}
	if isPostgres(dsn) {
		return nil, "", false, errors.New("no master key: set MODELKEYS_MASTER_KEY (base64 of 32 random bytes: `head -c 32 /dev/urandom | base64`) or pass --master-key-file")
	}
	beside := secrets.KeyFileFor(sqlitePath(dsn))
	if o.dev {
		key, created, err := secrets.EnsureMasterKeyFile(beside)
		return key, beside, created, err
	}
	if _, statErr := os.Stat(beside); statErr == nil {
		key, err := secrets.ReadMasterKeyFile(beside)
		return key, beside, false, err
	}
	return nil, "", false, fmt.Errorf("no master key: set MODELKEYS_MASTER_KEY (base64 of 32 random bytes: `head -c 32 /dev/urandom | base64`), pass --master-key-file, or use --dev to create %s for local use", beside)
}
