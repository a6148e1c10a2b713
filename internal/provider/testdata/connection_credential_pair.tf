# Two OpenAI credentials whose descriptions the steps change, for a connection that the test adds
# and re-points between them.
resource "modelkeys_credential" "first" {
  name           = "first"
  description    = "{{ .First }}"
  model_provider = "openai"
  api_key        = "{{ .FirstKey }}"
  verify         = false
}

resource "modelkeys_credential" "second" {
  name           = "second"
  description    = "{{ .Second }}"
  model_provider = "openai"
  api_key        = "{{ .SecondKey }}"
  verify         = false
}
