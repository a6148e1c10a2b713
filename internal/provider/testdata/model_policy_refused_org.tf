# An organisation allowlist of Anthropic's models, and a connection to an OpenAI model that waits
# for it: the apply must fail with the rule named.
resource "modelkeys_credential" "test" {
  name           = "openai"
  model_provider = "openai"
  api_key        = "{{ .Key }}"
  verify         = false
}

resource "modelkeys_model_policy" "org" {
  mode       = "allowlist"
  publishers = ["anthropic"]
}

resource "modelkeys_connection" "org" {
  name          = "org"
  credential_id = modelkeys_credential.test.id
  model         = "gpt-4o-mini"
  depends_on    = [modelkeys_model_policy.org]
}
