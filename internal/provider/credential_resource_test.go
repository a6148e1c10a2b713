package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

func TestAccCredential_lifecycle(t *testing.T) {
	s := newTestServer(t)
	fingerprint := statecheck.CompareValue(compare.ValuesDiffer())
	id := statecheck.CompareValue(compare.ValuesSame())
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		CheckDestroy:             checkAllDestroyed(s),
		Steps: []resource.TestStep{
			{
				Config: credentialConfig(s, fmt.Sprintf(`
  name           = "openai-prod"
  model_provider = "openai"
  api_key        = %q
  verify         = false
  settings       = { organization_id = "org-123" }
  labels         = { team = "ml" }
`, keyOne)),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(credAddr, plancheck.ResourceActionCreate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(credAddr, tfjsonpath.New("id"), knownvalue.StringRegexp(regexp.MustCompile(`^cred_[0-9a-v]+$`))),
					statecheck.ExpectKnownValue(credAddr, tfjsonpath.New("secret_hint"), knownvalue.StringExact("sk-proj-...0001")),
					statecheck.ExpectKnownValue(credAddr, tfjsonpath.New("secret_version"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue(credAddr, tfjsonpath.New("status"), knownvalue.StringExact(api.StatusUnverified)),
					statecheck.ExpectKnownValue(credAddr, tfjsonpath.New("project_id"), knownvalue.Null()),
					statecheck.ExpectKnownValue(credAddr, tfjsonpath.New("description"), knownvalue.Null()),
					statecheck.ExpectKnownValue(credAddr, tfjsonpath.New("connection_ids"), knownvalue.SetExact([]knownvalue.Check{})),
					statecheck.ExpectKnownValue(credAddr, tfjsonpath.New("settings"), knownvalue.MapExact(map[string]knownvalue.Check{"organization_id": knownvalue.StringExact("org-123")})),
					fingerprint.AddStateValue(credAddr, tfjsonpath.New("secret_fingerprint")),
					id.AddStateValue(credAddr, tfjsonpath.New("id")),
				},
			},
			{
				// Non-secret changes update in place and leave the secret alone.
				Config: credentialConfig(s, fmt.Sprintf(`
  name           = "openai-prod"
  description    = "production key"
  model_provider = "openai"
  api_key        = %q
  verify         = false
`, keyOne)),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(credAddr, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(credAddr, tfjsonpath.New("secret_version"), knownvalue.Int64Exact(1)),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(credAddr, tfjsonpath.New("description"), knownvalue.StringExact("production key")),
					statecheck.ExpectKnownValue(credAddr, tfjsonpath.New("settings"), knownvalue.Null()),
					statecheck.ExpectKnownValue(credAddr, tfjsonpath.New("secret_version"), knownvalue.Int64Exact(1)),
					id.AddStateValue(credAddr, tfjsonpath.New("id")),
				},
			},
			{
				// A new api_key rotates in place.
				Config: credentialConfig(s, fmt.Sprintf(`
  name           = "openai-prod"
  description    = "production key"
  model_provider = "openai"
  api_key        = %q
  verify         = false
`, keyTwo)),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(credAddr, plancheck.ResourceActionUpdate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(credAddr, tfjsonpath.New("secret_version"), knownvalue.Int64Exact(2)),
					statecheck.ExpectKnownValue(credAddr, tfjsonpath.New("secret_hint"), knownvalue.StringExact("sk-proj-...0002")),
					fingerprint.AddStateValue(credAddr, tfjsonpath.New("secret_fingerprint")),
					id.AddStateValue(credAddr, tfjsonpath.New("id")),
				},
			},
			{
				ResourceName:            credAddr,
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"api_key"},
			},
			{
				// Another provider is another credential: replace.
				Config: credentialConfig(s, fmt.Sprintf(`
  name           = "openai-prod"
  model_provider = "mistral"
  api_key        = %q
  verify         = false
`, keyTwo)),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(credAddr, plancheck.ResourceActionDestroyBeforeCreate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(credAddr, tfjsonpath.New("model_provider"), knownvalue.StringExact("mistral")),
				},
			},
		},
	})
}

func TestAccCredential_writeOnly(t *testing.T) {
	s := newTestServer(t)
	config := func(key string, version int) string {
		return credentialConfig(s, fmt.Sprintf(`
  name               = "anthropic-wo"
  model_provider     = "anthropic"
  api_key_wo         = %q
  api_key_wo_version = %d
  verify             = false
`, key, version))
	}
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		CheckDestroy:             checkAllDestroyed(s),
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		Steps: []resource.TestStep{
			{
				Config: config(keyOne, 1),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(credAddr, tfjsonpath.New("api_key_wo"), knownvalue.Null()),
					statecheck.ExpectKnownValue(credAddr, tfjsonpath.New("api_key"), knownvalue.Null()),
					statecheck.ExpectKnownValue(credAddr, tfjsonpath.New("secret_version"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue(credAddr, tfjsonpath.New("secret_hint"), knownvalue.StringExact("sk-proj-...0001")),
				},
			},
			{
				// A new value with the same version is invisible to Terraform, by design of write-only.
				Config: config(keyTwo, 1),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{
				// Bumping the version sends the key again.
				Config: config(keyTwo, 2),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(credAddr, plancheck.ResourceActionUpdate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(credAddr, tfjsonpath.New("secret_version"), knownvalue.Int64Exact(2)),
					statecheck.ExpectKnownValue(credAddr, tfjsonpath.New("secret_hint"), knownvalue.StringExact("sk-proj-...0002")),
				},
			},
			{
				ResourceName:            credAddr,
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"api_key_wo_version"},
			},
		},
	})
}

// keyForms are the arguments that give a credential keyOne, on the classic and on the write-only path.
var keyForms = map[string]string{
	"classic":    fmt.Sprintf("api_key = %q", keyOne),
	"write_only": fmt.Sprintf("api_key_wo = %q\n  api_key_wo_version = 1", keyOne),
}

// TestAccCredential_drift rotates the key behind Terraform's back, for the classic and the write-only
// path: the refresh shows the new fingerprint, the plan an update that puts the declared key back, and
// after that apply the plan is empty again.
func TestAccCredential_drift(t *testing.T) {
	t.Parallel()
	for name, keyAttrs := range keyForms {
		t.Run(name, func(t *testing.T) {
			s := newTestServer(t)
			config := credentialConfig(s, `
  name           = "drifting"
  model_provider = "openai"
  verify         = false
  `+keyAttrs)
			var id, original string
			sameFingerprint := statecheck.CompareValue(compare.ValuesSame())
			resource.ParallelTest(t, resource.TestCase{
				PreCheck:                 func() { testAccPreCheck(t) },
				ProtoV6ProviderFactories: protoV6Providers,
				CheckDestroy:             checkAllDestroyed(s),
				TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
				Steps: []resource.TestStep{
					{
						Config: config,
						Check: resource.ComposeTestCheckFunc(
							captureAttr(credAddr, "id", &id),
							captureAttr(credAddr, "secret_fingerprint", &original),
						),
						ConfigStateChecks: []statecheck.StateCheck{sameFingerprint.AddStateValue(credAddr, tfjsonpath.New("secret_fingerprint"))},
					},
					{
						// terraform plan -refresh-only: the fingerprint moved.
						PreConfig: func() {
							other := keyOther
							if _, err := s.Client.UpdateCredential(context.Background(), id, api.CredentialPatch{APIKey: &other}, 0); err != nil {
								t.Fatal(err)
							}
						},
						RefreshState:       true,
						ExpectNonEmptyPlan: true,
						RefreshPlanChecks: resource.RefreshPlanChecks{
							PostRefresh: []plancheck.PlanCheck{plancheck.ExpectResourceAction(credAddr, plancheck.ResourceActionUpdate)},
						},
						Check: func(st *terraform.State) error {
							got := st.RootModule().Resources[credAddr].Primary.Attributes["secret_fingerprint"]
							if got == original || got == "" {
								return fmt.Errorf("refresh kept fingerprint %q, want the rotated key's", got)
							}
							return nil
						},
					},
					{
						// terraform apply puts the declared key back.
						Config: config,
						ConfigPlanChecks: resource.ConfigPlanChecks{
							PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(credAddr, plancheck.ResourceActionUpdate)},
							PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
						},
						ConfigStateChecks: []statecheck.StateCheck{
							sameFingerprint.AddStateValue(credAddr, tfjsonpath.New("secret_fingerprint")),
							statecheck.ExpectKnownValue(credAddr, tfjsonpath.New("secret_version"), knownvalue.Int64Exact(3)),
						},
					},
				},
			})
		})
	}
}

func TestAccCredential_deletedOutsideTerraform(t *testing.T) {
	s := newTestServer(t)
	config := credentialConfig(s, fmt.Sprintf(`
  name           = "gone"
  model_provider = "openai"
  api_key        = %q
  verify         = false
`, keyOne))
	var id string
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		CheckDestroy:             checkAllDestroyed(s),
		Steps: []resource.TestStep{
			{Config: config, Check: captureAttr(credAddr, "id", &id)},
			{
				PreConfig: func() {
					if err := s.Client.DeleteCredential(context.Background(), id, 0); err != nil {
						t.Fatal(err)
					}
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(credAddr, plancheck.ResourceActionCreate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
		},
	})
}

func TestAccCredential_planTimeValidation(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	cases := errorCases{
		"missing key": {`
  name           = "k"
  model_provider = "openai"
`, `Missing API key`},
		"unknown setting": {fmt.Sprintf(`
  name           = "k"
  model_provider = "openai"
  api_key        = %q
  settings       = { organisation = "x" }
`, keyOne), `(?s)"organisation" is not a setting.*organization_id`},
		"missing required setting": {fmt.Sprintf(`
  name           = "k"
  model_provider = "azure_openai"
  api_key        = %q
  settings       = { endpoint = "https://acme.openai.azure.com", deployment = "gpt4o" }
`, keyOne), `(?s)api_version`},
		"unknown auth method": {fmt.Sprintf(`
  name           = "k"
  model_provider = "bedrock"
  api_key        = %q
  settings       = { region = "us-east-1", auth_method = "iam" }
`, keyOne), `(?s)"iam".*api_key, sigv4`},
		"auth method without its setting": {fmt.Sprintf(`
  name           = "k"
  model_provider = "azure_openai"
  api_key        = %q
  settings       = { endpoint = "https://acme.openai.azure.com", deployment = "gpt4o", api_version = "2024-10-21", auth_method = "entra_id", tenant_id = "acme.onmicrosoft.com" }
`, keyOne), `(?s)require the setting\s+client_id`},
		"both key forms": {fmt.Sprintf(`
  name               = "k"
  model_provider     = "openai"
  api_key            = %q
  api_key_wo         = %q
  api_key_wo_version = 1
`, keyOne, keyOne), `(?s)api_key.*api_key_wo|api_key_wo.*api_key`},
		"write-only without version": {fmt.Sprintf(`
  name           = "k"
  model_provider = "openai"
  api_key_wo     = %q
`, keyOne), `api_key_wo_version`},
		"both token forms": {fmt.Sprintf(`
  name                  = "k"
  model_provider        = "custom"
  settings              = { base_url = "http://127.0.0.1:8000/v1" }
  auth_token            = %q
  auth_token_wo         = %q
  auth_token_wo_version = 1
`, tokenOne, tokenOne), `(?s)auth_token.*auth_token_wo|auth_token_wo.*auth_token`},
		"write-only token without version": {fmt.Sprintf(`
  name           = "k"
  model_provider = "custom"
  settings       = { base_url = "http://127.0.0.1:8000/v1" }
  auth_token_wo  = %q
`, tokenOne), `auth_token_wo_version`},
		"token version without write-only token": {`
  name                  = "k"
  model_provider        = "custom"
  settings              = { base_url = "http://127.0.0.1:8000/v1" }
  auth_token_wo_version = 1
`, `(?s)auth_token_wo`},
		"write-only token for a provider without one": {fmt.Sprintf(`
  name                  = "k"
  model_provider        = "openai"
  api_key               = %q
  auth_token_wo         = %q
  auth_token_wo_version = 1
`, keyOne, tokenOne), `(?s)auth_token`},
		"bad name": {fmt.Sprintf(`
  name           = "Has Spaces"
  model_provider = "openai"
  api_key        = %q
`, keyOne), `(?s)name`},
		"unknown provider": {fmt.Sprintf(`
  name           = "k"
  model_provider = "opena1"
  api_key        = %q
`, keyOne), `(?s)model_provider.*openai`},
		"too many labels": {fmt.Sprintf(`
  name           = "k"
  model_provider = "openai"
  api_key        = %q
  labels         = { for i in range(65) : "k${i}" => "v" }
`, keyOne), `(?s)65 labels.*limit of 64`},
		"control character in a label": {fmt.Sprintf(`
  name           = "k"
  model_provider = "openai"
  api_key        = %q
  labels         = { team = "a\u0007b" }
`, keyOne), `(?s)Invalid labels.*control character`},
		"query in a base URL": {fmt.Sprintf(`
  name           = "k"
  model_provider = "openai"
  api_key        = %q
  settings       = { base_url = "https://api.openai.com/v1?x=" }
`, keyOne), `(?s)base_url.*must not contain a query`},
		"plain http to a remote custom server": {`
  name           = "k"
  model_provider = "custom"
  settings       = { base_url = "http://llm.example.com/v1" }
`, `(?s)https`},
	}
	errorTest{
		config:        func(body string) string { return credentialConfig(s, body) },
		match:         regexp.MustCompile,
		planOnly:      true,
		versionChecks: []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
	}.run(t, cases)
	// Nothing reached the server.
	list, err := s.Client.ListCredentials(context.Background(), clientListAll())
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 0 {
		t.Fatalf("plan-time validation let %d credentials through", len(list.Items))
	}
}

// TestAccCredential_newAddressResendsTheKey: the server sends a stored key to a new address only when
// the key comes along, so changing base_url must still apply cleanly, on both key paths.
func TestAccCredential_newAddressResendsTheKey(t *testing.T) {
	t.Parallel()
	for name, keyAttrs := range keyForms {
		t.Run(name, func(t *testing.T) {
			s := newTestServer(t)
			config := func(baseURL string) string {
				return credentialConfig(s, fmt.Sprintf(`
  name           = "self-hosted"
  model_provider = "custom"
  verify         = false
  settings       = { base_url = %q }
  %s
`, baseURL, keyAttrs))
			}
			resource.ParallelTest(t, resource.TestCase{
				PreCheck:                 func() { testAccPreCheck(t) },
				ProtoV6ProviderFactories: protoV6Providers,
				CheckDestroy:             checkAllDestroyed(s),
				TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
				Steps: []resource.TestStep{
					{Config: config("http://127.0.0.1:8000/v1")},
					{
						Config: config("https://llm.internal.example/v1"),
						ConfigPlanChecks: resource.ConfigPlanChecks{
							PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(credAddr, plancheck.ResourceActionUpdate)},
							PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
						},
						ConfigStateChecks: []statecheck.StateCheck{
							statecheck.ExpectKnownValue(credAddr, tfjsonpath.New("settings").AtMapKey("base_url"), knownvalue.StringExact("https://llm.internal.example/v1")),
							// The same key went along: no rotation.
							statecheck.ExpectKnownValue(credAddr, tfjsonpath.New("secret_version"), knownvalue.Int64Exact(1)),
						},
					},
				},
			})
		})
	}
}

// TestAccCredential_moveToNewProject moves a credential into a project created in the same apply: the
// project id is unknown at plan time, which must plan a replacement, not an update.
func TestAccCredential_moveToNewProject(t *testing.T) {
	s := newTestServer(t)
	config := func(projects, target string) string {
		return s.providerConfig() + projects + fmt.Sprintf(`
resource "modelkeys_credential" "test" {
  name           = "moving"
  model_provider = "openai"
  api_key        = %q
  verify         = false
  project_id     = %s
}
`, keyOne, target)
	}
	one := `
resource "modelkeys_project" "a" {
  name = "team-a"
}
`
	two := one + `
resource "modelkeys_project" "b" {
  name = "team-b"
}
`
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		CheckDestroy:             checkAllDestroyed(s),
		Steps: []resource.TestStep{
			{Config: config(one, "modelkeys_project.a.id")},
			{
				Config: config(two, "modelkeys_project.b.id"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(credAddr, plancheck.ResourceActionDestroyBeforeCreate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.CompareValuePairs(credAddr, tfjsonpath.New("project_id"), "modelkeys_project.b", tfjsonpath.New("id"), compare.ValuesSame()),
				},
			},
		},
	})
}

// TestAccCredential_authTokenWriteOnly: auth_token_wo works as api_key_wo does. It reaches the server,
// stays out of plan and state, is sent again only when auth_token_wo_version changes, and a token
// changed outside Terraform shows as drift that the next apply repairs.
func TestAccCredential_authTokenWriteOnly(t *testing.T) {
	s := newTestServer(t)
	config := func(token string, version int) string {
		return credentialConfig(s, fmt.Sprintf(`
  name                  = "proxied"
  model_provider        = "custom"
  settings              = { base_url = "http://127.0.0.1:8000/v1" }
  api_key               = %q
  auth_token_wo         = %q
  auth_token_wo_version = %d
  verify                = false
`, keyOne, token, version))
	}
	var id, rotated string
	sameFingerprint := statecheck.CompareValue(compare.ValuesSame())
	noToken := stateHoldsNone(tokenOne, tokenTwo, tokenOther)
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		CheckDestroy:             checkAllDestroyed(s),
		Steps: []resource.TestStep{
			{
				Config: config(tokenOne, 1),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(credAddr, plancheck.ResourceActionCreate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(credAddr, tfjsonpath.New("auth_token_wo"), knownvalue.Null()),
					statecheck.ExpectKnownValue(credAddr, tfjsonpath.New("auth_token"), knownvalue.Null()),
					statecheck.ExpectKnownValue(credAddr, tfjsonpath.New("auth_token_wo_version"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue(credAddr, tfjsonpath.New("secret_version"), knownvalue.Int64Exact(1)),
				},
				Check: resource.ComposeTestCheckFunc(captureAttr(credAddr, "id", &id), noToken, serverHasToken(s, &id, true)),
			},
			{
				// A new value with the same version is invisible to Terraform, by design of write-only.
				Config: config(tokenTwo, 1),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{
				// Bumping the version sends the token again.
				Config: config(tokenTwo, 2),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(credAddr, plancheck.ResourceActionUpdate),
						plancheck.ExpectUnknownValue(credAddr, tfjsonpath.New("secret_fingerprint")),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(credAddr, tfjsonpath.New("secret_version"), knownvalue.Int64Exact(2)),
					sameFingerprint.AddStateValue(credAddr, tfjsonpath.New("secret_fingerprint")),
				},
				Check: resource.ComposeTestCheckFunc(noToken, captureAttr(credAddr, "secret_fingerprint", &rotated)),
			},
			{
				// terraform plan -refresh-only after someone replaced the token by hand: drift, and the
				// version is forgotten so that the plan sends the configured token again.
				PreConfig: func() {
					other := tokenOther
					if _, err := s.Client.UpdateCredential(context.Background(), id, api.CredentialPatch{AuthToken: &other}, 0); err != nil {
						t.Fatal(err)
					}
				},
				RefreshState:       true,
				ExpectNonEmptyPlan: true,
				RefreshPlanChecks: resource.RefreshPlanChecks{
					PostRefresh: []plancheck.PlanCheck{plancheck.ExpectResourceAction(credAddr, plancheck.ResourceActionUpdate)},
				},
				Check: func(st *terraform.State) error {
					a := st.RootModule().Resources[credAddr].Primary.Attributes
					if a["secret_fingerprint"] == rotated || a["secret_fingerprint"] == "" {
						return fmt.Errorf("refresh kept fingerprint %q, want the hand-set token's", a["secret_fingerprint"])
					}
					if v, ok := a["auth_token_wo_version"]; ok && v != "" {
						return fmt.Errorf("refresh kept auth_token_wo_version %q after drift; the plan would not resend the token", v)
					}
					return noToken(st)
				},
			},
			{
				// terraform apply puts the configured token back.
				Config: config(tokenTwo, 2),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(credAddr, plancheck.ResourceActionUpdate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					sameFingerprint.AddStateValue(credAddr, tfjsonpath.New("secret_fingerprint")),
					statecheck.ExpectKnownValue(credAddr, tfjsonpath.New("secret_version"), knownvalue.Int64Exact(4)),
					statecheck.ExpectKnownValue(credAddr, tfjsonpath.New("auth_token_wo_version"), knownvalue.Int64Exact(2)),
				},
				Check: noToken,
			},
			{
				ResourceName:            credAddr,
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"api_key", "auth_token_wo_version"},
			},
		},
	})
}

// serverHasToken checks that the server holds an auth token for the credential: the write-only value
// was sent, not dropped.
func serverHasToken(s *testServer, id *string, want bool) resource.TestCheckFunc {
	return func(*terraform.State) error {
		c, err := s.Client.GetCredential(context.Background(), *id)
		if err != nil {
			return err
		}
		if c.HasAuthToken != want {
			return fmt.Errorf("server has_auth_token = %v, want %v", c.HasAuthToken, want)
		}
		return nil
	}
}
