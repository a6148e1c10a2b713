# Reads a credential's secret for the length of one Terraform run, to hand it to
# a write-only argument: it never reaches plan or state. Needs Terraform 1.10+
# (write-only arguments 1.11+) or OpenTofu 1.11+. A modelkeys-server answers
# only when started with --allow-reveal and only to an admin token, and audits
# every reveal; the embedded store always answers.

# The organisation's OpenAI key, managed by another team.
data "modelkeys_credential" "openai_org" {
  name = "openai-prod"
}

ephemeral "modelkeys_credential_secret" "openai_org" {
  credential_id = data.modelkeys_credential.openai_org.id
}

# Copy it into a project of its own, without the key touching state. The
# version follows the source's secret_version, so a rotation of the source is
# copied on the next apply.
resource "modelkeys_credential" "openai_research" {
  name               = "openai-research"
  project_id         = var.research_project_id
  model_provider     = "openai"
  api_key_wo         = ephemeral.modelkeys_credential_secret.openai_org.api_key
  api_key_wo_version = data.modelkeys_credential.openai_org.secret_version
}

# The same value fits other providers' write-only arguments, for example a
# Kubernetes secret's data_wo:
#
# resource "kubernetes_secret_v1" "openai" {
#   metadata { name = "openai" }
#   data_wo = {
#     OPENAI_API_KEY = ephemeral.modelkeys_credential_secret.openai_org.api_key
#   }
#   data_wo_revision = data.modelkeys_credential.openai_org.secret_version
# }

variable "research_project_id" {
  type = string
}
