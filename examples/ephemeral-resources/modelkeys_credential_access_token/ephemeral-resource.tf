# A vendor token of a keyless credential (auth_method = "workload_identity")
# that lasts minutes, for the length of one Terraform run: it never reaches
# plan or state. Needs Terraform 1.10+ (write-only arguments 1.11+) and a
# modelkeys-server started with --issuer-url. Admin tokens, and tokens
# exchanged from a federation rule whose credentials list names the
# credential, may open it; every opening is audited. A credential that stores
# a key has no access token.

data "modelkeys_credential" "openai" {
  name = "openai-keyless"
}

ephemeral "modelkeys_credential_access_token" "openai" {
  credential_id = data.modelkeys_credential.openai.id
}

# For example, a provider that calls the vendor's API during the run:
#
# provider "restapi" {
#   uri     = "https://api.openai.com/v1"
#   headers = {
#     Authorization = "Bearer ${ephemeral.modelkeys_credential_access_token.openai.access_token}"
#   }
# }
