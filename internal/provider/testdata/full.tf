# A whole setup: a project that inherits organisation credentials, three credentials of different
# providers, five connections, the organisation's model policy and the project's.
# The provider block comes from the test (testConfig in acctest_test.go).

resource "modelkeys_project" "research" {
  name                             = "research"
  description                      = "Research team"
  inherit_organization_credentials = true
}

resource "modelkeys_credential" "openai" {
  name           = "openai-org"
  model_provider = "openai"
  api_key        = "sk-proj-full-config-openai-0000000001"
  verify         = false
  labels         = { team = "platform" }
}

resource "modelkeys_credential" "anthropic" {
  name           = "anthropic-org"
  model_provider = "anthropic"
  api_key        = "sk-ant-full-config-anthropic-00000002"
  verify         = false
}

resource "modelkeys_credential" "local" {
  name           = "local-vllm"
  model_provider = "custom"
  project_id     = modelkeys_project.research.id
  settings       = { base_url = "http://127.0.0.1:9/v1" }
  verify         = false
}

resource "modelkeys_connection" "gpt" {
  name          = "gpt"
  credential_id = modelkeys_credential.openai.id
  model         = "gpt-4.1"
}

resource "modelkeys_connection" "claude" {
  name          = "claude"
  credential_id = modelkeys_credential.anthropic.id
  model         = "claude-sonnet-4-6"
  parameters    = jsonencode({ temperature = 0.2, max_tokens = 1024 })
}

# Organisation credentials used from the project, which inherits them.
resource "modelkeys_connection" "research_gpt" {
  name          = "research-gpt"
  project_id    = modelkeys_project.research.id
  credential_id = modelkeys_credential.openai.id
  model         = "gpt-4o-mini"
}

resource "modelkeys_connection" "research_claude" {
  name          = "research-claude"
  project_id    = modelkeys_project.research.id
  credential_id = modelkeys_credential.anthropic.id
  model         = "claude-haiku-4-5-20251001"
  enabled       = false
}

resource "modelkeys_connection" "research_llama" {
  name          = "research-llama"
  project_id    = modelkeys_project.research.id
  credential_id = modelkeys_credential.local.id
  model         = "llama3:8b"
}

resource "modelkeys_model_policy" "organization" {
  mode       = "denylist"
  models     = ["openai/gpt-5.5"]
  publishers = ["meta"]
}

resource "modelkeys_model_policy" "research" {
  project_id = modelkeys_project.research.id
  mode       = "allowlist"
  publishers = ["openai", "anthropic"]
  models     = ["custom/llama3:8b"]
}
