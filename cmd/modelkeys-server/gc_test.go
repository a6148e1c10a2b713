package main

import (
	"runtime/debug"
	"testing"
)

// TestCollectLessOften: the server collects at 200 % unless the operator set GOGC, whose value then
// stands.
func TestCollectLessOften(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))

	t.Setenv("GOGC", "")
	collectLessOften()
	if got := debug.SetGCPercent(100); got != 200 {
		t.Fatalf("without GOGC the GC target is %d %%, want 200 %%", got)
	}

	t.Setenv("GOGC", "50")
	debug.SetGCPercent(50) // what the runtime made of GOGC=50 at start
	collectLessOften()
	if got := debug.SetGCPercent(100); got != 50 {
		t.Fatalf("with GOGC=50 the GC target is %d %%, want the operator's 50 %%", got)
	}
}
