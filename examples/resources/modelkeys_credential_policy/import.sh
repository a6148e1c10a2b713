# The organisation's policy is imported with the id "organization".
terraform import modelkeys_credential_policy.organization organization

# A project's policy is imported with the project's id.
terraform import modelkeys_credential_policy.support_bot proj_0123456789abcdef
