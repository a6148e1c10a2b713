package console

import (
	"html/template"
	"net/http"
)

// writePages are the templates of the write forms (issue 36); each is parsed with the layout.
var writePages = []string{"credential_pick", "credential_form", "credential_delete", "project", "connection_form", "permissions"}

func init() {
	funcs["hasFieldError"] = func(f credentialForm) bool {
		for _, v := range append(append([]fieldView{}, f.Settings...), f.Secrets...) {
			if v.Error != "" {
				return true
			}
		}
		return false
	}
}

// routeWrites parses the write forms' templates and routes them. Every POST goes through authed with
// write set: a session, its CSRF token and an editor or admin token.
func (c *Console) routeWrites(m *http.ServeMux) {
	for _, name := range writePages {
		c.pages[name] = template.Must(template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
	}
	m.HandleFunc("GET /ui/credentials/new", c.authed(c.newCredentialPage, false))
	m.HandleFunc("POST /ui/credentials/new", c.authed(c.createCredential, true))
	m.HandleFunc("GET /ui/credentials/{id}/edit", c.authed(c.editCredentialPage, false))
	m.HandleFunc("POST /ui/credentials/{id}/edit", c.authed(c.updateCredential, true))
	m.HandleFunc("GET /ui/credentials/{id}/delete", c.authed(c.deleteCredentialPage, false))
	m.HandleFunc("POST /ui/credentials/{id}/delete", c.authed(c.deleteCredential, true))
	m.HandleFunc("POST /ui/credentials/{id}/rotate-now", c.authed(c.rotateManaged, true)) // managed rotation (managed_rotation.go)
	m.HandleFunc("GET /ui/connections/new", c.authed(c.newConnectionPage, false))
	m.HandleFunc("POST /ui/connections/new", c.authed(c.createConnection, true))
	m.HandleFunc("POST /ui/connections/{id}/{action}", c.authed(c.connectionAction, true))
	m.HandleFunc("GET /ui/permissions", c.authed(c.permissionsPage, false))
	m.HandleFunc("POST /ui/permissions", c.authed(c.savePermissions, true))
	m.HandleFunc("GET /ui/projects/{id}", c.authed(c.projectPage, false))
	m.HandleFunc("POST /ui/projects/{id}/inherit", c.authed(c.setInherit, true))
}
