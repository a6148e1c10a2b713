# The fixture's connection "chat" looked up by id and by name, and its namesake in the project, whose
# parameters Terraform can decode.
data "modelkeys_connection" "by_id" {
  id = "{{ .Connection }}"
}
data "modelkeys_connection" "by_name" {
  name = "chat"
}
data "modelkeys_connection" "in_project" {
  name       = "chat"
  project_id = "{{ .Project }}"
}
resource "terraform_data" "temperature" {
  input = jsondecode(data.modelkeys_connection.in_project.parameters).temperature
}
