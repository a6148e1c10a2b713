# The admin key: an OpenAI admin key (an OpenRouter management key, a LiteLLM
# master key). It is checked with a cheap admin read, never used by
# connections, never revealed, and only admin tokens may change it.
resource "modelkeys_credential" "openai_admin" {
  name               = "openai-admin"
  model_provider     = "openai"
  purpose            = "admin"
  api_key_wo         = var.openai_admin_key
  api_key_wo_version = 1
}

# A managed credential has no api_key: modelkeys mints its first key on
# create, and a new one every 30 days (or when asked), keeping the previous
# key live for an hour before revoking it at OpenAI.
resource "modelkeys_credential" "app" {
  name            = "openai-app"
  model_provider  = "openai"
  settings        = { project = "proj_AbCdEf0123456789" }
  rotation_period = "30d"

  rotation = {
    mode                = "managed"
    admin_credential_id = modelkeys_credential.openai_admin.id
    overlap             = "1h"
  }
}

# Rotate on demand: terraform apply -invoke=action.modelkeys_credential_rotate.app
action "modelkeys_credential_rotate" "app" {
  config {
    credential_id = modelkeys_credential.app.id
  }
}

variable "openai_admin_key" {
  type      = string
  sensitive = true
  ephemeral = true
}
