package provider

import (
	"regexp"
	"slices"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
)

func TestAccProvidersDataSource_all(t *testing.T) {
	s := newTestServer(t)
	ids := catalog.ProviderIDs()
	openai := slices.Index(ids, "openai")
	if openai < 0 {
		t.Fatal("the catalog has no openai provider")
	}
	const addr = "data.modelkeys_providers.all"
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		Steps: []resource.TestStep{{
			Config: s.providerConfig() + `data "modelkeys_providers" "all" {}`,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("id"), knownvalue.Null()),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("providers"), knownvalue.ListSizeExact(len(ids))),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("providers").AtSliceIndex(0).AtMapKey("id"), knownvalue.StringExact(ids[0])),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("providers").AtSliceIndex(openai), knownvalue.ObjectExact(map[string]knownvalue.Check{
					"id":                knownvalue.StringExact("openai"),
					"display_name":      knownvalue.StringExact("OpenAI"),
					"category":          knownvalue.StringExact("model_provider"),
					"required_settings": knownvalue.ListExact([]knownvalue.Check{}),
					"optional_settings": knownvalue.ListExact([]knownvalue.Check{
						knownvalue.StringExact("organization_id"), knownvalue.StringExact("project"), knownvalue.StringExact("base_url"),
						// keyless credentials (auth_method = "workload_identity")
						knownvalue.StringExact("auth_method"), knownvalue.StringExact("identity_provider_id"), knownvalue.StringExact("service_account_id"),
						knownvalue.StringExact("audience"), knownvalue.StringExact("token_url"),
					}),
					"settings": knownvalue.ListSizeExact(8),
					"secret_fields": knownvalue.ListExact([]knownvalue.Check{knownvalue.ObjectExact(map[string]knownvalue.Check{
						"name":        knownvalue.StringExact("api_key"),
						"description": knownvalue.StringRegexp(regexp.MustCompile(`OpenAI API key`)),
						"required":    knownvalue.Bool(true),
					})}),
					"auth_methods":     knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("bearer"), knownvalue.StringExact("workload_identity")}),
					"default_base_url": knownvalue.StringExact("https://api.openai.com/v1"),
					"docs_url":         knownvalue.StringExact("https://platform.openai.com/docs/api-reference/authentication"),
					"any_model":        knownvalue.Bool(false),
				})),
			},
		}},
	})
}

func TestAccProvidersDataSource_filter(t *testing.T) {
	s := newTestServer(t)
	const addr = "data.modelkeys_providers.azure"
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		Steps: []resource.TestStep{
			{
				Config: s.providerConfig() + `
data "modelkeys_providers" "azure" {
  id = "azure_openai"
}
`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("providers"), knownvalue.ListSizeExact(1)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("providers").AtSliceIndex(0).AtMapKey("id"), knownvalue.StringExact("azure_openai")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("providers").AtSliceIndex(0).AtMapKey("required_settings"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.StringExact("endpoint"), knownvalue.StringExact("deployment"), knownvalue.StringExact("api_version"),
					})),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("providers").AtSliceIndex(0).AtMapKey("optional_settings"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.StringExact("auth_method"), knownvalue.StringExact("tenant_id"), knownvalue.StringExact("client_id"),
						knownvalue.StringExact("audience"), knownvalue.StringExact("token_url"),
						// the scope of managed rotation through Azure Resource Manager
						knownvalue.StringExact("subscription_id"), knownvalue.StringExact("resource_group"), knownvalue.StringExact("account_name"),
					})),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("providers").AtSliceIndex(0).AtMapKey("auth_methods"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.StringExact("api_key"), knownvalue.StringExact("entra_id"), knownvalue.StringExact("workload_identity"),
					})),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("providers").AtSliceIndex(0).AtMapKey("settings").AtSliceIndex(1), knownvalue.ObjectExact(map[string]knownvalue.Check{
						"name":        knownvalue.StringExact("deployment"),
						"description": knownvalue.StringRegexp(regexp.MustCompile(`deployment`)),
						"required":    knownvalue.Bool(true),
						"example":     knownvalue.StringExact("gpt-4o-prod"),
					})),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("providers").AtSliceIndex(0).AtMapKey("default_base_url"), knownvalue.Null()),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("providers").AtSliceIndex(0).AtMapKey("any_model"), knownvalue.Bool(true)),
				},
			},
			{
				Config: s.providerConfig() + `
data "modelkeys_providers" "azure" {
  id = "azure_openia"
}
`,
				ExpectError: regexp.MustCompile(`(?s)Unknown model provider.*azure_openia.*azure_openai`),
			},
		},
	})
}
