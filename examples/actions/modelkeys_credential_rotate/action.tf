# A managed credential: modelkeys mints its keys through the admin credential.
resource "modelkeys_credential" "openai_admin" {
  name               = "openai-admin"
  model_provider     = "openai"
  purpose            = "admin"
  api_key_wo         = var.openai_admin_key
  api_key_wo_version = 1
}

resource "modelkeys_credential" "app" {
  name           = "openai-app"
  model_provider = "openai"
  settings       = { project = "proj_AbCdEf0123456789" }

  rotation = {
    mode                = "managed"
    admin_credential_id = modelkeys_credential.openai_admin.id
  }
}

variable "openai_admin_key" {
  type      = string
  sensitive = true
  ephemeral = true
}

# Rotate a managed credential's key now:
#   terraform apply -invoke=action.modelkeys_credential_rotate.app   (Terraform 1.14+)
# modelkeys mints a new key through the admin credential, checks it with the
# provider and switches to it; the previous key keeps working for the
# credential's overlap, then it is revoked at the vendor. The next plan is empty.
action "modelkeys_credential_rotate" "app" {
  config {
    credential_id = modelkeys_credential.app.id
  }
}
