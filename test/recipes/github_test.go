package recipes

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"
)

// A GitHub Actions workflow, as much of it as the runner reads.
type ghWorkflow struct {
	On       yaml.Node         `yaml:"on"`
	Env      map[string]string `yaml:"env"`
	Defaults ghDefaults        `yaml:"defaults"`
	Jobs     map[string]ghJob  `yaml:"jobs"`
}

type ghDefaults struct {
	Run struct {
		Shell            string `yaml:"shell"`
		WorkingDirectory string `yaml:"working-directory"`
	} `yaml:"run"`
}

type ghJob struct {
	If          string            `yaml:"if"`
	Environment string            `yaml:"environment"`
	Permissions map[string]string `yaml:"permissions"`
	Env         map[string]string `yaml:"env"`
	Defaults    ghDefaults        `yaml:"defaults"`
	Steps       []ghStep          `yaml:"steps"`
}

type ghStep struct {
	ID               string            `yaml:"id"`
	Name             string            `yaml:"name"`
	If               string            `yaml:"if"`
	Uses             string            `yaml:"uses"`
	With             map[string]string `yaml:"with"`
	Run              string            `yaml:"run"`
	Shell            string            `yaml:"shell"`
	Env              map[string]string `yaml:"env"`
	WorkingDirectory string            `yaml:"working-directory"`
}

func (s ghStep) label() string {
	switch {
	case s.Name != "":
		return s.Name
	case s.Uses != "":
		return s.Uses
	}
	return strings.SplitN(strings.TrimSpace(s.Run), "\n", 2)[0]
}

func loadWorkflow(t *testing.T, path string) ghWorkflow {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var wf ghWorkflow
	if err := yaml.Unmarshal(b, &wf); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return wf
}

// ghRun is one job's run: which steps ran, which failed, and what they wrote.
type ghRun struct {
	ran     []string
	failed  string // the first step that failed, "" when the job succeeded
	outputs map[string]map[string]string
	log     strings.Builder
}

func (r *ghRun) ok() bool { return r.failed == "" }

// uses emulates the actions a recipe may use: the workspace is checked out already, Terraform is on
// PATH (the version the step names must be one this harness accepts), cloud credentials are not
// needed by the local backend. Any other action fails the test.
func usesStep(t *testing.T, s ghStep) {
	t.Helper()
	name, _, _ := strings.Cut(s.Uses, "@")
	switch name {
	case "actions/checkout", "aws-actions/configure-aws-credentials":
	case "hashicorp/setup-terraform":
		if s.With["terraform_wrapper"] != "false" {
			t.Errorf("setup-terraform without terraform_wrapper: false: the wrapper prints extra lines into every output the recipe parses")
		}
		if v := s.With["terraform_version"]; !atLeast(v, 1, 14) {
			t.Errorf("setup-terraform installs %q; the recipe's action blocks need Terraform 1.14 or newer", v)
		}
	default:
		t.Fatalf("step uses %s, which this harness does not emulate", s.Uses)
	}
}

// runGitHubJob runs a job's steps in order, as the runner does: each `run` in its shell (bash -e
// without pipefail when none is named, as on GitHub's Linux runners), `if:` evaluated against the
// job's status, outputs read from $GITHUB_OUTPUT. env holds the machine's environment for the
// steps (PATH, the CLI configuration); ctx the expression contexts (github, vars, secrets).
func runGitHubJob(t *testing.T, wf ghWorkflow, jobName, workspace string, ctx map[string]string, env []string) *ghRun {
	t.Helper()
	job, ok := wf.Jobs[jobName]
	if !ok {
		t.Fatalf("the workflow has no job %q", jobName)
	}
	c := &ghContext{values: map[string]string{}}
	for k, v := range ctx {
		c.values[k] = v
	}
	run := &ghRun{outputs: map[string]map[string]string{}}
	if ok, err := c.condition(job.If); err != nil {
		t.Fatalf("job %s: if: %v", jobName, err)
	} else if !ok {
		t.Fatalf("job %s does not run for this event (if: %s)", jobName, job.If)
	}
	shell := firstNonEmpty(job.Defaults.Run.Shell, wf.Defaults.Run.Shell)
	wd := firstNonEmpty(job.Defaults.Run.WorkingDirectory, wf.Defaults.Run.WorkingDirectory)
	for i, s := range job.Steps {
		ok, err := c.condition(s.If)
		if err != nil {
			t.Fatalf("job %s step %q: if: %v", jobName, s.label(), err)
		}
		outcome := "skipped"
		if ok {
			run.ran = append(run.ran, s.label())
			outcome = "success"
			if s.Uses != "" {
				usesStep(t, s)
			} else if !runStep(t, c, run, wf, job, s, i, shell, wd, workspace, env) {
				outcome = "failure"
				c.failed = true
				if run.failed == "" {
					run.failed = s.label()
				}
			}
		}
		if s.ID != "" {
			c.values["steps."+s.ID+".outcome"] = outcome
			c.values["steps."+s.ID+".conclusion"] = outcome
			for k, v := range run.outputs[s.ID] {
				c.values["steps."+s.ID+".outputs."+k] = v
			}
		}
	}
	return run
}

func runStep(t *testing.T, c *ghContext, run *ghRun, wf ghWorkflow, job ghJob, s ghStep, i int, shell, wd, workspace string, env []string) bool {
	t.Helper()
	script, err := c.interpolate(s.Run)
	if err != nil {
		t.Fatalf("step %q: %v", s.label(), err)
	}
	dir := filepath.Join(workspace, firstNonEmpty(s.WorkingDirectory, wd))
	tmp := t.TempDir()
	scriptPath := filepath.Join(tmp, fmt.Sprintf("step-%d.sh", i))
	if err := os.WriteFile(scriptPath, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	outputPath := filepath.Join(tmp, "output")
	var argv []string
	switch firstNonEmpty(s.Shell, shell) {
	case "": // GitHub's default on Linux: bash -e {0}, without pipefail
		argv = []string{"bash", "-e", scriptPath}
	case "bash":
		argv = []string{"bash", "--noprofile", "--norc", "-eo", "pipefail", scriptPath}
	case "sh":
		argv = []string{"sh", "-e", scriptPath}
	default:
		t.Fatalf("step %q: shell %q is not one this harness runs", s.label(), s.Shell)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(append([]string{}, env...), "GITHUB_OUTPUT="+outputPath, "GITHUB_WORKSPACE="+workspace, "CI=true", "GITHUB_ACTIONS=true")
	for _, m := range []map[string]string{wf.Env, job.Env, s.Env} {
		for _, k := range sortedKeys(m) {
			v, err := c.interpolate(m[k])
			if err != nil {
				t.Fatalf("step %q: env %s: %v", s.label(), k, err)
			}
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	out, err := cmd.CombinedOutput()
	fmt.Fprintf(&run.log, "--- step %q (%v)\n%s", s.label(), err, out)
	if s.ID != "" {
		run.outputs[s.ID] = readOutputs(t, outputPath)
	}
	return err == nil
}

// readOutputs parses $GITHUB_OUTPUT: name=value lines and name<<DELIM heredocs.
func readOutputs(t *testing.T, path string) map[string]string {
	t.Helper()
	out := map[string]string{}
	f, err := os.Open(path)
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if name, delim, ok := strings.Cut(line, "<<"); ok && !strings.Contains(name, "=") {
			var lines []string
			for sc.Scan() && sc.Text() != delim {
				lines = append(lines, sc.Text())
			}
			out[name] = strings.Join(lines, "\n")
			continue
		}
		if name, v, ok := strings.Cut(line, "="); ok {
			out[name] = v
		}
	}
	return out
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// atLeast reports whether version "1.16.4" is at least major.minor.
func atLeast(version string, major, minor int) bool {
	var ma, mi int
	if _, err := fmt.Sscanf(version, "%d.%d", &ma, &mi); err != nil {
		return false
	}
	return ma > major || (ma == major && mi >= minor)
}
