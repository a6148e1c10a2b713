package reliability

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// TestRaceTwoWorkspaces: workspaces A and B manage the same credential. Both plan a change of its
// description from the same version; A applies first and wins; B's apply of its saved plan must fail
// with a clear precondition error (the provider sends If-Match with the version from private state),
// and A's change must survive (no lost update). B's next plan then shows A's value as the change.
func TestRaceTwoWorkspaces(t *testing.T) {
	needTerraform(t)
	d := dir(t, "server")
	srv := startServer(t, d, d+"/modelkeys.db", "127.0.0.1:0")
	key := newKey("race")
	env := []string{"MODELKEYS_ENDPOINT=" + srv.URL, "MODELKEYS_TOKEN=" + bootstrapToken}
	cfg := func(desc, importID string) string {
		imp := ""
		if importID != "" {
			imp = fmt.Sprintf("import {\n  to = modelkeys_credential.shared\n  id = %q\n}\n", importID)
		}
		return fmt.Sprintf(`terraform {
  required_providers {
    modelkeys = { source = "modelkeys/modelkeys" }
  }
}
provider "modelkeys" {}
%s
resource "modelkeys_credential" "shared" {
  name               = "shared-key"
  description        = %q
  model_provider     = "openai"
  api_key_wo         = %q
  api_key_wo_version = 1
  verify             = false
}

output "id" { value = modelkeys_credential.shared.id }
`, imp, desc, key)
	}
	a := newWorkspace(t, "ws-a-writeonly", cfg("v0", ""), env...)
	a.mustTF("apply", "-auto-approve")
	id := strings.TrimSpace(a.mustTF("output", "-raw", "id"))
	b := newWorkspace(t, "ws-b-writeonly", cfg("v0", id), env...)
	b.mustTF("apply", "-auto-approve")

	a.write(cfg("from-A", ""))
	b.write(cfg("from-B", id))
	a.mustTF("plan", "-out=a.tfplan")
	b.mustTF("plan", "-out=b.tfplan")
	a.mustTF("apply", "a.tfplan")
	out, err := b.tf(context.Background(), "apply", "b.tfplan")
	if err == nil {
		t.Fatalf("B's stale plan applied; A's update was lost:\n%s", tail(out, 3000))
	}
	flat := strings.Join(strings.Fields(out), " ")
	if !regexp.MustCompile(`(?i)412|precondition|changed since|modified`).MatchString(flat) {
		t.Errorf("B's error does not say the credential changed under it:\n%s", tail(out, 3000))
	}
	t.Logf("B's error: %s", firstError(out))

	var c item
	if code := apiDo(t, srv.URL, "GET", "/v1/credentials/"+id, nil, &c); code != 200 || c.Description != "from-A" {
		t.Errorf("server holds description %q (HTTP %d), want A's from-A", c.Description, code)
	}
	out, _ = b.tf(context.Background(), "plan")
	if !strings.Contains(out, `"from-A" -> "from-B"`) {
		t.Errorf("B's next plan does not show A's value being changed:\n%s", tail(out, 3000))
	}
}

func firstError(out string) string {
	i := strings.Index(out, "Error:")
	if i < 0 {
		return tail(out, 400)
	}
	return strings.Join(strings.Fields(out[i:min(len(out), i+600)]), " ")
}
