# The organisation may use every model of OpenAI and Anthropic, and one
# self-hosted model.
resource "modelkeys_model_policy" "organization" {
  mode       = "allowlist"
  publishers = ["openai", "anthropic"]
  models     = ["custom/llama3.1:8b"]
}

# A project narrows the organisation's policy further: its effective policy is
# the intersection of both.
resource "modelkeys_project" "support_bot" {
  name = "support-bot"
}

resource "modelkeys_model_policy" "support_bot" {
  project_id = modelkeys_project.support_bot.id
  mode       = "denylist"
  models     = ["openai/o1", "openai/o3"]
}
