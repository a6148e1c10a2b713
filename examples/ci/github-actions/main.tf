# The configuration that the workflow in this directory plans and applies. Keep
# it in its own directory of the repository (here infra/modelkeys/).

terraform {
  required_version = ">= 1.14"
  required_providers {
    modelkeys = {
      source = "modelkeys/modelkeys"
    }
  }
  # State shared by every run of the pipeline. The settings come from
  # `terraform init -backend-config=...` in the workflow.
  backend "s3" {}
}

# No stored token: the provider trades the job's GitHub OIDC token for a
# modelkeys token of minutes. The endpoint comes from MODELKEYS_ENDPOINT and the
# rule from MODELKEYS_FEDERATION_RULE, set per job by the workflow: the viewer
# rule to plan, the editor rule to apply.
provider "modelkeys" {
  workload_identity {
    token_source = "github_actions"
    audience     = "modelkeys"
  }
}

# Keys come from the CI system's secrets as TF_VAR_... variables. Ephemeral and
# write-only: they never reach the plan file or the state in the bucket.
variable "openai_api_key" {
  type      = string
  sensitive = true
  ephemeral = true
}

variable "anthropic_api_key" {
  type      = string
  sensitive = true
  ephemeral = true
}

# Bump when a key is rotated: the new value is sent on the next apply.
variable "key_versions" {
  type = map(number)
  default = {
    openai    = 1
    anthropic = 1
  }
}

resource "modelkeys_credential" "openai" {
  name               = "openai-prod"
  model_provider     = "openai"
  api_key_wo         = var.openai_api_key
  api_key_wo_version = var.key_versions["openai"]
  rotation_period    = "90d"
  labels = {
    managed_by = "github-actions"
  }
}

resource "modelkeys_credential" "anthropic" {
  name               = "anthropic-prod"
  model_provider     = "anthropic"
  api_key_wo         = var.anthropic_api_key
  api_key_wo_version = var.key_versions["anthropic"]
  # When the provider's key stops working; set the new key's with the new key.
  expires_at = "2027-06-30T00:00:00Z"
  labels = {
    managed_by = "github-actions"
  }
}

resource "modelkeys_connection" "chat" {
  name          = "chat-default"
  credential_id = modelkeys_credential.openai.id
  model         = "gpt-4o-mini"
}

# modelkeys-server probes every key at its provider once a day
# (--reverify-interval). The scheduled drift job checks them all now with this
# action (terraform apply -invoke=action.modelkeys_credential_verify.all), which
# fails naming every key its provider refuses (revoked or expired).
action "modelkeys_credential_verify" "all" {
  config {}
}

# Rotation and expiry: every refresh warns about a key that is due for rotation
# (older than its rotation_period, or the credential policy's
# max_rotation_period), expiring (within the policy's expiry_warning, 14 days by
# default) or expired. A warning is not a diff; this check makes the scheduled
# drift job fail on it.
check "keys_are_current" {
  assert {
    condition = alltrue([
      for c in [modelkeys_credential.openai, modelkeys_credential.anthropic] : c.lifecycle_status == "ok"
    ])
    error_message = "Rotate these keys: ${join(", ", [
      for c in [modelkeys_credential.openai, modelkeys_credential.anthropic] :
      "${c.name} is ${c.lifecycle_status} (rotation due ${coalesce(c.rotation_due_at, "never")}, expires ${coalesce(c.expires_at, "never")})"
      if c.lifecycle_status != "ok"
    ])}."
  }
}

# The organisation's rules for every key: at most 90 days between rotations,
# a warning 30 days before expiry, and every key checked at its provider.
resource "modelkeys_credential_policy" "organization" {
  allowed_providers    = ["openai", "anthropic"]
  max_rotation_period  = "90d"
  expiry_warning       = "30d"
  require_verification = true
}
