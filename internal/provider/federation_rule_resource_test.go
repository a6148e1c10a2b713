package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/querycheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/federation/federationtest"
)

// ruleConfig is the provider block, an identity provider "test" for iss and a rule "test" with body.
func ruleConfig(s *testServer, iss *federationtest.Issuer, body string) string {
	return s.providerConfig() + fmt.Sprintf(`
resource "modelkeys_identity_provider" "test" {
  name      = "ci"
  issuer    = %q
  audiences = ["modelkeys"]
  client_id = "modelkeys-console" # people rules need it: the console signs in as this client
}

resource "modelkeys_project" "test" {
  name = "infra"
}

resource "modelkeys_federation_rule" "test" {
  identity_provider_id = modelkeys_identity_provider.test.id
%s
}
`, iss.URL(), body)
}

func TestAccFederationRule_lifecycle(t *testing.T) {
	iss := federationtest.NewIssuer(t)
	s := newTestServer(t, withLoopbackIssuers)
	var ruleID string
	id := statecheck.CompareValue(compareSame)
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		CheckDestroy:             checkAllDestroyed(s),
		Steps: []resource.TestStep{
			{
				Config: ruleConfig(s, iss, `  name       = "plan"
  role       = "viewer"
  conditions = { repository = "acme/infra" }`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(ruleAddr, plancheck.ResourceActionCreate),
						plancheck.ExpectKnownValue(ruleAddr, tfjsonpath.New("kind"), knownvalue.StringExact("workload")),
						plancheck.ExpectKnownValue(ruleAddr, tfjsonpath.New("token_ttl"), knownvalue.StringExact("15m")),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(ruleAddr, tfjsonpath.New("id"), knownvalue.StringRegexp(regexp.MustCompile(`^fr_`))),
					statecheck.CompareValuePairs(ruleAddr, tfjsonpath.New("identity_provider_id"), idpAddr, tfjsonpath.New("id"), compareSame),
					statecheck.ExpectKnownValue(ruleAddr, tfjsonpath.New("project_id"), knownvalue.Null()),
					statecheck.ExpectKnownValue(ruleAddr, tfjsonpath.New("credentials"), knownvalue.Null()),
					id.AddStateValue(ruleAddr, tfjsonpath.New("id")),
				},
				Check: captureAttr(ruleAddr, "id", &ruleID),
			},
			{
				// Narrower conditions, editor, confined to a project, a short token life: all in place.
				Config: ruleConfig(s, iss, `  name       = "apply"
  role       = "editor"
  project_id = modelkeys_project.test.id
  token_ttl  = "5m"
  conditions = { repository = "acme/infra", ref = "refs/heads/main", groups = "platform-*" }`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(ruleAddr, plancheck.ResourceActionUpdate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.CompareValuePairs(ruleAddr, tfjsonpath.New("project_id"), projectAddr, tfjsonpath.New("id"), compareSame),
					statecheck.ExpectKnownValue(ruleAddr, tfjsonpath.New("conditions"), knownvalue.MapSizeExact(3)),
					statecheck.ExpectKnownValue(ruleAddr, tfjsonpath.New("token_ttl"), knownvalue.StringExact("5m")),
					id.AddStateValue(ruleAddr, tfjsonpath.New("id")),
				},
			},
			{
				// Drift: someone widens the rule through the API; the plan narrows it again.
				PreConfig: func() {
					wide, role := map[string]string{"repository": "acme/*"}, api.RoleEditor
					if _, err := s.Client.UpdateFederationRule(context.Background(), ruleID, api.FederationRulePatch{Conditions: &wide, Role: &role}, 0); err != nil {
						t.Fatal(err)
					}
				},
				Config: ruleConfig(s, iss, `  name       = "apply"
  role       = "editor"
  project_id = modelkeys_project.test.id
  token_ttl  = "5m"
  conditions = { repository = "acme/infra", ref = "refs/heads/main", groups = "platform-*" }`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(ruleAddr, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(ruleAddr, tfjsonpath.New("conditions").AtMapKey("repository"), knownvalue.StringExact("acme/infra")),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{
				// Deleted out of band: the plan creates it again.
				PreConfig: func() {
					if err := s.Client.DeleteFederationRule(context.Background(), ruleID, 0); err != nil {
						t.Fatal(err)
					}
				},
				Config: ruleConfig(s, iss, `  name       = "apply"
  role       = "editor"
  project_id = modelkeys_project.test.id
  token_ttl  = "5m"
  conditions = { repository = "acme/infra", ref = "refs/heads/main", groups = "platform-*" }`),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectResourceAction(ruleAddr, plancheck.ResourceActionCreate)},
				},
			},
			{
				Config: ruleConfig(s, iss, `  name       = "apply"
  role       = "editor"
  project_id = modelkeys_project.test.id
  token_ttl  = "5m"
  conditions = { repository = "acme/infra", ref = "refs/heads/main", groups = "platform-*" }`),
			},
			{
				ResourceName:      ruleAddr,
				ImportState:       true,
				ImportStateVerify: true,
			},
		},
	})
}

// The server's rules, at plan: the conditions through federation.CheckConditions itself.
func TestAccFederationRule_planValidation(t *testing.T) {
	iss := federationtest.NewIssuer(t)
	s := newTestServer(t, withLoopbackIssuers)
	errorTest{
		config: func(body string) string { return ruleConfig(s, iss, `  name = "r"`+"\n"+body) },
		match:  wrappedText,
		// Plan only: the identity provider and project of the configuration are never created.
		planOnly: true,
	}.run(t, errorCases{
		"no conditions":        {`role = "viewer"` + "\n" + `conditions = {}`, `at least one condition is needed`},
		"only wildcards":       {`role = "viewer"` + "\n" + `conditions = { repository = "*", ref = "**" }`, `are all wildcards, so the rule would trust every token`},
		"empty pattern":        {`role = "viewer"` + "\n" + `conditions = { sub = "" }`, `condition "sub": the pattern is empty`},
		"admin for a workload": {`role = "admin"` + "\n" + `conditions = { sub = "x" }`, `A workload rule cannot grant admin`},
		"ttl too long":         {`role = "viewer"` + "\n" + `token_ttl = "2h"` + "\n" + `conditions = { sub = "x" }`, `token_ttl must be above 0 and at most 1h0m0s, not 2h`},
		"ttl not a duration":   {`role = "viewer"` + "\n" + `token_ttl = "15"` + "\n" + `conditions = { sub = "x" }`, `token_ttl "15" is not a duration`},
		"credentials for people": {`kind = "people"` + "\n" + `role = "viewer"` + "\n" + `credentials = ["*"]` + "\n" + `conditions = { sub = "x" }`,
			`Credentials are for workload rules`},
		"unknown kind": {`kind = "robots"` + "\n" + `role = "viewer"` + "\n" + `conditions = { sub = "x" }`, `kind value must be one of`},
	})
	if got, err := s.Client.ListAllIdentityProviders(context.Background(), client.IdentityProviderListOptions{}); err != nil || len(got) != 0 {
		t.Fatalf("refused configurations reached the server: %v %v", got, err)
	}
}

// A people rule may grant admin; its identity and terraform query (Terraform 1.14+).
func TestAccFederationRule_peopleIdentityAndQuery(t *testing.T) {
	iss := federationtest.NewIssuer(t)
	s := newTestServer(t, withLoopbackIssuers)
	config := ruleConfig(s, iss, `  name       = "admins"
  kind       = "people"
  role       = "admin"
  conditions = { groups = "modelkeys-admins", email = "*@acme.example" }`) + `
resource "modelkeys_federation_rule" "ci" {
  identity_provider_id = modelkeys_identity_provider.test.id
  name       = "ci"
  role       = "viewer"
  conditions = { repository = "acme/infra" }
}
`
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		CheckDestroy:             checkAllDestroyed(s),
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_14_0)},
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(ruleAddr, tfjsonpath.New("role"), knownvalue.StringExact("admin")),
					statecheck.ExpectIdentityValueMatchesState(ruleAddr, tfjsonpath.New("id")),
					statecheck.ExpectIdentity(ruleAddr, map[string]knownvalue.Check{"id": knownvalue.StringRegexp(regexp.MustCompile(`^fr_`))}),
				},
			},
			{
				Config:          config,
				ResourceName:    ruleAddr,
				ImportState:     true,
				ImportStateKind: resource.ImportBlockWithResourceIdentity,
			},
			{
				Query: true,
				Config: `
list "modelkeys_federation_rule" "people" {
  provider = modelkeys
  config {
    kind = "people"
  }
}

list "modelkeys_federation_rule" "all" {
  provider = modelkeys
}
`,
				QueryResultChecks: []querycheck.QueryResultCheck{
					querycheck.ExpectLength("modelkeys_federation_rule.people", 1),
					querycheck.ExpectLength("modelkeys_federation_rule.all", 2),
					querycheck.ExpectIdentity("modelkeys_federation_rule.people", map[string]knownvalue.Check{"id": knownvalue.StringRegexp(regexp.MustCompile(`^fr_`))}),
				},
			},
		},
	})
}
