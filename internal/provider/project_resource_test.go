package provider

import (
	"context"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

func TestAccProject_lifecycle(t *testing.T) {
	s := newTestServer(t)
	config := func(body string) string {
		return s.providerConfig() + "resource \"modelkeys_project\" \"test\" {\n" + body + "\n}\n"
	}
	id := statecheck.CompareValue(compareSame)
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		CheckDestroy:             checkAllDestroyed(s),
		Steps: []resource.TestStep{
			{
				Config: config(`  name = "search"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(projectAddr, tfjsonpath.New("id"), knownvalue.StringRegexp(regexp.MustCompile(`^proj_[0-9a-v]+$`))),
					statecheck.ExpectKnownValue(projectAddr, tfjsonpath.New("inherit_organization_credentials"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue(projectAddr, tfjsonpath.New("description"), knownvalue.Null()),
					id.AddStateValue(projectAddr, tfjsonpath.New("id")),
				},
			},
			{
				Config: config(`  name        = "search-team"
  description = "Search and ranking"
  inherit_organization_credentials = true`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(projectAddr, plancheck.ResourceActionUpdate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(projectAddr, tfjsonpath.New("name"), knownvalue.StringExact("search-team")),
					statecheck.ExpectKnownValue(projectAddr, tfjsonpath.New("inherit_organization_credentials"), knownvalue.Bool(true)),
					id.AddStateValue(projectAddr, tfjsonpath.New("id")),
				},
			},
			{
				ResourceName:      projectAddr,
				ImportState:       true,
				ImportStateVerify: true,
			},
		},
	})
}

// TestAccProject_inheritance: a project's connection may use an organisation credential only while
// the project inherits them, and the project cannot stop inheriting while one does.
func TestAccProject_inheritance(t *testing.T) {
	s := newTestServer(t)
	config := func(inherit bool) string {
		return s.providerConfig() + testConfig(t, "project_inheritance", map[string]any{"Inherit": inherit, "Key": keyOne})
	}
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		CheckDestroy:             checkAllDestroyed(s),
		Steps: []resource.TestStep{
			{
				Config:      config(false),
				ExpectError: words(`credential "openai-org" belongs to the organisation and project "research" does not inherit organisation credentials; set inherit_organization_credentials = true on the project`),
			},
			{
				Config: config(true),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(projectAddr, plancheck.ResourceActionUpdate),
						plancheck.ExpectResourceAction(connAddr, plancheck.ResourceActionCreate),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(connAddr, tfjsonpath.New("status"), knownvalue.StringExact(api.ConnectionReady)),
					statecheck.CompareValuePairs(connAddr, tfjsonpath.New("project_id"), projectAddr, tfjsonpath.New("id"), compareSame),
				},
			},
			{
				Config:      config(false),
				ExpectError: regexp.MustCompile(`(?s)Project still uses organisation credentials.*cannot\s+stop\s+inheriting\s+organisation\s+credentials\s+while\s+connections\s+of\s+it\s+use\s+them:\s+conn_[0-9a-v]+`),
			},
		},
	})
}

// TestAccProject_defaultProject: with the provider's project set, credentials and connections that omit
// project_id land in that project, and a model policy that omits it stays the organisation's.
func TestAccProject_defaultProject(t *testing.T) {
	s := newTestServer(t)
	proj, err := s.Client.CreateProject(context.Background(), api.ProjectCreate{Name: "default"})
	if err != nil {
		t.Fatal(err)
	}
	config := s.providerConfigInProject(proj.ID) + testConfig(t, "project_default_project", map[string]string{"Key": keyOne})
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		CheckDestroy:             checkAllDestroyed(s),
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectKnownValue(connAddr, tfjsonpath.New("project_id"), knownvalue.StringExact(proj.ID)),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(connAddr, tfjsonpath.New("project_id"), knownvalue.StringExact(proj.ID)),
					statecheck.ExpectKnownValue(credAddr, tfjsonpath.New("project_id"), knownvalue.StringExact(proj.ID)),
					statecheck.ExpectKnownValue(orgPolicyAddr, tfjsonpath.New("project_id"), knownvalue.Null()),
					statecheck.ExpectKnownValue(orgPolicyAddr, tfjsonpath.New("id"), knownvalue.StringExact("organization")),
				},
			},
			{
				ResourceName:      connAddr,
				ImportState:       true,
				ImportStateVerify: true,
			},
		},
	})
}
