package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestCPUProfileWrittenWhenServeFails runs main in a child process whose Serve fails: the process
// exits 1 through log.Fatal, and the CPU profile it was asked for is still complete on disk (a
// log.Fatal under a deferred StopCPUProfile left an empty file).
func TestCPUProfileWrittenWhenServeFails(t *testing.T) {
	if os.Getenv("MODELKEYS_TEST_SERVE_FAILS") == "1" {
		serveProvider = func(bool) error {
			for end := time.Now().Add(50 * time.Millisecond); time.Now().Before(end); { //nolint:revive // burn a little CPU to profile
			}
			return errors.New("serve failed")
		}
		os.Args = os.Args[:1]
		main()
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCPUProfileWrittenWhenServeFails$") //nolint:gosec // the test binary itself
	cmd.Env = append(os.Environ(), "MODELKEYS_TEST_SERVE_FAILS=1", "MODELKEYS_CPUPROFILE_DIR="+dir)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("the child: %v, want exit status 1: %s", err, out)
	}
	path := filepath.Join(dir, fmt.Sprintf("cpu-%d.pprof", cmd.Process.Pid))
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no profile: %v (output %s)", err, out)
	}
	// A finished profile is a gzip stream; an unfinished one is empty.
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Fatalf("the profile is %d bytes, not a finished (gzip) profile", len(b))
	}
}
