# A connection by name (or by id).
data "modelkeys_connection" "chat" {
  name = "chat-default"
}

output "chat_model" {
  value = "${data.modelkeys_connection.chat.model_provider}/${data.modelkeys_connection.chat.model}"
}

# "blocked" when the model policy no longer allows the model.
output "chat_status" {
  value = data.modelkeys_connection.chat.status
}
