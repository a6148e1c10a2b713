# Every credential of the organisation is for OpenAI or Anthropic, is checked
# at its provider, and is rotated at least every 90 days (credentials without a
# rotation_period get this one).
resource "modelkeys_credential_policy" "organization" {
  allowed_providers    = ["openai", "anthropic"]
  max_rotation_period  = "90d"
  require_verification = true
}

# A project's effective policy is the organisation's and its own, the stricter
# of each rule: here Anthropic only, rotated every 30 days, with a warning 30
# days before a key expires.
resource "modelkeys_project" "support_bot" {
  name = "support-bot"
}

resource "modelkeys_credential_policy" "support_bot" {
  project_id          = modelkeys_project.support_bot.id
  allowed_providers   = ["anthropic"]
  max_rotation_period = "30d"
  expiry_warning      = "30d"
}
