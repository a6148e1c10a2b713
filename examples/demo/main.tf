# The demo of `make demo`: keys of several providers on the embedded store (no server needed).
# The keys are fakes; verify = false because nothing here calls the providers.

terraform {
  required_version = ">= 1.11"
  required_providers {
    modelkeys = {
      source = "modelkeys/modelkeys"
    }
  }
}

# No endpoint: the embedded store at .modelkeys/modelkeys.db in the working directory.
provider "modelkeys" {}

variable "openai_api_key" {
  type      = string
  sensitive = true
  default   = "sk-proj-demo-openai-0000000000000000wxyz"
}

variable "anthropic_api_key" {
  type      = string
  sensitive = true
  default   = "sk-ant-demo-anthropic-000000000000000abcd"
}

variable "azure_api_key" {
  type      = string
  sensitive = true
  default   = "demo0azure0openai0key00000000000000001234"
}

resource "modelkeys_credential" "openai" {
  name           = "openai-prod"
  description    = "Production OpenAI key"
  model_provider = "openai"
  api_key        = var.openai_api_key
  verify         = false
  settings = {
    organization_id = "org-demo"
  }
  labels = {
    team = "platform"
  }
}

# Write-only: the key is sent to modelkeys and never stored in Terraform state.
resource "modelkeys_credential" "anthropic" {
  name               = "anthropic-prod"
  model_provider     = "anthropic"
  api_key_wo         = var.anthropic_api_key
  api_key_wo_version = 1
  verify             = false
}

resource "modelkeys_credential" "azure" {
  name           = "azure-openai-eu"
  model_provider = "azure_openai"
  api_key        = var.azure_api_key
  verify         = false
  settings = {
    endpoint    = "https://demo-eu.openai.azure.com"
    deployment  = "gpt-4o-prod"
    api_version = "2024-10-21"
  }
}

# A self-hosted OpenAI-compatible server (Ollama, vLLM) needs no key.
resource "modelkeys_credential" "ollama" {
  name           = "ollama-local"
  model_provider = "custom"
  verify         = false
  settings = {
    base_url = "http://127.0.0.1:11434/v1"
  }
}

# Models reachable through the keys, and which ones the organisation allows.
resource "modelkeys_model_policy" "org" {
  mode       = "allowlist"
  publishers = ["openai", "anthropic"]
  models     = ["custom/llama3.1:8b"]
}

resource "modelkeys_connection" "chat" {
  name          = "chat-default"
  credential_id = modelkeys_credential.openai.id
  model         = "gpt-4o-mini"
  parameters    = jsonencode({ temperature = 0.2, max_tokens = 1024 })
  depends_on    = [modelkeys_model_policy.org]
}

resource "modelkeys_connection" "local" {
  name          = "local-llama"
  credential_id = modelkeys_credential.ollama.id
  model         = "llama3.1:8b"
  depends_on    = [modelkeys_model_policy.org]
}

output "openai_credential_id" {
  value = modelkeys_credential.openai.id
}

output "fingerprints" {
  value = {
    openai    = modelkeys_credential.openai.secret_fingerprint
    anthropic = modelkeys_credential.anthropic.secret_fingerprint
    azure     = modelkeys_credential.azure.secret_fingerprint
  }
}
