# One credential per element of the data, so that Terraform creates them in parallel.
# {{ range . }}
resource "modelkeys_credential" "c{{ .Index }}" {
  name           = "{{ .Name }}"
  model_provider = "openai"
  api_key        = "{{ .Key }}"
  verify         = false
}
# {{ end }}
