terraform {
  required_version = ">= 1.11"
  required_providers {
    modelkeys = {
      source = "modelkeys/modelkeys"
    }
  }
}

provider "modelkeys" {}

# An ephemeral variable may only be used where ephemeral values are allowed,
# such as write-only arguments: Terraform refuses to save it anywhere.
variable "openai_api_key" {
  type      = string
  sensitive = true
  ephemeral = true
}

variable "openai_api_key_version" {
  description = "Increase by one whenever openai_api_key changes."
  type        = number
  default     = 1
}

resource "modelkeys_credential" "openai" {
  name               = "openai-prod"
  model_provider     = "openai"
  api_key_wo         = var.openai_api_key
  api_key_wo_version = var.openai_api_key_version
}

# A self-hosted server behind an authenticating proxy: the proxy's token is
# write-only too, with its own version.
variable "proxy_token" {
  type      = string
  sensitive = true
  ephemeral = true
}

resource "modelkeys_credential" "vllm" {
  name                  = "vllm-behind-proxy"
  model_provider        = "custom"
  auth_token_wo         = var.proxy_token
  auth_token_wo_version = 1
  settings = {
    base_url = "https://llm.internal.example.com/v1"
  }
}
