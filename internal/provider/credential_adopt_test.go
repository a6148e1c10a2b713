package provider

import (
	"context"
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

// adoptConfig imports credential id and configures it with the key attributes in keyAttrs.
func adoptConfig(s *testServer, id, keyAttrs string) string {
	return s.providerConfig() + fmt.Sprintf(`
import {
  to = modelkeys_credential.test
  id = %q
}

resource "modelkeys_credential" "test" {
  name           = "adopted"
  model_provider = "openai"
  verify         = false
  settings       = { organization_id = "org-123" }
%s
}
`, id, keyAttrs)
}

func createOutOfBand(t *testing.T, s *testServer, key string) *api.Credential {
	t.Helper()
	c, err := s.Client.CreateCredential(context.Background(), api.CredentialCreate{
		Name: "adopted", Provider: "openai", APIKey: &key, Verify: new(bool),
		Settings: map[string]string{"organization_id": "org-123"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// serverUnchanged checks that the credential on the server is the one created: no write happened.
func serverUnchanged(t *testing.T, s *testServer, before *api.Credential) resource.TestCheckFunc {
	return func(*terraform.State) error {
		c, err := s.Client.GetCredential(context.Background(), before.ID)
		if err != nil {
			return err
		}
		if c.Version != before.Version || c.SecretVersion != before.SecretVersion || c.SecretFingerprint != before.SecretFingerprint || !c.UpdatedAt.Equal(before.UpdatedAt) {
			return fmt.Errorf("the server saw a write: version %d -> %d, secret_version %d -> %d", before.Version, c.Version, before.SecretVersion, c.SecretVersion)
		}
		return nil
	}
}

// Adopting an existing credential whose key the configuration now holds: the plan is an update that only
// puts the key into state, with secret_version, fingerprint and hint as they are, and the apply writes
// nothing to the server. Import blocks by id work from Terraform 1.5, so this runs on every version.
func TestAccCredential_adoptMatchingKey(t *testing.T) {
	for name, keyAttrs := range map[string]string{
		"api_key":    fmt.Sprintf("  api_key = %q", keyOne),
		"api_key_wo": fmt.Sprintf("  api_key_wo         = %q\n  api_key_wo_version = 1", keyOne),
	} {
		t.Run(name, func(t *testing.T) {
			s := newTestServer(t)
			before := createOutOfBand(t, s, keyOne)
			resource.ParallelTest(t, resource.TestCase{
				PreCheck:                 func() { testAccPreCheck(t) },
				ProtoV6ProviderFactories: protoV6Providers,
				CheckDestroy:             checkAllDestroyed(s),
				Steps: []resource.TestStep{
					{
						Config: adoptConfig(s, before.ID, keyAttrs),
						ConfigPlanChecks: resource.ConfigPlanChecks{
							PreApply: []plancheck.PlanCheck{
								plancheck.ExpectResourceAction(credAddr, plancheck.ResourceActionUpdate),
								plancheck.ExpectKnownValue(credAddr, tfjsonpath.New("secret_version"), knownvalue.Int64Exact(before.SecretVersion)),
								plancheck.ExpectKnownValue(credAddr, tfjsonpath.New("secret_fingerprint"), knownvalue.StringExact(before.SecretFingerprint)),
								plancheck.ExpectKnownValue(credAddr, tfjsonpath.New("secret_hint"), knownvalue.StringExact(before.SecretHint)),
								plancheck.ExpectKnownValue(credAddr, tfjsonpath.New("updated_at"), knownvalue.NotNull()),
							},
							PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
						},
						ConfigStateChecks: []statecheck.StateCheck{
							statecheck.ExpectKnownValue(credAddr, tfjsonpath.New("secret_version"), knownvalue.Int64Exact(before.SecretVersion)),
						},
						Check: serverUnchanged(t, s, before),
					},
				},
			})
			if !hasAuditAction(t, s, before.ID, "compare") || hasAuditAction(t, s, before.ID, "update") {
				t.Error("want a compare event and no update event for the adopted credential")
			}
		})
	}
}

// A configured key that is not the server's is a rotation, planned as one.
func TestAccCredential_adoptOtherKeyRotates(t *testing.T) {
	s := newTestServer(t)
	before := createOutOfBand(t, s, keyOne)
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		CheckDestroy:             checkAllDestroyed(s),
		Steps: []resource.TestStep{
			{
				Config: adoptConfig(s, before.ID, fmt.Sprintf("  api_key = %q", keyTwo)),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(credAddr, plancheck.ResourceActionUpdate),
						plancheck.ExpectUnknownValue(credAddr, tfjsonpath.New("secret_version")),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(credAddr, tfjsonpath.New("secret_version"), knownvalue.Int64Exact(before.SecretVersion+1)),
				},
			},
		},
	})
}

func hasAuditAction(t *testing.T, s *testServer, id, action string) bool {
	t.Helper()
	page, err := s.Client.ListAuditEvents(context.Background(), 0, 500)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range page.Items {
		if e.ObjectID == id && e.Action == action {
			return true
		}
	}
	return false
}
