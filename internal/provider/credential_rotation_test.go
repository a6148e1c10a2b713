package provider

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/verify"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/verify/vendorfake"
)

// rotClock is a clock the tests move forward, so a schedule comes due without waiting.
type rotClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *rotClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *rotClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// managedServer is the real server whose verifier reaches a loopback fake of OpenAI's admin API.
func managedServer(t *testing.T) (*testServer, *vendorfake.Fake, *rotClock) {
	t.Helper()
	fake := vendorfake.New("openai", "sk-admin-acceptance-0123456789")
	t.Cleanup(fake.Close)
	clock := &rotClock{}
	s := newTestServer(t, func(c *service.Config) {
		c.Verifier = verify.New(verify.Options{BaseURLs: map[string]string{"openai": fake.URL()}, Timeout: 5 * time.Second})
		c.Now = clock.Now
	})
	return s, fake, clock
}

func managedConfig(s *testServer, fake *vendorfake.Fake) string {
	return s.providerConfig() + fmt.Sprintf(`
variable "admin_key" {
  type      = string
  sensitive = true
  default   = %q
}

resource "modelkeys_credential" "admin" {
  name           = "openai-admin"
  model_provider = "openai"
  purpose        = "admin"
  api_key_wo         = var.admin_key
  api_key_wo_version = 1
}

resource "modelkeys_credential" "app" {
  name            = "openai-app"
  model_provider  = "openai"
  settings        = { project = %q }
  rotation_period = "30d"
  rotation = {
    mode                = "managed"
    admin_credential_id = modelkeys_credential.admin.id
    overlap             = "1h"
  }
}
`, fake.AdminKey, fake.Project)
}

// A managed credential is created with a key modelkeys minted, rotated through the API and by the
// schedule; each time the refresh takes the new secret_version in and the plan is empty. A key set by
// hand (management ended outside Terraform) is drift: the plan puts management back.
func TestAccCredentialManaged_createRotateSchedule(t *testing.T) {
	s, fake, clock := managedServer(t)
	app := func(st *terraform.State) string {
		return st.RootModule().Resources["modelkeys_credential.app"].Primary.ID
	}
	var appID string
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		Steps: []resource.TestStep{
			{
				Config: managedConfig(s, fake),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("modelkeys_credential.app", tfjsonpath.New("secret_version"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue("modelkeys_credential.app", tfjsonpath.New("status"), knownvalue.StringExact(api.StatusVerified)),
					statecheck.ExpectKnownValue("modelkeys_credential.app", tfjsonpath.New("api_key"), knownvalue.Null()),
					statecheck.ExpectKnownValue("modelkeys_credential.admin", tfjsonpath.New("purpose"), knownvalue.StringExact("admin")),
				},
				Check: func(st *terraform.State) error {
					appID = app(st)
					if n := len(fake.LiveSecrets()); n != 1 {
						return fmt.Errorf("%d keys live at the vendor after create, want 1", n)
					}
					return nil
				},
			},
			{
				// Rotated through the API (the console's button and the action do the same).
				PreConfig: func() {
					if _, err := s.Client.RotateCredential(context.Background(), appID, "api"); err != nil {
						t.Fatal(err)
					}
				},
				Config: managedConfig(s, fake),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("modelkeys_credential.app", tfjsonpath.New("secret_version"), knownvalue.Int64Exact(2)),
				},
				Check: func(*terraform.State) error {
					if n := len(fake.LiveSecrets()); n != 2 {
						return fmt.Errorf("%d keys live during the overlap, want 2", n)
					}
					return nil
				},
			},
			{
				// The schedule: 31 days later the sweep revokes the old key and rotates the due one.
				PreConfig: func() {
					clock.Advance(31 * 24 * time.Hour)
					if _, err := s.srv.Service().SweepRotations(context.Background()); err != nil {
						t.Fatal(err)
					}
					clock.Advance(2 * time.Hour)
					if _, err := s.srv.Service().SweepRotations(context.Background()); err != nil {
						t.Fatal(err)
					}
				},
				Config: managedConfig(s, fake),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("modelkeys_credential.app", tfjsonpath.New("secret_version"), knownvalue.Int64Exact(3)),
					statecheck.ExpectKnownValue("modelkeys_credential.app", tfjsonpath.New("lifecycle_status"), knownvalue.StringExact(api.LifecycleOK)),
				},
				Check: func(*terraform.State) error {
					if n := len(fake.LiveSecrets()); n != 1 {
						return fmt.Errorf("%d keys live after the schedule's rotation and overlap, want 1", n)
					}
					return nil
				},
			},
			{
				// By hand: management ended and a key set outside Terraform. That is drift.
				PreConfig: func() {
					key := "sk-set-by-hand-000000000000000000000001"
					if _, err := s.Client.UpdateCredential(context.Background(), appID, api.CredentialPatch{
						Rotation: &api.CredentialRotation{}, APIKey: &key, Verify: new(bool)}, 0); err != nil {
						t.Fatal(err)
					}
				},
				Config:             managedConfig(s, fake),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
		},
	})
}

// The action rotates the key when invoked (here from an action_trigger); the next plan is empty.
func TestAccCredentialRotateAction(t *testing.T) {
	s, fake, _ := managedServer(t)
	config := managedConfig(s, fake) + `
action "modelkeys_credential_rotate" "app" {
  config {
    credential_id = modelkeys_credential.app.id
  }
}

resource "terraform_data" "rotate" {
  input = modelkeys_credential.app.id
  lifecycle {
    action_trigger {
      events  = [after_create]
      actions = [action.modelkeys_credential_rotate.app]
    }
  }
}
`
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_14_0)},
		Steps: []resource.TestStep{
			{
				Config: config,
				Check: func(st *terraform.State) error {
					id := st.RootModule().Resources["modelkeys_credential.app"].Primary.ID
					c, err := s.Client.GetCredential(context.Background(), id)
					if err != nil {
						return err
					}
					if c.SecretVersion != 2 {
						return fmt.Errorf("secret_version after the action = %d, want 2", c.SecretVersion)
					}
					if n := len(fake.LiveSecrets()); n != 2 {
						return fmt.Errorf("%d keys live during the overlap, want 2", n)
					}
					return nil
				},
			},
			{
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("modelkeys_credential.app", tfjsonpath.New("secret_version"), knownvalue.Int64Exact(2)),
				},
			},
		},
	})
}

// Plan-time checks: the catalog's rules of managed rotation, before anything is sent.
func TestAccCredentialManaged_planTimeRules(t *testing.T) {
	s, _, _ := managedServer(t)
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		Steps: []resource.TestStep{
			{
				Config: s.providerConfig() + `
resource "modelkeys_credential" "claude" {
  name           = "claude"
  model_provider = "anthropic"
  rotation = {
    mode                = "managed"
    admin_credential_id = "cred_x"
  }
}`,
				PlanOnly:    true,
				ExpectError: words(`workload_identity`),
			},
			{
				Config: s.providerConfig() + `
resource "modelkeys_credential" "app" {
  name           = "app"
  model_provider = "openai"
  api_key        = "sk-proj-000000000000000000000000000001"
  rotation = {
    mode                = "managed"
    admin_credential_id = "cred_x"
  }
}`,
				PlanOnly:    true,
				ExpectError: wrappedText(`takes no api_key`),
			},
		},
	})
}

// The refresh takes a rotation in quietly only when the server and the configuration both say
// managed; anything else that moves the key is drift.
func TestManagedRotationMovedIsQuietOnlyWhenManaged(t *testing.T) {
	managed := &api.CredentialRotation{Mode: api.RotationModeManaged, AdminCredentialID: "cred_a"}
	withRotation := func(r *api.CredentialRotation) *credentialModel {
		o, _ := rotationToModel(r, types.ObjectNull(rotationAttrTypes))
		return &credentialModel{Rotation: o}
	}
	cases := []struct {
		state  *api.CredentialRotation
		server *api.CredentialRotation
		quiet  bool
	}{
		{managed, managed, true},
		{managed, nil, false}, // management ended outside Terraform and a key set by hand
		{nil, managed, false},
		{nil, nil, false},
	}
	for _, c := range cases {
		if got := managedRotationMoved(withRotation(c.state), &api.Credential{Rotation: c.server}); got != c.quiet {
			t.Errorf("state managed %v, server managed %v: quiet = %v, want %v", c.state != nil, c.server != nil, got, c.quiet)
		}
	}
}

// An existing key brought under management: api_key leaves the configuration and rotation comes in,
// in one change; the key stays in use until the first managed rotation, after which the plan is empty.
func TestAccCredentialManaged_adoptExistingKey(t *testing.T) {
	s, fake, _ := managedServer(t)
	existing := fake.AddKey("made-by-hand")
	handConfig := s.providerConfig() + fmt.Sprintf(`
resource "modelkeys_credential" "admin" {
  name           = "openai-admin"
  model_provider = "openai"
  purpose        = "admin"
  api_key        = %q
}

resource "modelkeys_credential" "app" {
  name           = "openai-app"
  model_provider = "openai"
  settings       = { project = %q }
  api_key        = %q
}
`, fake.AdminKey, fake.Project, existing.Secret)
	managed := strings.Replace(handConfig, fmt.Sprintf("  api_key        = %q\n}\n", existing.Secret), `  rotation = {
    mode                = "managed"
    admin_credential_id = modelkeys_credential.admin.id
  }
}
`, 1)
	var appID string
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		Steps: []resource.TestStep{
			{
				Config: handConfig,
				Check: func(st *terraform.State) error {
					appID = st.RootModule().Resources["modelkeys_credential.app"].Primary.ID
					return nil
				},
			},
			{
				Config: managed,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("modelkeys_credential.app", tfjsonpath.New("secret_version"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue("modelkeys_credential.app", tfjsonpath.New("api_key"), knownvalue.Null()),
				},
				Check: func(*terraform.State) error {
					c, err := s.Client.GetCredential(context.Background(), appID)
					if err != nil {
						return err
					}
					if !c.HasAPIKey || c.Rotation == nil || c.Rotation.Mode != api.RotationModeManaged {
						return fmt.Errorf("after the change: has_api_key %v, rotation %+v; want the existing key kept, now managed", c.HasAPIKey, c.Rotation)
					}
					return nil
				},
			},
			{
				PreConfig: func() {
					if _, err := s.Client.RotateCredential(context.Background(), appID, "api"); err != nil {
						t.Fatal(err)
					}
				},
				Config: managed,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("modelkeys_credential.app", tfjsonpath.New("secret_version"), knownvalue.Int64Exact(2)),
				},
			},
		},
	})
}
