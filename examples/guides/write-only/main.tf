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
