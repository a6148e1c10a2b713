# A connection is imported by its id.
terraform import modelkeys_connection.chat conn_0123456789abcdef
