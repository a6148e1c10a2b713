package provider

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	tfconfig "github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"
)

// TestAccSecretHygiene_writeOnly applies and rotates a write-only key and a write-only auth token at
// TRACE level and finds neither in any of: the provider's and Terraform's logs, the state, the server's
// logs, the database files.
func TestAccSecretHygiene_writeOnly(t *testing.T) {
	const first = "sk-proj-hygiene-first-4f1c9a7b2e8d6c5a3f1e"
	const second = "sk-proj-hygiene-second-9b8a7c6d5e4f3a2b1c0d"
	const firstToken = "proxy-hygiene-first-7d3e1a9c5b2f8e4d6a0c"
	const secondToken = "proxy-hygiene-second-2b6f0d8a4c1e9b7d3f5a"
	logPath := filepath.Join(t.TempDir(), "tf.log")
	t.Setenv("TF_LOG", "TRACE")
	t.Setenv("TF_ACC_LOG_PATH", logPath)

	s := newTestServer(t)
	// The key comes in through a variable, as it would in real use: a literal in the configuration
	// is logged by the test harness itself.
	config := func(version int) string {
		return `
variable "key" {
  type      = string
  sensitive = true
}
variable "token" {
  type      = string
  sensitive = true
}
` + credentialConfig(s, fmt.Sprintf(`
  name                  = "hygiene"
  model_provider        = "custom"
  settings              = { base_url = "http://127.0.0.1:8000/v1" }
  api_key_wo            = var.key
  api_key_wo_version    = %d
  auth_token_wo         = var.token
  auth_token_wo_version = %d
  verify                = false
`, version, version))
	}
	stateHasNoSecret := stateHoldsNone(first, second, firstToken, secondToken)
	// resource.Test, not ParallelTest: TF_LOG and TF_ACC_LOG_PATH are process environment, which
	// t.Setenv sets only for a test that runs alone.
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		CheckDestroy:             checkAllDestroyed(s),
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		Steps: []resource.TestStep{
			{Config: config(1), ConfigVariables: tfconfig.Variables{"key": tfconfig.StringVariable(first), "token": tfconfig.StringVariable(firstToken)}, Check: stateHasNoSecret},
			{Config: config(2), ConfigVariables: tfconfig.Variables{"key": tfconfig.StringVariable(second), "token": tfconfig.StringVariable(secondToken)}, Check: stateHasNoSecret},
		},
	})

	logs, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	// The scan must be able to fail: the provider's own log lines have to be there.
	for _, want := range []string{"creating credential", "updating credential", "rotates_secret"} {
		if !bytes.Contains(logs, []byte(want)) {
			t.Fatalf("TRACE log lacks %q: the provider's logs were not captured, so the scan proves nothing", want)
		}
	}
	places := map[string][]byte{"terraform and provider logs": logs, "server logs": s.Logs.Bytes()}
	// The raw-file scan is SQLite's (DBPath is "" on PostgreSQL, whose files the whole test cluster
	// shares; the server suite scans PostgreSQL's rows instead).
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if s.DBPath == "" {
			break
		}
		if b, err := os.ReadFile(s.DBPath + suffix); err == nil {
			places["database file modelkeys.db"+suffix] = b
		}
	}
	for where, b := range places {
		for _, k := range []string{first, second, strings.TrimPrefix(first, "sk-proj-"), strings.TrimPrefix(second, "sk-proj-"),
			firstToken, secondToken, strings.TrimPrefix(firstToken, "proxy-"), strings.TrimPrefix(secondToken, "proxy-")} {
			if i := bytes.Index(b, []byte(k)); i >= 0 {
				t.Errorf("%s contain a plaintext key, after: %q", where, b[max(0, i-160):i])
			}
		}
	}
}
