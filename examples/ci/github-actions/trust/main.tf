# One-time setup by a modelkeys admin: trust the OIDC tokens that GitHub Actions
# issues to the workflow in ../modelkeys.yml, so that no modelkeys token is stored
# in GitHub. Apply it with an admin identity (your SSO sign-in, or the break-glass
# admin token), then copy the three rule ids into the repository's variables.
#
# Each job of the workflow gets the rule that fits it, and a rule names exactly
# which runs may use it: a pull request of another branch cannot use the apply
# rule, because its token says ref = refs/pull/N/merge, not refs/heads/main.

terraform {
  required_version = ">= 1.11"
  required_providers {
    modelkeys = {
      source = "modelkeys/modelkeys"
    }
  }
}

provider "modelkeys" {}

variable "repository" {
  description = "The repository that runs the workflow, as owner/name."
  type        = string
  default     = "acme/infra"
}

variable "issuer" {
  description = "GitHub Actions' OIDC issuer (GitHub Enterprise Server: https://HOST/_services/token)."
  type        = string
  default     = "https://token.actions.githubusercontent.com"
}

resource "modelkeys_identity_provider" "github" {
  name      = "github-actions"
  issuer    = var.issuer
  audiences = ["modelkeys"]
}

# Pull requests plan with a viewer token: they can read, never change.
resource "modelkeys_federation_rule" "plan" {
  name                 = "github-plan"
  identity_provider_id = modelkeys_identity_provider.github.id
  role                 = "viewer"
  conditions = {
    repository = var.repository
    event_name = "pull_request"
  }
}

# Applies run on main, in the protected "modelkeys" environment only (add
# required reviewers to that environment to gate them).
resource "modelkeys_federation_rule" "apply" {
  name                 = "github-apply"
  identity_provider_id = modelkeys_identity_provider.github.id
  role                 = "editor"
  conditions = {
    repository  = var.repository
    ref         = "refs/heads/main"
    environment = "modelkeys"
  }
}

# The scheduled drift check verifies every key, which records each key's
# status: an editor, but only for this workflow file on main.
resource "modelkeys_federation_rule" "drift" {
  name                 = "github-drift"
  identity_provider_id = modelkeys_identity_provider.github.id
  role                 = "editor"
  token_ttl            = "30m"
  conditions = {
    repository   = var.repository
    ref          = "refs/heads/main"
    workflow_ref = "${var.repository}/.github/workflows/modelkeys.yml@refs/heads/main"
  }
}

output "repository_variables" {
  description = "Set these as the repository's Actions variables."
  value = {
    MODELKEYS_RULE_PLAN  = modelkeys_federation_rule.plan.id
    MODELKEYS_RULE_APPLY = modelkeys_federation_rule.apply.id
    MODELKEYS_RULE_DRIFT = modelkeys_federation_rule.drift.id
  }
}
