# A credential is imported by its id.
terraform import modelkeys_credential.openai cred_0123456789abcdef

# Secrets are never read back: after an import, set api_key (or api_key_wo and
# api_key_wo_version) in the configuration and apply once to put the key under
# Terraform's management.
