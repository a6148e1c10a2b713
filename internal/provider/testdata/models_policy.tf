# modelkeys_models filtered by provider, capability, project and publisher, under the policies the
# test puts in place.
data "modelkeys_models" "all" {}
data "modelkeys_models" "openai" {
  model_provider = "openai"
}
data "modelkeys_models" "reasoning" {
  model_provider = "openai"
  capability     = "reasoning"
}
data "modelkeys_models" "in_project" {
  model_provider = "openai"
  project_id     = "{{ .Project }}"
}
data "modelkeys_models" "mistral" {
  publisher = "mistral"
}
