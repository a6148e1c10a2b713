package recipes

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAccRecipeGitLab runs examples/ci/gitlab-ci as a GitLab runner would: the admin's trust once,
// then apply on the default branch, plan on merge requests (one whose plan fails) and the scheduled
// drift check, each signing in with the ID token its id_tokens: keyword asks for.
func TestAccRecipeGitLab(t *testing.T) {
	e := newRecipeEnv(t)
	const project = "acme/infra"
	rules := e.applyTrust("gitlab-ci/trust", "ci_cd_variables", map[string]string{"issuer": e.issuer.URL(), "project_path": project})

	openaiKey, anthropicKey := e.vendor.key("sk-openai-"), e.vendor.key("sk-ant-")
	cfg := loadGitLab(t, filepath.Join(repoRoot, "examples/ci/gitlab-ci/.gitlab-ci.yml"))
	ws := checkout(t, "gitlab-ci")
	vars := map[string]string{
		"MODELKEYS_ENDPOINT": e.url, "MODELKEYS_RULE_PLAN": rules["MODELKEYS_RULE_PLAN"],
		"MODELKEYS_RULE_APPLY": rules["MODELKEYS_RULE_APPLY"], "MODELKEYS_RULE_DRIFT": rules["MODELKEYS_RULE_DRIFT"],
		"TF_VAR_openai_api_key": openaiKey, "TF_VAR_anthropic_api_key": anthropicKey,
		"CI_API_V4_URL": "https://gitlab.example/api/v4", "CI_PROJECT_ID": "1", "CI_JOB_TOKEN": "job-token",
		"CI_PIPELINE_URL": "https://gitlab.example/acme/infra/-/pipelines/1",
	}
	job := func(name, source, ref, environment string) (string, bool) {
		t.Helper()
		claims := map[string]any{"project_path": project, "namespace_path": "acme", "pipeline_source": source,
			"ref": ref, "ref_type": "branch", "ref_protected": "true", "sub": "project_path:" + project + ":ref_type:branch:ref:" + ref}
		if environment != "" {
			claims["environment"] = environment
		}
		mint := func(aud string) string {
			c := map[string]any{"aud": aud}
			for k, v := range claims {
				c[k] = v
			}
			return e.mint(c)
		}
		out, ok := runGitLabJob(t, cfg, name, ws, vars, mint, e.baseEnv())
		e.noTokens("the "+name+" job's log", out)
		return out, ok
	}

	if out, ok := job("apply", "push", "main", "modelkeys"); !ok {
		t.Fatalf("the apply job failed:\n%s", out)
	}
	auditActors(t, e, "gitlab-apply")
	if out, ok := job("plan", "merge_request_event", "feature", ""); !ok || !strings.Contains(out, "No changes") {
		t.Fatalf("the merge request's plan must pass with no changes (ok %v):\n%s", ok, out)
	}

	// A plan that fails fails the job, and its error is in plan.txt, the job's artifact.
	main := filepath.Join(ws, "infra", "modelkeys", "main.tf")
	orig, _ := os.ReadFile(main)
	must(t, os.WriteFile(main, []byte(strings.Replace(string(orig), `model         = "gpt-4o-mini"`, `model         = "gpt-no-such-model"`, 1)), 0o644))
	if out, ok := job("plan", "merge_request_event", "feature", ""); ok {
		t.Fatalf("a failed plan must fail the job:\n%s", out)
	}
	if b, _ := os.ReadFile(filepath.Join(ws, "infra", "modelkeys", "plan.txt")); !strings.Contains(string(b), "gpt-no-such-model") {
		t.Fatalf("plan.txt, the artifact, must hold the plan's error:\n%s", b)
	}
	must(t, os.WriteFile(main, orig, 0o644))

	// A merge request cannot use the apply rule.
	vars["MODELKEYS_RULE_PLAN"] = rules["MODELKEYS_RULE_APPLY"]
	if out, ok := job("plan", "merge_request_event", "feature", ""); ok || !strings.Contains(out, "gitlab") {
		t.Fatalf("a merge request signing in with the apply rule must fail, naming the token source:\n%s", out)
	}
	vars["MODELKEYS_RULE_PLAN"] = rules["MODELKEYS_RULE_PLAN"]

	if out, ok := job("drift", "schedule", "main", ""); !ok || !strings.Contains(out, "No drift.") {
		t.Fatalf("the drift job with nothing drifted must pass:\n%s", out)
	}
	// Anthropic revoked its key, and a change is pending (a key version bumped, so that key's
	// lifecycle is unknown until the apply): the report names the refused key once and raises no
	// rotation alarm.
	e.vendor.revoke(anthropicKey)
	must(t, os.WriteFile(main, []byte(strings.Replace(string(orig), "openai    = 1", "openai    = 2", 1)), 0o644))
	out, ok := job("drift", "schedule", "main", "")
	report, _ := os.ReadFile(filepath.Join(ws, "infra", "modelkeys", "report.txt"))
	if ok || strings.Count(string(report), "anthropic-prod") != 1 || strings.Contains(string(report), "Rotate these keys") {
		t.Fatalf("a refused key must fail the drift job and be reported once, without a rotation alarm; report:\n%s\nlog:\n%s", report, out)
	}
}
