# A project is imported by its id.
terraform import modelkeys_project.research proj_0123456789abcdef
