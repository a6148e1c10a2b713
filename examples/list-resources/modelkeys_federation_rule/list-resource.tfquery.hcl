list "modelkeys_federation_rule" "github" {
  provider = modelkeys

  config {
    identity_provider_id = "idp_0123456789abcdef"
    kind                 = "workload"
  }
}
