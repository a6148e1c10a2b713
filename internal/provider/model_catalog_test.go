package provider

import (
	"context"
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
)

// A connection's model that neither the catalog nor the credential's provider knows is an error
// (issue 38): at plan time when the credential already exists, from the server at apply when it is
// created in the same run, in the same words, with the nearest known names.
func TestAccConnection_unknownModel(t *testing.T) {
	s := newTestServer(t)
	cred := dsCredential(t, s, api.CredentialCreate{Name: "existing", Provider: "openai", APIKey: ptrTo(keyOne)})
	onExisting := func(body string) string {
		return s.providerConfig() + fmt.Sprintf(`
resource "modelkeys_connection" "test" {
  name          = "assistant"
  credential_id = %q
%s
}
`, cred.ID, body)
	}
	want := words(`model "gpt-4o-mni" is not a model of openai: the modelkeys catalog does not list it, and credential "existing" has verify = false, so openai was not asked for its model list. Did you mean "gpt-4o-mini"`)
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		Steps: []resource.TestStep{
			// The credential exists: the plan fails, before anything is sent.
			{Config: onExisting(`  model = "gpt-4o-mni"`), PlanOnly: true, ExpectError: want},
			// The credential is created in the same run: the server refuses at apply, in the same words.
			{Config: connectionConfig(s, `  model = "gpt-4o-mni"`), ExpectError: words(`model "gpt-4o-mni" is not a model of openai: the modelkeys catalog does not list it, and credential "openai" has verify = false, so openai was not asked for its model list. Did you mean "gpt-4o-mini"`)},
		},
	})
	// Nothing was created but the credential of the second step, which the test's destroy removed.
	conns, err := s.Client.ListConnections(context.Background(), client.ConnectionListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(conns.Items) != 0 {
		t.Errorf("an unknown model was stored: %+v", conns.Items)
	}
}

// allow_unknown_model = true accepts a model the catalog does not know yet; it changes nothing the
// server stores, so plans stay empty, and an import (which cannot read it) differs only there.
func TestAccConnection_allowUnknownModel(t *testing.T) {
	s := newTestServer(t)
	config := connectionConfig(s, `  model               = "gpt-99-preview"
  allow_unknown_model = true`)
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		CheckDestroy:             checkAllDestroyed(s),
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(connAddr, tfjsonpath.New("status"), knownvalue.StringExact(api.ConnectionReady)),
					statecheck.ExpectKnownValue(connAddr, tfjsonpath.New("allow_unknown_model"), knownvalue.Bool(true)),
				},
			},
			{
				ResourceName: connAddr, ImportState: true, ImportStateVerify: true,
				ImportStateVerifyIgnore: []string{"allow_unknown_model"},
			},
			// Taking the allowance away from an unchanged model is no change: it is checked when the model changes.
			{Config: connectionConfig(s, `  model = "gpt-99-preview"`), PlanOnly: true, ExpectNonEmptyPlan: true},
			// Changing to another unknown model without it fails at plan time (the credential exists now).
			{Config: connectionConfig(s, `  model = "gpt-4o-mni"`), PlanOnly: true, ExpectError: words(`Did you mean "gpt-4o-mini"`)},
			// A known model needs no allowance.
			{Config: connectionConfig(s, `  model = "gpt-4o-mini"`)},
		},
	})
}

// Policy publishers and models are checked against the catalog at plan time, with suggestions.
func TestAccModelPolicy_unknownEntries(t *testing.T) {
	s := newTestServer(t)
	policy := func(body string) string {
		return s.providerConfig() + `
resource "modelkeys_model_policy" "organization" {
  mode = "allowlist"
` + body + `
}
`
	}
	errorTest{config: policy, match: words, planOnly: true}.run(t, errorCases{
		"publisher typo": {`  publishers = ["opneai"]`, `publisher "opneai" is not a publisher the modelkeys catalog knows. Did you mean "openai"?`},
		"model typo":     {`  models = ["openai/gpt-4o-mni"]`, `"openai/gpt-4o-mni" is not a model the modelkeys catalog lists for openai. Did you mean "openai/gpt-4o-mini"`},
		"provider typo":  {`  models = ["opneai/gpt-4o"]`, `names the unknown provider "opneai" (did you mean "openai"?)`},
	})
	if pol, err := s.Client.GetModelPolicy(context.Background(), ""); err != nil || pol.Mode != api.PolicyAll {
		t.Errorf("a refused policy reached the server: %+v, %v", pol, err)
	}
}

// A policy by publisher allows a maker's models on every platform that serves them (issue 38):
// allowing openai and anthropic allows gpt-4o on Azure OpenAI and Claude Sonnet 4.5 on Bedrock.
func TestAccModelPolicy_publishersAcrossPlatforms(t *testing.T) {
	s := newTestServer(t)
	config := s.providerConfig() + `
resource "modelkeys_model_policy" "organization" {
  mode       = "allowlist"
  publishers = ["openai", "anthropic"]
}

resource "modelkeys_credential" "azure" {
  name           = "azure"
  model_provider = "azure_openai"
  api_key        = "azure-key-000000000000000000000000"
  verify         = false
  settings = {
    endpoint    = "https://acme.openai.azure.com"
    deployment  = "gpt-4o"
    api_version = "2024-10-21"
  }
}

resource "modelkeys_credential" "bedrock" {
  name           = "bedrock"
  model_provider = "bedrock"
  api_key        = "bedrock-key-00000000000000000000000"
  verify         = false
  settings       = { region = "us-east-1" }
}

resource "modelkeys_connection" "azure_gpt_4o" {
  name          = "azure-gpt-4o"
  credential_id = modelkeys_credential.azure.id
  model         = "gpt-4o"
  depends_on    = [modelkeys_model_policy.organization]
}

resource "modelkeys_connection" "bedrock_sonnet" {
  name          = "bedrock-sonnet"
  credential_id = modelkeys_credential.bedrock.id
  model         = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
  depends_on    = [modelkeys_model_policy.organization]
}
`
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		CheckDestroy:             checkAllDestroyed(s),
		Steps: []resource.TestStep{{
			Config: config,
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
			},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("modelkeys_connection.azure_gpt_4o", tfjsonpath.New("status"), knownvalue.StringExact(api.ConnectionReady)),
				statecheck.ExpectKnownValue("modelkeys_connection.bedrock_sonnet", tfjsonpath.New("status"), knownvalue.StringExact(api.ConnectionReady)),
			},
		}},
	})
}
