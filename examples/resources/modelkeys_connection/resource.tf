resource "modelkeys_credential" "openai" {
  name           = "openai-prod"
  model_provider = "openai"
  api_key        = var.openai_api_key
}

# A model reachable through the key, with default request parameters.
resource "modelkeys_connection" "chat" {
  name          = "chat-default"
  credential_id = modelkeys_credential.openai.id
  model         = "gpt-4o-mini"
  parameters    = jsonencode({ temperature = 0.2, max_tokens = 1024 })
}

# Disabled connections stay declared but cannot be used.
resource "modelkeys_connection" "reasoning" {
  name          = "reasoning"
  credential_id = modelkeys_credential.openai.id
  model         = "o3-mini"
  enabled       = false
}

variable "openai_api_key" {
  type      = string
  sensitive = true
}
