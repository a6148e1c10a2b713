package provider

import (
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

// warnIfUnverified warns, on the credential's status, when a create or update asked for verification
// (verify = true) and the answer is still unverified: the provider could not be reached, or the server
// checks no keys. The apply succeeds either way (an outage must not block a rotation), but a key
// nobody checked should not pass in silence; the status_message says why.
func warnIfUnverified(diags *diag.Diagnostics, c *api.Credential) {
	if c == nil || !c.Verify || c.Status != api.StatusUnverified {
		return
	}
	diags.AddAttributeWarning(path.Root("status"), "Credential not verified",
		fmt.Sprintf("Credential %q (%s) was saved, but its key was not checked with its provider, although verify = true: %s\n\n"+
			"The key may or may not work. A server re-verifies its keys from time to time and a refresh shows the outcome; "+
			"the modelkeys_credential_verify action (Terraform 1.14+) checks it now.", c.Name, c.ID, c.StatusMessage))
}
