package console

import (
	"errors"
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

var funcs = template.FuncMap{
	"when": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			return v.UTC().Format("2006-01-02 15:04 UTC")
		case *time.Time:
			if v == nil {
				return ""
			}
			return v.UTC().Format("2006-01-02 15:04 UTC")
		}
		return ""
	},
	"iso":        func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"ago":        func(t time.Time) string { return ago(time.Since(t)) },
	"join":       strings.Join,
	"sortedKeys": func(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) },
	"providerName": func(id string) string {
		if p, ok := catalog.Provider(id); ok {
			return p.DisplayName
		}
		return id
	},
	"fields": func(fs []string) string {
		if len(fs) == 0 {
			return "-"
		}
		return strings.Join(fs, ", ")
	},
}

// ago says how long ago, roughly, for people.
func ago(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute") + " ago"
	case d < 48*time.Hour:
		return plural(int(d/time.Hour), "hour") + " ago"
	default:
		return plural(int(d/(24*time.Hour)), "day") + " ago"
	}
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// scopeName names a credential's or connection's scope.
func scopeName(projectID string, projects map[string]api.Project) string {
	if projectID == "" {
		return "Organisation"
	}
	if p, ok := projects[projectID]; ok {
		return "Project " + p.Name
	}
	return "Project " + projectID
}

func projectIndex(ps []api.Project) map[string]api.Project {
	out := make(map[string]api.Project, len(ps))
	for _, p := range ps {
		out[p.ID] = p
	}
	return out
}

// ---- Credentials ----

// option is one choice of a filter's <select>.
type option struct {
	Value, Label string
	Selected     bool
}

// providerOptions is the provider filter: all providers, then each of the catalog's.
func providerOptions(selected string) []option {
	out := []option{{Value: "", Label: "All providers", Selected: selected == ""}}
	for _, prov := range catalog.Providers() {
		out = append(out, option{Value: prov.ID, Label: prov.DisplayName, Selected: prov.ID == selected})
	}
	return out
}

// projectOptions is a scope filter: the given leading choices, then one per project.
func projectOptions(projects []api.Project, selected string, leading ...option) []option {
	out := make([]option, 0, len(leading)+len(projects))
	for _, o := range leading {
		o.Selected = o.Value == selected
		out = append(out, o)
	}
	for _, pr := range projects {
		out = append(out, option{Value: pr.ID, Label: "Project " + pr.Name, Selected: pr.ID == selected})
	}
	return out
}

// The credentials list is credentials_list.go.

// ---- One credential ----

type credentialData struct {
	api.Credential
	Scope        string
	ProviderDocs string
	Connections  []api.Connection
	History      []api.AuditEvent
	KeySet       time.Time
	// RotateForms are the rotate forms, one per secret the credential holds.
	RotateForms []rotateForm
	Terraform   bool
	// HCL and ImportBlock adopt the credential into Terraform configuration (hcl.go).
	HCL, ImportBlock string
	// MoreHistory links to the audit log of this credential when it has more than historySize events.
	MoreHistory string
	// Destination says where a new key goes (catalog.DescribeDestination); DestinationByOther is true
	// when another token set it, so the rotate form asks the person to confirm it.
	Destination        string
	DestinationByOther bool
}

func (c *Console) credentialPage(w http.ResponseWriter, r *http.Request, req *request) {
	ctx, p := r.Context(), req.p
	id := r.PathValue("id")
	cr, err := c.svc.GetCredential(ctx, p, id)
	if err != nil {
		c.fail(w, r, req, err)
		return
	}
	projects, err := c.allProjects(ctx, p)
	if err != nil {
		c.fail(w, r, req, err)
		return
	}
	conns, err := c.allConnections(ctx, p, store.ConnectionFilter{CredentialID: id})
	if err != nil {
		c.fail(w, r, req, err)
		return
	}
	// The newest changes of this credential only, on the audit log's object index.
	history, err := c.svc.SearchAudit(ctx, p, store.AuditQuery{ObjectID: id, Limit: historySize})
	if err != nil {
		c.fail(w, r, req, err)
		return
	}
	d := credentialData{Credential: cr, Scope: scopeName(cr.ProjectID, projectIndex(projects)), Connections: conns,
		History: history.Items, KeySet: cr.RotatedAt, Terraform: cr.ManagedBy == api.ManagedByTerraform}
	if history.NextPageToken != "" {
		d.MoreHistory = "/ui/audit?object=" + url.QueryEscape(id)
	}
	if prov, ok := catalog.Provider(cr.Provider); ok {
		d.ProviderDocs = prov.DocsURL
	}
	d.RotateForms = rotateFormsOf(cr)
	d.HCL, d.ImportBlock = credentialHCL(cr)
	d.Destination, d.DestinationByOther = service.DescribeDestination(cr), service.DestinationSetByOther(cr, p)
	c.render(w, r, http.StatusOK, "credential", c.newPage(req, cr.Name, "credentials", d))
}

// secretFieldOf is the secret a rotation replaces: the api_key, or the auth_token of a credential that
// has only that.
func secretFieldOf(cr api.Credential) (field, label string) {
	if !cr.HasAPIKey && cr.HasAuthToken {
		return api.SecretAuthToken, "New auth token"
	}
	return api.SecretAPIKey, "New API key"
}

// rotateForm is one rotate form: the secret it replaces and its elements' id suffix.
type rotateForm struct {
	Field, Label, Noun, Suffix string
}

// rotateFormsOf is a form per secret cr holds (the api_key first, as the one rotated most); a
// credential that holds none gets the form of the secret it would take.
func rotateFormsOf(cr api.Credential) []rotateForm {
	var out []rotateForm
	if cr.HasAPIKey || !cr.HasAuthToken {
		out = append(out, rotateForm{Field: api.SecretAPIKey, Label: "New API key", Noun: "key"})
	}
	if cr.HasAuthToken {
		f := rotateForm{Field: api.SecretAuthToken, Label: "New auth token", Noun: "auth token"}
		if len(out) > 0 {
			f.Suffix = "-auth-token"
		}
		out = append(out, f)
	}
	return out
}

func credentialURL(id string) string { return "/ui/credentials/" + url.PathEscape(id) }

// backToCredential redirects to a credential's page after an action. The address is always this
// server's /ui/credentials/ followed by the escaped id, never one the request chose.
func backToCredential(w http.ResponseWriter, r *http.Request, id string) {
	http.Redirect(w, r, credentialURL(id), http.StatusSeeOther) //nolint:gosec // G710: a fixed local prefix and a path-escaped id
}

// verify re-checks a key with its provider now.
func (c *Console) verify(w http.ResponseWriter, r *http.Request, req *request) {
	id := r.PathValue("id")
	cr, err := c.svc.VerifyCredential(r.Context(), req.p, id)
	if err != nil {
		c.flashOrFail(w, r, req, id, err, "")
		return
	}
	msg := "Checked with the provider: the key is " + cr.Status + "."
	if cr.StatusMessage != "" {
		msg += " " + cr.StatusMessage
	}
	c.sessions.setFlash(req.id, msg, "")
	backToCredential(w, r, id)
}

// rotate replaces the key with the one pasted, through the API's update: the same validation,
// verification and audit. The key is never echoed back, not even in an error.
func (c *Console) rotate(w http.ResponseWriter, r *http.Request, req *request) {
	id := r.PathValue("id")
	cur, err := c.svc.GetCredential(r.Context(), req.p, id)
	if err != nil {
		c.fail(w, r, req, err)
		return
	}
	field, _ := secretFieldOf(cur)
	if r.PostForm.Get("field") == api.SecretAuthToken && cur.HasAuthToken {
		field = api.SecretAuthToken // the second form of a credential that holds both secrets
	}
	secret := r.PostForm.Get(field)
	if secret == "" {
		c.sessions.setFlash(req.id, "", "Paste the new key to rotate to; nothing was changed.")
		backToCredential(w, r, id)
		return
	}
	// A new key goes only to the destination the page showed: the rotation is bound to the version the
	// form carries (the service's If-Match: a change in between is a 412, never a silent retry), and a
	// destination another token set must be confirmed.
	shown, err := strconv.ParseInt(r.PostForm.Get("version"), 10, 64)
	switch {
	case err != nil || shown <= 0:
		c.sessions.setFlash(req.id, "", "Not done: this form does not say which version of the credential it was made for. Reload the page, check where the key goes, and paste the key again.")
		backToCredential(w, r, id)
		return
	case service.DestinationSetByOther(cur, req.p) && r.PostForm.Get("confirm_destination") != "yes":
		c.sessions.setFlash(req.id, "", "Not done: someone else set where this key goes. Check the destination shown with the form, tick “Send to this destination”, and paste the key again.")
		backToCredential(w, r, id)
		return
	}
	// Last of the console's own checks, so the others (and the service's) answer first: a credential
	// Terraform manages is changed here only when the person confirms the drift it makes.
	if cur.ManagedBy == api.ManagedByTerraform && r.PostForm.Get("confirm_drift") != "yes" {
		c.sessions.setFlash(req.id, "", "Not done: Terraform manages this credential, so its next plan will show a new key as drift. Tick “I understand…” beside the key and paste it again.")
		backToCredential(w, r, id)
		return
	}
	patch := api.CredentialPatch{}
	if field == api.SecretAuthToken {
		patch.AuthToken = &secret
	} else {
		patch.APIKey = &secret
	}
	cr, err := c.svc.UpdateCredential(r.Context(), req.p, id, patch, shown)
	if err != nil {
		c.flashOrFail(w, r, req, id, err, secret)
		return
	}
	msg := fmt.Sprintf("Key rotated: it now ends %s (secret version %d) and is %s.", cr.SecretHint, cr.SecretVersion, cr.Status)
	if cr.ManagedBy == api.ManagedByTerraform {
		msg += " Terraform manages this credential: its next plan shows the change as drift."
	}
	c.sessions.setFlash(req.id, msg, "")
	backToCredential(w, r, id)
}

// flashOrFail shows an action's refusal on the credential's page (a 4xx the person can act on) or
// the error page.
func (c *Console) flashOrFail(w http.ResponseWriter, r *http.Request, req *request, id string, err error, secret string) {
	var e *service.Error
	if errors.As(err, &e) && e.Status >= 400 && e.Status < 500 && e.Status != http.StatusNotFound && e.Status != http.StatusForbidden {
		c.sessions.setFlash(req.id, "", "Not done: "+errorText(err, secret))
		backToCredential(w, r, id)
		return
	}
	c.fail(w, r, req, err)
}

// The connections pages are connections_page.go.

// ---- Models ----

type modelRow struct {
	api.Model
	Connections []store.ConnectionRef
}

type modelsData struct {
	Scopes, Providers, Allowed []option
	ScopeName                  string
	Policy                     api.ModelPolicy
	OrgPolicy                  api.ModelPolicy
	Rows                       []modelRow
	AllowedCount, BlockedCount int
}

func (c *Console) modelsPage(w http.ResponseWriter, r *http.Request, req *request) {
	ctx, p := r.Context(), req.p
	q := r.URL.Query()
	scope, provider, allowed := q.Get("project"), q.Get("provider"), q.Get("allowed")
	projects, err := c.allProjects(ctx, p)
	if err != nil {
		c.fail(w, r, req, err)
		return
	}
	// The scope's connections by name and model only: their statuses are the connections page's.
	refs, err := c.svc.ConnectionRefs(ctx, p, scope)
	if err != nil {
		c.fail(w, r, req, err)
		return
	}
	models, err := c.svc.ListModels(ctx, p, service.ModelFilter{ProjectID: scope, Provider: provider})
	if err != nil {
		c.fail(w, r, req, err)
		return
	}
	d := modelsData{ScopeName: scopeName(scope, projectIndex(projects))}
	if d.OrgPolicy, err = c.svc.GetModelPolicy(ctx, p, ""); err != nil {
		c.fail(w, r, req, err)
		return
	}
	if scope != "" {
		if d.Policy, err = c.svc.GetModelPolicy(ctx, p, scope); err != nil {
			c.fail(w, r, req, err)
			return
		}
	}
	through := map[string][]store.ConnectionRef{}
	for _, cn := range refs {
		through[cn.Provider+"/"+cn.Model] = append(through[cn.Provider+"/"+cn.Model], cn)
	}
	d.Scopes = projectOptions(projects, scope, option{Value: "", Label: "Organisation"})
	d.Providers = providerOptions(provider)
	d.Allowed = []option{{Value: "", Label: "Allowed and blocked", Selected: allowed == ""},
		{Value: "yes", Label: "Allowed only", Selected: allowed == "yes"}, {Value: "no", Label: "Blocked only", Selected: allowed == "no"}}
	for _, m := range models.Items {
		if m.Allowed {
			d.AllowedCount++
		} else {
			d.BlockedCount++
		}
		if (allowed == "yes" && !m.Allowed) || (allowed == "no" && m.Allowed) {
			continue
		}
		d.Rows = append(d.Rows, modelRow{Model: m, Connections: through[m.Provider+"/"+m.ID]})
	}
	c.render(w, r, http.StatusOK, "models", c.newPage(req, "Models", "models", d))
}

// The projects pages are projects_page.go.

// ---- Policies ----

type policyRow struct {
	Scope  string
	Policy api.ModelPolicy
	// Credentials is the scope's credential policy as written (its rules, not the effective ones).
	Credentials api.CredentialPolicy
}

func (c *Console) policiesPage(w http.ResponseWriter, r *http.Request, req *request) {
	ctx, p := r.Context(), req.p
	projects, err := c.allProjects(ctx, p)
	if err != nil {
		c.fail(w, r, req, err)
		return
	}
	org, err := c.svc.GetModelPolicy(ctx, p, "")
	if err != nil {
		c.fail(w, r, req, err)
		return
	}
	rows := []policyRow{{Scope: "Organisation", Policy: org}}
	for _, pr := range projects {
		pol, err := c.svc.GetModelPolicy(ctx, p, pr.ID)
		if err != nil {
			c.fail(w, r, req, err)
			return
		}
		rows = append(rows, policyRow{Scope: "Project " + pr.Name, Policy: pol})
	}
	for i, pid := range append([]string{""}, projectIDs(projects)...) {
		if rows[i].Credentials, err = c.svc.GetCredentialPolicy(ctx, p, pid); err != nil {
			c.fail(w, r, req, err)
			return
		}
	}
	c.render(w, r, http.StatusOK, "policies", c.newPage(req, "Model policies", "policies", rows))
}

func projectIDs(ps []api.Project) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.ID)
	}
	return out
}

// The audit log is audit_page.go.
