package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

// TestAccImport_byName: terraform import takes a name where an id is expected; a name or an id that
// does not exist is an error naming it and the organisation looked in, not Terraform's "Cannot import
// non-existent remote object".
func TestAccImport_byName(t *testing.T) {
	s := newTestServer(t)
	config := s.providerConfig() + `
resource "modelkeys_project" "p" {
  name = "imported-by-name"
}
`
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		CheckDestroy:             checkAllDestroyed(s),
		Steps: []resource.TestStep{
			{Config: config},
			{
				Config:            config,
				ResourceName:      "modelkeys_project.p",
				ImportState:       true,
				ImportStateId:     "imported-by-name",
				ImportStateVerify: true,
			},
			{
				Config:        config,
				ResourceName:  "modelkeys_project.p",
				ImportState:   true,
				ImportStateId: "no-such-project",
				ExpectError:   wrappedText(`"no-such-project" is not a project id \(proj_\.\.\.\), and no project of that name exists in organisation "acme"`),
			},
			{
				Config:        config,
				ResourceName:  "modelkeys_project.p",
				ImportState:   true,
				ImportStateId: "proj_doesnotexist",
				ExpectError:   wrappedText(`No project with id "proj_doesnotexist" exists in organisation "acme" at the modelkeys server at`),
			},
		},
	})
}
