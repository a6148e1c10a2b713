# terraform test against a mocked modelkeys provider (Terraform 1.16+, which
# lets a run leave an ephemeral variable unset): no server and no key. The
# provider's own checks still run: a model the catalog does not know, in the
# policy, fails the test as it would fail a plan. The mock answers every resource and data source with
# values of the right type (ids, statuses, ... made up); the blocks below fix
# the ones the assertions compare.
mock_provider "modelkeys" {
  mock_resource "modelkeys_project" {
    defaults = {
      id = "proj_0000000000000mock"
    }
  }

  mock_resource "modelkeys_credential" {
    defaults = {
      id     = "cred_0000000000000mock"
      status = "unverified"
    }
  }

  # Every credential the module looks up is the organisation's OpenAI key.
  mock_data "modelkeys_credential" {
    defaults = {
      id             = "cred_000000000000org01"
      model_provider = "openai"
      status         = "verified"
    }
  }
}

variables {
  name    = "search"
  models  = ["gpt-4.1", "gpt-4o-mini"]
  api_key = "sk-test-not-a-real-key"
}

run "policy_allows_only_the_listed_models" {
  command = plan

  assert {
    condition     = modelkeys_model_policy.this.mode == "allowlist"
    error_message = "The project's policy must be an allowlist."
  }

  assert {
    condition     = modelkeys_model_policy.this.models == toset(["openai/gpt-4.1", "openai/gpt-4o-mini"])
    error_message = "The policy must allow exactly the listed models, as provider/model."
  }
}

run "own_key_a_connection_per_model" {
  assert {
    condition     = keys(output.connection_ids) == ["gpt-4.1", "gpt-4o-mini"]
    error_message = "There must be one connection per model."
  }

  assert {
    condition     = alltrue([for c in modelkeys_connection.this : c.project_id == "proj_0000000000000mock" && c.credential_id == "cred_0000000000000mock"])
    error_message = "Every connection must use the project's own credential, in the project."
  }

  assert {
    condition     = modelkeys_credential.this[0].name == "search-openai" && modelkeys_credential.this[0].api_key_wo == null
    error_message = "The credential is named after the team and the provider, and its key is write-only (never in state)."
  }

  assert {
    condition     = modelkeys_project.this.inherit_organization_credentials == false
    error_message = "A project with a key of its own does not inherit the organisation's."
  }
}

run "a_new_key_version_resends_the_key" {
  variables {
    api_key_version = 2
  }

  assert {
    condition     = modelkeys_credential.this[0].api_key_wo_version == 2
    error_message = "api_key_version must reach the credential's api_key_wo_version."
  }
}

run "organization_credential" {
  variables {
    api_key                 = null
    organization_credential = "openai-prod"
  }

  assert {
    condition     = length(modelkeys_credential.this) == 0 && output.credential_id == "cred_000000000000org01"
    error_message = "With organization_credential, the project has no key of its own and connects to the organisation's."
  }

  assert {
    condition     = modelkeys_project.this.inherit_organization_credentials
    error_message = "The project must inherit the organisation's credentials to use one."
  }
}

run "a_refused_organization_key_is_not_connected" {
  command = plan

  variables {
    api_key                 = null
    organization_credential = "openai-prod"
  }

  override_data {
    target = data.modelkeys_credential.organization[0]
    values = {
      id             = "cred_000000000000org01"
      model_provider = "openai"
      status         = "invalid"
      status_message = "OpenAI refused the key: HTTP 401"
    }
  }

  expect_failures = [modelkeys_connection.this]
}

run "a_key_of_another_provider_is_not_connected" {
  command = plan

  variables {
    api_key                 = null
    organization_credential = "openai-prod"
    model_provider          = "anthropic"
    models                  = ["claude-sonnet-4-5"]
  }

  expect_failures = [modelkeys_connection.this]
}

run "a_key_or_an_organization_credential_not_both" {
  command = plan

  variables {
    organization_credential = "openai-prod"
  }

  expect_failures = [var.api_key]
}
