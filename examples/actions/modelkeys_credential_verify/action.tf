# Check every OpenAI key now: terraform apply -invoke=action.modelkeys_credential_verify.openai
# (Terraform 1.14+). A refused key fails the run, named with its provider's answer.
action "modelkeys_credential_verify" "openai" {
  config {
    model_provider = "openai"
  }
}

# Or check a key right after Terraform creates or changes it.
resource "modelkeys_credential" "openai" {
  name           = "openai-prod"
  model_provider = "openai"
  api_key_wo     = var.openai_api_key
  # Bump to send a new key.
  api_key_wo_version = 1

  lifecycle {
    action_trigger {
      events  = [after_create, after_update]
      actions = [action.modelkeys_credential_verify.this]
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
