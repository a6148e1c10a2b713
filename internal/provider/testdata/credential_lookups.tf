# The credential fixture looked up by id and by name, in the organisation scope and in its project.
data "modelkeys_credential" "by_id" {
  id = "{{ .OrgCred }}"
}
data "modelkeys_credential" "by_name" {
  name = "shared"
}
data "modelkeys_credential" "in_project" {
  name       = "shared"
  project_id = "{{ .Project }}"
}
data "modelkeys_credential" "project_by_id" {
  id = "{{ .ProjCred }}"
}
