package console

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

type projectRow struct {
	api.Project
	Credentials, Connections int
	Policy                   string
}

// projectsPage lists the projects with their counts (two aggregates) and model policy modes.
func (c *Console) projectsPage(w http.ResponseWriter, r *http.Request, req *request) {
	ctx, p := r.Context(), req.p
	projects, err := c.allProjects(ctx, p)
	if err != nil {
		c.fail(w, r, req, err)
		return
	}
	nCreds, nConns, err := c.svc.CountByProject(ctx, p)
	if err != nil {
		c.fail(w, r, req, err)
		return
	}
	rows := make([]projectRow, 0, len(projects))
	for _, pr := range projects {
		pol, err := c.svc.GetModelPolicy(ctx, p, pr.ID)
		if err != nil {
			c.fail(w, r, req, err)
			return
		}
		rows = append(rows, projectRow{Project: pr, Credentials: nCreds[pr.ID], Connections: nConns[pr.ID], Policy: pol.Mode})
	}
	c.render(w, r, http.StatusOK, "projects", c.newPage(req, "Projects", "projects", rows))
}

// projectUses are the keys a project's connections may use: its own, and the organisation's when it
// inherits them (a page of each, with a link to the rest).
type projectData struct {
	api.Project
	Own, Inherited         []api.Credential
	MoreOwn, MoreInherited string
	Policy                 string
}

const projectKeysShown = 25

func (c *Console) projectPage(w http.ResponseWriter, r *http.Request, req *request) {
	ctx, p := r.Context(), req.p
	pr, err := c.svc.GetProject(ctx, p, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, req, err)
		return
	}
	d := projectData{Project: pr}
	own, err := c.svc.SearchCredentials(ctx, p, store.CredentialSearch{ProjectID: pr.ID, Sort: store.SortName, Limit: projectKeysShown}, "", false)
	if err != nil {
		c.fail(w, r, req, err)
		return
	}
	d.Own = own.Items
	if own.NextID != "" {
		d.MoreOwn = "/ui/credentials?project=" + url.QueryEscape(pr.ID)
	}
	if pr.InheritOrganizationCredentials {
		org, err := c.svc.SearchCredentials(ctx, p, store.CredentialSearch{ProjectID: "-", Sort: store.SortName, Limit: projectKeysShown}, "", false)
		if err != nil {
			c.fail(w, r, req, err)
			return
		}
		d.Inherited = org.Items
		if org.NextID != "" {
			d.MoreInherited = "/ui/credentials?project=-"
		}
	}
	pol, err := c.svc.GetModelPolicy(ctx, p, pr.ID)
	if err != nil {
		c.fail(w, r, req, err)
		return
	}
	d.Policy = pol.Mode
	c.render(w, r, http.StatusOK, "project", c.newPage(req, "Project "+pr.Name, "projects", d))
}

// setInherit flips the project's "inherit the organisation's keys" switch through UpdateProject,
// bound to the version the page showed.
func (c *Console) setInherit(w http.ResponseWriter, r *http.Request, req *request) {
	id := r.PathValue("id")
	back := "/ui/projects/" + url.PathEscape(id)
	shown, err := strconv.ParseInt(r.PostForm.Get("version"), 10, 64)
	if err != nil || shown <= 0 {
		c.sessions.setFlash(req.id, "", "Not changed: the form does not say which version of the project it was made for. Reload the page and try again.")
		http.Redirect(w, r, back, http.StatusSeeOther) //nolint:gosec // G710: a fixed local prefix and a path-escaped id
		return
	}
	inherit := r.PostForm.Get("inherit") == "true"
	pr, err := c.svc.UpdateProject(r.Context(), req.p, id, api.ProjectPatch{InheritOrganizationCredentials: &inherit}, shown)
	if err != nil {
		var e *service.Error
		if errors.As(err, &e) && e.Status == http.StatusPreconditionFailed {
			c.sessions.setFlash(req.id, "", "Not changed: someone changed this project after you opened the page. Check it and try again.")
		} else if refusable(err) {
			c.sessions.setFlash(req.id, "", "Not changed: "+errorText(err, ""))
		} else {
			c.fail(w, r, req, err)
			return
		}
		http.Redirect(w, r, back, http.StatusSeeOther) //nolint:gosec // G710: as above
		return
	}
	msg := "Project " + pr.Name + " no longer uses the organisation's keys."
	if pr.InheritOrganizationCredentials {
		msg = "Project " + pr.Name + " now also uses the organisation's keys."
	}
	c.sessions.setFlash(req.id, msg, "")
	http.Redirect(w, r, back, http.StatusSeeOther) //nolint:gosec // G710: as above
}
