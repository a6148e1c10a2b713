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

// TestAccCredential_writeOnlyKeyChangesOnlyWithItsVersion: a write-only key changes only when its
// version does. Its variable already holds the next key (keyTwo) while the version stays 1: a change of
// settings that does not move the key sends no key at all; one that moves it resends the key, and the
// server refuses it because it is not the stored one, saying to bump the version; with the stored key
// the move applies without a rotation; bumping the version rotates.
func TestAccCredential_writeOnlyKeyChangesOnlyWithItsVersion(t *testing.T) {
	s := newTestServer(t)
	config := func(key string, version int, settings string) string {
		return credentialConfig(s, fmt.Sprintf(`
  name               = "openai-wo"
  model_provider     = "openai"
  api_key_wo         = %q
  api_key_wo_version = %d
  verify             = false
  settings           = { %s }
`, key, version, settings))
	}
	secretVersion := func(v int64, hint string) []statecheck.StateCheck {
		return []statecheck.StateCheck{
			statecheck.ExpectKnownValue(credAddr, tfjsonpath.New("secret_version"), knownvalue.Int64Exact(v)),
			statecheck.ExpectKnownValue(credAddr, tfjsonpath.New("secret_hint"), knownvalue.StringExact(hint)),
		}
	}
	const hintOne, hintTwo = "sk-proj-...0001", "sk-proj-...0002"
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		CheckDestroy:             checkAllDestroyed(s),
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		Steps: []resource.TestStep{
			{
				Config:            config(keyOne, 1, `base_url = "https://proxy-a.example.com/v1"`),
				ConfigStateChecks: secretVersion(1, hintOne),
			},
			{
				// A setting that does not decide where the key goes: the plan keeps the fingerprint,
				// and the apply sends no key (before, it resent keyTwo and rotated silently).
				Config: config(keyTwo, 1, `base_url = "https://proxy-a.example.com/v1", project = "proj_abc"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(credAddr, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(credAddr, tfjsonpath.New("secret_version"), knownvalue.Int64Exact(1)),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: secretVersion(1, hintOne),
			},
			{
				// A move needs the key, so it is resent, and the server refuses a key that is not the
				// stored one instead of rotating it.
				Config:      config(keyTwo, 1, `base_url = "https://proxy-b.example.com/v1", project = "proj_abc"`),
				ExpectError: regexp.MustCompile(`(?s)not\s+the\s+stored\s+key.*bump\s+api_key_wo_version`),
			},
			{
				// The stored key moves with the destination, unrotated.
				Config: config(keyOne, 1, `base_url = "https://proxy-b.example.com/v1", project = "proj_abc"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(credAddr, tfjsonpath.New("secret_version"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue(credAddr, tfjsonpath.New("settings").AtMapKey("base_url"), knownvalue.StringExact("https://proxy-b.example.com/v1")),
				},
			},
			{
				// Bumping the version is how the key rotates.
				Config: config(keyTwo, 2, `base_url = "https://proxy-b.example.com/v1", project = "proj_abc"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: secretVersion(2, hintTwo),
			},
		},
	})
}
