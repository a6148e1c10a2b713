# A project whose model policy denies one publisher, and a connection in it to an OpenAI model,
# through an organisation credential the project inherits, made once the policy is in place.
resource "modelkeys_credential" "test" {
  name           = "openai"
  model_provider = "openai"
  api_key        = "{{ .Key }}"
  verify         = false
}

resource "modelkeys_project" "p" {
  name                             = "p"
  inherit_organization_credentials = true
}

resource "modelkeys_model_policy" "project" {
  project_id = modelkeys_project.p.id
  mode       = "denylist"
  publishers = ["{{ .DeniedPublisher }}"]
}

resource "modelkeys_connection" "in_project" {
  name          = "in-project"
  project_id    = modelkeys_project.p.id
  credential_id = modelkeys_credential.test.id
  model         = "gpt-4o-mini"
  depends_on    = [modelkeys_model_policy.project]
}
