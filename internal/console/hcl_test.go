package console_test

import (
	"context"
	"html"
	"os/exec"
	"strings"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

// A credential page offers its configuration and an import block: valid HCL (terraform fmt parses
// it), hostile text escaped for HCL as well as HTML, secrets as variables only.
func TestConsoleCredentialAsHCL(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.signedIn(api.RoleViewer)
	// A label that would be a template sequence in HCL.
	labels := map[string]string{"env": "prod", "team": h.text, "tmpl": "${var.x} %{if}"}
	if _, err := h.srv.Service().UpdateCredential(context.Background(), h.admin, h.orgCred.ID, api.CredentialPatch{Labels: &labels}, 0); err != nil {
		t.Fatal(err)
	}
	page := b.get("/ui/credentials/" + h.orgCred.ID)
	res := html.UnescapeString(regexpFind(`(?s)<pre id="hcl-resource" tabindex="0"><code>(.*?)</code></pre>`, page.body))
	imp := html.UnescapeString(regexpFind(`(?s)<pre id="hcl-import" tabindex="0"><code>(.*?)</code></pre>`, page.body))
	for _, want := range []string{`resource "modelkeys_credential" "openai_prod" {`, `model_provider     = "openai"`, `api_key_wo         = var.openai_prod_api_key`,
		`tmpl = "$${var.x} %%{if}"`, `organization_id = `} {
		if !strings.Contains(res, want) {
			t.Errorf("the HCL has no %q:\n%s", want, res)
		}
	}
	if !strings.Contains(imp, "to = modelkeys_credential.openai_prod") || !strings.Contains(imp, `id = "`+h.orgCred.ID+`"`) {
		t.Errorf("import block:\n%s", imp)
	}
	if strings.Contains(page.body, "<script>alert") {
		t.Error("hostile text is not escaped")
	}
	tf, err := exec.LookPath("terraform")
	if err != nil {
		t.Skip("no terraform on PATH to parse the HCL")
	}
	cmd := exec.Command(tf, "fmt", "-")
	cmd.Stdin = strings.NewReader(res + "\n" + imp)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("terraform fmt refuses the HCL: %v\n%s\n%s", err, out, res)
	}
}
