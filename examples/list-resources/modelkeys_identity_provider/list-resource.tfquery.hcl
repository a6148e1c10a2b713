list "modelkeys_identity_provider" "all" {
  provider = modelkeys
}
