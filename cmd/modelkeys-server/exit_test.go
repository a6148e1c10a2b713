package main

import "testing"

// TestExitCode: main exits with exitCode's answer, which it gets after the command's deferred calls
// have run: 0 for success, 2 for a usage error, 1 for any other failure.
func TestExitCode(t *testing.T) {
	for _, c := range []struct {
		args []string
		want int
	}{
		{[]string{"version"}, 0},
		{[]string{"no-such-command"}, 2},
		{[]string{"serve", "--db", t.TempDir(), "--master-key-file", "/nonexistent/key"}, 1},
	} {
		if got := exitCode(c.args); got != c.want {
			t.Errorf("exitCode(%q) = %d, want %d", c.args, got, c.want)
		}
	}
}
