package provider

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// TestAccProvider_unknownConfiguration: an endpoint known only after apply configures the provider at
// apply time; planning with it unknown must not crash.
func TestAccProvider_unknownConfiguration(t *testing.T) {
	s := newTestServer(t)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		CheckDestroy:             checkAllDestroyed(s),
		ExternalProviders:        map[string]resource.ExternalProvider{"terraform": {Source: "terraform.io/builtin/terraform"}},
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf(`
resource "terraform_data" "endpoint" {
  input = %q
}

provider "modelkeys" {
  endpoint = terraform_data.endpoint.output
  token    = %q
}

resource "modelkeys_project" "p" {
  name = "late-configured"
}
`, s.URL, s.Token),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("modelkeys_project.p", tfjsonpath.New("name"), knownvalue.StringExact("late-configured")),
			},
		}},
	})
}

// TestAccProvider_badEndpoint: an endpoint that is not a server URL or a file:// path fails at plan time.
func TestAccProvider_badEndpoint(t *testing.T) {
	for name, ep := range map[string]string{
		"unknown scheme": "ftp://example.com",
		"not a URL":      "http://[::1",
		"no host":        "https://",
	} {
		t.Run(name, func(t *testing.T) {
			resource.Test(t, resource.TestCase{
				PreCheck:                 func() { testAccPreCheck(t) },
				ProtoV6ProviderFactories: protoV6Providers,
				Steps: []resource.TestStep{{
					Config: fmt.Sprintf(`
provider "modelkeys" {
  endpoint = %q
}
data "modelkeys_providers" "all" {}
`, ep),
					PlanOnly:    true,
					ExpectError: regexp.MustCompile(`(?s)Invalid endpoint.*endpoint`),
				}},
			})
		})
	}
}
