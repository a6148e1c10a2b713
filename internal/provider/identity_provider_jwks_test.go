package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/federation/federationtest"
)

// The server stores jwks_json as the public keys only, re-serialised; a configuration that spells
// the keys otherwise, with a member the server drops, applies once and then plans nothing, and keeps
// its own spelling in state, while the server holds no trace of the dropped member.
func TestAccIdentityProvider_jwksStoredAsPublicKeys(t *testing.T) {
	iss := federationtest.NewIssuer(t)
	s := newTestServer(t, withLoopbackIssuers)
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal([]byte(iss.JWKSJSON()), &set); err != nil {
		t.Fatal(err)
	}
	set.Keys[0]["x-internal-note"] = "NOTE-not-stored"
	b, err := json.MarshalIndent(set, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	configured := string(b) + "\n"
	config := identityProviderConfig(s, fmt.Sprintf(`  name      = "offline"
  issuer    = %q
  audiences = ["modelkeys"]
  jwks_json = %q`, iss.URL(), configured))
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
					statecheck.ExpectKnownValue(idpAddr, tfjsonpath.New("jwks_json"), knownvalue.StringExact(configured)),
				},
				Check: func(st *terraform.State) error {
					p, err := s.Client.GetIdentityProvider(context.Background(), st.RootModule().Resources[idpAddr].Primary.ID)
					if err != nil {
						return err
					}
					if strings.Contains(p.JWKSJSON, "NOTE-not-stored") {
						return fmt.Errorf("the server keeps a member that is not part of a public key: %s", p.JWKSJSON)
					}
					return nil
				},
			},
			{
				// Applying the same configuration again sends the keys again: no change, no new version.
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
		},
	})
}
