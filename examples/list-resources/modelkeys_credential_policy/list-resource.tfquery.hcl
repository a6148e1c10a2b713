# The credential policy of one project, if it has one.
list "modelkeys_credential_policy" "ml" {
  provider         = modelkeys
  include_resource = true

  config {
    project_id = "proj_0123456789abcdef"
  }
}
