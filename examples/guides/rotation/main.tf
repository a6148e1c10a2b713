# Rotating a key that Terraform manages in state.
resource "modelkeys_credential" "openai" {
  name           = "openai-prod"
  model_provider = "openai"
  api_key        = var.openai_api_key # change the variable, plan, apply
}

# Rotating a write-only key: the new value is sent only when the version changes.
resource "modelkeys_credential" "anthropic" {
  name               = "anthropic-prod"
  model_provider     = "anthropic"
  api_key_wo         = var.anthropic_api_key
  api_key_wo_version = 2 # was 1: the next apply sends the new key
}

# Warn in every plan when a key that modelkeys-server re-verifies turns out to be revoked (a check
# block warns; CI turns a failed check into a failed job, see the "Running modelkeys in CI" guide).
check "openai_key_is_valid" {
  assert {
    condition     = modelkeys_credential.openai.status != "invalid"
    error_message = "openai-prod failed verification: ${modelkeys_credential.openai.status_message}"
  }
}

output "openai_key" {
  value = {
    hint        = modelkeys_credential.openai.secret_hint
    fingerprint = modelkeys_credential.openai.secret_fingerprint
    version     = modelkeys_credential.openai.secret_version
  }
}

variable "openai_api_key" {
  type      = string
  sensitive = true
}

variable "anthropic_api_key" {
  type      = string
  sensitive = true
  ephemeral = true
}
