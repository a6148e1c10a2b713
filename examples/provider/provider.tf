terraform {
  required_providers {
    modelkeys = {
      source = "modelkeys/modelkeys"
    }
  }
}

# With no arguments the provider uses the embedded store, an SQLite file at
# .modelkeys/modelkeys.db in the working directory: no server needed.
provider "modelkeys" {}

# A modelkeys-server shared by a team. Every argument can also come from the
# environment: MODELKEYS_ENDPOINT, MODELKEYS_TOKEN, MODELKEYS_PROJECT,
# MODELKEYS_REQUEST_TIMEOUT, MODELKEYS_MAX_RETRIES and MODELKEYS_CA_CERT_PEM.
provider "modelkeys" {
  alias           = "server"
  endpoint        = "https://modelkeys.internal.example.com:8443"
  token           = var.modelkeys_token
  request_timeout = "30s"
  max_retries     = 4
}

# In CI, no stored token: the run's own OIDC identity (here GitHub Actions',
# with `permissions: id-token: write`) is exchanged for a short-lived token
# under a modelkeys_federation_rule. Environment: MODELKEYS_FEDERATION_RULE,
# MODELKEYS_OIDC_TOKEN, MODELKEYS_OIDC_TOKEN_FILE.
provider "modelkeys" {
  alias    = "ci"
  endpoint = "https://modelkeys.internal.example.com:8443"

  workload_identity {
    federation_rule = "fr_0123456789abcdef"
    token_source    = "github_actions" # or auto, gitlab, terraform_cloud, file, env
    audience        = "modelkeys"
  }
}

variable "modelkeys_token" {
  description = "A modelkeys-server token: editor to apply, viewer is enough to plan."
  type        = string
  sensitive   = true
}
