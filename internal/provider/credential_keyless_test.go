package provider

import (
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/verify"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/verify/vendortest"
)

// newKeylessTestServer is newTestServer as an OpenID issuer (--issuer-url) whose verifier is aimed at
// the vendor's fake, which trusts it. The issuer URL must be known before the server starts, so the
// provider talks to the server through a proxy on an address taken first, and that address is the
// issuer's.
func newKeylessTestServer(t *testing.T, vendor *vendortest.Vendor) (*testServer, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String()
	s := newTestServer(t, func(c *service.Config) {
		c.IssuerURL = issuer
		c.Verifier = verify.New(verify.Options{BaseURLs: vendor.BaseURLs(), Timeout: 5 * time.Second})
	})
	target, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewUnstartedServer(httputil.NewSingleHostReverseProxy(target))
	_ = front.Listener.Close()
	front.Listener = ln
	front.Start()
	t.Cleanup(front.Close)
	s.URL = issuer
	if s.Client, err = client.New(client.Config{BaseURL: issuer, Token: s.Token, RetryWaitMin: time.Millisecond, RetryWaitMax: 10 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	vendor.Issuer = issuer
	return s, issuer
}

func keylessConfig(s *testServer, vendor *vendortest.Vendor, verify bool) string {
	settings := ""
	for k, v := range vendor.Settings() {
		settings += fmt.Sprintf("    %s = %q\n", k, v)
	}
	return credentialConfig(s, fmt.Sprintf(`
  name           = "router"
  model_provider = "openrouter"
  verify         = %t
  settings = {
%s  }
`, verify, settings))
}

// trustCredential makes the vendor's federation policy name the subject of credential name, as an
// administrator does at the vendor once the credential exists.
func trustCredential(t *testing.T, s *testServer, vendor *vendortest.Vendor, name string) {
	t.Helper()
	ctx := context.Background()
	list, err := s.Client.ListCredentials(ctx, client.CredentialListOptions{Name: name})
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("find credential %s: %v", name, err)
	}
	who, err := s.Client.WhoAmI(ctx)
	if err != nil {
		t.Fatal(err)
	}
	vendor.Trust(service.CredentialSubject(who.OrganizationID, list.Items[0].ID))
}

// TestAccCredential_keyless creates a keyless credential (no api_key anywhere), verifies it once the
// vendor trusts its subject, imports it, and plans nothing more.
func TestAccCredential_keyless(t *testing.T) {
	vendor := vendortest.NewVendor(t, "openrouter", "", "")
	s, _ := newKeylessTestServer(t, vendor)
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		CheckDestroy:             checkAllDestroyed(s),
		Steps: []resource.TestStep{
			{
				Config: keylessConfig(s, vendor, false),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(credAddr, tfjsonpath.New("api_key"), knownvalue.Null()),
					statecheck.ExpectKnownValue(credAddr, tfjsonpath.New("status"), knownvalue.StringExact(api.StatusUnverified)),
					statecheck.ExpectKnownValue(credAddr, tfjsonpath.New("settings").AtMapKey("auth_method"), knownvalue.StringExact(api.AuthMethodWorkloadIdentity)),
				},
			},
			{
				// The vendor's federation policy now names the credential's subject.
				PreConfig: func() { trustCredential(t, s, vendor, "router") },
				Config:    keylessConfig(s, vendor, true),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(credAddr, plancheck.ResourceActionUpdate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(credAddr, tfjsonpath.New("status"), knownvalue.StringExact(api.StatusVerified)),
				},
			},
			{
				ResourceName:      credAddr,
				ImportState:       true,
				ImportStateVerify: true,
			},
			{
				Config:             keylessConfig(s, vendor, true),
				PlanOnly:           true,
				ExpectNonEmptyPlan: false,
			},
		},
	})
	if vendor.Exchanges.Load() == 0 {
		t.Error("the vendor never exchanged an assertion")
	}
}

// TestAccCredential_keylessPlanTime: plan-time validation names what a keyless credential lacks, and
// refuses a key sent with one; nothing reaches the server.
func TestAccCredential_keylessPlanTime(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	cases := errorCases{
		"missing federation setting": {`
  name           = "k"
  model_provider = "anthropic"
  settings = {
    auth_method        = "workload_identity"
    federation_rule_id = "fdrl_0123"
    organization_id    = "00000000-0000-0000-0000-000000000000"
    audience           = "https://api.anthropic.com"
  }
`, `require the setting service_account_id`},
		"key with a keyless credential": {fmt.Sprintf(`
  name           = "k"
  model_provider = "openrouter"
  api_key        = %q
  settings = {
    federation_policy_id = "4b2f"
    audience             = "https://openrouter.ai"
  }
`, keyOne), `are keyless: they store no secret`},
		"vertex without project": {`
  name           = "k"
  model_provider = "vertex_ai"
  settings = {
    auth_method                = "workload_identity"
    workload_identity_provider = "projects/1/locations/global/workloadIdentityPools/p/providers/q"
  }
`, `require the setting project_id`},
	}
	errorTest{
		config:   func(body string) string { return credentialConfig(s, body) },
		match:    words,
		planOnly: true,
	}.run(t, cases)
	list, err := s.Client.ListCredentials(context.Background(), clientListAll())
	if err != nil || len(list.Items) != 0 {
		t.Fatalf("plan-time validation let credentials through: %v, %v", list, err)
	}
}

// TestAccCredentialAccessToken opens a minutes-lived vendor token of a keyless credential and hands
// it to another provider (echo) without state holding it.
func TestAccCredentialAccessToken(t *testing.T) {
	vendor := vendortest.NewVendor(t, "openrouter", "", "")
	s, _ := newKeylessTestServer(t, vendor)
	c, err := s.Client.CreateCredential(context.Background(), api.CredentialCreate{Name: "router", Provider: "openrouter", Settings: vendor.Settings(), Verify: boolPtr(false)})
	if err != nil {
		t.Fatal(err)
	}
	trustCredential(t, s, vendor, "router")
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: withEcho(),
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_10_0)},
		Steps: []resource.TestStep{{
			Config: s.providerConfig() + fmt.Sprintf(`
ephemeral "modelkeys_credential_access_token" "t" {
  credential_id = %q
}

provider "echo" {
  data = ephemeral.modelkeys_credential_access_token.t
}

resource "echo" "t" {}
`, c.ID),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("echo.t", tfjsonpath.New("data").AtMapKey("token_type"), knownvalue.StringExact("Bearer")),
				statecheck.ExpectKnownValue("echo.t", tfjsonpath.New("data").AtMapKey("access_token"), knownvalue.StringRegexp(regexp.MustCompile(`^vendor-openrouter-`))),
				statecheck.ExpectKnownValue("echo.t", tfjsonpath.New("data").AtMapKey("expires_at"), knownvalue.StringRegexp(regexp.MustCompile(`^\d{4}-\d\d-\d\dT`))),
			},
		}},
	})
	if vendor.Exchanges.Load() == 0 {
		t.Error("no exchange was made")
	}
}

// TestAccCredentialAccessToken_keyedCredential: a credential that stores a key has no access token.
func TestAccCredentialAccessToken_keyedCredential(t *testing.T) {
	s := newTestServer(t)
	c, err := s.Client.CreateCredential(context.Background(), api.CredentialCreate{Name: "keyed", Provider: "openai", APIKey: ptrTo(keyOne), Verify: boolPtr(false)})
	if err != nil {
		t.Fatal(err)
	}
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: withEcho(),
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_10_0)},
		Steps: []resource.TestStep{{
			Config: s.providerConfig() + fmt.Sprintf(`
ephemeral "modelkeys_credential_access_token" "t" {
  credential_id = %q
}

provider "echo" {
  data = ephemeral.modelkeys_credential_access_token.t
}

resource "echo" "t" {}
`, c.ID),
			ExpectError: regexp.MustCompile(`(?s)keys\s+never\s+leave\s+modelkeys`),
		}},
	})
}
