# An HCP Terraform workspace that manages modelkeys with no stored modelkeys
# token: HCP Terraform gives every run a workload identity token
# (TFC_WORKLOAD_IDENTITY_TOKEN), and the provider trades it at modelkeys for a
# token of minutes under a federation rule that names this workspace.
#
# Needs Terraform 1.14 or newer (the modelkeys_credential_verify action) on the
# workspace; tested with 1.16.4.
#
# Workspace variables (environment, none of them secret):
#   TFC_WORKLOAD_IDENTITY_AUDIENCE  modelkeys   (makes HCP Terraform issue the token)
#   MODELKEYS_ENDPOINT              https://modelkeys.example.com
#   MODELKEYS_FEDERATION_RULE       ./trust's output
# and, sensitive Terraform variables: openai_api_key (or make the credential
# keyless and drop it).

terraform {
  required_version = ">= 1.14"
  required_providers {
    modelkeys = {
      source = "modelkeys/modelkeys"
    }
  }
  cloud {
    organization = "acme"
    workspaces {
      name = "modelkeys-prod"
    }
  }
}

provider "modelkeys" {
  workload_identity {
    token_source = "terraform_cloud"
  }
}

variable "openai_api_key" {
  type      = string
  sensitive = true
  ephemeral = true
}

variable "openai_key_version" {
  description = "Bump when the key is rotated: the new value is sent on the next apply."
  type        = number
  default     = 1
}

resource "modelkeys_credential" "openai" {
  name               = "openai-prod"
  model_provider     = "openai"
  api_key_wo         = var.openai_api_key
  api_key_wo_version = var.openai_key_version
  rotation_period    = "90d"
  labels = {
    managed_by = "hcp-terraform"
  }
}

resource "modelkeys_connection" "chat" {
  name          = "chat-default"
  credential_id = modelkeys_credential.openai.id
  model         = "gpt-4o-mini"
}
