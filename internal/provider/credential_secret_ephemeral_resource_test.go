package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/echoprovider"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
)

func withEcho() map[string]func() (tfprotov6.ProviderServer, error) {
	return map[string]func() (tfprotov6.ProviderServer, error){
		"modelkeys": protoV6Providers["modelkeys"],
		"echo":      echoprovider.NewProviderServer(),
	}
}

func revealConfig(s *testServer, id string) string {
	return s.providerConfig() + fmt.Sprintf(`
ephemeral "modelkeys_credential_secret" "k" {
  credential_id = %q
}

provider "echo" {
  data = ephemeral.modelkeys_credential_secret.k
}

resource "echo" "k" {}
`, id)
}

// TestAccCredentialSecret_reveal opens a credential's secret and hands it to another provider (echo
// stands in for a Kubernetes or CI secret).
func TestAccCredentialSecret_reveal(t *testing.T) {
	s := newTestServer(t, func(c *service.Config) { c.AllowReveal = true })
	key := "sk-proj-reveal-me-0000000000000000000042"
	c, err := s.Client.CreateCredential(context.Background(), api.CredentialCreate{Name: "revealed", Provider: "openai", APIKey: &key, Verify: boolPtr(false)})
	if err != nil {
		t.Fatal(err)
	}
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: withEcho(),
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_10_0)},
		Steps: []resource.TestStep{{
			Config: revealConfig(s, c.ID),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("echo.k", tfjsonpath.New("data").AtMapKey("api_key"), knownvalue.StringExact(key)),
				statecheck.ExpectKnownValue("echo.k", tfjsonpath.New("data").AtMapKey("auth_token"), knownvalue.Null()),
			},
		}},
	})
	events, err := s.Client.ListAuditEvents(context.Background(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	reveals := 0
	for _, e := range events.Items {
		if e.Action == "reveal" && e.ObjectID == c.ID {
			reveals++
		}
	}
	if reveals == 0 {
		t.Fatal("the reveal was not audited")
	}
}

func TestAccCredentialSecret_refusedWithoutAllowReveal(t *testing.T) {
	s := newTestServer(t)
	key := "sk-proj-stays-hidden-00000000000000000043"
	c, err := s.Client.CreateCredential(context.Background(), api.CredentialCreate{Name: "hidden", Provider: "openai", APIKey: &key, Verify: boolPtr(false)})
	if err != nil {
		t.Fatal(err)
	}
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: withEcho(),
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_10_0)},
		Steps: []resource.TestStep{{
			Config:      revealConfig(s, c.ID),
			ExpectError: regexp.MustCompile(`(?s)Reveal refused.*--allow-reveal`),
		}},
	})
}
