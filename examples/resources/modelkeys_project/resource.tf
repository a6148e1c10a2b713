# A project with its own keys only.
resource "modelkeys_project" "research" {
  name        = "research"
  description = "Experiments; keys of its own, billed separately"
}

# A project whose connections may also use the organisation's keys.
resource "modelkeys_project" "support_bot" {
  name                             = "support-bot"
  description                      = "Customer support assistant"
  inherit_organization_credentials = true
}
