# A credential, a connection and a model policy that all omit project_id, under a provider block
# that sets project: the first two land in that project, the policy stays the organisation's.
resource "modelkeys_credential" "test" {
  name           = "openai"
  model_provider = "openai"
  api_key        = "{{ .Key }}"
  verify         = false
}

resource "modelkeys_connection" "test" {
  name          = "assistant"
  credential_id = modelkeys_credential.test.id
  model         = "gpt-4.1"
}

resource "modelkeys_model_policy" "org" {
  mode       = "denylist"
  publishers = ["meta"]
}
