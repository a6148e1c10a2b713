package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	tfresource "github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
)

const lcAddr = "modelkeys_credential.lc"

// lcClock is the server's clock in these tests; steps move it in PreConfig.
type lcClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *lcClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *lcClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newLifecycleServer is a test server whose clock the test moves, from 2030-01-01 (well after real
// time, so that nothing real catches up with it).
func newLifecycleServer(t *testing.T) (*testServer, *lcClock) {
	clock := &lcClock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	return newTestServer(t, func(c *service.Config) { c.Now = clock.Now }), clock
}

const day = 24 * time.Hour

func lcTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// lifecycleConfig is an OpenAI credential with key and the given lifecycle lines, plus extra.
func lifecycleConfig(s *testServer, key, lines, extra string) string {
	return s.providerConfig() + fmt.Sprintf(`
resource "modelkeys_credential" "lc" {
  name           = "rotating"
  model_provider = "openai"
  api_key        = %q
  verify         = false
%s
}
`, key, lines) + extra
}

// checkLifecycleDestroyed checks that credentials are gone and credential policies reset.
func checkLifecycleDestroyed(s *testServer) tfresource.TestCheckFunc {
	return func(st *terraform.State) error {
		ctx := context.Background()
		for addr, rs := range st.RootModule().Resources {
			switch rs.Type {
			case "modelkeys_credential":
				if _, err := s.Client.GetCredential(ctx, rs.Primary.ID); !client.IsNotFound(err) {
					return fmt.Errorf("%s still exists after destroy (%v)", addr, err)
				}
			case "modelkeys_credential_policy":
				pol, err := s.Client.GetCredentialPolicy(ctx, rs.Primary.Attributes["project_id"])
				if client.IsNotFound(err) {
					continue
				}
				if err != nil {
					return fmt.Errorf("%s: %w", addr, err)
				}
				if pol.Version != 0 || len(pol.AllowedProviders) > 0 || pol.MaxRotationPeriod != "" || pol.RequireVerification {
					return fmt.Errorf("%s: policy still %+v after destroy", addr, pol)
				}
			}
		}
		return nil
	}
}

func lcCapture(addr, attr string, dst *string) tfresource.TestCheckFunc {
	return func(s *terraform.State) error {
		rs, ok := s.RootModule().Resources[addr]
		if !ok {
			return fmt.Errorf("%s not in state", addr)
		}
		*dst = rs.Primary.Attributes[attr]
		return nil
	}
}

func lcState(attr string, v knownvalue.Check) statecheck.StateCheck {
	return statecheck.ExpectKnownValue(lcAddr, tfjsonpath.New(attr), v)
}

// TestAccCredential_rotationAndExpiry walks a credential through ok, expiring, expired and a rotation with the
// server's clock moving between steps: the status follows on every refresh, and no plan ever shows a
// change that the configuration did not make.
func TestAccCredential_rotationAndExpiry(t *testing.T) {
	s, clock := newLifecycleServer(t)
	start := clock.Now()
	expires := start.Add(30 * day)
	lines := fmt.Sprintf("  rotation_period = \"2160h\"\n  expires_at      = %q", lcTime(expires))
	cfg := lifecycleConfig(s, keyOne, lines, "")
	later := start.Add(365 * day)
	rotated := lifecycleConfig(s, keyTwo, fmt.Sprintf("  rotation_period = \"2160h\"\n  expires_at      = %q", lcTime(later)), "")
	var id string
	tfresource.ParallelTest(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		CheckDestroy:             checkLifecycleDestroyed(s),
		Steps: []tfresource.TestStep{
			{
				Config: cfg,
				Check:  lcCapture(lcAddr, "id", &id),
				ConfigStateChecks: []statecheck.StateCheck{
					lcState("rotation_period", knownvalue.StringExact("2160h")), // the configuration's spelling of the server's 90d
					lcState("expires_at", knownvalue.StringExact(lcTime(expires))),
					lcState("rotated_at", knownvalue.StringExact(lcTime(start))),
					lcState("rotation_due_at", knownvalue.StringExact(lcTime(start.Add(90*day)))),
					lcState("lifecycle_status", knownvalue.StringExact(api.LifecycleOK)),
					lcState("policy_violations", knownvalue.ListExact([]knownvalue.Check{})),
				},
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
			{
				// 20 days on, 10 days before expiry: expiring, and still nothing to plan.
				PreConfig:         func() { clock.Advance(20 * day) },
				Config:            cfg,
				ConfigPlanChecks:  tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				ConfigStateChecks: []statecheck.StateCheck{lcState("lifecycle_status", knownvalue.StringExact(api.LifecycleExpiring))},
			},
			{
				PreConfig:         func() { clock.Advance(11 * day) },
				Config:            cfg,
				ConfigPlanChecks:  tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				ConfigStateChecks: []statecheck.StateCheck{lcState("lifecycle_status", knownvalue.StringExact(api.LifecycleExpired))},
			},
			{
				// Rotating the key with its new expiry: ok again, rotated now.
				Config: rotated,
				ConfigPlanChecks: tfresource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(lcAddr, plancheck.ResourceActionUpdate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					lcState("lifecycle_status", knownvalue.StringExact(api.LifecycleOK)),
					lcState("rotated_at", knownvalue.StringExact(lcTime(start.Add(31*day)))),
					lcState("rotation_due_at", knownvalue.StringExact(lcTime(start.Add(121*day)))),
				},
			},
			{
				// Changed outside Terraform: the plan puts the configured period back.
				PreConfig: func() {
					if _, err := s.Client.UpdateCredential(context.Background(), id, api.CredentialPatch{RotationPeriod: ptrTo("30d")}, 0); err != nil {
						t.Fatal(err)
					}
				},
				Config: rotated,
				ConfigPlanChecks: tfresource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(lcAddr, plancheck.ResourceActionUpdate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{lcState("rotation_period", knownvalue.StringExact("2160h"))},
			},
			{
				// A key due for rotation is a warning on refresh, not a diff.
				PreConfig:         func() { clock.Advance(91 * day) },
				Config:            rotated,
				ConfigPlanChecks:  tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				ConfigStateChecks: []statecheck.StateCheck{lcState("lifecycle_status", knownvalue.StringExact(api.LifecycleRotationDue))},
			},
			{
				ResourceName:      lcAddr,
				ImportState:       true,
				ImportStateVerify: true,
				// The server spells the period 90d; the configuration 2160h.
				ImportStateVerifyIgnore: []string{"api_key", "rotation_period"},
			},
		},
	})
}

// TestAccCredential_lifecycleValidation refuses bad durations and timestamps at plan time.
func TestAccCredential_lifecycleValidation(t *testing.T) {
	s := newTestServer(t)
	tfresource.ParallelTest(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		Steps: []tfresource.TestStep{
			{Config: lifecycleConfig(s, keyOne, `  rotation_period = "90 days"`, ""), PlanOnly: true, ExpectError: regexp.MustCompile(`is not a duration`)},
			{Config: lifecycleConfig(s, keyOne, `  rotation_period = "0d"`, ""), PlanOnly: true, ExpectError: regexp.MustCompile(`not positive`)},
			{Config: lifecycleConfig(s, keyOne, `  expires_at = "2026-12-30"`, ""), PlanOnly: true, ExpectError: regexp.MustCompile(`RFC 3339`)},
			{Config: s.providerConfig() + `
resource "modelkeys_credential_policy" "org" {
  max_rotation_period = "3 months"
}
`, PlanOnly: true, ExpectError: regexp.MustCompile(`is not a duration`)},
			{Config: s.providerConfig() + `
resource "modelkeys_credential_policy" "org" {
  allowed_providers = ["openia"]
}
`, PlanOnly: true, ExpectError: regexp.MustCompile(`(?s)value must be one of`)},
		},
	})
}

const credPolicyAddr = "modelkeys_credential_policy.org"

// TestAccCredentialPolicy_lifecycle creates an organisation policy, imports it, repairs an
// out-of-band change, and resets the organisation on destroy.
func TestAccCredentialPolicy_lifecycle(t *testing.T) {
	s := newTestServer(t)
	cfg := s.providerConfig() + `
resource "modelkeys_credential_policy" "org" {
  allowed_providers    = ["openai", "anthropic"]
  max_rotation_period  = "2160h"
  require_verification = false
}
`
	tfresource.ParallelTest(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		CheckDestroy:             checkLifecycleDestroyed(s),
		Steps: []tfresource.TestStep{
			{
				Config: cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(credPolicyAddr, tfjsonpath.New("id"), knownvalue.StringExact("organization")),
					statecheck.ExpectKnownValue(credPolicyAddr, tfjsonpath.New("max_rotation_period"), knownvalue.StringExact("2160h")),
					statecheck.ExpectKnownValue(credPolicyAddr, tfjsonpath.New("expiry_warning"), knownvalue.StringExact("14d")),
					statecheck.ExpectKnownValue(credPolicyAddr, tfjsonpath.New("allowed_providers"),
						knownvalue.SetExact([]knownvalue.Check{knownvalue.StringExact("anthropic"), knownvalue.StringExact("openai")})),
				},
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
			{
				ResourceName:            credPolicyAddr,
				ImportState:             true,
				ImportStateId:           "organization",
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"max_rotation_period"}, // 90d on the server, 2160h in the configuration
			},
			{
				PreConfig: func() {
					if _, err := s.Client.PutCredentialPolicy(context.Background(), "", api.CredentialPolicyPut{AllowedProviders: []string{"mistral"}, RequireVerification: true}, 0); err != nil {
						t.Fatal(err)
					}
				},
				Config: cfg,
				ConfigPlanChecks: tfresource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(credPolicyAddr, plancheck.ResourceActionUpdate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
		},
	})
}

// TestAccCredentialPolicy_rules: a provider outside the list is refused at apply, naming the allowed
// ones; a stricter policy keeps an existing credential, with policy_violations and no diff; a project's
// policy adds its own rules.
func TestAccCredentialPolicy_rules(t *testing.T) {
	s := newTestServer(t)
	cred := lifecycleConfig(s, keyOne, `  rotation_period = "365d"`, "")
	strict := cred + `
resource "modelkeys_credential_policy" "org" {
  max_rotation_period = "90d"
}
`
	refused := s.providerConfig() + `
resource "modelkeys_project" "p" {
  name = "team"
}

resource "modelkeys_credential_policy" "p" {
  project_id        = modelkeys_project.p.id
  allowed_providers = ["anthropic"]
}

resource "modelkeys_credential" "refused" {
  name           = "openai"
  model_provider = "openai"
  project_id     = modelkeys_project.p.id
  api_key        = "` + keyTwo + `"
  verify         = false
  depends_on     = [modelkeys_credential_policy.p]
}
`
	tfresource.ParallelTest(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		CheckDestroy:             checkLifecycleDestroyed(s),
		Steps: []tfresource.TestStep{
			{Config: cred},
			{
				Config: strict,
				ConfigPlanChecks: tfresource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(credPolicyAddr, plancheck.ResourceActionCreate),
						plancheck.ExpectResourceAction(lcAddr, plancheck.ResourceActionNoop),
					},
				},
			},
			{
				// The refresh reads the violation; nothing is planned.
				Config:           strict,
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				ConfigStateChecks: []statecheck.StateCheck{
					lcState("policy_violations", knownvalue.ListExact([]knownvalue.Check{
						knownvalue.StringRegexp(regexp.MustCompile(`rotation_period 365d is longer than the max_rotation_period 90d`))})),
					lcState("rotation_due_at", knownvalue.NotNull()),
				},
			},
			{
				// Its next change is refused until it complies...
				Config:      strings.Replace(strict, `verify         = false`, "verify         = false\n  description    = \"touched\"", 1),
				ExpectError: regexp.MustCompile(`max_rotation_period`),
			},
			{
				// ... and a change that fixes it goes through.
				Config: strings.Replace(strict, `"365d"`, `"30d"`, 1),
				ConfigStateChecks: []statecheck.StateCheck{
					lcState("policy_violations", knownvalue.ListExact([]knownvalue.Check{})),
				},
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
			{
				Config:      refused,
				ExpectError: regexp.MustCompile(`(?s)Provider "openai" is not allowed.*allowed providers are: anthropic`),
			},
		},
	})
}

// TestAccCredentials_lifecycleFilter lists only the expired credentials.
func TestAccCredentials_lifecycleFilter(t *testing.T) {
	s, clock := newLifecycleServer(t)
	cfg := lifecycleConfig(s, keyOne, fmt.Sprintf(`  expires_at = %q`, lcTime(clock.Now().Add(day))), `
resource "modelkeys_credential" "other" {
  name           = "other"
  model_provider = "openai"
  api_key        = "`+keyTwo+`"
  verify         = false
}

data "modelkeys_credentials" "expired" {
  lifecycle_status = "expired"
  depends_on       = [modelkeys_credential.lc, modelkeys_credential.other]
}
`)
	tfresource.ParallelTest(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		CheckDestroy:             checkLifecycleDestroyed(s),
		Steps: []tfresource.TestStep{
			{
				Config: cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.modelkeys_credentials.expired", tfjsonpath.New("ids"), knownvalue.ListExact([]knownvalue.Check{})),
				},
			},
			{
				PreConfig: func() { clock.Advance(2 * day) },
				Config:    cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.modelkeys_credentials.expired", tfjsonpath.New("credentials").AtSliceIndex(0).AtMapKey("name"), knownvalue.StringExact("rotating")),
					statecheck.ExpectKnownValue("data.modelkeys_credentials.expired", tfjsonpath.New("credentials").AtSliceIndex(0).AtMapKey("lifecycle_status"), knownvalue.StringExact("expired")),
					statecheck.ExpectKnownValue("data.modelkeys_credentials.expired", tfjsonpath.New("ids"), knownvalue.ListSizeExact(1)),
				},
			},
		},
	})
}

// TestCredentialRefreshWarnsNamingTheCredential runs the resource's Read (a refresh) on a credential
// whose key has expired and one whose policy it breaks: each warning names the credential, says since
// when and what to do.
func TestCredentialRefreshWarnsNamingTheCredential(t *testing.T) {
	s := newTestServer(t)
	ctx := context.Background()
	past := time.Now().Add(-2 * time.Hour).UTC().Truncate(time.Second)
	c, err := s.Client.CreateCredential(ctx, api.CredentialCreate{Name: "old-key", Provider: "openai", APIKey: ptrTo(keyOne), Verify: ptrTo(false),
		ExpiresAt: past.Format(time.RFC3339), RotationPeriod: "365d"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Client.PutCredentialPolicy(ctx, "", api.CredentialPolicyPut{MaxRotationPeriod: "90d"}, 0); err != nil {
		t.Fatal(err)
	}

	// A refresh is ReadResource through the provider's protocol server, as Terraform runs it.
	srv, sch := configuredProtocolServer(t, s, "")
	typ := sch.ResourceSchemas["modelkeys_credential"].ValueType().(tftypes.Object)
	vals := map[string]tftypes.Value{}
	for name, at := range typ.AttributeTypes {
		vals[name] = tftypes.NewValue(at, nil)
	}
	vals["id"] = tftypes.NewValue(tftypes.String, c.ID)
	cur, err := tfprotov6.NewDynamicValue(typ, tftypes.NewValue(typ, vals))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.ReadResource(ctx, &tfprotov6.ReadResourceRequest{TypeName: "modelkeys_credential", CurrentState: &cur})
	if err != nil {
		t.Fatal(err)
	}
	var expired, violation bool
	for _, d := range resp.Diagnostics {
		if d.Severity != tfprotov6.DiagnosticSeverityWarning {
			t.Errorf("refresh diagnostic %s: %s: %s", d.Severity, d.Summary, d.Detail)
			continue
		}
		if !strings.Contains(d.Detail, `"old-key"`) || !strings.Contains(d.Detail, c.ID) {
			t.Errorf("warning %q does not name the credential: %s", d.Summary, d.Detail)
		}
		switch d.Summary {
		case "Credential key has expired":
			expired = true
			if !strings.Contains(d.Detail, "since "+past.Format(time.RFC3339)) || !strings.Contains(d.Detail, "Rotate it now") {
				t.Errorf("expiry warning lacks since when or what to do: %s", d.Detail)
			}
		case "Credential breaks its credential policy":
			violation = true
			if !strings.Contains(d.Detail, "max_rotation_period 90d") {
				t.Errorf("policy warning lacks the rule: %s", d.Detail)
			}
		}
	}
	if !expired || !violation {
		t.Errorf("warnings %+v: want one for the expiry and one for the policy", resp.Diagnostics)
	}
	newState, err := resp.NewState.Unmarshal(typ)
	if err != nil {
		t.Fatal(err)
	}
	var attrs map[string]tftypes.Value
	if err := newState.As(&attrs); err != nil {
		t.Fatal(err)
	}
	var status string
	if err := attrs["lifecycle_status"].As(&status); err != nil || status != api.LifecycleExpired {
		t.Errorf("state lifecycle_status %q (%v)", status, err)
	}
}

// TestAccProvidersDataSource_category lists the providers of one category.
func TestAccProvidersDataSource_category(t *testing.T) {
	s := newTestServer(t)
	tfresource.ParallelTest(t, tfresource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		Steps: []tfresource.TestStep{{
			Config: s.providerConfig() + `
data "modelkeys_providers" "gateways" {
  category = "gateway"
}
data "modelkeys_providers" "self_hosted" {
  category = "self_hosted"
}
`,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("data.modelkeys_providers.gateways", tfjsonpath.New("providers"), knownvalue.ListSizeExact(3)),
				statecheck.ExpectKnownValue("data.modelkeys_providers.gateways", tfjsonpath.New("providers").AtSliceIndex(0).AtMapKey("id"), knownvalue.StringExact("litellm")),
				statecheck.ExpectKnownValue("data.modelkeys_providers.gateways", tfjsonpath.New("providers").AtSliceIndex(1).AtMapKey("id"), knownvalue.StringExact("openrouter")),
				statecheck.ExpectKnownValue("data.modelkeys_providers.self_hosted", tfjsonpath.New("providers").AtSliceIndex(0).AtMapKey("category"), knownvalue.StringExact("self_hosted")),
			},
		}},
	})
}

// TestCredentialValidateConfigWarnsOnCustomBaseURLWithoutVersion: a plan-time warning, not an error,
// on the base_url attribute.
func TestCredentialValidateConfigWarnsOnCustomBaseURLWithoutVersion(t *testing.T) {
	ctx := context.Background()
	srv := NewProtocol6Server("test")()
	sch, err := srv.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	typ := sch.ResourceSchemas["modelkeys_credential"].ValueType().(tftypes.Object)
	for baseURL, warn := range map[string]bool{"http://127.0.0.1:11434": true, "http://127.0.0.1:11434/v1": false} {
		vals := map[string]tftypes.Value{}
		for name, at := range typ.AttributeTypes {
			vals[name] = tftypes.NewValue(at, nil)
		}
		vals["name"] = tftypes.NewValue(tftypes.String, "ollama")
		vals["model_provider"] = tftypes.NewValue(tftypes.String, "custom")
		vals["settings"] = tftypes.NewValue(tftypes.Map{ElementType: tftypes.String}, map[string]tftypes.Value{"base_url": tftypes.NewValue(tftypes.String, baseURL)})
		cfg, err := tfprotov6.NewDynamicValue(typ, tftypes.NewValue(typ, vals))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := srv.ValidateResourceConfig(ctx, &tfprotov6.ValidateResourceConfigRequest{TypeName: "modelkeys_credential", Config: &cfg})
		if err != nil {
			t.Fatal(err)
		}
		var warned bool
		for _, d := range resp.Diagnostics {
			if d.Severity == tfprotov6.DiagnosticSeverityError {
				t.Errorf("%s: error %s: %s", baseURL, d.Summary, d.Detail)
			}
			if d.Severity == tfprotov6.DiagnosticSeverityWarning && strings.Contains(d.Detail, "no version suffix") {
				warned = true
			}
		}
		if warned != warn {
			t.Errorf("%s: warned %v, want %v (%+v)", baseURL, warned, warn, resp.Diagnostics)
		}
	}
}
