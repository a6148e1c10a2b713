# The key of an organisation credential, read for the length of one run, for
# a write-only argument: it never reaches plan or state. A module of its own so
# that tests on Terraform before 1.17, whose mock providers cannot mock
# ephemeral resources, can replace it with override_module.
terraform {
  required_providers {
    modelkeys = {
      source = "modelkeys/modelkeys"
    }
  }
}

variable "credential_name" {
  type        = string
  description = "The name of the organisation credential to copy."
}

data "modelkeys_credential" "source" {
  name = var.credential_name
}

ephemeral "modelkeys_credential_secret" "source" {
  credential_id = data.modelkeys_credential.source.id
}

output "api_key" {
  description = "The credential's key, for this run only."
  value       = ephemeral.modelkeys_credential_secret.source.api_key
  sensitive   = true
  ephemeral   = true
}

output "secret_version" {
  description = "The key's version: it changes with every rotation of the source."
  value       = data.modelkeys_credential.source.secret_version
}

output "model_provider" {
  description = "The source credential's model provider."
  value       = data.modelkeys_credential.source.model_provider
}
