package console

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

type connectionRow struct {
	api.Connection
	Scope          string
	CredentialName string
}

type connectionsData struct {
	Rows        []connectionRow
	Scopes      []option
	Next, First string
	Filtered    bool
}

// connectionsPage is a keyset page of connections (by creation), filtered by scope; the credentials'
// names are one lookup of the page's ids.
func (c *Console) connectionsPage(w http.ResponseWriter, r *http.Request, req *request) {
	ctx, p := r.Context(), req.p
	qv := r.URL.Query()
	project := qv.Get("project")
	projects, err := c.allProjects(ctx, p)
	if err != nil {
		c.fail(w, r, req, err)
		return
	}
	page, err := c.svc.ListConnections(ctx, p, store.ConnectionFilter{ProjectID: project, AfterID: qv.Get("after"), Limit: listPageSize})
	if err != nil {
		c.fail(w, r, req, err)
		return
	}
	var ids []string
	for _, cn := range page.Items {
		if cn.CredentialID != "" && !slices.Contains(ids, cn.CredentialID) {
			ids = append(ids, cn.CredentialID)
		}
	}
	names, err := c.svc.ObjectNames(ctx, p, ids)
	if err != nil {
		c.fail(w, r, req, err)
		return
	}
	idx := projectIndex(projects)
	d := connectionsData{Filtered: project != "", Scopes: projectOptions(projects, project, option{Value: "", Label: "All scopes"}, option{Value: "-", Label: "Organisation"})}
	for _, cn := range page.Items {
		d.Rows = append(d.Rows, connectionRow{Connection: cn, Scope: scopeName(cn.ProjectID, idx), CredentialName: names[cn.CredentialID]})
	}
	if page.NextPageToken != "" {
		v := url.Values{"after": {page.NextPageToken}}
		if project != "" {
			v.Set("project", project)
		}
		d.Next = "/ui/connections?" + v.Encode()
	}
	if qv.Get("after") != "" {
		d.First = "/ui/connections"
		if project != "" {
			d.First += "?project=" + url.QueryEscape(project)
		}
	}
	c.render(w, r, http.StatusOK, "connections", c.newPage(req, "Connections", "connections", d))
}

// connectForm connects a model to one credential.
type connectForm struct {
	Credential                         api.Credential
	Models                             []api.Model // the catalog's models of the provider; empty for a provider that takes any model
	AnyModel                           bool
	Projects                           []option
	Name, Model, Parameters, ProjectID string
	Enabled                            bool
	Errors                             map[string]string
	Other                              []string
}

func (c *Console) connectFormFor(r *http.Request, req *request, cr api.Credential) (connectForm, error) {
	f := connectForm{Credential: cr, Enabled: true, Errors: map[string]string{}, ProjectID: cr.ProjectID}
	if prov, ok := catalog.Provider(cr.Provider); ok {
		f.AnyModel = prov.AnyModel
	}
	f.Models = catalog.ModelsFor(cr.Provider)
	if cr.ProjectID == "" {
		// An organisation key serves the organisation's connections and those of projects that inherit.
		projects, err := c.allProjects(r.Context(), req.p)
		if err != nil {
			return f, err
		}
		var inheriting []api.Project
		for _, p := range projects {
			if p.InheritOrganizationCredentials {
				inheriting = append(inheriting, p)
			}
		}
		f.Projects = projectOptions(inheriting, "", option{Value: "", Label: "Organisation"})
	}
	return f, nil
}

func (c *Console) newConnectionPage(w http.ResponseWriter, r *http.Request, req *request) {
	if !c.mustWrite(w, r, req) {
		return
	}
	cr, err := c.svc.GetCredential(r.Context(), req.p, r.URL.Query().Get("credential"))
	if err != nil {
		c.fail(w, r, req, err)
		return
	}
	f, err := c.connectFormFor(r, req, cr)
	if err != nil {
		c.fail(w, r, req, err)
		return
	}
	c.render(w, r, http.StatusOK, "connection_form", c.newPage(req, "Connect a model to "+cr.Name, "connections", f))
}

// createConnection is the service's CreateConnection: the model policy, the catalog's model list and
// the credential's scope are its rules.
func (c *Console) createConnection(w http.ResponseWriter, r *http.Request, req *request) {
	pf := r.PostForm
	cr, err := c.svc.GetCredential(r.Context(), req.p, pf.Get("credential_id"))
	if err != nil {
		c.fail(w, r, req, err)
		return
	}
	f, err := c.connectFormFor(r, req, cr)
	if err != nil {
		c.fail(w, r, req, err)
		return
	}
	f.Name, f.Model, f.Parameters = strings.TrimSpace(pf.Get("name")), strings.TrimSpace(pf.Get("model")), pf.Get("parameters")
	f.Enabled = pf.Get("enabled") == "true"
	if cr.ProjectID == "" {
		f.ProjectID = pf.Get("project_id")
		f.Projects = c.reselect(f.Projects, f.ProjectID)
	}
	enabled := f.Enabled
	cn, _, err := c.svc.CreateConnection(r.Context(), req.p, api.ConnectionCreate{Name: f.Name, CredentialID: cr.ID, Model: f.Model,
		ProjectID: f.ProjectID, Parameters: f.Parameters, Enabled: &enabled, AllowUnknownModel: pf.Get("allow_unknown_model") == "true"}, nil)
	if err != nil {
		if !refusable(err) {
			c.fail(w, r, req, err)
			return
		}
		var e *service.Error
		errors.As(err, &e)
		if e.Detail != "" {
			f.Other = append(f.Other, e.Detail)
		}
		for _, fe := range e.Fields {
			if slices.Contains([]string{"name", "model", "parameters", "project_id"}, fe.Field) {
				f.Errors[fe.Field] = joinMsg(f.Errors[fe.Field], fe.Message)
			} else {
				f.Other = append(f.Other, fe.Field+": "+fe.Message)
			}
		}
		if len(e.Fields) == 0 && e.Detail == "" {
			f.Other = append(f.Other, e.Title)
		}
		c.render(w, r, http.StatusUnprocessableEntity, "connection_form", c.newPage(req, "Connect a model to "+cr.Name, "connections", f))
		return
	}
	c.sessions.setFlash(req.id, "Connected "+cn.Name+": "+cn.Provider+"/"+cn.Model+" through "+cr.Name+" ("+cn.Status+").", "")
	backToCredential(w, r, cr.ID)
}

// connectionAction enables, disables or deletes a connection, bound to the version shown; it returns
// to the page the form came from (the credential's, or the connections list).
func (c *Console) connectionAction(w http.ResponseWriter, r *http.Request, req *request) {
	id := r.PathValue("id")
	back := "/ui/connections"
	if cid := r.PostForm.Get("back_credential"); cid != "" {
		back = credentialURL(cid)
	}
	shown, err := strconv.ParseInt(r.PostForm.Get("version"), 10, 64)
	if err != nil || shown <= 0 {
		c.sessions.setFlash(req.id, "", "Not done: the form does not say which version of the connection it was made for. Reload the page and try again.")
		http.Redirect(w, r, back, http.StatusSeeOther) //nolint:gosec // G710: a fixed local path or a path-escaped id
		return
	}
	var msg string
	switch r.PathValue("action") {
	case "enable", "disable":
		on := r.PathValue("action") == "enable"
		var cn api.Connection
		if cn, err = c.svc.UpdateConnection(r.Context(), req.p, id, api.ConnectionPatch{Enabled: &on}, shown); err == nil {
			msg = "Connection " + cn.Name + " is " + map[bool]string{true: "enabled", false: "disabled"}[cn.Enabled] + "."
		}
	case "delete":
		if err = c.svc.DeleteConnection(r.Context(), req.p, id, shown); err == nil {
			msg = "Connection deleted."
		}
	default:
		c.renderError(w, r, req, http.StatusNotFound, "Not found", "There is no such action on a connection.")
		return
	}
	if err != nil {
		var e *service.Error
		switch {
		case errors.As(err, &e) && e.Status == http.StatusPreconditionFailed:
			c.sessions.setFlash(req.id, "", "Not done: someone changed this connection after you opened the page. Check it and try again.")
		case refusable(err):
			c.sessions.setFlash(req.id, "", "Not done: "+errorText(err, ""))
		default:
			c.fail(w, r, req, err)
			return
		}
	} else {
		c.sessions.setFlash(req.id, msg, "")
	}
	http.Redirect(w, r, back, http.StatusSeeOther) //nolint:gosec // G710: as above
}
