package provider

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The example modules' own tests (examples/modules/*, the "Testing modules that use modelkeys" guide)
// pass under terraform test with mock_provider "modelkeys": the mock takes this provider's schema, so a
// schema change that breaks a module author's tests fails here. Resources and data sources need
// Terraform 1.16 (an ephemeral variable a run leaves unset); the ephemeral resource, mocked with
// mock_ephemeral, needs 1.17 and runs under make testacc-terraform-next.
func TestAccModuleExamples_terraformTest(t *testing.T) {
	for _, tc := range []struct {
		module, testDir, atLeast string
		wantRuns                 int
	}{
		{module: "llm-project", testDir: "tests", atLeast: "1.16.0", wantRuns: 7},
		{module: "key-copy", testDir: "tests-1.17", atLeast: "1.17.0-alpha", wantRuns: 2},
	} {
		t.Run(tc.module, func(t *testing.T) {
			t.Parallel()
			tf := newTerraformCLI(t, tc.atLeast)
			// The modules refer to each other (../llm-project): copy them all.
			if err := os.CopyFS(filepath.Join(tf.dir, "modules"), os.DirFS(filepath.Join("..", "..", "examples", "modules"))); err != nil {
				t.Fatal(err)
			}
			tf.dir = filepath.Join(tf.dir, "modules", tc.module)
			tf.run(true, "init", "-test-directory="+tc.testDir) // also the modules the test files call
			out := tf.run(true, "test", "-test-directory="+tc.testDir)
			if want := fmt.Sprintf("Success! %d passed, 0 failed.", tc.wantRuns); !strings.Contains(out, want) {
				t.Errorf("terraform test: want %q:\n%s", want, out)
			}
		})
	}
}
