# An identity provider is imported by its id; its client secret, which the API never returns, is not.
terraform import modelkeys_identity_provider.github idp_0123456789abcdef
