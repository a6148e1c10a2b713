package provider

import (
	"context"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/querycheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/federation/federationtest"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/verify"
)

const (
	idpAddr  = "modelkeys_identity_provider.test"
	ruleAddr = "modelkeys_federation_rule.test"

	// The console's OAuth client secrets of these tests: never in state, logs or errors.
	clientSecretOne = "SECRET-oauth-client-secret-0000000001"
	clientSecretTwo = "SECRET-oauth-client-secret-0000000002"
)

// withLoopbackIssuers lets identity providers have a plain-http issuer on loopback (the test issuer),
// as an operator's --egress-allow 127.0.0.0/8 does.
func withLoopbackIssuers(c *service.Config) {
	c.Egress = verify.ServerEgress([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")})
}

// identityProviderConfig is the provider block and an identity provider "test" with body.
func identityProviderConfig(s *testServer, body string) string {
	return s.providerConfig() + "resource \"modelkeys_identity_provider\" \"test\" {\n" + body + "\n}\n"
}

func TestAccIdentityProvider_lifecycle(t *testing.T) {
	iss := federationtest.NewIssuer(t)
	s := newTestServer(t, withLoopbackIssuers)
	body := func(audiences, secret string, version int) string {
		return fmt.Sprintf(`  name      = "ci"
  issuer    = %q
  audiences = %s
  client_id = "modelkeys-console"
  client_secret_wo         = %q
  client_secret_wo_version = %d`, iss.URL(), audiences, secret, version)
	}
	id := statecheck.CompareValue(compareSame)
	var idpID string
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		CheckDestroy:             checkAllDestroyed(s),
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)}, // write-only
		Steps: []resource.TestStep{
			{
				Config: identityProviderConfig(s, body(`["modelkeys"]`, clientSecretOne, 1)),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(idpAddr, plancheck.ResourceActionCreate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(idpAddr, tfjsonpath.New("id"), knownvalue.StringRegexp(regexp.MustCompile(`^idp_`))),
					statecheck.ExpectKnownValue(idpAddr, tfjsonpath.New("issuer"), knownvalue.StringExact(iss.URL())),
					statecheck.ExpectKnownValue(idpAddr, tfjsonpath.New("audiences"), knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("modelkeys")})),
					statecheck.ExpectKnownValue(idpAddr, tfjsonpath.New("has_client_secret"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(idpAddr, tfjsonpath.New("client_secret_wo"), knownvalue.Null()),
					statecheck.ExpectKnownValue(idpAddr, tfjsonpath.New("jwks_json"), knownvalue.Null()),
					id.AddStateValue(idpAddr, tfjsonpath.New("id")),
				},
				Check: resource.ComposeTestCheckFunc(stateHoldsNone(clientSecretOne), captureAttr(idpAddr, "id", &idpID)),
			},
			{
				// A second audience and a new client secret: in place, the secret sent because its version moved.
				Config: identityProviderConfig(s, body(`["modelkeys", "sts.modelkeys"]`, clientSecretTwo, 2)),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(idpAddr, plancheck.ResourceActionUpdate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(idpAddr, tfjsonpath.New("audiences"), knownvalue.ListSizeExact(2)),
					statecheck.ExpectKnownValue(idpAddr, tfjsonpath.New("client_secret_wo_version"), knownvalue.Int64Exact(2)),
					id.AddStateValue(idpAddr, tfjsonpath.New("id")),
				},
				Check: stateHoldsNone(clientSecretOne, clientSecretTwo),
			},
			{
				// Drift: someone renames it and drops an audience through the API; the plan puts them back.
				PreConfig: func() {
					ctx := context.Background()
					name, auds := "renamed", []string{"modelkeys"}
					if _, err := s.Client.UpdateIdentityProvider(ctx, idpID, api.IdentityProviderPatch{Name: &name, Audiences: &auds}, 0); err != nil {
						t.Fatal(err)
					}
				},
				Config: identityProviderConfig(s, body(`["modelkeys", "sts.modelkeys"]`, clientSecretTwo, 2)),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(idpAddr, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(idpAddr, tfjsonpath.New("name"), knownvalue.StringExact("ci")),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: func(*terraform.State) error {
					p, err := s.Client.GetIdentityProvider(context.Background(), idpID)
					if err != nil {
						return err
					}
					if p.Name != "ci" || len(p.Audiences) != 2 || !p.HasClientSecret {
						return fmt.Errorf("after the apply the server has %+v", p)
					}
					return nil
				},
			},
			{
				// A new issuer is another trust: replace, never update.
				Config: identityProviderConfig(s, strings.Replace(body(`["modelkeys", "sts.modelkeys"]`, clientSecretTwo, 2), iss.URL(), "https://token.actions.githubusercontent.com", 1)),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectResourceAction(idpAddr, plancheck.ResourceActionDestroyBeforeCreate)},
				},
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				ResourceName:            idpAddr,
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"client_secret_wo_version"}, // configuration only: the server holds no version
			},
		},
	})
}

// What the server would refuse is refused at plan, naming the attribute, and nothing reaches the server.
func TestAccIdentityProvider_planValidation(t *testing.T) {
	s := newTestServer(t, withLoopbackIssuers)
	errorTest{
		config: func(body string) string { return identityProviderConfig(s, `  name = "x"`+"\n"+body) },
		match:  wrappedText,
	}.run(t, errorCases{
		"http issuer off loopback": {`issuer = "http://idp.example.com"`, `issuer must be https:// \(plain http only to a loopback address`},
		"issuer with a query":      {`issuer = "https://idp.example.com/?tenant=1"`, `must not have a query`},
		"p and q without d":        {`issuer = "https://idp.example.com"` + "\n" + `jwks_json = jsonencode({ keys = [{ kty = "RSA", p = "x", q = "z", n = "y", e = "AQAB" }] })`, `is a private key \(it has "p"\)`},
		"private key in jwks":      {`issuer = "https://idp.example.com"` + "\n" + `jwks_json = jsonencode({ keys = [{ kty = "RSA", d = "x", n = "y", e = "AQAB" }] })`, `is a private key`},
		"secret without client":    {`issuer = "https://idp.example.com"` + "\n" + `client_secret_wo = "x"` + "\n" + `client_secret_wo_version = 1`, `client_id`},
		"empty audiences":          {`issuer = "https://idp.example.com"` + "\n" + `audiences = []`, `audiences list must contain at least 1`},
		"audience twice":           {`issuer = "https://idp.example.com"` + "\n" + `audiences = ["a", "a"]`, `duplicate`},
		"audience is client_id":    {`issuer = "https://idp.example.com"` + "\n" + `client_id = "console"` + "\n" + `audiences = ["ci", "console"]`, `Audience is the client_id(.|\n)*audience "console" is this provider.s client_id`},
	})
	if got, err := s.Client.ListAllIdentityProviders(context.Background(), client.IdentityProviderListOptions{}); err != nil || len(got) != 0 {
		t.Fatalf("refused configurations reached the server: %v %v", got, err)
	}
}

// Identity (Terraform 1.12+), import by identity, and terraform query (1.14+).
func TestAccIdentityProvider_identityAndQuery(t *testing.T) {
	iss := federationtest.NewIssuer(t)
	s := newTestServer(t, withLoopbackIssuers)
	other, err := s.Client.CreateIdentityProvider(context.Background(), api.IdentityProviderCreate{Name: "gitlab", Issuer: "https://gitlab.example.com", Audiences: []string{"modelkeys"}})
	if err != nil {
		t.Fatal(err)
	}
	config := identityProviderConfig(s, fmt.Sprintf(`  name      = "ci"
  issuer    = %q
  audiences = ["modelkeys"]
  jwks_json = %q`, iss.URL(), iss.JWKSJSON()))
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		CheckDestroy:             checkAllDestroyed(s),
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_14_0)},
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectIdentityValueMatchesState(idpAddr, tfjsonpath.New("id")),
					statecheck.ExpectIdentity(idpAddr, map[string]knownvalue.Check{"id": knownvalue.StringRegexp(regexp.MustCompile(`^idp_`))}),
				},
			},
			{
				Config:          config,
				ResourceName:    idpAddr,
				ImportState:     true,
				ImportStateKind: resource.ImportBlockWithResourceIdentity,
			},
			{
				Query: true,
				Config: `
list "modelkeys_identity_provider" "all" {
  provider = modelkeys
}

list "modelkeys_identity_provider" "gitlab" {
  provider = modelkeys
  config {
    name = "gitlab"
  }
}
`,
				QueryResultChecks: []querycheck.QueryResultCheck{
					querycheck.ExpectLength("modelkeys_identity_provider.all", 2),
					querycheck.ExpectLength("modelkeys_identity_provider.gitlab", 1),
					querycheck.ExpectIdentity("modelkeys_identity_provider.gitlab", map[string]knownvalue.Check{"id": knownvalue.StringExact(other.ID)}),
				},
			},
		},
	})
}
