package provider

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"
)

// identityConfig is one object of every resource: a project, a credential and a connection in it,
// and two model policies and two credential policies, the organisation's and the project's.
func identityConfig(s *testServer) string {
	return s.providerConfig() + fmt.Sprintf(`
resource "modelkeys_project" "test" {
  name = "identity"
}

resource "modelkeys_credential" "test" {
  name           = "identity-key"
  model_provider = "openai"
  project_id     = modelkeys_project.test.id
  api_key        = %q
  verify         = false
}

resource "modelkeys_connection" "test" {
  name          = "identity-chat"
  credential_id = modelkeys_credential.test.id
  model         = "gpt-4.1"
  project_id    = modelkeys_project.test.id
}

resource "modelkeys_model_policy" "org" {
  mode = "all"
}

resource "modelkeys_model_policy" "project" {
  project_id = modelkeys_project.test.id
  mode       = "denylist"
  publishers = ["meta"]
}

resource "modelkeys_credential_policy" "org" {
  allowed_providers = ["openai", "anthropic"]
}

resource "modelkeys_credential_policy" "project" {
  project_id          = modelkeys_project.test.id
  max_rotation_period = "90d"
}
`, keyOne)
}

// Every resource has an identity (Terraform 1.12+, OpenTofu 1.12+): its id, or for a model policy its
// scope; and import blocks take it (identity = { ... }).
func TestAccIdentity_everyResource(t *testing.T) {
	s := newTestServer(t)
	idOf := func(addr string) statecheck.StateCheck {
		return statecheck.ExpectIdentityValueMatchesState(addr, tfjsonpath.New("id"))
	}
	config := identityConfig(s)
	importStep := func(addr string, ignore ...string) resource.TestStep {
		return resource.TestStep{
			Config:                  config,
			ResourceName:            addr,
			ImportState:             true,
			ImportStateKind:         resource.ImportBlockWithResourceIdentity,
			ImportStateVerifyIgnore: ignore,
		}
	}
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		CheckDestroy:             checkAllDestroyed(s),
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_12_0)},
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					idOf("modelkeys_project.test"),
					idOf("modelkeys_credential.test"),
					idOf("modelkeys_connection.test"),
					statecheck.ExpectIdentity("modelkeys_credential.test", map[string]knownvalue.Check{
						"id": knownvalue.StringRegexp(regexp.MustCompile(`^cred_`)),
					}),
					statecheck.ExpectIdentity("modelkeys_model_policy.org", map[string]knownvalue.Check{
						"project_id": knownvalue.StringExact(""),
					}),
					statecheck.ExpectIdentityValueMatchesStateAtPath("modelkeys_model_policy.project", tfjsonpath.New("project_id"), tfjsonpath.New("project_id")),
					statecheck.ExpectIdentity("modelkeys_credential_policy.org", map[string]knownvalue.Check{
						"project_id": knownvalue.StringExact(""),
					}),
					statecheck.ExpectIdentityValueMatchesStateAtPath("modelkeys_credential_policy.project", tfjsonpath.New("project_id"), tfjsonpath.New("project_id")),
				},
			},
			importStep("modelkeys_project.test"),
			func() resource.TestStep {
				// The API never returns the key, so the configured one is new to the imported state: the
				// plan is the adoption, an update that keeps secret_version (the server holds that key).
				step := importStep("modelkeys_credential.test")
				step.ExpectNonEmptyPlan = true
				step.ImportPlanChecks = resource.ImportPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("modelkeys_credential.test", plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue("modelkeys_credential.test", tfjsonpath.New("secret_version"), knownvalue.Int64Exact(1)),
				}}
				return step
			}(),
			importStep("modelkeys_connection.test"),
			importStep("modelkeys_model_policy.org"),
			importStep("modelkeys_model_policy.project"),
			importStep("modelkeys_credential_policy.org"),
			importStep("modelkeys_credential_policy.project"),
		},
	})
}
