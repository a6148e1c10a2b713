# A project by name (or by id).
data "modelkeys_project" "support_bot" {
  name = "support-bot"
}

# Keys that belong to the project.
resource "modelkeys_credential" "support_bot_anthropic" {
  name           = "support-bot-anthropic"
  project_id     = data.modelkeys_project.support_bot.id
  model_provider = "anthropic"
  api_key        = var.anthropic_api_key
}

variable "anthropic_api_key" {
  type      = string
  sensitive = true
}
