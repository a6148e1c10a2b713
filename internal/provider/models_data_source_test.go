package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
)

// catalogModels is what the modelkeys_models data source should list for a provider and capability,
// and where id sits in that list (-1 when absent).
func catalogModels(t *testing.T, provider, capability, id string) (n, index int) {
	t.Helper()
	index = -1
	for _, m := range catalog.ModelsFor(provider) {
		if capability != "" && !catalog.HasCapability(m, capability) {
			continue
		}
		if m.ID == id {
			index = n
		}
		n++
	}
	if n == 0 {
		t.Fatalf("the catalog has no %s models with capability %q", provider, capability)
	}
	return n, index
}

func TestAccModelsDataSource_policy(t *testing.T) {
	s := newTestServer(t)
	ctx := context.Background()
	project := dsProject(t, s, api.ProjectCreate{Name: "restricted"})
	// The organisation allows only gpt-4o-mini of OpenAI's models (and every Mistral one); the project
	// further refuses gpt-4o-mini.
	if _, err := s.Client.PutModelPolicy(ctx, "", api.ModelPolicyPut{Mode: api.PolicyAllowlist, Models: []string{"openai/gpt-4o-mini"}, Publishers: []string{"mistral"}}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Client.PutModelPolicy(ctx, project.ID, api.ModelPolicyPut{Mode: api.PolicyDenylist, Models: []string{"openai/gpt-4o-mini"}}, 0); err != nil {
		t.Fatal(err)
	}
	nOpenAI, mini := catalogModels(t, "openai", "", "gpt-4o-mini")
	_, gpt41 := catalogModels(t, "openai", "", "gpt-4.1")
	nReasoning, miniReasoning := catalogModels(t, "openai", catalog.CapabilityReasoning, "gpt-4o-mini")
	if miniReasoning != -1 {
		t.Fatal("gpt-4o-mini is not expected to be a reasoning model")
	}
	nMistral := 0 // Mistral's models, from whichever provider serves them
	for _, m := range catalog.Models() {
		if m.Publisher == "mistral" {
			nMistral++
		}
	}
	nAll := len(catalog.Models())

	const (
		all        = "data.modelkeys_models.all"
		openai     = "data.modelkeys_models.openai"
		reasoning  = "data.modelkeys_models.reasoning"
		inProject  = "data.modelkeys_models.in_project"
		publishers = "data.modelkeys_models.mistral"
	)
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		Steps: []resource.TestStep{{
			Config: s.providerConfig() + testConfig(t, "models_policy", map[string]string{"Project": project.ID}),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(all, tfjsonpath.New("models"), knownvalue.ListSizeExact(nAll)),
				statecheck.ExpectKnownValue(all, tfjsonpath.New("project_id"), knownvalue.Null()),
				statecheck.ExpectKnownValue(openai, tfjsonpath.New("models"), knownvalue.ListSizeExact(nOpenAI)),
				statecheck.ExpectKnownValue(openai, tfjsonpath.New("models").AtSliceIndex(mini), knownvalue.ObjectExact(map[string]knownvalue.Check{
					"id":                knownvalue.StringExact("gpt-4o-mini"),
					"model_provider":    knownvalue.StringExact("openai"),
					"publisher":         knownvalue.StringExact("openai"),
					"display_name":      knownvalue.StringExact("GPT-4o mini"),
					"context_window":    knownvalue.Int64Exact(128000),
					"max_output_tokens": knownvalue.Int64Exact(16384),
					"input_modalities": knownvalue.ListExact([]knownvalue.Check{
						knownvalue.StringExact("text"), knownvalue.StringExact("image"), knownvalue.StringExact("pdf"),
					}),
					"output_modalities": knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("text")}),
					"tool_call":         knownvalue.Bool(true),
					"reasoning":         knownvalue.Bool(false),
					"release_date":      knownvalue.StringExact("2024-07-18"),
					"allowed":           knownvalue.Bool(true),
				})),
				// Refused by the organisation's allowlist.
				statecheck.ExpectKnownValue(openai, tfjsonpath.New("models").AtSliceIndex(gpt41).AtMapKey("id"), knownvalue.StringExact("gpt-4.1")),
				statecheck.ExpectKnownValue(openai, tfjsonpath.New("models").AtSliceIndex(gpt41).AtMapKey("allowed"), knownvalue.Bool(false)),
				statecheck.ExpectKnownValue(reasoning, tfjsonpath.New("models"), knownvalue.ListSizeExact(nReasoning)),
				statecheck.ExpectKnownValue(reasoning, tfjsonpath.New("models").AtSliceIndex(0).AtMapKey("reasoning"), knownvalue.Bool(true)),
				// The project's denylist refuses what the organisation allows.
				statecheck.ExpectKnownValue(inProject, tfjsonpath.New("project_id"), knownvalue.StringExact(project.ID)),
				statecheck.ExpectKnownValue(inProject, tfjsonpath.New("models"), knownvalue.ListSizeExact(nOpenAI)),
				statecheck.ExpectKnownValue(inProject, tfjsonpath.New("models").AtSliceIndex(mini).AtMapKey("id"), knownvalue.StringExact("gpt-4o-mini")),
				statecheck.ExpectKnownValue(inProject, tfjsonpath.New("models").AtSliceIndex(mini).AtMapKey("allowed"), knownvalue.Bool(false)),
				// Allowed by publisher.
				statecheck.ExpectKnownValue(publishers, tfjsonpath.New("models"), knownvalue.ListSizeExact(nMistral)),
				statecheck.ExpectKnownValue(publishers, tfjsonpath.New("models").AtSliceIndex(0).AtMapKey("publisher"), knownvalue.StringExact("mistral")),
				statecheck.ExpectKnownValue(publishers, tfjsonpath.New("models").AtSliceIndex(0).AtMapKey("allowed"), knownvalue.Bool(true)),
			},
		}},
	})
}

// TestAccModelsDataSource_credential lists the models a key reaches, narrowed by the other filters, with
// allowed under the policy of the credential's project.
func TestAccModelsDataSource_credential(t *testing.T) {
	s := newTestServer(t)
	project := dsProject(t, s, api.ProjectCreate{Name: "team-a"})
	key := dsKeyProject
	cred := dsCredential(t, s, api.CredentialCreate{Name: "openai", Provider: "openai", ProjectID: project.ID, APIKey: &key})
	if _, err := s.Client.PutModelPolicy(context.Background(), project.ID, api.ModelPolicyPut{Mode: api.PolicyDenylist, Models: []string{"openai/gpt-4.1"}}, 0); err != nil {
		t.Fatal(err)
	}
	nOpenAI, gpt41 := catalogModels(t, "openai", "", "gpt-4.1")
	nPDF, gpt41PDF := catalogModels(t, "openai", catalog.CapabilityPDF, "gpt-4.1")
	const (
		reached = "data.modelkeys_models.reached"
		pdf     = "data.modelkeys_models.pdf"
	)
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		Steps: []resource.TestStep{
			{
				Config: s.providerConfig() + fmt.Sprintf(`
data "modelkeys_models" "reached" {
  credential_id = %[1]q
}
data "modelkeys_models" "pdf" {
  credential_id = %[1]q
  capability    = "pdf"
}
data "modelkeys_models" "other_provider" {
  credential_id  = %[1]q
  model_provider = "mistral"
}
`, cred.ID),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(reached, tfjsonpath.New("models"), knownvalue.ListSizeExact(nOpenAI)),
					statecheck.ExpectKnownValue(reached, tfjsonpath.New("project_id"), knownvalue.Null()),
					statecheck.ExpectKnownValue(reached, tfjsonpath.New("models").AtSliceIndex(gpt41).AtMapKey("id"), knownvalue.StringExact("gpt-4.1")),
					statecheck.ExpectKnownValue(reached, tfjsonpath.New("models").AtSliceIndex(gpt41).AtMapKey("allowed"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue(pdf, tfjsonpath.New("models"), knownvalue.ListSizeExact(nPDF)),
					statecheck.ExpectKnownValue(pdf, tfjsonpath.New("models").AtSliceIndex(gpt41PDF).AtMapKey("input_modalities"), knownvalue.ListPartial(map[int]knownvalue.Check{
						2: knownvalue.StringExact("pdf"),
					})),
					statecheck.ExpectKnownValue("data.modelkeys_models.other_provider", tfjsonpath.New("models"), knownvalue.ListExact([]knownvalue.Check{})),
				},
			},
			{
				Config: s.providerConfig() + `
data "modelkeys_models" "x" {
  credential_id = "cred_doesnotexist"
}
`,
				ExpectError: wrappedText(`Credential not found.*No credential with id "cred_doesnotexist"`),
			},
		},
	})
}

func TestAccModelsDataSource_invalid(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	cases := errorCases{
		"unknown capability":     {`capability = "telepathy"`, `(?s)capability.*tool_call`},
		"unknown provider":       {`model_provider = "opena1"`, `(?s)model_provider.*openai`},
		"project and credential": {`project_id = "p"` + "\n" + `credential_id = "c"`, `(?s)Invalid Attribute Combination`},
		"unknown project":        {`project_id = "proj_doesnotexist"`, `(?s)Project not found.*proj_doesnotexist`},
	}
	errorTest{
		config: func(body string) string {
			return s.providerConfig() + "data \"modelkeys_models\" \"x\" {\n" + body + "\n}\n"
		},
		match: regexp.MustCompile,
	}.run(t, cases)
}
