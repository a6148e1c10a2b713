# One-time setup by a modelkeys admin: trust the workload identity tokens that
# HCP Terraform issues to the runs of one workspace (../main.tf).

terraform {
  required_version = ">= 1.11"
  required_providers {
    modelkeys = {
      source = "modelkeys/modelkeys"
    }
  }
}

provider "modelkeys" {}

variable "organization" {
  description = "The HCP Terraform organization of the workspace."
  type        = string
  default     = "acme"
}

variable "workspace" {
  description = "The workspace whose runs manage modelkeys."
  type        = string
  default     = "modelkeys-prod"
}

variable "issuer" {
  description = "HCP Terraform's issuer (Terraform Enterprise: its own URL)."
  type        = string
  default     = "https://app.terraform.io"
}

resource "modelkeys_identity_provider" "hcp_terraform" {
  name      = "hcp-terraform"
  issuer    = var.issuer
  audiences = ["modelkeys"]
}

# Plan and apply runs of the workspace. The provider names one rule for both
# phases, so this rule is an editor; a workspace that only plans (speculative
# plans of pull requests) can have its own viewer rule with
# terraform_run_phase = "plan".
resource "modelkeys_federation_rule" "workspace" {
  name                 = "hcp-terraform-${var.workspace}"
  identity_provider_id = modelkeys_identity_provider.hcp_terraform.id
  role                 = "editor"
  conditions = {
    terraform_organization_name = var.organization
    terraform_workspace_name    = var.workspace
  }
}

output "workspace_variables" {
  description = "Set these as environment variables of the workspace."
  value = {
    TFC_WORKLOAD_IDENTITY_AUDIENCE = "modelkeys"
    MODELKEYS_FEDERATION_RULE      = modelkeys_federation_rule.workspace.id
  }
}
