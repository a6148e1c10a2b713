# A keyless Azure OpenAI credential: modelkeys stores no key; each exchange presents an assertion the
# modelkeys server signs as an OpenID issuer (serve --issuer-url), which Entra ID trusts through a
# federated identity credential of the app registration.
resource "modelkeys_credential" "azure" {
  name           = "azure-openai-keyless"
  model_provider = "azure_openai"
  # false on the first apply: the federated identity credential below needs this credential's subject.
  verify = var.trust_ready
  settings = {
    endpoint    = "https://example-resource.openai.azure.com"
    deployment  = "gpt-4o"
    api_version = "2024-10-21"
    auth_method = "workload_identity"
    tenant_id   = var.tenant_id
    client_id   = var.client_id
  }
}

# The issuer, and the subject of this credential's assertions.
data "modelkeys_issuer" "this" {
  credential_id = modelkeys_credential.azure.id
}

# What the app registration's federated identity credential must say (with the
# azuread provider: azuread_application_federated_identity_credential, with
# issuer and subject from this data source; see the guide "Keyless Azure OpenAI").
output "federated_identity_credential" {
  value = {
    issuer    = data.modelkeys_issuer.this.issuer
    subject   = data.modelkeys_issuer.this.subject
    audiences = ["api://AzureADTokenExchange"]
  }
}

variable "client_id" {
  description = "The application (client) id of the app registration that Entra ID lets this credential act as."
  type        = string
}

variable "tenant_id" {
  type = string
}

variable "trust_ready" {
  type    = bool
  default = false
}
