# A module that gives a team a modelkeys project of its own: a model policy
# that allows only the models it names, a key for one model provider (the
# team's own, or an organisation credential the project inherits), and a
# connection per model. The team's own key may come from ../key-copy, a copy
# of an organisation key read ephemerally.
#
# Its tests (tests/) run with `terraform test` against a mocked modelkeys
# provider: no server, no key. See the "Testing modules that use modelkeys"
# guide.
terraform {
  required_version = ">= 1.11"

  required_providers {
    modelkeys = {
      source = "modelkeys/modelkeys"
    }
  }
}

resource "modelkeys_project" "this" {
  name                             = var.name
  description                      = "Models of team ${var.name}, managed by the llm-project module."
  inherit_organization_credentials = var.organization_credential != null
}

# The project may use the listed models and nothing else; the organisation's
# policy still applies on top.
resource "modelkeys_model_policy" "this" {
  project_id = modelkeys_project.this.id
  mode       = "allowlist"
  models     = [for m in var.models : "${var.model_provider}/${m}"]
}

# The team's own key, write-only: never in plan or state.
resource "modelkeys_credential" "this" {
  count = var.organization_credential == null ? 1 : 0

  name               = "${var.name}-${var.model_provider}"
  project_id         = modelkeys_project.this.id
  model_provider     = var.model_provider
  api_key_wo         = var.api_key
  api_key_wo_version = var.api_key_version
}

# Or an organisation credential, which the project inherits.
data "modelkeys_credential" "organization" {
  count = var.organization_credential == null ? 0 : 1

  name = var.organization_credential
}

# The credential in use, attribute by attribute (the whole resource object is
# sensitive: it holds the write-only key's null).
locals {
  credential = {
    for attr in ["id", "model_provider", "status", "status_message"] : attr => one(concat(
      [for c in modelkeys_credential.this : c[attr]],
      [for c in data.modelkeys_credential.organization : c[attr]],
    ))
  }
}

resource "modelkeys_connection" "this" {
  for_each = var.models

  name          = "${var.name}-${each.key}"
  project_id    = modelkeys_project.this.id
  credential_id = local.credential.id
  model         = each.key

  # The connection is refused until the policy allows its model.
  depends_on = [modelkeys_model_policy.this]

  lifecycle {
    precondition {
      condition     = local.credential.model_provider == var.model_provider
      error_message = "The credential is for ${local.credential.model_provider}, not ${var.model_provider}: set model_provider, or name another organisation_credential."
    }

    precondition {
      condition     = local.credential.status != "invalid"
      error_message = "The credential's provider refused its key (${local.credential.status_message}); rotate it before connecting models to it."
    }
  }
}
