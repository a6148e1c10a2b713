package recipes

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"
)

// A GitLab CI/CD configuration, as much of it as the runner reads.
type glConfig struct {
	Variables map[string]string
	Default   glJob
	Jobs      map[string]glJob
}

type glJob struct {
	BeforeScript []string                     `yaml:"before_script"`
	Script       []string                     `yaml:"script"`
	Variables    map[string]string            `yaml:"variables"`
	IDTokens     map[string]map[string]string `yaml:"id_tokens"`
	Extends      string                       `yaml:"extends"`
	Environment  yaml.Node                    `yaml:"environment"`
	Rules        []map[string]any             `yaml:"rules"`
}

var glReserved = map[string]bool{"stages": true, "variables": true, "default": true, "workflow": true, "include": true, "image": true}

func loadGitLab(t *testing.T, path string) glConfig {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]yaml.Node
	if err := yaml.Unmarshal(b, &raw); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	cfg := glConfig{Jobs: map[string]glJob{}}
	for name, node := range raw {
		var err error
		switch {
		case name == "variables":
			err = node.Decode(&cfg.Variables)
		case name == "default":
			err = node.Decode(&cfg.Default)
		case glReserved[name]:
		default: // jobs, and hidden templates (".name") that jobs extend
			var j glJob
			err = node.Decode(&j)
			cfg.Jobs[name] = j
		}
		if err != nil {
			t.Fatalf("%s: %s: %v", path, name, err)
		}
	}
	return cfg
}

// runGitLabJob runs a job's before_script and script in one shell, as the runner does, with `sh -e`:
// plain POSIX sh without pipefail, the strictest shell the recipe may meet (the Terraform image's).
// ciVars are the project's CI/CD variables and the predefined ones; mint makes the ID token of each
// id_tokens entry for its audience. It returns the output and whether the job succeeded.
func runGitLabJob(t *testing.T, cfg glConfig, jobName, projectDir string, ciVars map[string]string, mint func(aud string) string, env []string) (string, bool) {
	t.Helper()
	job, ok := cfg.Jobs[jobName]
	if !ok || strings.HasPrefix(jobName, ".") {
		t.Fatalf("the configuration has no job %q", jobName)
	}
	if job.Extends != "" {
		if _, ok := cfg.Jobs[job.Extends]; !ok {
			t.Fatalf("job %s extends %s, which is not defined", jobName, job.Extends)
		}
	}
	vars := map[string]string{"CI_PROJECT_DIR": projectDir}
	for k, v := range ciVars {
		vars[k] = v
	}
	expand := func(s string) string { return os.Expand(s, func(k string) string { return vars[k] }) }
	for _, m := range []map[string]string{cfg.Variables, job.Variables} {
		for _, k := range sortedKeys(m) {
			vars[k] = expand(m[k])
		}
	}
	idTokens := job.IDTokens
	if idTokens == nil {
		idTokens = cfg.Default.IDTokens
	}
	for name, spec := range idTokens {
		aud := spec["aud"]
		if aud == "" {
			t.Fatalf("job %s: id_tokens.%s has no aud", jobName, name)
		}
		vars[name] = mint(expand(aud))
	}
	before := job.BeforeScript
	if before == nil {
		before = cfg.Default.BeforeScript
	}
	script := strings.Join(append(append([]string{}, before...), job.Script...), "\n")
	scriptPath := filepath.Join(t.TempDir(), "job.sh")
	if err := os.WriteFile(scriptPath, []byte(script+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-e", scriptPath)
	cmd.Dir = projectDir
	cmd.Env = append([]string{}, env...)
	for _, k := range sortedKeys(vars) {
		cmd.Env = append(cmd.Env, k+"="+vars[k])
	}
	out, err := cmd.CombinedOutput()
	return fmt.Sprintf("--- job %s (%v)\n%s", jobName, err, out), err == nil
}
