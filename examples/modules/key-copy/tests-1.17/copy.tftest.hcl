# Terraform 1.17+: mock_provider mocks ephemeral resources too (mock_ephemeral),
# so a module that reads a key ephemerally is tested without a server. Before
# 1.17 a mock provider refuses every ephemeral block of a configuration, even
# one with count = 0, which is why this module is apart from ../llm-project.
# Run with: terraform init -test-directory=tests-1.17, then
# terraform test -test-directory=tests-1.17
mock_provider "modelkeys" {
  mock_data "modelkeys_credential" {
    defaults = {
      id             = "cred_00000000000000org"
      model_provider = "openai"
      secret_version = 7
    }
  }

  mock_ephemeral "modelkeys_credential_secret" {
    defaults = {
      api_key = "sk-mock-copied-key"
    }
  }

  mock_data "modelkeys_models" {
    defaults = {
      models = [
        {
          id                = "gpt-4.1", model_provider = "openai", publisher = "openai", display_name = "GPT-4.1",
          context_window    = 1047576, max_output_tokens = 32768, input_modalities = ["text"],
          output_modalities = ["text"], tool_call = true, reasoning = false, release_date = "2025-04-14", allowed = true
        },
      ]
    }
  }
}

variables {
  credential_name = "openai-prod"
}

run "the_copy_follows_its_source" {
  assert {
    condition     = output.secret_version == 7 && output.model_provider == "openai"
    error_message = "secret_version and model_provider must be the source credential's."
  }
}

# The composition: ../llm-project given the copy's secret_version as its
# api_key_version resends the key whenever the source is rotated.
run "copied_into_a_project" {
  module {
    source = "../llm-project"
  }

  variables {
    name            = "search"
    models          = ["gpt-4.1"]
    api_key         = "sk-mock-copied-key"
    api_key_version = run.the_copy_follows_its_source.secret_version
  }

  assert {
    condition     = modelkeys_credential.this[0].api_key_wo_version == 7
    error_message = "The project's credential must follow the source's secret_version."
  }
}
