# One-time setup by a modelkeys admin: trust the ID tokens that GitLab issues to
# the pipeline in ../.gitlab-ci.yml (its id_tokens: keyword), so that no
# modelkeys token is stored in GitLab. Apply it with an admin identity, then
# set the three rule ids as the project's CI/CD variables.

terraform {
  required_version = ">= 1.11"
  required_providers {
    modelkeys = {
      source = "modelkeys/modelkeys"
    }
  }
}

provider "modelkeys" {}

variable "project_path" {
  description = "The GitLab project that runs the pipeline, as group/project."
  type        = string
  default     = "acme/infra"
}

variable "issuer" {
  description = "The GitLab instance's URL, the issuer of its ID tokens."
  type        = string
  default     = "https://gitlab.com"
}

resource "modelkeys_identity_provider" "gitlab" {
  name      = "gitlab"
  issuer    = var.issuer
  audiences = ["modelkeys"]
}

# Merge requests plan with a viewer token.
resource "modelkeys_federation_rule" "plan" {
  name                 = "gitlab-plan"
  identity_provider_id = modelkeys_identity_provider.gitlab.id
  role                 = "viewer"
  conditions = {
    project_path    = var.project_path
    pipeline_source = "merge_request_event"
  }
}

# Applies: the protected default branch, in the protected "modelkeys"
# environment.
resource "modelkeys_federation_rule" "apply" {
  name                 = "gitlab-apply"
  identity_provider_id = modelkeys_identity_provider.gitlab.id
  role                 = "editor"
  conditions = {
    project_path  = var.project_path
    ref           = "main"
    ref_type      = "branch"
    ref_protected = "true"
    environment   = "modelkeys"
  }
}

# The scheduled drift check verifies every key (recording each key's status):
# an editor, for scheduled pipelines of the protected default branch only.
resource "modelkeys_federation_rule" "drift" {
  name                 = "gitlab-drift"
  identity_provider_id = modelkeys_identity_provider.gitlab.id
  role                 = "editor"
  token_ttl            = "30m"
  conditions = {
    project_path    = var.project_path
    ref             = "main"
    ref_protected   = "true"
    pipeline_source = "schedule"
  }
}

output "ci_cd_variables" {
  description = "Set these as the project's CI/CD variables (not secret)."
  value = {
    MODELKEYS_RULE_PLAN  = modelkeys_federation_rule.plan.id
    MODELKEYS_RULE_APPLY = modelkeys_federation_rule.apply.id
    MODELKEYS_RULE_DRIFT = modelkeys_federation_rule.drift.id
  }
}
