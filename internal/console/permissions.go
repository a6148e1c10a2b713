package console

// Model permissions per scope, as GitHub Models has them: all publishers (with a list of disabled
// models and publishers), or only selected models and publishers (the enabled list). They are the
// model policy's modes (all or denylist; allowlist), written with the service's PutModelPolicy, and a
// preview (the service's PreviewModelPolicy, the same decision connections are judged by) lists the
// connections a change would block before it is saved.

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
)

const (
	choiceAll      = "all"      // every publisher, minus the disabled list
	choiceSelected = "selected" // only the enabled list
)

type checkItem struct {
	Value, Label string
	Checked      bool
}

type publisherGroup struct {
	checkItem
	Models []checkItem
	Marked int // models checked in this group
}

type permissionsData struct {
	ProjectID, ScopeName string
	Scopes               []option
	Policy               api.ModelPolicy
	Choice               string
	Publishers           []publisherGroup
	Other                string // model refs the catalog does not list, one a line
	Enabled, Disabled    []string
	Preview              *service.PolicyPreview
	Previewed            bool
	Version              int64
	Errors               []string
	Terraform            bool
}

func (c *Console) permissionsPage(w http.ResponseWriter, r *http.Request, req *request) {
	projectID := r.URL.Query().Get("project")
	pol, err := c.svc.GetModelPolicy(r.Context(), req.p, projectID)
	if err != nil {
		c.fail(w, r, req, err)
		return
	}
	d, err := c.permissionsData(r, req, projectID)
	if err != nil {
		c.fail(w, r, req, err)
		return
	}
	d.Policy, d.Version = pol, pol.Version
	d.Choice = choiceAll
	if pol.Mode == api.PolicyAllowlist {
		d.Choice = choiceSelected
	}
	d.mark(pol.Models, pol.Publishers)
	c.render(w, r, http.StatusOK, "permissions", c.newPage(req, "Model permissions", "policies", d))
}

func (c *Console) permissionsData(r *http.Request, req *request, projectID string) (permissionsData, error) {
	projects, err := c.allProjects(r.Context(), req.p)
	if err != nil {
		return permissionsData{}, err
	}
	d := permissionsData{ProjectID: projectID, ScopeName: scopeName(projectID, projectIndex(projects)),
		Scopes: projectOptions(projects, projectID, option{Value: "", Label: "Organisation"})}
	byPub := map[string]*publisherGroup{}
	for _, pub := range catalog.Publishers() {
		d.Publishers = append(d.Publishers, publisherGroup{checkItem: checkItem{Value: pub, Label: pub}})
	}
	for i := range d.Publishers {
		byPub[d.Publishers[i].Value] = &d.Publishers[i]
	}
	for _, m := range catalog.Models() {
		if g := byPub[m.Publisher]; g != nil {
			label := m.Provider + "/" + m.ID
			if m.DisplayName != "" {
				label = m.DisplayName + " (" + label + ")"
			}
			g.Models = append(g.Models, checkItem{Value: m.Provider + "/" + m.ID, Label: label})
		}
	}
	return d, nil
}

// mark checks the listed models and publishers, and keeps the models the catalog does not list as
// the "other models" text; it also fills the enabled and disabled summaries.
func (d *permissionsData) mark(models, publishers []string) {
	known := map[string]bool{}
	for i := range d.Publishers {
		g := &d.Publishers[i]
		g.Checked = slices.Contains(publishers, g.Value)
		g.Marked = 0
		for j := range g.Models {
			g.Models[j].Checked = slices.Contains(models, g.Models[j].Value)
			known[g.Models[j].Value] = true
			if g.Models[j].Checked {
				g.Marked++
			}
		}
	}
	var other []string
	for _, m := range models {
		if !known[m] {
			other = append(other, m)
		}
	}
	d.Other = strings.Join(other, "\n")
	list := append(append([]string{}, publishers...), models...)
	if d.Choice == choiceSelected {
		d.Enabled, d.Disabled = list, nil
	} else {
		d.Enabled, d.Disabled = nil, list
	}
}

// savePermissions previews (action=preview) or saves (action=save) the form's policy.
func (c *Console) savePermissions(w http.ResponseWriter, r *http.Request, req *request) {
	pf := r.PostForm
	projectID := pf.Get("project")
	d, err := c.permissionsData(r, req, projectID)
	if err != nil {
		c.fail(w, r, req, err)
		return
	}
	d.Choice = pf.Get("choice")
	if d.Choice != choiceSelected {
		d.Choice = choiceAll
	}
	models := pf["model"]
	for _, line := range strings.Split(strings.ReplaceAll(pf.Get("other_models"), "\r\n", "\n"), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			models = append(models, line)
		}
	}
	publishers := pf["publisher"]
	d.mark(models, publishers)
	d.Version, _ = strconv.ParseInt(pf.Get("version"), 10, 64)
	in := api.ModelPolicyPut{Mode: api.PolicyAllowlist, Models: models, Publishers: publishers}
	if d.Choice == choiceAll {
		in.Mode = api.PolicyDenylist
		if len(models) == 0 && len(publishers) == 0 {
			in = api.ModelPolicyPut{Mode: api.PolicyAll}
		}
	}
	d.Policy = api.ModelPolicy{Mode: in.Mode, Models: in.Models, Publishers: in.Publishers, Version: d.Version}
	again := func(status int) {
		c.render(w, r, status, "permissions", c.newPage(req, "Model permissions", "policies", d))
	}
	// refused answers a refusal of the preview or the save: the form again with the service's words,
	// or the error page.
	refused := func(err error) {
		var e *service.Error
		switch {
		case errors.As(err, &e) && e.Status == http.StatusPreconditionFailed:
			d.Errors = append(d.Errors, "Someone changed this policy after you opened the page. Nothing was saved; reload the page to see their change.")
			again(http.StatusConflict)
		case refusable(err):
			d.Errors = append(d.Errors, errorText(err, ""))
			again(http.StatusUnprocessableEntity)
		default:
			c.fail(w, r, req, err)
		}
	}
	if pf.Get("action") != "save" || pf.Get("previewed") != "yes" {
		// Always preview first: the save button appears with the list of what it would block.
		preview, err := c.svc.PreviewModelPolicy(r.Context(), req.p, projectID, in)
		if err != nil {
			refused(err)
			return
		}
		d.Preview, d.Previewed = &preview, true
		again(http.StatusOK)
		return
	}
	// A policy never written has version 0, which PutModelPolicy takes as "no check": the first write
	// of a scope's policy is not bound, as with the API's PUT without If-Match.
	pol, err := c.svc.PutModelPolicy(r.Context(), req.p, projectID, in, d.Version)
	if err != nil {
		refused(err)
		return
	}
	c.sessions.setFlash(req.id, "Saved the model permissions of "+strings.ToLower(d.ScopeName[:1])+d.ScopeName[1:]+" ("+pol.Mode+").", "")
	target := "/ui/permissions"
	if projectID != "" {
		target += "?project=" + url.QueryEscape(projectID)
	}
	http.Redirect(w, r, target, http.StatusSeeOther) //nolint:gosec // G710: a fixed local path and an escaped id
}
