// Command catalog-gen writes the models of modelkeys' embedded catalog (internal/catalog/models.json)
// from a checkout of the models.dev data set (MIT; github.com/anomalyco/models.dev, formerly
// sst/models.dev): one TOML file per model under providers/PROVIDER/models/, some inheriting from a
// maker's base model under models/MAKER/.
//
// Only models come from models.dev. The providers (settings, secrets, auth methods) are modelkeys'
// own facts in internal/catalog/catalog.json; publishers come from models.dev's base models, the
// catalog's publisher rules (catalog.PublisherByRule), and overrides.json beside this file, in that
// order. A model whose publisher none of them gives stops the run: a guessed publisher would let a
// policy by publisher allow what it should not.
//
//	go run . -models-dev /path/to/models.dev -out ../../internal/catalog/models.json
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

func main() {
	var opt options
	flag.StringVar(&opt.dir, "models-dev", os.Getenv("MODELS_DEV"), "checkout of the models.dev repository (default $MODELS_DEV)")
	flag.StringVar(&opt.out, "out", "../../internal/catalog/models.json", "file to write")
	flag.StringVar(&opt.overrides, "overrides", "overrides.json", "modelkeys' own publisher overrides and exclusions")
	flag.StringVar(&opt.repo, "repo", "https://github.com/anomalyco/models.dev", "repository URL recorded as the source")
	flag.StringVar(&opt.commit, "commit", "", "commit of the checkout (default: asked of git)")
	flag.StringVar(&opt.date, "date", "", "commit date, RFC 3339 (default: asked of git)")
	flag.Parse()
	if err := run(opt); err != nil {
		fmt.Fprintln(os.Stderr, "catalog-gen:", err)
		os.Exit(1)
	}
}

type options struct {
	dir, out, overrides, repo, commit, date string
}

func run(opt options) error {
	if opt.dir == "" {
		return fmt.Errorf("no models.dev checkout given: clone https://github.com/anomalyco/models.dev and pass its directory with -models-dev DIR (make catalog MODELS_DEV=DIR)")
	}
	if st, err := os.Stat(opt.dir + "/providers"); err != nil || !st.IsDir() {
		return fmt.Errorf("%s is not a models.dev checkout: it has no providers/ directory", opt.dir)
	}
	if opt.commit == "" || opt.date == "" {
		commit, date, err := gitHead(opt.dir)
		if err != nil {
			return fmt.Errorf("cannot tell the commit of %s (%v); pass -commit and -date", opt.dir, err)
		}
		if opt.commit == "" {
			opt.commit = commit
		}
		if opt.date == "" {
			opt.date = date
		}
	}
	ov, err := readOverrides(opt.overrides)
	if err != nil {
		return err
	}
	out, err := generate(opt.dir, source{Repository: opt.repo, Commit: opt.commit, Date: opt.date, License: "MIT"}, ov)
	if err != nil {
		return err
	}
	if err := os.WriteFile(opt.out, out, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "catalog-gen: wrote %s from %s@%s\n", opt.out, opt.repo, short(opt.commit))
	return nil
}

func gitHead(dir string) (commit, date string, err error) {
	b, err := exec.Command("git", "-C", dir, "log", "-1", "--format=%H %cI").Output()
	if err != nil {
		return "", "", err
	}
	commit, date, ok := strings.Cut(strings.TrimSpace(string(b)), " ")
	if !ok {
		return "", "", fmt.Errorf("unexpected git output %q", b)
	}
	return commit, date, nil
}

func short(commit string) string {
	if len(commit) > 7 {
		return commit[:7]
	}
	return commit
}
