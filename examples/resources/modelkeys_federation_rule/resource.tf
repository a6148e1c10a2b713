# The identity providers the rules trust (see modelkeys_identity_provider).
resource "modelkeys_identity_provider" "github" {
  name      = "github-actions"
  issuer    = "https://token.actions.githubusercontent.com"
  audiences = ["modelkeys"]
}

resource "modelkeys_identity_provider" "hcp_terraform" {
  name      = "hcp-terraform"
  issuer    = "https://app.terraform.io"
  audiences = ["modelkeys"]
}

resource "modelkeys_identity_provider" "sso" {
  name                     = "acme-sso"
  issuer                   = "https://login.acme.example"
  client_id                = "modelkeys-console"
  client_secret_wo         = var.sso_client_secret
  client_secret_wo_version = 1
}

resource "modelkeys_project" "search" {
  name = "search"
}

variable "sso_client_secret" {
  type      = string
  sensitive = true
  ephemeral = true
}

# Pull requests of acme/infra may plan (viewer) ...
resource "modelkeys_federation_rule" "plan" {
  name                 = "infra-plan"
  identity_provider_id = modelkeys_identity_provider.github.id
  role                 = "viewer"
  conditions = {
    repository = "acme/infra"
  }
}

# ... and only its main branch, in the production environment, may apply (editor).
resource "modelkeys_federation_rule" "apply" {
  name                 = "infra-apply"
  identity_provider_id = modelkeys_identity_provider.github.id
  role                 = "editor"
  token_ttl            = "30m"
  conditions = {
    repository  = "acme/infra"
    ref         = "refs/heads/main"
    environment = "production"
  }
}

# An HCP Terraform workspace's apply runs, confined to one project.
resource "modelkeys_federation_rule" "team_search" {
  name                 = "search-workspace"
  identity_provider_id = modelkeys_identity_provider.hcp_terraform.id
  role                 = "editor"
  project_id           = modelkeys_project.search.id
  conditions = {
    sub = "organization:acme:project:*:workspace:search-prod:run_phase:apply"
  }
}

# People of the platform group sign in to the console as admins.
resource "modelkeys_federation_rule" "platform_admins" {
  name                 = "platform-admins"
  identity_provider_id = modelkeys_identity_provider.sso.id
  kind                 = "people"
  role                 = "admin"
  conditions = {
    groups = "platform-admins"
  }
}
