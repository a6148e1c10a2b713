output "project_id" {
  description = "The team's project."
  value       = modelkeys_project.this.id
}

output "credential_id" {
  description = "The credential the connections use: the project's own, or the organisation's."
  value       = local.credential.id
}

output "connection_ids" {
  description = "The connection of each model, by model id."
  value       = { for m, c in modelkeys_connection.this : m => c.id }
}
