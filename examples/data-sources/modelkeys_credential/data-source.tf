# A credential managed elsewhere, by name. The secret is never returned: only
# its hint, fingerprint and version.
data "modelkeys_credential" "openai" {
  name = "openai-prod"
}

# Or by id.
data "modelkeys_credential" "by_id" {
  id = "cred_0123456789abcdef"
}

# Point a connection at it.
resource "modelkeys_connection" "chat" {
  name          = "chat-default"
  credential_id = data.modelkeys_credential.openai.id
  model         = "gpt-4o-mini"
}

output "openai_key_status" {
  value = {
    status      = data.modelkeys_credential.openai.status
    secret_hint = data.modelkeys_credential.openai.secret_hint
    verified_at = data.modelkeys_credential.openai.verified_at
  }
}
