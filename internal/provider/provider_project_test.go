package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

// TestAccProvider_unknownDefaultProject: a provider project that does not exist is reported as the
// provider's setting (project or MODELKEYS_PROJECT), not as the resource's project_id, which the
// configuration never set.
func TestAccProvider_unknownDefaultProject(t *testing.T) {
	s := newTestServer(t)
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		CheckDestroy:             checkAllDestroyed(s),
		Steps: []resource.TestStep{{
			Config: s.providerConfigInProject("proj_missing") + `
resource "modelkeys_credential" "c" {
  name           = "in-default-project"
  model_provider = "openai"
  api_key        = "` + keyOne + `"
  verify         = false
}
`,
			ExpectError: wrappedText(`sets no project_id, so it goes into the provider's project, "proj_missing" \(the provider's project argument, or MODELKEYS_PROJECT\), and no project with that id exists in organisation "acme" .*Set the provider's project to the id`),
		}},
	})
}
