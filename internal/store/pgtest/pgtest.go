// Package pgtest gives tests a fresh, empty PostgreSQL database.
//
// The first Start in a test binary runs initdb and pg_ctl to bring up a throwaway cluster (trust
// auth, unix socket only, fsync off) in a temporary directory; every Start then creates a new
// database in it and drops it when the test ends, so a test costs one CREATE DATABASE. When
// MODELKEYS_TEST_POSTGRES_URL is set (a superuser URL, for CI with a PostgreSQL service) that server is
// used instead and no cluster is started. Without either, Start skips the test.
//
// The cluster stops when the test binary exits: call Main from TestMain to stop it at once, and a
// watchdog process stops it within a second or two of the binary's exit anyway (a crash, a timeout
// or a TestMain that does not call Main).
//
// initdb refuses to run as root; as root the cluster runs as the "postgres" system user through
// runuser, in a directory under /tmp that user owns.
package pgtest

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// EnvURL names the variable that points tests at an existing server instead of a throwaway cluster.
const EnvURL = "MODELKEYS_TEST_POSTGRES_URL"

var (
	once    sync.Once
	skipMsg string // set when PostgreSQL is not available: tests skip
	initErr error  // set when it is available but would not start: tests fail
	admin   *sql.DB
	baseURL *url.URL // superuser URL of the maintenance database; Start swaps the database name
	stop    func()
	seq     atomic.Int64
)

// Available reports whether Start can give databases: PostgreSQL is installed (or
// MODELKEYS_TEST_POSTGRES_URL names a server); why not, when it is not.
func Available() (bool, string) {
	once.Do(setup)
	return skipMsg == "", skipMsg
}

// Start returns the URL of a new empty database, dropped when t ends. It skips t when PostgreSQL is
// not installed.
func Start(t testing.TB) string {
	t.Helper()
	once.Do(setup)
	if skipMsg != "" {
		t.Skip(skipMsg)
	}
	if initErr != nil {
		t.Fatalf("pgtest: %v", initErr)
	}
	name := fmt.Sprintf("t_%d_%d", os.Getpid(), seq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// FORCE (PostgreSQL 13+) ends sessions a test left open.
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	u := *baseURL
	u.Path = "/" + name
	return u.String()
}

// Main runs the tests and then stops the cluster, if one was started. Use it from TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}

// Stop stops the cluster now (Main calls it). Later Starts fail.
func Stop() {
	if stop != nil {
		stop()
		stop = nil
	}
}

func setup() {
	if env := os.Getenv(EnvURL); env != "" {
		u, err := url.Parse(env)
		if err != nil {
			initErr = fmt.Errorf("%s is not a URL", EnvURL)
			return
		}
		baseURL = u
		admin, initErr = openAdmin(u.String())
		return
	}
	initdb, pgctl := findBinaries()
	if initdb == "" || pgctl == "" {
		skipMsg = "PostgreSQL not available: initdb and pg_ctl are not on PATH nor in /usr/lib/postgresql/*/bin " +
			"(install postgresql, or set " + EnvURL + ")"
		return
	}
	initErr = startCluster(initdb, pgctl)
}

// findBinaries looks on PATH first, then in Debian's versioned directories (newest first). Both
// come from the same directory so the versions match.
func findBinaries() (initdb, pgctl string) {
	var dirs []string
	if p, err := exec.LookPath("initdb"); err == nil {
		if resolved, err := filepath.EvalSymlinks(p); err == nil {
			dirs = append(dirs, filepath.Dir(resolved))
		}
		dirs = append(dirs, filepath.Dir(p))
	}
	versioned, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(versioned, func(i, j int) bool { return pgMajor(versioned[i]) > pgMajor(versioned[j]) })
	dirs = append(dirs, versioned...)
	for _, d := range dirs {
		i, p := filepath.Join(d, "initdb"), filepath.Join(d, "pg_ctl")
		if isExecutable(i) && isExecutable(p) {
			return i, p
		}
	}
	return "", ""
}

func pgMajor(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

func startCluster(initdb, pgctl string) error {
	asRoot := os.Geteuid() == 0
	// Unix socket paths are limited to ~107 bytes, so keep the directory short; as root it must also be
	// reachable by the postgres user, which a root-only TMPDIR may not be.
	parent := os.TempDir()
	if asRoot || len(parent) > 60 {
		parent = "/tmp"
	}
	dir, err := os.MkdirTemp(parent, "pgtest-")
	if err != nil {
		return err
	}
	// run runs a command as the cluster's owner.
	run := func(name string, args ...string) *exec.Cmd { return exec.Command(name, args...) }
	if asRoot {
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return fmt.Errorf("running as root and there is no postgres user to run the cluster as: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return err
		}
		run = func(name string, args ...string) *exec.Cmd {
			return exec.Command("runuser", append([]string{"-u", "postgres", "--", name}, args...)...)
		}
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return err
	}
	data := filepath.Join(dir, "data")
	logFile := filepath.Join(dir, "log")
	fail := func(step string, err error, out []byte) error {
		os.RemoveAll(dir)
		return fmt.Errorf("%s: %v\n%s", step, err, out)
	}

	if out, err := run(initdb, "-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8",
		"--no-locale").CombinedOutput(); err != nil {
		return fail("initdb", err, out)
	}
	// No TCP at all (no port to collide with), a socket in dir, and durability off: the data is
	// thrown away. max_connections covers several pools of parallel tests.
	conf := fmt.Sprintf("\nlisten_addresses = ''\nunix_socket_directories = '%s'\nfsync = off\n"+
		"synchronous_commit = off\nfull_page_writes = off\nmax_connections = 300\n", dir)
	f, err := os.OpenFile(filepath.Join(data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fail("postgresql.conf", err, nil)
	}
	_, err = f.WriteString(conf)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fail("postgresql.conf", err, nil)
	}
	if out, err := run(pgctl, "start", "-D", data, "-l", logFile, "-w", "-t", "60").CombinedOutput(); err != nil {
		log, _ := os.ReadFile(logFile)
		return fail("pg_ctl start", err, append(out, log...))
	}

	// The watchdog outlives this process and tears the cluster down when it is gone, however it ends.
	// Setsid keeps it out of our process group, which `go test` may kill on a timeout.
	watch := fmt.Sprintf("while [ -d /proc/%d ]; do sleep 1; done; %s stop -D %s -m immediate >/dev/null 2>&1; rm -rf %s",
		os.Getpid(), shellQuote(pgctl), shellQuote(data), shellQuote(dir))
	wd := run("sh", "-c", watch)
	wd.SysProcAttr = detached()
	if err := wd.Start(); err == nil {
		go func() { _ = wd.Wait() }() // reap it if it ever ends before us
	}

	stop = func() {
		if admin != nil {
			_ = admin.Close()
		}
		_ = run(pgctl, "stop", "-D", data, "-m", "fast", "-w").Run()
		_ = os.RemoveAll(dir)
	}

	baseURL = &url.URL{
		Scheme:   "postgres",
		User:     url.User("postgres"),
		Path:     "/postgres",
		RawQuery: url.Values{"host": {dir}, "sslmode": {"disable"}}.Encode(),
	}
	admin, err = openAdmin(baseURL.String())
	if err != nil {
		stop()
		stop = nil
		return err
	}
	return nil
}

func openAdmin(u string) (*sql.DB, error) {
	db, err := sql.Open("pgx", u)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(2)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	return db, nil
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
