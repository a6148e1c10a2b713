package provider

import (
	"context"
	"fmt"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/verify"
)

const (
	verifyGood    = "sk-ant-api03-good-000000000000000000000011"
	verifyRevoked = "sk-ant-api03-revoked-0000000000000000000012"
)

// verifyActionServer is a server whose verifier asks a loopback fake of Anthropic (EmbeddedEgress, the
// default, allows loopback), with two anthropic credentials stored unverified: one whose key the fake
// accepts and one it refuses.
func verifyActionServer(t *testing.T) (*testServer, map[string]*api.Credential) {
	t.Helper()
	fake := &anthropicFake{valid: map[string]bool{verifyGood: true}}
	upstream := httptest.NewServer(fake)
	t.Cleanup(upstream.Close)
	s := newTestServer(t, func(c *service.Config) {
		c.Verifier = verify.New(verify.Options{BaseURLs: map[string]string{"anthropic": upstream.URL}, Timeout: 2 * time.Second})
	})
	creds := map[string]*api.Credential{}
	for name, key := range map[string]string{"anthropic-good": verifyGood, "anthropic-revoked": verifyRevoked} {
		c, err := s.Client.CreateCredential(context.Background(), api.CredentialCreate{Name: name, Provider: "anthropic", APIKey: ptrTo(key), Verify: new(bool)})
		if err != nil {
			t.Fatal(err)
		}
		creds[name] = c
	}
	return s, creds
}

// An action_trigger runs modelkeys_credential_verify after create (Terraform 1.14+): a refused key fails
// the apply, naming the key and the provider's answer; the statuses are recorded on the server.
func TestAccCredentialVerifyAction_trigger(t *testing.T) {
	s, creds := verifyActionServer(t)
	config := func(filter string) string {
		return s.providerConfig() + fmt.Sprintf(`
action "modelkeys_credential_verify" "check" {
  config {
%s
  }
}

resource "terraform_data" "after" {
  input = "run"
  lifecycle {
    action_trigger {
      events  = [after_create]
      actions = [action.modelkeys_credential_verify.check]
    }
  }
}
`, filter)
	}
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_14_0)},
		Steps: []resource.TestStep{
			{
				// One good key: the run passes and the key is verified on the server.
				Config: config(fmt.Sprintf("    credential_id = %q", creds["anthropic-good"].ID)),
				Check: func(*terraform.State) error {
					c, err := s.Client.GetCredential(context.Background(), creds["anthropic-good"].ID)
					if err != nil {
						return err
					}
					if c.Status != api.StatusVerified || c.VerifiedAt == nil {
						return fmt.Errorf("after the action: status %q verified_at %v, want verified", c.Status, c.VerifiedAt)
					}
					return nil
				},
			},
			{
				// Every anthropic key: the revoked one fails the run, named with Anthropic's answer.
				Config:      config(`    model_provider = "anthropic"`),
				Taint:       []string{"terraform_data.after"},
				ExpectError: regexp.MustCompile(`(?s)1 credential\(s\) refused by their provider.*anthropic-revoked \(` + creds["anthropic-revoked"].ID + `, anthropic\): Anthropic\s+refused\s+the\s+key:\s+HTTP\s+401`),
			},
		},
	})
	c, err := s.Client.GetCredential(context.Background(), creds["anthropic-revoked"].ID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != api.StatusInvalid || c.VerifiedAt == nil || !strings.Contains(c.StatusMessage, "401") {
		t.Errorf("the refused key on the server: status %q message %q", c.Status, c.StatusMessage)
	}
}

// terraform apply -invoke runs the action alone (Terraform 1.14+) and reports each key as it goes.
func TestAccCredentialVerifyAction_invoke(t *testing.T) {
	s, creds := verifyActionServer(t)
	tf := newTerraformCLI(t, "1.14.0")
	tf.write("main.tf", `
terraform {
  required_providers {
    modelkeys = { source = "modelkeys/modelkeys" }
  }
}
`+s.providerConfig()+`
action "modelkeys_credential_verify" "good" {
  config {
    credential_id = "`+creds["anthropic-good"].ID+`"
  }
}

action "modelkeys_credential_verify" "all" {
  config {}
}
`)
	tf.run(true, "init")
	out := tf.run(true, "apply", "-auto-approve", "-invoke=action.modelkeys_credential_verify.good")
	if !strings.Contains(out, "anthropic-good ("+creds["anthropic-good"].ID+", anthropic): verified") {
		t.Errorf("no progress for the good key:\n%s", out)
	}
	out = tf.run(false, "apply", "-auto-approve", "-invoke=action.modelkeys_credential_verify.all")
	for _, want := range []string{"verifying 2 credential(s) of the organisation", "anthropic-revoked (" + creds["anthropic-revoked"].ID + ", anthropic): refused", "1 verified, 1 refused, 0 not checked", "refused by their provider"} {
		if !strings.Contains(out, want) {
			t.Errorf("apply -invoke output lacks %q:\n%s", want, out)
		}
	}
	noSecrets(t, "apply -invoke's output", out, verifyGood, verifyRevoked)
}
