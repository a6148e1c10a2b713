package provider

import (
	"context"
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
)

// The data source reads the issuer of a server started with --issuer-url and the subject of a
// credential's assertions, the one MintAssertion puts in sub, so the vendor's side of the trust can
// be written from it.
func TestAccIssuerDataSource(t *testing.T) {
	const issuerURL = "https://modelkeys.example.com"
	s := newTestServer(t, func(c *service.Config) { c.IssuerURL = issuerURL })
	ctx := context.Background()
	cred, err := s.Client.CreateCredential(ctx, api.CredentialCreate{Name: "openai", Provider: "openai", APIKey: ptrTo(keyOne), Verify: boolPtr(false)})
	if err != nil {
		t.Fatal(err)
	}
	who, err := s.Client.WhoAmI(ctx)
	if err != nil {
		t.Fatal(err)
	}
	subject := service.CredentialSubject(who.OrganizationID, cred.ID)
	common := func(addr string) []statecheck.StateCheck {
		return []statecheck.StateCheck{
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("issuer"), knownvalue.StringExact(issuerURL)),
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("jwks_uri"), knownvalue.StringExact(issuerURL+"/.well-known/jwks.json")),
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("discovery_url"), knownvalue.StringExact(issuerURL+"/.well-known/openid-configuration")),
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("subject_format"), knownvalue.StringExact("modelkeys:org:<organisation id>:credential:<credential id>")),
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("subject_prefix"), knownvalue.StringExact("modelkeys:org:"+who.OrganizationID+":credential:")),
		}
	}
	checks := append(common("data.modelkeys_issuer.for_credential"),
		statecheck.ExpectKnownValue("data.modelkeys_issuer.for_credential", tfjsonpath.New("subject"), knownvalue.StringExact(subject)),
		statecheck.ExpectKnownValue("data.modelkeys_issuer.for_credential", tfjsonpath.New("credential_id"), knownvalue.StringExact(cred.ID)),
		statecheck.ExpectKnownValue("data.modelkeys_issuer.server", tfjsonpath.New("subject"), knownvalue.Null()),
		// The subject, in the configuration, is what a vendor's federation rule would be given.
		statecheck.ExpectKnownOutputValue("vendor_rule_subject", knownvalue.StringExact(subject)),
	)
	checks = append(checks, common("data.modelkeys_issuer.server")...)
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		Steps: []resource.TestStep{
			{
				Config:      s.providerConfig() + `data "modelkeys_issuer" "x" { credential_id = "cred_doesnotexist" }`,
				ExpectError: wrappedText(`Credential not found.*cred_doesnotexist.*check credential_id`),
			},
			{
				Config: s.providerConfig() + fmt.Sprintf(`
data "modelkeys_issuer" "server" {}

data "modelkeys_issuer" "for_credential" {
  credential_id = %q
}

output "vendor_rule_subject" {
  value = data.modelkeys_issuer.for_credential.subject
}
`, cred.ID),
				ConfigStateChecks: checks,
			},
		},
	})
}

// A server started without --issuer-url says what to do.
func TestAccIssuerDataSource_notAnIssuer(t *testing.T) {
	s := newTestServer(t)
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		Steps: []resource.TestStep{{
			Config:      s.providerConfig() + `data "modelkeys_issuer" "x" {}`,
			ExpectError: wrappedText(`The modelkeys server is not an issuer.*--issuer-url`),
		}},
	})
}
