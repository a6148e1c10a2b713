# A project's connection through an organisation credential, which works only while the project
# inherits organisation credentials. Inherit is "true" or "false".
resource "modelkeys_project" "test" {
  name                             = "research"
  inherit_organization_credentials = tobool("{{ .Inherit }}")
}

resource "modelkeys_credential" "org" {
  name           = "openai-org"
  model_provider = "openai"
  api_key        = "{{ .Key }}"
  verify         = false
}

resource "modelkeys_connection" "test" {
  name          = "research-gpt"
  project_id    = modelkeys_project.test.id
  credential_id = modelkeys_credential.org.id
  model         = "gpt-4.1"
}
