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
