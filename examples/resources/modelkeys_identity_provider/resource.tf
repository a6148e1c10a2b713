# GitHub Actions: jobs of the organisation's repositories may sign in with their OIDC token, under
# the federation rules that trust this provider. The audience is what the provider's
# workload_identity block asks GitHub for.
resource "modelkeys_identity_provider" "github" {
  name      = "github-actions"
  issuer    = "https://token.actions.githubusercontent.com"
  audiences = ["modelkeys"]
}

# HCP Terraform: runs of workspaces with TFC_WORKLOAD_IDENTITY_AUDIENCE = "modelkeys".
resource "modelkeys_identity_provider" "hcp_terraform" {
  name      = "hcp-terraform"
  issuer    = "https://app.terraform.io"
  audiences = ["modelkeys"]
}

# The company's single sign-on, for people signing in to the console. The client secret is
# write-only: bump client_secret_wo_version to send a new one.
resource "modelkeys_identity_provider" "sso" {
  name                     = "acme-sso"
  issuer                   = "https://login.acme.example"
  client_id                = "modelkeys-console"
  client_secret_wo         = var.sso_client_secret
  client_secret_wo_version = 1
}

variable "sso_client_secret" {
  type      = string
  sensitive = true
  ephemeral = true
}
