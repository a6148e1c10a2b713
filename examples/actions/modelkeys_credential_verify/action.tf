# Check every OpenAI key now: terraform apply -invoke=action.modelkeys_credential_verify.openai
# (Terraform 1.14+). A refused key fails the run, named with its provider's answer.
action "modelkeys_credential_verify" "openai" {
  config {
    model_provider = "openai"
  }
}

# Or check a key right after Terraform creates or changes it. With verify =
# false the server stores the key unchecked, and the action checks it: on_failure
# (Terraform 1.16+) says what a refused key does to the run. halt (the default)
# fails it; continue reports the refusal as a warning and goes on (the key is
# stored, with status = "invalid"); taint fails it and, after a create, marks the
# credential for replacement on the next apply.
resource "modelkeys_credential" "openai" {
  name           = "openai-prod"
  model_provider = "openai"
  api_key_wo     = var.openai_api_key
  # Bump to send a new key.
  api_key_wo_version = 1
  verify             = false

  lifecycle {
    action_trigger {
      events     = [after_create, after_update]
      actions    = [action.modelkeys_credential_verify.this]
      on_failure = continue
    }
  }
}

action "modelkeys_credential_verify" "this" {
  config {
    credential_id = modelkeys_credential.openai.id
  }
}

variable "openai_api_key" {
  type      = string
  sensitive = true
  ephemeral = true
}
