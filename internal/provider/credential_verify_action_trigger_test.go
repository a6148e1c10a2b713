package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
)

// verifyTriggerConfig is a credential stored without the server's check at write (verify = false) whose
// action_trigger runs modelkeys_credential_verify on it after create and after update, with onFailure
// ("" for Terraform's default, halt) deciding what a refused key does to the run (Terraform 1.16+).
func verifyTriggerConfig(s *testServer, name, onFailure string) string {
	failure := ""
	if onFailure != "" {
		failure = "\n      on_failure = " + onFailure
	}
	return fmt.Sprintf(`
resource "modelkeys_credential" %[1]q {
  name               = %[1]q
  model_provider     = "anthropic"
  api_key_wo         = var.key
  api_key_wo_version = var.key_version
  verify             = false

  lifecycle {
    action_trigger {
      events     = [after_create, after_update]
      actions    = [action.modelkeys_credential_verify.%[1]s]%[2]s
    }
  }
}

action "modelkeys_credential_verify" %[1]q {
  config {
    credential_id = modelkeys_credential.%[1]s.id
  }
}
`, name, failure)
}

// A note for the rotate action (and any other action a resource triggers): test it the same way, with
// the CLI harness (newTerraformCLI(t, "1.16.0"): on_failure is Terraform 1.16's) and a config per
// on_failure mode, asserting on the apply's exit status and output (the action's error, or the same text
// as a warning under continue), on what the server recorded, and, for taint after create, on the next
// plan's "is tainted, so must be replaced". A vendor the action talks to is a loopback fake.

// The verify action from a credential's action_trigger (Terraform 1.16's on_failure): continue turns a
// refused key into a warning and keeps the key; after_update checks a new key; halt (the default)
// fails the run; taint fails it and marks a just-created credential for replacement. Each time the
// server records what the provider answered.
func TestAccCredentialVerifyAction_triggerOnFailure(t *testing.T) {
	s, _ := verifyActionServer(t)
	tf := newTerraformCLI(t, "1.16.0")
	ctx := context.Background()
	header := `
terraform {
  required_providers {
    modelkeys = { source = "modelkeys/modelkeys" }
  }
}

variable "key" {
  type      = string
  sensitive = true
  ephemeral = true
}

variable "key_version" {
  type = number
}
` + s.providerConfig()
	apply := func(wantOK bool, key string, version int) string {
		t.Helper()
		tf.env = append(tf.env, "TF_VAR_key="+key, fmt.Sprintf("TF_VAR_key_version=%d", version))
		out := tf.run(wantOK, "apply", "-auto-approve")
		noSecrets(t, "terraform apply's output", out, verifyGood, verifyRevoked)
		return out
	}
	status := func(name string) *api.Credential {
		t.Helper()
		page, err := s.Client.ListCredentials(ctx, client.CredentialListOptions{NamePrefix: name})
		if err != nil || len(page.Items) != 1 {
			t.Fatalf("credential %s: %v %+v", name, err, page)
		}
		return &page.Items[0]
	}
	refused := regexp.MustCompile(`1 credential\(s\) refused by their provider`)

	// on_failure = continue: the refused key is stored, the run succeeds with the refusal as a warning.
	tf.write("main.tf", header+verifyTriggerConfig(s, "warned", "continue"))
	tf.run(true, "init")
	out := apply(true, verifyRevoked, 1)
	if !regexp.MustCompile(`(?s)Warning: 1 credential\(s\) refused by their provider.*warned \(cred_[0-9a-z_]+, anthropic\): Anthropic\s+refused\s+the\s+key`).MatchString(out) {
		t.Errorf("on_failure = continue: no warning naming the refused key:\n%s", out)
	}
	if c := status("warned"); c.Status != api.StatusInvalid {
		t.Errorf("after create with a refused key: status %q, want invalid", c.Status)
	}

	// after_update: a new key (api_key_wo_version bumped) is checked too, and this one is accepted.
	out = apply(true, verifyGood, 2)
	if !strings.Contains(out, "warned (") || !strings.Contains(out, "anthropic): verified") || refused.MatchString(out) {
		t.Errorf("after_update did not verify the new key:\n%s", out)
	}
	if c := status("warned"); c.Status != api.StatusVerified || c.SecretVersion != 2 {
		t.Errorf("after update with a good key: status %q secret_version %d, want verified 2", c.Status, c.SecretVersion)
	}

	// No on_failure (halt): a refused key fails the run, naming it; the key is stored all the same.
	tf.write("main.tf", header+verifyTriggerConfig(s, "warned", ""))
	out = apply(false, verifyRevoked, 3)
	if !regexp.MustCompile(`(?s)Error: 1 credential\(s\) refused by their provider.*warned \(cred_`).MatchString(out) {
		t.Errorf("on_failure halt: no error naming the refused key:\n%s", out)
	}
	if c := status("warned"); c.Status != api.StatusInvalid || c.SecretVersion != 3 {
		t.Errorf("after update with a refused key: status %q secret_version %d, want invalid 3", c.Status, c.SecretVersion)
	}

	// on_failure = taint, after create: the run fails and the new credential is tainted, so the next
	// plan replaces it (with whatever key the configuration then holds).
	tf.write("main.tf", header+verifyTriggerConfig(s, "tainted", "taint"))
	tf.run(true, "state", "rm", "modelkeys_credential.warned")
	out = apply(false, verifyRevoked, 1)
	if !refused.MatchString(out) {
		t.Errorf("on_failure = taint: no error naming the refused key:\n%s", out)
	}
	plan := tf.run(true, "plan")
	if !strings.Contains(plan, "modelkeys_credential.tainted is tainted, so must be replaced") {
		t.Errorf("on_failure = taint: the credential is not tainted:\n%s", plan)
	}
}
