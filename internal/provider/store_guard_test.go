package provider

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
)

func embeddedProjectConfig(dbPath, name string) string {
	return fmt.Sprintf(`
provider "modelkeys" {
  endpoint = "file://%s"
}

resource "modelkeys_project" "p" {
  name = %q
}
`, filepath.ToSlash(dbPath), name)
}

// TestAccEmbedded_otherStoreIsAnError: a state written to one embedded store and planned against
// another (the endpoint moved) is an error naming both stores, not a plan to create everything again;
// pointed back, the same state plans nothing.
func TestAccEmbedded_otherStoreIsAnError(t *testing.T) {
	dir := t.TempDir()
	first := filepath.Join(dir, "first", "modelkeys.db")
	moved := filepath.Join(dir, "moved", ".modelkeys", "modelkeys.db")
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		CheckDestroy:             checkAllDestroyedEmbedded(first),
		Steps: []resource.TestStep{
			{Config: embeddedProjectConfig(first, "kept")},
			{
				Config:      embeddedProjectConfig(moved, "kept"),
				ExpectError: wrappedText(`written to another modelkeys store.*modelkeys_project proj_\S+, written to the store whose id ends in \S+, but the endpoint now reaches the embedded store ` + regexp.QuoteMeta(moved) + `, which is store store_\S+ .*MODELKEYS_ENDPOINT.*terraform state rm`),
			},
			{Config: embeddedProjectConfig(first, "kept")},
		},
	})
}

// TestAccServer_otherServerIsAnError: the same for a server endpoint that now names another server.
func TestAccServer_otherServerIsAnError(t *testing.T) {
	s1, s2 := newTestServer(t), newTestServer(t)
	config := func(s *testServer) string {
		return s.providerConfig() + `
resource "modelkeys_project" "p" {
  name = "on-the-first-server"
}
`
	}
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		CheckDestroy:             checkAllDestroyed(s1),
		Steps: []resource.TestStep{
			{Config: config(s1)},
			{Config: config(s2), ExpectError: wrappedText(`written to another modelkeys store.*the modelkeys server at ` + regexp.QuoteMeta(s2.URL))},
			{Config: config(s1)},
		},
	})
}

// TestAccEmbedded_newStoreKeepsOutOfGit: the directory of a new store gets a .gitignore, so after an
// apply `git status` in the working directory offers neither the database nor its master key.
func TestAccEmbedded_newStoreKeepsOutOfGit(t *testing.T) {
	work := t.TempDir()
	dbPath := filepath.Join(work, ".modelkeys", "modelkeys.db")
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		CheckDestroy:             checkAllDestroyedEmbedded(dbPath),
		Steps: []resource.TestStep{{
			Config: embeddedProjectConfig(dbPath, "ignored"),
			Check: func(*terraform.State) error {
				ignore, err := os.ReadFile(filepath.Join(work, ".modelkeys", ".gitignore"))
				if err != nil {
					return fmt.Errorf("no .gitignore in the new store's directory: %w", err)
				}
				if !regexp.MustCompile(`(?m)^\*$`).Match(ignore) {
					return fmt.Errorf(".gitignore does not ignore everything: %q", ignore)
				}
				if git, err := exec.LookPath("git"); err == nil {
					return gitOffersNoStore(git, work)
				}
				t.Log("no git: checked the .gitignore file only")
				return nil
			},
		}},
	})
}

// gitOffersNoStore runs git init and git status in work, beside a configuration file, and fails when
// the status lists the store's database or key (or misses the configuration).
func gitOffersNoStore(git, work string) error {
	if out, err := exec.Command(git, "-C", work, "init", "-q").CombinedOutput(); err != nil {
		return fmt.Errorf("git init: %v: %s", err, out)
	}
	if err := os.WriteFile(filepath.Join(work, "main.tf"), []byte("# the configuration\n"), 0o600); err != nil {
		return err
	}
	out, err := exec.Command(git, "-C", work, "status", "--porcelain", "--untracked-files=all").CombinedOutput()
	if err != nil {
		return fmt.Errorf("git status: %v: %s", err, out)
	}
	if strings.Contains(string(out), "modelkeys.db") || strings.Contains(string(out), "master.key") || !strings.Contains(string(out), "main.tf") {
		return fmt.Errorf("git status offers the store:\n%s", out)
	}
	return nil
}

// TestOpenEmbeddedNewStoreSaysWhere: a new store says so once, with its path and its key's, and how to
// move the key; a .gitignore only in a directory it made.
func TestOpenEmbeddedNewStoreSaysWhere(t *testing.T) {
	t.Setenv("MODELKEYS_MASTER_KEY", "")
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "a", "b", "modelkeys.db")
	es, err := openEmbedded(context.Background(), dbPath, "test")
	if err != nil {
		t.Fatal(err)
	}
	if !es.created || es.keyFile != filepath.Join(dir, "a", "b", "modelkeys.master.key") || es.ignoreFile != filepath.Join(dir, "a", "b", ".gitignore") {
		t.Fatalf("openEmbedded = %+v", es)
	}
	msg := es.firstUseWarning(dbPath, endpointFromEnv)
	for _, want := range []string{dbPath, es.keyFile, "MODELKEYS_MASTER_KEY", "MODELKEYS_ENDPOINT", es.ignoreFile, "new, empty"} {
		if !strings.Contains(msg, want) {
			t.Errorf("warning lacks %q:\n%s", want, msg)
		}
	}
	again, err := openEmbedded(context.Background(), dbPath, "test")
	if err != nil || again.created {
		t.Errorf("second open in the process: created=%v, %v; want it said once", again.created, err)
	}

	// A store file named in an existing directory (here the temp dir itself): no .gitignore of `*`,
	// which would hide the user's own files there.
	inPlace := filepath.Join(dir, "here.db")
	es, err = openEmbedded(context.Background(), inPlace, "test")
	if err != nil {
		t.Fatal(err)
	}
	if es.ignoreFile != "" {
		t.Errorf("wrote %s into an existing directory", es.ignoreFile)
	}
	if _, err := os.Stat(filepath.Join(dir, ".gitignore")); err == nil {
		t.Error(".gitignore written into an existing directory")
	}
	if msg := es.firstUseWarning(inPlace, endpointFromConfig); !strings.Contains(msg, "out of version control") {
		t.Errorf("warning for a store in an existing directory does not say to keep it out of git:\n%s", msg)
	}
}

// TestStoreGuardNewEmptyStore: a state written before store ids were kept (no store in its private
// state) whose object a new, empty store does not hold is an error naming the store; the same miss
// in a store that has a history is an object deleted by hand, which Terraform plans to create again.
func TestStoreGuardNewEmptyStore(t *testing.T) {
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "fresh.db")
	es, err := openEmbedded(ctx, dbPath, "test")
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(client.Config{BaseURL: embeddedBaseURL, HTTPClient: &http.Client{Transport: es.transport}})
	if err != nil {
		t.Fatal(err)
	}
	who, err := c.WhoAmI(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p := &modelkeysProvider{}
	p.configured.Store(&providerData{client: c, storeID: who.StoreID, embeddedPath: dbPath, embedded: true})

	objType := tftypes.Object{AttributeTypes: map[string]tftypes.Type{"id": tftypes.String}}
	prior, err := tfprotov6.NewDynamicValue(objType, tftypes.NewValue(objType, map[string]tftypes.Value{"id": tftypes.NewValue(tftypes.String, "proj_gone")}))
	if err != nil {
		t.Fatal(err)
	}
	null, _ := tfprotov6.NewDynamicValue(objType, tftypes.NewValue(objType, nil))
	read := func(g *storeGuard) *tfprotov6.ReadResourceResponse {
		resp := &tfprotov6.ReadResourceResponse{NewState: &null}
		g.afterRead(ctx, &tfprotov6.ReadResourceRequest{TypeName: "modelkeys_project", CurrentState: &prior}, resp)
		return resp
	}

	resp := read(&storeGuard{provider: p})
	if !protoHasError(resp.Diagnostics) || !strings.Contains(resp.Diagnostics[0].Detail, dbPath) || !strings.Contains(resp.Diagnostics[0].Detail, "new and empty") {
		t.Fatalf("new, empty store: %+v, want an error naming %s", resp.Diagnostics, dbPath)
	}
	if isNullState(resp.NewState) {
		t.Error("the resource was dropped from the state")
	}

	if _, err := c.CreateProject(ctx, api.ProjectCreate{Name: "history"}); err != nil {
		t.Fatal(err)
	}
	resp = read(&storeGuard{provider: p})
	if len(resp.Diagnostics) != 0 || !isNullState(resp.NewState) {
		t.Errorf("store with a history: %+v, want the resource removed without an error", resp.Diagnostics)
	}
}
