# Every filter of modelkeys_credentials, alone and combined, over the credential fixture and one more
# credential in its project.
data "modelkeys_credentials" "all" {}
data "modelkeys_credentials" "openai" {
  model_provider = "openai"
}
data "modelkeys_credentials" "project" {
  project_id = "{{ .Project }}"
}
data "modelkeys_credentials" "by_name" {
  name = "shared"
}
data "modelkeys_credentials" "combined" {
  project_id     = "{{ .Project }}"
  model_provider = "openai"
}
data "modelkeys_credentials" "none" {
  name = "nobody"
}
