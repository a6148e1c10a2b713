# Every provider in the catalog, with the settings and secrets a credential of
# that provider takes.
data "modelkeys_providers" "all" {}

# One provider.
data "modelkeys_providers" "azure_openai" {
  id = "azure_openai"
}

output "provider_ids" {
  value = [for p in data.modelkeys_providers.all.providers : p.id]
}

output "azure_openai_required_settings" {
  value = data.modelkeys_providers.azure_openai.providers[0].required_settings
}
