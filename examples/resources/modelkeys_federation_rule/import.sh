# A federation rule is imported by its id.
terraform import modelkeys_federation_rule.apply fr_0123456789abcdef
