package provider

import (
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
)

// warnIfUnverified warns, on the credential's status, when a create or update asked for verification
// (verify = true) and the answer is still unverified: the provider could not be reached, or the server
// checks no keys. The apply succeeds either way (an outage must not block a rotation), but a key
// nobody checked should not pass in silence; the status_message says why.
func warnIfUnverified(diags *diag.Diagnostics, c *api.Credential) {
	if c != nil && c.Verify && c.Status == api.StatusInvalid && catalog.IsKeyless(c.Provider, c.Settings) {
		// The server saves a keyless credential whose exchange the vendor refused: the vendor's
		// federation object can name its subject only once it exists.
		diags.AddAttributeWarning(path.Root("status"), "Keyless credential not trusted yet",
			fmt.Sprintf("Credential %q (%s) was saved, but the vendor refused its exchange: %s\n\n"+
				"Make the vendor's federation object trust this server's issuer and the credential's subject (the modelkeys_issuer data source gives both); "+
				"a refresh after the server's next re-verification, or the modelkeys_credential_verify action, shows the outcome.", c.Name, c.ID, c.StatusMessage))
		return
	}
	if c == nil || !c.Verify || c.Status != api.StatusUnverified {
		return
	}
	diags.AddAttributeWarning(path.Root("status"), "Credential not verified",
		fmt.Sprintf("Credential %q (%s) was saved, but its key was not checked with its provider, although verify = true: %s\n\n"+
			"The key may or may not work. A server re-verifies its keys from time to time and a refresh shows the outcome; "+
			"the modelkeys_credential_verify action (Terraform 1.14+) checks it now.", c.Name, c.ID, c.StatusMessage))
}
