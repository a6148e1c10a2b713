# Every credential of the organisation.
data "modelkeys_credentials" "all" {}

# Only the Anthropic keys.
data "modelkeys_credentials" "anthropic" {
  model_provider = "anthropic"
}

# Keys that failed their last verification: revoked or rotated at the provider.
output "invalid_credentials" {
  value = [for c in data.modelkeys_credentials.all.credentials : c.name if c.status == "invalid"]
}

output "anthropic_credential_ids" {
  value = data.modelkeys_credentials.anthropic.ids
}
