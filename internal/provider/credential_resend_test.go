package provider

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

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

// The plan says when an update sends a write-only key again, and why; it says nothing when the key is
// not resent or when its version changes (a rotation, which the plan shows anyway).
func TestWarnResend(t *testing.T) {
	model := func(settings map[string]string, verify bool, woVersion int64) *credentialModel {
		elems := map[string]attr.Value{}
		for k, v := range settings {
			elems[k] = types.StringValue(v)
		}
		return &credentialModel{ModelProvider: types.StringValue("openai"), Settings: types.MapValueMust(types.StringType, elems),
			Verify: types.BoolValue(verify), APIKeyWOVersion: types.Int64Value(woVersion), AuthTokenWOVersion: types.Int64Null(),
			APIKeyWO: types.StringValue(keyTwo), AuthTokenWO: types.StringNull()}
	}
	home := map[string]string{"base_url": "https://a.example.com/v1"}
	tests := []struct {
		name        string
		state, plan *credentialModel
		want        []string // in the warning; none expected when empty
	}{
		{"a setting that does not move the key", model(home, true, 1), model(map[string]string{"base_url": "https://a.example.com/v1", "project": "p"}, true, 1), nil},
		{"a move", model(home, true, 1), model(map[string]string{"base_url": "https://b.example.com/v1"}, true, 1),
			[]string{"settings.base_url", "api_key_wo", "bump api_key_wo_version"}},
		{"verify turned on", model(home, false, 1), model(home, true, 1), []string{"Turning verify on", "api_key_wo"}},
		{"a move with a new version rotates", model(home, true, 1), model(map[string]string{"base_url": "https://b.example.com/v1"}, true, 2), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var diags diag.Diagnostics
			warnResend(tt.plan, tt.state, tt.plan, &diags)
			if len(tt.want) == 0 {
				if diags.WarningsCount() != 0 {
					t.Fatalf("unexpected warning: %v", diags)
				}
				return
			}
			if diags.WarningsCount() != 1 {
				t.Fatalf("warnings = %v, want one", diags)
			}
			detail := diags.Warnings()[0].Detail()
			for _, w := range tt.want {
				if !strings.Contains(detail, w) {
					t.Errorf("the warning does not say %q: %s", w, detail)
				}
			}
		})
	}
}
