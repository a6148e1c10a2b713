list "modelkeys_project" "ml" {
  provider = modelkeys

  config {
    name_prefix = "ml-"
  }
}
