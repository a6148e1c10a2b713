# terraform query (Terraform 1.14+) lists the credentials that exist; with
# -generate-config-out=FILE it writes a resource and an import block for each,
# without the key, which the API never returns.
list "modelkeys_credential" "team_a" {
  provider         = modelkeys
  include_resource = true

  config {
    name_prefix    = "team-a-"
    model_provider = "openai"
    status         = "verified"
  }
}
