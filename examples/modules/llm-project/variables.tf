variable "name" {
  type        = string
  description = "The team's name: the project's name, and the prefix of its credential's and connections' names."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,40}$", var.name))
    error_message = "name must be 2 to 41 lowercase letters, digits and dashes, starting with a letter."
  }
}

variable "model_provider" {
  type        = string
  description = "The catalog provider of the key and the models, such as openai or anthropic."
  default     = "openai"
}

variable "models" {
  type        = set(string)
  description = "Model ids of model_provider the team may use, such as gpt-4.1; one connection each."

  validation {
    condition     = length(var.models) > 0
    error_message = "models must name at least one model."
  }
}

variable "api_key" {
  type        = string
  description = "The team's own key: a variable, or ../key-copy's api_key output. Write-only: never in plan or state. Leave it null to use organization_credential."
  default     = null
  sensitive   = true
  ephemeral   = true

  validation {
    condition     = (var.api_key == null) != (var.organization_credential == null)
    error_message = "Set exactly one of api_key (the team's own key) and organization_credential (the name of an organisation credential the project inherits)."
  }
}

variable "api_key_version" {
  type        = number
  description = "Bump to send a new api_key; with ../key-copy, its secret_version output."
  default     = 1
}

variable "organization_credential" {
  type        = string
  description = "The name of an organisation credential the project inherits and connects to, instead of a key of its own."
  default     = null
}
