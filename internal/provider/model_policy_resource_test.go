package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

const orgPolicyAddr = "modelkeys_model_policy.org"

// policyConfig is an OpenAI credential with one connection to gpt-4.1, plus extra (a policy, say).
func policyConfig(s *testServer, extra string) string {
	return connectionConfig(s, `  model = "gpt-4.1"`) + extra
}

// TestAccModelPolicy_blocksConnection applies a denylist that refuses an existing connection's model:
// the connection's status turns to blocked with no planned change, and back to ready when the policy
// goes.
func TestAccModelPolicy_blocksConnection(t *testing.T) {
	s := newTestServer(t)
	denylist := policyConfig(s, `
resource "modelkeys_model_policy" "org" {
  mode   = "denylist"
  models = ["openai/gpt-4.1"]
}
`)
	without := policyConfig(s, "")
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		CheckDestroy:             checkAllDestroyed(s),
		Steps: []resource.TestStep{
			{
				Config: without,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(connAddr, tfjsonpath.New("status"), knownvalue.StringExact(api.ConnectionReady)),
				},
			},
			{
				Config: denylist,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(orgPolicyAddr, plancheck.ResourceActionCreate),
						plancheck.ExpectResourceAction(connAddr, plancheck.ResourceActionNoop),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{
				// Same configuration: the refresh reads the new status, and nothing is planned.
				Config: denylist,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(connAddr, tfjsonpath.New("status"), knownvalue.StringExact(api.ConnectionBlocked)),
					statecheck.ExpectKnownValue(connAddr, tfjsonpath.New("status_message"),
						knownvalue.StringExact(`Blocked: the organisation model policy denies model "openai/gpt-4.1".`)),
				},
			},
			{
				ResourceName:      orgPolicyAddr,
				ImportState:       true,
				ImportStateId:     "organization",
				ImportStateVerify: true,
			},
			{
				// Destroying the policy resets the organisation to mode all.
				Config: without,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(orgPolicyAddr, plancheck.ResourceActionDestroy),
						plancheck.ExpectResourceAction(connAddr, plancheck.ResourceActionNoop),
					},
				},
			},
			{
				Config: without,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(connAddr, tfjsonpath.New("status"), knownvalue.StringExact(api.ConnectionReady)),
					statecheck.ExpectKnownValue(connAddr, tfjsonpath.New("status_message"), knownvalue.StringExact("")),
				},
			},
		},
	})
}

// TestAccModelPolicy_refusedModel creates a connection to a model that the policies refuse: the apply
// fails with the rule named, for the organisation's policy and for a project's.
func TestAccModelPolicy_refusedModel(t *testing.T) {
	s := newTestServer(t)
	inProject := func(denied string) string {
		return s.providerConfig() + testConfig(t, "model_policy_refused_project", map[string]string{"Key": keyOne, "DeniedPublisher": denied})
	}
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		CheckDestroy:             checkAllDestroyed(s),
		Steps: []resource.TestStep{
			{
				// The connection waits for the policy, which refuses it.
				Config:      s.providerConfig() + testConfig(t, "model_policy_refused_org", map[string]string{"Key": keyOne}),
				ExpectError: words(`model openai/gpt-4o-mini is refused: the organisation model policy is an allowlist that includes neither model "openai/gpt-4o-mini" nor its publisher "openai"`),
			},
			{
				// The organisation's policy is gone (reset to all); the project's refuses OpenAI.
				Config:      inProject("openai"),
				ExpectError: regexp.MustCompile(`(?s)model\s+openai/gpt-4o-mini\s+is\s+refused:\s+the\s+project\s+proj_[0-9a-v]+\s+model\s+policy\s+denies\s+publisher\s+"openai"`),
			},
			{
				// Once the project's policy denies something else, the same connection applies.
				Config: inProject("meta"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("modelkeys_connection.in_project", tfjsonpath.New("status"), knownvalue.StringExact(api.ConnectionReady)),
				},
			},
		},
	})
}

func TestAccModelPolicy_project(t *testing.T) {
	s := newTestServer(t)
	config := func(policy string) string {
		return s.providerConfig() + `
resource "modelkeys_project" "p" {
  name = "p"
}

resource "modelkeys_model_policy" "p" {
  project_id = modelkeys_project.p.id
` + policy + `
}
`
	}
	addr := "modelkeys_model_policy.p"
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		CheckDestroy:             checkAllDestroyed(s),
		Steps: []resource.TestStep{
			{
				Config: config(`  mode       = "allowlist"
  models     = ["openai/gpt-4.1", "custom/llama3:8b"]
  publishers = ["anthropic"]`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.CompareValuePairs(addr, tfjsonpath.New("id"), "modelkeys_project.p", tfjsonpath.New("id"), compareSame),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("models"), knownvalue.SetExact([]knownvalue.Check{
						knownvalue.StringExact("openai/gpt-4.1"), knownvalue.StringExact("custom/llama3:8b"),
					})),
				},
			},
			{
				ResourceName:      addr,
				ImportState:       true,
				ImportStateVerify: true,
			},
			{
				Config: config(`  mode = "all"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("models"), knownvalue.Null()),
				},
			},
		},
	})
}

func TestAccModelPolicy_planTimeValidation(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	cases := errorCases{
		"all with models": {`
  mode   = "all"
  models = ["openai/gpt-4.1"]
`, `(?s)Invalid models.*` + words(`mode = "all" allows every model, so models must be empty`).String()},
		"all with publishers": {`
  mode       = "all"
  publishers = ["meta"]
`, `(?s)Invalid publishers.*` + words(`mode = "all" allows every model, so publishers must be empty`).String()},
		"unknown mode": {`
  mode = "some"
`, words(`mode value must be one of`).String()},
		"model without provider": {`
  mode   = "denylist"
  models = ["gpt-4.1"]
`, words(`provider/model`).String()},
		"unknown provider": {`
  mode   = "denylist"
  models = ["opena1/gpt-4.1"]
`, words(`unknown provider "opena1"`).String()},
		"bad publisher": {`
  mode       = "denylist"
  publishers = ["Meta AI"]
`, words(`"Meta AI" is not a publisher id`).String()},
	}
	errorTest{
		config: func(body string) string {
			return s.providerConfig() + fmt.Sprintf("resource \"modelkeys_model_policy\" \"org\" {\n%s\n}\n", body)
		},
		match:    regexp.MustCompile,
		planOnly: true,
	}.run(t, cases)
	pol, err := s.Client.GetModelPolicy(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if pol.Version != 0 {
		t.Fatalf("plan-time validation wrote a policy: %+v", pol)
	}
}
