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
	resource.ParallelTest(t, resource.TestCase{
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
	t.Parallel()
	const want = `(?s)Invalid endpoint.*endpoint`
	errorTest{
		config: func(endpoint string) string {
			return fmt.Sprintf(`
provider "modelkeys" {
  endpoint = %q
}
data "modelkeys_providers" "all" {}
`, endpoint)
		},
		match:    regexp.MustCompile,
		planOnly: true,
	}.run(t, errorCases{
		"unknown scheme": {"ftp://example.com", want},
		"not a URL":      {"http://[::1", want},
		"no host":        {"https://", want},
	})
}
