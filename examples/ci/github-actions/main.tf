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

# Endpoint and token come from MODELKEYS_ENDPOINT and MODELKEYS_TOKEN, set by
# the workflow: a viewer token to plan, an editor token to apply.
provider "modelkeys" {}

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
  labels = {
    managed_by = "github-actions"
  }
}

resource "modelkeys_credential" "anthropic" {
  name               = "anthropic-prod"
  model_provider     = "anthropic"
  api_key_wo         = var.anthropic_api_key
  api_key_wo_version = var.key_versions["anthropic"]
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
