# An OpenAI key kept in state (marked sensitive). Terraform sees when someone
# rotates it outside Terraform and plans an update that puts it back.
resource "modelkeys_credential" "openai" {
  name           = "openai-prod"
  description    = "Production OpenAI key"
  model_provider = "openai"
  api_key        = var.openai_api_key
  settings = {
    organization_id = "org-acme"
  }
  labels = {
    team = "platform"
  }
  # Rotate at least every 90 days ("2160h" is the same); every refresh warns
  # once it is due. expires_at is when the provider's key stops working.
  rotation_period = "90d"
  expires_at      = "2027-06-30T00:00:00Z"
}

# Write-only (Terraform 1.11+, OpenTofu 1.11+): the key is sent to modelkeys and
# never stored in plan or state. Bump api_key_wo_version to send a new key.
resource "modelkeys_credential" "azure" {
  name               = "azure-openai-eu"
  model_provider     = "azure_openai"
  api_key_wo         = var.azure_openai_api_key
  api_key_wo_version = 1
  settings = {
    endpoint    = "https://acme-eu.openai.azure.com"
    deployment  = "gpt-4o-prod"
    api_version = "2024-10-21"
  }
}

# A self-hosted OpenAI-compatible server (Ollama, vLLM, sglang) needs no key;
# plain http is allowed only for loopback hosts.
# verify = false: nothing probes it when the credential is created.
resource "modelkeys_credential" "ollama" {
  name           = "ollama-gpu-01"
  model_provider = "custom"
  verify         = false
  settings = {
    base_url = "https://gpu-01.internal.example.com/v1"
  }
}

# Keyless (workload identity): no key is stored anywhere. modelkeys-server
# (started with --issuer-url) signs a short-lived assertion for the credential
# and exchanges it at the vendor for a token that lasts minutes. The vendor's
# federation object must trust the issuer and the credential's subject (see the
# modelkeys_issuer data source); until it does, the credential is saved with
# status "invalid" and a status_message that says what to check.
resource "modelkeys_credential" "anthropic_keyless" {
  name           = "anthropic-keyless"
  model_provider = "anthropic"
  settings = {
    auth_method        = "workload_identity"
    federation_rule_id = "fdrl_0123456789abcdef"
    organization_id    = "00000000-0000-0000-0000-000000000000"
    service_account_id = "svac_0123456789abcdef"
    audience           = "https://api.anthropic.com"
  }
}

# The subject to name in the vendor's federation rule.
data "modelkeys_issuer" "anthropic" {
  credential_id = modelkeys_credential.anthropic_keyless.id
}

output "anthropic_federation_subject" {
  value = data.modelkeys_issuer.anthropic.subject
}

variable "openai_api_key" {
  type      = string
  sensitive = true
}

variable "azure_openai_api_key" {
  type      = string
  sensitive = true
  ephemeral = true
}

# A key modelkeys rotates itself through OpenAI's admin API (see the guide
# "Keys that rotate themselves"): no api_key, an admin credential instead.
resource "modelkeys_credential" "openai_admin" {
  name               = "openai-admin"
  model_provider     = "openai"
  purpose            = "admin"
  api_key_wo         = var.openai_admin_key
  api_key_wo_version = 1
}

resource "modelkeys_credential" "openai_managed" {
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

variable "openai_admin_key" {
  type      = string
  sensitive = true
  ephemeral = true
}
