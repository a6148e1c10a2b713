package provider

import (
	"regexp"
	"testing"

	tfresource "github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// TestAccCredential_lifecycleSpelling: another spelling of the same period (90d, 2160h) or instant
// (Z, +01:00) plans nothing and keeps the state's; another value plans an update.
func TestAccCredential_lifecycleSpelling(t *testing.T) {
	s, _ := newLifecycleServer(t)
	cfg := func(period, expires string) string {
		return lifecycleConfig(s, keyOne, "  rotation_period = \""+period+"\"\n  expires_at      = \""+expires+"\"", "")
	}
	tfresource.ParallelTest(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		CheckDestroy:             checkLifecycleDestroyed(s),
		Steps: []tfresource.TestStep{
			// Wrong values fail at plan time, naming the attribute (first: the destroy uses the last step's configuration).
			{
				Config:      cfg("30d", "2031-01-01 00:00:00Z"),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Invalid expires_at.*not an RFC 3339 timestamp`),
			},
			{
				Config:      cfg("30 days", "2031-01-01T00:00:00Z"),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Invalid rotation_period.*is not a duration`),
			},
			{
				Config: cfg("90d", "2031-01-01T00:00:00Z"),
				ConfigStateChecks: []statecheck.StateCheck{
					lcState("rotation_period", knownvalue.StringExact("90d")),
					lcState("expires_at", knownvalue.StringExact("2031-01-01T00:00:00Z")),
				},
			},
			{
				Config:           cfg("2160h", "2031-01-01T01:00:00+01:00"),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				ConfigStateChecks: []statecheck.StateCheck{
					lcState("rotation_period", knownvalue.StringExact("90d")),
					lcState("expires_at", knownvalue.StringExact("2031-01-01T00:00:00Z")),
				},
			},
			{
				Config: cfg("30d", "2031-01-01T01:00:00+01:00"),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(lcAddr, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(lcAddr, tfjsonpath.New("rotation_period"), knownvalue.StringExact("30d")),
						plancheck.ExpectKnownValue(lcAddr, tfjsonpath.New("expires_at"), knownvalue.StringExact("2031-01-01T00:00:00Z")),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
		},
	})
}

// TestAccCredentialPolicy_durationSpelling: max_rotation_period and expiry_warning in another
// spelling plan nothing; another value plans an update.
func TestAccCredentialPolicy_durationSpelling(t *testing.T) {
	s := newTestServer(t)
	cfg := func(maxPeriod, warning string) string {
		return s.providerConfig() + `
resource "modelkeys_credential_policy" "org" {
  max_rotation_period = "` + maxPeriod + `"
  expiry_warning      = "` + warning + `"
}
`
	}
	tfresource.ParallelTest(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		CheckDestroy:             checkLifecycleDestroyed(s),
		Steps: []tfresource.TestStep{
			{Config: cfg("90d", "14d")},
			{
				Config:           cfg("2160h", "336h"),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(credPolicyAddr, tfjsonpath.New("max_rotation_period"), knownvalue.StringExact("90d")),
					statecheck.ExpectKnownValue(credPolicyAddr, tfjsonpath.New("expiry_warning"), knownvalue.StringExact("14d")),
				},
			},
			{
				Config: cfg("30d", "336h"),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(credPolicyAddr, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(credPolicyAddr, tfjsonpath.New("max_rotation_period"), knownvalue.StringExact("30d")),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(credPolicyAddr, tfjsonpath.New("max_rotation_period"), knownvalue.StringExact("30d")),
				},
			},
		},
	})
}
