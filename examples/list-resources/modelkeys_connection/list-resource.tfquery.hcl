# Every connection to one model, in one project.
list "modelkeys_connection" "gpt41" {
  provider = modelkeys

  config {
    model      = "gpt-4.1"
    project_id = "proj_0123456789abcdefghijklmn"
  }
}
