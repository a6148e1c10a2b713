package recipes

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestAccRecipeHCPTerraform runs examples/ci/hcp-terraform as an HCP Terraform run would: the
// workspace's run gets TFC_WORKLOAD_IDENTITY_TOKEN, and nothing else signs in.
func TestAccRecipeHCPTerraform(t *testing.T) {
	e := newRecipeEnv(t)
	vars := e.applyTrust("hcp-terraform/trust", "workspace_variables", map[string]string{"issuer": e.issuer.URL()})
	key := e.vendor.key("sk-openai-")
	ws := filepath.Join(checkout(t, "hcp-terraform"), "infra", "modelkeys")

	run := func(workspace, phase string, args ...string) (string, error) {
		t.Helper()
		tok := e.mint(map[string]any{"aud": vars["TFC_WORKLOAD_IDENTITY_AUDIENCE"], "terraform_organization_name": "acme",
			"terraform_workspace_name": workspace, "terraform_run_phase": phase,
			"sub": "organization:acme:project:Default Project:workspace:" + workspace + ":run_phase:" + phase})
		cmd := exec.Command("terraform", args...)
		cmd.Path = filepath.Join(e.shims, "terraform")
		cmd.Dir = ws
		cmd.Env = append(e.baseEnv(), "MODELKEYS_ENDPOINT="+e.url, "MODELKEYS_FEDERATION_RULE="+vars["MODELKEYS_FEDERATION_RULE"],
			"TFC_WORKLOAD_IDENTITY_TOKEN="+tok, "TF_VAR_openai_api_key="+key, "TF_IN_AUTOMATION=1")
		out, err := cmd.CombinedOutput()
		e.noTokens("terraform "+args[0], string(out))
		return string(out), err
	}
	if out, err := run("modelkeys-prod", "plan", "init", "-no-color"); err != nil {
		t.Fatalf("terraform init: %v\n%s", err, out)
	}
	if out, err := run("modelkeys-prod", "apply", "apply", "-auto-approve", "-no-color"); err != nil {
		t.Fatalf("the workspace's apply: %v\n%s", err, out)
	}
	if out, err := run("modelkeys-prod", "plan", "plan", "-detailed-exitcode", "-no-color"); err != nil {
		t.Fatalf("the plan after the apply must be empty: %v\n%s", err, out)
	}
	// Another workspace's run is not trusted.
	out, err := run("sandbox", "plan", "plan", "-no-color")
	if err == nil || !strings.Contains(out, "terraform_cloud") {
		t.Fatalf("a run of another workspace must be refused, naming the token source: %v\n%s", err, out)
	}
}
