package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
)

func TestAccConnection_fullConfiguration(t *testing.T) {
	s := newTestServer(t)
	config := s.providerConfig() + testConfig(t, "full", nil)
	all := []string{
		"modelkeys_project.research",
		"modelkeys_credential.openai", "modelkeys_credential.anthropic", "modelkeys_credential.local",
		"modelkeys_connection.gpt", "modelkeys_connection.claude", "modelkeys_connection.research_gpt",
		"modelkeys_connection.research_claude", "modelkeys_connection.research_llama",
		"modelkeys_model_policy.organization", "modelkeys_model_policy.research",
	}
	steps := []resource.TestStep{
		{
			Config: config,
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
			},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("modelkeys_connection.gpt", tfjsonpath.New("status"), knownvalue.StringExact(api.ConnectionReady)),
				statecheck.ExpectKnownValue("modelkeys_connection.gpt", tfjsonpath.New("model_provider"), knownvalue.StringExact("openai")),
				statecheck.ExpectKnownValue("modelkeys_connection.gpt", tfjsonpath.New("project_id"), knownvalue.Null()),
				statecheck.ExpectKnownValue("modelkeys_connection.gpt", tfjsonpath.New("enabled"), knownvalue.Bool(true)),
				statecheck.ExpectKnownValue("modelkeys_connection.gpt", tfjsonpath.New("id"), knownvalue.StringRegexp(regexp.MustCompile(`^conn_[0-9a-v]+$`))),
				statecheck.ExpectKnownValue("modelkeys_connection.claude", tfjsonpath.New("parameters"), knownvalue.StringExact(`{"max_tokens":1024,"temperature":0.2}`)),
				statecheck.ExpectKnownValue("modelkeys_connection.research_claude", tfjsonpath.New("enabled"), knownvalue.Bool(false)),
				statecheck.ExpectKnownValue("modelkeys_connection.research_llama", tfjsonpath.New("model_provider"), knownvalue.StringExact("custom")),
				statecheck.ExpectKnownValue("modelkeys_connection.research_llama", tfjsonpath.New("status"), knownvalue.StringExact(api.ConnectionReady)),
				statecheck.ExpectKnownValue("modelkeys_model_policy.organization", tfjsonpath.New("id"), knownvalue.StringExact("organization")),
				statecheck.ExpectKnownValue("modelkeys_model_policy.research", tfjsonpath.New("id"), knownvalue.StringRegexp(regexp.MustCompile(`^proj_`))),
				statecheck.ExpectKnownValue("modelkeys_project.research", tfjsonpath.New("inherit_organization_credentials"), knownvalue.Bool(true)),
				statecheck.CompareValuePairs("modelkeys_model_policy.research", tfjsonpath.New("project_id"),
					"modelkeys_project.research", tfjsonpath.New("id"), compareSame),
			},
		},
		{
			// The credentials were written before their connections: refresh so that state holds
			// connection_ids as the server has them now, as an import reads them.
			RefreshState: true,
			Check:        resource.TestCheckResourceAttr("modelkeys_credential.anthropic", "connection_ids.#", "2"),
		},
	}
	for _, addr := range all {
		step := resource.TestStep{
			Config:            config,
			ResourceName:      addr,
			ImportState:       true,
			ImportStateVerify: true,
		}
		if strings.HasPrefix(addr, "modelkeys_credential.") {
			step.ImportStateVerifyIgnore = []string{"api_key", "auth_token"}
		}
		steps = append(steps, step)
	}
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		CheckDestroy:             checkAllDestroyed(s),
		Steps:                    steps,
	})
}

// TestAccConnection_drift changes a connection through the API: the plan shows an update that puts the
// configuration back, and after it the plan is empty.
func TestAccConnection_drift(t *testing.T) {
	s := newTestServer(t)
	config := connectionConfig(s, `  model = "gpt-4.1"`)
	var id string
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		CheckDestroy:             checkAllDestroyed(s),
		Steps: []resource.TestStep{
			{Config: config, Check: captureAttr(connAddr, "id", &id)},
			{
				PreConfig: func() {
					model, off := "gpt-4o-mini", false
					if _, err := s.Client.UpdateConnection(context.Background(), id, api.ConnectionPatch{Model: &model, Enabled: &off}, 0); err != nil {
						t.Fatal(err)
					}
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(connAddr, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(connAddr, tfjsonpath.New("model"), knownvalue.StringExact("gpt-4.1")),
						plancheck.ExpectKnownValue(connAddr, tfjsonpath.New("enabled"), knownvalue.Bool(true)),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(connAddr, tfjsonpath.New("model"), knownvalue.StringExact("gpt-4.1")),
					statecheck.ExpectKnownValue(connAddr, tfjsonpath.New("enabled"), knownvalue.Bool(true)),
				},
			},
			{
				// Its credential deleted with force by an admin: the credential is planned again and the
				// connection, left without one, is pointed back at it in place.
				PreConfig: func() {
					conn, err := s.Client.GetConnection(context.Background(), id)
					if err != nil {
						t.Fatal(err)
					}
					if err := s.Client.ForceDeleteCredential(context.Background(), conn.CredentialID, 0); err != nil {
						t.Fatal(err)
					}
					if conn, err = s.Client.GetConnection(context.Background(), id); err != nil || conn.Status != api.ConnectionInvalid {
						t.Fatalf("connection after the forced delete of its credential: %+v %v", conn, err)
					}
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("modelkeys_credential.openai", plancheck.ResourceActionCreate),
						plancheck.ExpectResourceAction(connAddr, plancheck.ResourceActionUpdate),
						plancheck.ExpectUnknownValue(connAddr, tfjsonpath.New("credential_id")),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(connAddr, tfjsonpath.New("status"), knownvalue.StringExact(api.ConnectionReady)),
					statecheck.CompareValuePairs(connAddr, tfjsonpath.New("credential_id"),
						"modelkeys_credential.openai", tfjsonpath.New("id"), compareSame),
				},
			},
			{
				// Deleted outside Terraform: planned again.
				PreConfig: func() {
					if err := s.Client.DeleteConnection(context.Background(), id, 0); err != nil {
						t.Fatal(err)
					}
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(connAddr, plancheck.ResourceActionCreate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
		},
	})
}

// TestAccConnection_parameters: the same JSON written another way plans nothing; a real change updates
// in place; re-pointing the connection at another credential updates in place too.
func TestAccConnection_parameters(t *testing.T) {
	s := newTestServer(t)
	id := statecheck.CompareValue(compareSame)
	// The connection goes through credential "openai" (withSecond) or "second" (onSecond).
	onSecond := func(cred, body string) string {
		return connectionConfigOn(s, cred, body) + fmt.Sprintf(`
resource "modelkeys_credential" "second" {
  name           = "openai-second"
  model_provider = "openai"
  api_key        = %q
  verify         = false
}
`, keyTwo)
	}
	withSecond := func(body string) string { return onSecond("openai", body) }
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		CheckDestroy:             checkAllDestroyed(s),
		Steps: []resource.TestStep{
			// Not a JSON object, not JSON: refused at plan time.
			{
				Config: connectionConfig(s, `  model      = "gpt-4.1"
  parameters = jsonencode([0.2])`),
				PlanOnly:    true,
				ExpectError: words(`parameters must be a JSON object`),
			},
			{
				Config: connectionConfig(s, `  model      = "gpt-4.1"
  parameters = "{temperature: 0.2}"`),
				PlanOnly:    true,
				ExpectError: words(`Invalid JSON String Value`),
			},
			{
				Config: withSecond(`  model      = "gpt-4.1"
  parameters = jsonencode({ temperature = 0.2, max_tokens = 256, metadata = { team = "ml" } })`),
				ConfigStateChecks: []statecheck.StateCheck{id.AddStateValue(connAddr, tfjsonpath.New("id"))},
			},
			{
				// Other key order, other spacing: the same JSON.
				Config: withSecond(`  model      = "gpt-4.1"
  parameters = <<-EOT
    {
      "metadata":    { "team": "ml" },
      "max_tokens":  256,
      "temperature": 0.2
    }
  EOT`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{
				Config: withSecond(`  model      = "gpt-4.1"
  parameters = <<-EOT
    { "max_tokens": 512, "temperature": 0.2, "metadata": { "team": "ml" } }
  EOT`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(connAddr, plancheck.ResourceActionUpdate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: func(st *terraform.State) error {
					got := st.RootModule().Resources[connAddr].Primary.Attributes["parameters"]
					if !jsonSame(got, `{"max_tokens":512,"temperature":0.2,"metadata":{"team":"ml"}}`) {
						return fmt.Errorf("parameters = %s", got)
					}
					return nil
				},
				ConfigStateChecks: []statecheck.StateCheck{id.AddStateValue(connAddr, tfjsonpath.New("id"))},
			},
			{
				// Re-pointing at another credential and dropping the parameters: in place.
				Config: withSecond(`  model = "gpt-4.1"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(connAddr, plancheck.ResourceActionUpdate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(connAddr, tfjsonpath.New("parameters"), knownvalue.Null()),
					id.AddStateValue(connAddr, tfjsonpath.New("id")),
				},
			},
			{
				Config: onSecond("second", `  model = "gpt-4.1"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(connAddr, plancheck.ResourceActionUpdate),
						plancheck.ExpectUnknownValue(connAddr, tfjsonpath.New("model_provider")),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					id.AddStateValue(connAddr, tfjsonpath.New("id")),
					statecheck.CompareValuePairs(connAddr, tfjsonpath.New("credential_id"), "modelkeys_credential.second", tfjsonpath.New("id"), compareSame),
					statecheck.ExpectKnownValue(connAddr, tfjsonpath.New("model_provider"), knownvalue.StringExact("openai")),
				},
			},
		},
	})
}

// TestAccConnection_credentialInUse removes from the configuration a credential that a connection made
// outside Terraform uses: Terraform cannot order that delete, the server refuses it, and the error
// names the connection.
func TestAccConnection_credentialInUse(t *testing.T) {
	s := newTestServer(t)
	var credID, connID string
	// ExpectError is read when the step runs, after its PreConfig has learnt the connection's id.
	inUse := regexp.MustCompile(`not known yet`)
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		CheckDestroy:             checkAllDestroyed(s),
		Steps: []resource.TestStep{
			{
				Config: credentialConfig(s, fmt.Sprintf(`
  name           = "shared"
  model_provider = "openai"
  api_key        = %q
  verify         = false
`, keyOne)),
				Check: captureAttr(credAddr, "id", &credID),
			},
			{
				PreConfig: func() {
					c, err := s.Client.CreateConnection(context.Background(), api.ConnectionCreate{Name: "made-by-hand", CredentialID: credID, Model: "gpt-4.1"})
					if err != nil {
						t.Fatal(err)
					}
					connID = c.ID
					*inUse = *words(fmt.Sprintf(`Credential is in use Credential "shared" (%s) cannot be deleted while connections use it: %s. Delete those connections`, credID, connID))
				},
				Config:      s.providerConfig(),
				ExpectError: inUse,
			},
			{
				// Once the connection is gone the delete goes through.
				PreConfig: func() {
					if err := s.Client.DeleteConnection(context.Background(), connID, 0); err != nil {
						t.Fatal(err)
					}
				},
				Config: s.providerConfig(),
				Check: func(*terraform.State) error {
					if _, err := s.Client.GetCredential(context.Background(), credID); !client.IsNotFound(err) {
						return fmt.Errorf("credential %s still exists (err %v)", credID, err)
					}
					return nil
				},
			},
		},
	})
}

// TestAccConnection_credentialChangesInTheSameRun re-points and deletes connections in the same run
// that updates their credentials: the credentials' connection_ids are known only after apply then,
// whichever write lands first.
func TestAccConnection_credentialChangesInTheSameRun(t *testing.T) {
	s := newTestServer(t)
	config := func(first, second, conn string) string {
		return s.providerConfig() + testConfig(t, "connection_credential_pair", map[string]string{
			"First": first, "FirstKey": keyOne, "Second": second, "SecondKey": keyTwo,
		}) + conn
	}
	connOn := func(cred string) string {
		return `
resource "modelkeys_connection" "test" {
  name          = "assistant"
  credential_id = modelkeys_credential.` + cred + `.id
  model         = "gpt-4.1"
}
`
	}
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		CheckDestroy:             checkAllDestroyed(s),
		Steps: []resource.TestStep{
			{Config: config("a", "a", connOn("first"))},
			{
				// Away from first while first changes.
				Config: config("b", "a", connOn("second")),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(connAddr, plancheck.ResourceActionUpdate),
						plancheck.ExpectResourceAction("modelkeys_credential.first", plancheck.ResourceActionUpdate),
					},
				},
			},
			{
				// Deleted while its credential changes.
				Config: config("b", "b", ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(connAddr, plancheck.ResourceActionDestroy),
						plancheck.ExpectResourceAction("modelkeys_credential.second", plancheck.ResourceActionUpdate),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{
				// connection_ids is as of the last refresh: after one, neither credential has users.
				RefreshState: true,
				Check: resource.ComposeTestCheckFunc(
					resource.TestCheckResourceAttr("modelkeys_credential.first", "connection_ids.#", "0"),
					resource.TestCheckResourceAttr("modelkeys_credential.second", "connection_ids.#", "0"),
				),
			},
		},
	})
}
