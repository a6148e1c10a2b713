package recipes

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAccRecipeGitHubActions runs examples/ci/github-actions as GitHub would: the admin's trust
// configuration once, then the apply job on a push to main, the plan job on pull requests (one whose
// plan fails), and the drift job on schedule, each signing in with its run's OIDC token alone.
func TestAccRecipeGitHubActions(t *testing.T) {
	e := newRecipeEnv(t)
	const repo = "acme/infra"
	rules := e.applyTrust("github-actions/trust", "repository_variables", map[string]string{"issuer": e.issuer.URL(), "repository": repo})

	openaiKey, anthropicKey := e.vendor.key("sk-openai-"), e.vendor.key("sk-ant-")
	wf := loadWorkflow(t, filepath.Join(repoRoot, "examples/ci/github-actions/modelkeys.yml"))
	ws := checkout(t, "github-actions")
	ctx := func(event, ref string) map[string]string {
		return map[string]string{
			"github.event_name": event, "github.ref": ref, "github.token": "ghs_not_a_modelkeys_token",
			"github.server_url": "https://github.example", "github.repository": repo, "github.run_id": "42",
			"github.event.pull_request.number": "7",
			"vars.MODELKEYS_ENDPOINT":          e.url, "vars.TF_STATE_BUCKET": "state",
			"vars.MODELKEYS_RULE_PLAN": rules["MODELKEYS_RULE_PLAN"], "vars.MODELKEYS_RULE_APPLY": rules["MODELKEYS_RULE_APPLY"],
			"vars.MODELKEYS_RULE_DRIFT": rules["MODELKEYS_RULE_DRIFT"],
			"secrets.OPENAI_API_KEY":    openaiKey, "secrets.ANTHROPIC_API_KEY": anthropicKey, "secrets.AWS_ROLE_ARN": "arn:aws:iam::1:role/state",
		}
	}
	// The claims GitHub puts in a run's token (the audience comes from the provider's request).
	claims := func(event, ref, environment string) map[string]any {
		c := map[string]any{"repository": repo, "repository_owner": "acme", "event_name": event, "ref": ref,
			"workflow_ref": repo + "/.github/workflows/modelkeys.yml@" + ref, "run_id": "42",
			"sub": "repo:" + repo + ":ref:" + ref}
		if environment != "" {
			c["environment"] = environment
			c["sub"] = "repo:" + repo + ":environment:" + environment
		}
		return c
	}
	job := func(name, event, ref, environment string) *ghRun {
		t.Helper()
		run := runGitHubJob(t, wf, name, ws, ctx(event, ref), append(e.baseEnv(), e.actionsTokenEndpoint(claims(event, ref, environment))...))
		e.noTokens("the "+name+" job's log", run.log.String())
		return run
	}

	// A push to main applies, as the apply rule's editor.
	if run := job("apply", "push", "refs/heads/main", "modelkeys"); !run.ok() {
		t.Fatalf("the apply job failed at %q:\n%s", run.failed, run.log.String())
	}
	var creds struct {
		Items []struct{ Name string } `json:"items"`
	}
	e.admin("GET", "/v1/credentials", nil, &creds)
	if len(creds.Items) != 2 {
		t.Fatalf("after the apply job the server holds %d credentials, want 2", len(creds.Items))
	}
	auditActors(t, e, "github-apply")

	// A pull request plans with the viewer rule: no changes, and the comment says so.
	if run := job("plan", "pull_request", "refs/pull/7/merge", ""); !run.ok() {
		t.Fatalf("the plan job failed at %q:\n%s", run.failed, run.log.String())
	}
	calls := e.ghCalls()
	if len(calls) != 1 || !strings.Contains(calls[0].Args, "pr comment 7") || !strings.Contains(calls[0].Body, "No changes") {
		t.Fatalf("the plan job's pull-request comment: %+v", calls)
	}

	// A pull request whose plan fails: the job fails at the plan step, and the comment shows the error.
	cfg := filepath.Join(ws, "infra", "modelkeys", "main.tf")
	orig, _ := os.ReadFile(cfg)
	must(t, os.WriteFile(cfg, []byte(strings.Replace(string(orig), `model         = "gpt-4o-mini"`, `model         = "gpt-no-such-model"`, 1)), 0o644))
	run := job("plan", "pull_request", "refs/pull/8/merge", "")
	if run.ok() || run.failed != "terraform plan" {
		t.Fatalf("a failed plan must fail the job at the plan step; it failed at %q:\n%s", run.failed, run.log.String())
	}
	calls = e.ghCalls()
	if len(calls) != 1 || !strings.Contains(calls[0].Body, "Error:") || !strings.Contains(calls[0].Body, "gpt-no-such-model") {
		t.Fatalf("the failed plan's comment must show its error: %+v", calls)
	}
	must(t, os.WriteFile(cfg, orig, 0o644))

	// A pull request cannot use the apply rule: its token's ref is not main.
	prCtx := ctx("pull_request", "refs/pull/9/merge")
	prCtx["vars.MODELKEYS_RULE_PLAN"] = rules["MODELKEYS_RULE_APPLY"]
	run = runGitHubJob(t, wf, "plan", ws, prCtx, append(e.baseEnv(), e.actionsTokenEndpoint(claims("pull_request", "refs/pull/9/merge", ""))...))
	if run.ok() || !strings.Contains(run.log.String(), "github_actions") {
		t.Fatalf("a pull request signing in with the apply rule must fail, naming the token source:\n%s", run.log.String())
	}
	e.noTokens("the refused job's log", run.log.String())
	e.ghCalls()

	// The scheduled drift job: nothing drifted.
	run = job("drift", "schedule", "refs/heads/main", "")
	if !run.ok() || len(e.ghCalls()) != 0 {
		t.Fatalf("the drift job with nothing drifted must pass and open no issue (failed at %q):\n%s", run.failed, run.log.String())
	}

	// A pending change (a key's version bumped in the configuration, so its lifecycle is unknown
	// until the apply) is drift, but no key is due for rotation: the issue must not say so.
	must(t, os.WriteFile(cfg, []byte(strings.Replace(string(orig), "openai    = 1", "openai    = 2", 1)), 0o644))
	run = job("drift", "schedule", "refs/heads/main", "")
	calls = e.ghCalls()
	issue := issueBody(t, calls)
	if run.ok() || run.failed != "Fail on drift" || strings.Contains(issue, "Rotate these keys") {
		t.Fatalf("a pending change must fail the drift job without a rotation alarm (failed at %q); issue:\n%s\nlog:\n%s", run.failed, issue, run.log.String())
	}
	must(t, os.WriteFile(cfg, orig, 0o644))

	// Anthropic revoked its key: the verify action names it, once.
	e.vendor.revoke(anthropicKey)
	run = job("drift", "schedule", "refs/heads/main", "")
	issue = issueBody(t, e.ghCalls())
	if run.ok() || strings.Count(issue, "anthropic-prod") != 1 || !strings.Contains(issue, "Keys that failed verification:") {
		t.Fatalf("a refused key must be listed once in the drift issue; issue:\n%s\nlog:\n%s", issue, run.log.String())
	}

	// A key about to expire fails the keys_are_current check: the issue says to rotate it.
	soon := time.Now().UTC().Add(48 * time.Hour).Format(time.RFC3339)
	must(t, os.WriteFile(cfg, []byte(strings.Replace(string(orig), `expires_at = "2027-06-30T00:00:00Z"`, `expires_at = "`+soon+`"`, 1)), 0o644))
	if run := job("apply", "push", "refs/heads/main", "modelkeys"); !run.ok() {
		t.Fatalf("the apply job failed at %q:\n%s", run.failed, run.log.String())
	}
	run = job("drift", "schedule", "refs/heads/main", "")
	issue = issueBody(t, e.ghCalls())
	if run.ok() || !strings.Contains(issue, "Rotate these keys: anthropic-prod is expiring") {
		t.Fatalf("a key about to expire must raise the rotation alarm; issue:\n%s\nlog:\n%s", issue, run.log.String())
	}

	// A manual run from another branch does not run the drift job; and were it changed to run, the
	// drift rule would not trust that branch's token.
	c := &ghContext{values: ctx("workflow_dispatch", "refs/heads/feature")}
	if ok, err := c.condition(wf.Jobs["drift"].If); err != nil || ok {
		t.Fatalf("the drift job must not run on a manual run from another branch (ok %v, %v)", ok, err)
	}
	tok := e.mint(map[string]any{"aud": "modelkeys", "repository": repo, "ref": "refs/heads/feature",
		"workflow_ref": repo + "/.github/workflows/modelkeys.yml@refs/heads/feature", "event_name": "workflow_dispatch"})
	if code := exchange(t, e, rules["MODELKEYS_RULE_DRIFT"], tok); code != 400 {
		t.Fatalf("the drift rule must refuse another branch's token: status %d", code)
	}
}

// issueBody returns the body the drift job gave the issue it opened or commented on.
func issueBody(t *testing.T, calls []ghCall) string {
	t.Helper()
	for _, c := range calls {
		if strings.HasPrefix(c.Args, "issue create") || strings.HasPrefix(c.Args, "issue comment") {
			return c.Body
		}
	}
	t.Fatalf("no issue was opened or commented on: %+v", calls)
	return ""
}
