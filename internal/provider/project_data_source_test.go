package provider

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

func TestAccProjectDataSource_lookups(t *testing.T) {
	s := newTestServer(t)
	dsProject(t, s, api.ProjectCreate{Name: "other"})
	p := dsProject(t, s, api.ProjectCreate{Name: "research", Description: "the research team", InheritOrganizationCredentials: true})
	checks := func(addr string) []statecheck.StateCheck {
		return []statecheck.StateCheck{
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("id"), knownvalue.StringExact(p.ID)),
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("name"), knownvalue.StringExact("research")),
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("description"), knownvalue.StringExact("the research team")),
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("inherit_organization_credentials"), knownvalue.Bool(true)),
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("created_at"), knownvalue.StringExact(rfc3339(p.CreatedAt))),
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("updated_at"), knownvalue.StringExact(rfc3339(p.UpdatedAt))),
		}
	}
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		Steps: []resource.TestStep{
			{
				Config:      s.providerConfig() + `data "modelkeys_project" "x" { name = "nope" }`,
				ExpectError: wrappedText(`Project not found.*No project named "nope" exists in this organisation`),
			},
			{
				Config:      s.providerConfig() + `data "modelkeys_project" "x" { id = "proj_doesnotexist" }`,
				ExpectError: wrappedText(`Project not found.*No project with id "proj_doesnotexist" exists`),
			},
			{
				Config:      s.providerConfig() + `data "modelkeys_project" "x" {}`,
				ExpectError: wrappedText(`Exactly one of these attributes must be configured: \[id,name\]`),
			},
			// Last, so that the post-test destroy has a valid configuration.
			{
				Config: s.providerConfig() + fmt.Sprintf(`
data "modelkeys_project" "by_id" {
  id = %q
}
data "modelkeys_project" "by_name" {
  name = "research"
}
`, p.ID),
				ConfigStateChecks: append(checks("data.modelkeys_project.by_id"), checks("data.modelkeys_project.by_name")...),
			},
		},
	})
}
