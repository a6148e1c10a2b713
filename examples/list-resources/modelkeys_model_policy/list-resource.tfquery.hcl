# Every model policy written so far: the organisation's and each project's.
# terraform query -generate-config-out=policies.tf writes a resource block
# and an import block by identity (the scope) for each.
list "modelkeys_model_policy" "all" {
  provider         = modelkeys
  include_resource = true
}
