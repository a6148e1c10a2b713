package console

// Adding, editing and deleting a credential. The forms are built from the catalog (the same source
// as the API and the Terraform provider), and every write is the service's CreateCredential,
// UpdateCredential or DeleteCredential with the signed-in principal: validation, verification with
// the provider, limits, the destination rule and audit are the API's. A refusal is shown beside the
// field it names, in the service's words; what was typed comes back, except secrets.

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// fieldView is one input of a credential form.
type fieldView struct {
	Name        string // the form's name, which is also the API's field name (settings.base_url, api_key)
	Label       string
	Description string
	Example     string
	Required    bool
	Allowed     []string
	AuthMethods []string // the auth methods the setting belongs to (empty: all)
	Value       string   // never set for a secret
	Error       string
	Secret      bool
	Multiline   bool // a JSON key file
}

// ID is the input's element id.
func (f fieldView) ID() string { return "f-" + strings.NewReplacer(".", "-", "_", "-").Replace(f.Name) }

type categoryGroup struct {
	Heading   string
	Providers []api.Provider
}

// credentialForm is the add and the edit form.
type credentialForm struct {
	Edit      bool
	Provider  api.Provider
	ID        string
	Version   int64
	Terraform bool // managed_by = terraform: a change needs confirming and shows as drift

	Name, Description, Labels, RotationPeriod, ExpiresAt string
	ProjectID                                            string
	Verify                                               bool
	Projects                                             []option
	Settings, Secrets                                    []fieldView
	// Errors are the refusals of the form's fixed fields (name, labels, ...), by field; Other are
	// those the form has no input for.
	Errors map[string]string
	Other  []string
	// DestinationFields name the settings that decide where the secrets are sent: changing one of
	// them needs every secret again (catalog.SecretsNeeded, the API's rule).
	DestinationFields []string
	HasAPIKey         bool
	HasAuthToken      bool
	// Limit says how close the organisation is to --max-credentials; OnePerProvider when the
	// provider allows one credential per organisation.
	Limit          string
	OnePerProvider bool
}

type pickerData struct {
	Groups []categoryGroup
	Limit  string
	// Taken are the providers this server allows once per organisation (--one-per-provider) that
	// already have their credential, by provider id, with that credential's name.
	Taken map[string]string
	Once  map[string]bool
}

var categoryHeadings = map[string]string{
	api.CategoryModelProvider: "Model providers",
	api.CategoryCloud:         "Cloud platforms",
	api.CategoryGateway:       "Gateways",
	api.CategorySelfHosted:    "Your own server",
}

// mustWrite answers a GET of a write form for a viewer: they see no forms.
func (c *Console) mustWrite(w http.ResponseWriter, r *http.Request, req *request) bool {
	if req.p.CanWrite() {
		return true
	}
	c.renderError(w, r, req, http.StatusForbidden, "Forbidden", "Your token has the role "+req.p.Role+", which may only read; sign in with an editor or admin token to change things.")
	return false
}

// newCredentialPage is the provider picker, or with ?provider= that provider's form.
func (c *Console) newCredentialPage(w http.ResponseWriter, r *http.Request, req *request) {
	if !c.mustWrite(w, r, req) {
		return
	}
	limit := c.limitText(r, req)
	id := r.URL.Query().Get("provider")
	if id == "" {
		d := pickerData{Limit: limit, Taken: map[string]string{}, Once: map[string]bool{}}
		for _, id := range c.svc.Limits().OnePerProvider {
			d.Once[id] = true
			got, err := c.svc.SearchCredentials(r.Context(), req.p, store.CredentialSearch{Provider: id, Limit: 1}, "", false)
			if err != nil {
				c.fail(w, r, req, err)
				return
			}
			if len(got.Items) > 0 {
				d.Taken[id] = got.Items[0].Name
			}
		}
		for _, cat := range api.ProviderCategories {
			g := categoryGroup{Heading: categoryHeadings[cat]}
			for _, p := range catalog.Providers() {
				if p.Category == cat {
					g.Providers = append(g.Providers, p)
				}
			}
			if len(g.Providers) > 0 {
				d.Groups = append(d.Groups, g)
			}
		}
		c.render(w, r, http.StatusOK, "credential_pick", c.newPage(req, "Add a key", "credentials", d))
		return
	}
	prov, ok := catalog.Provider(id)
	if !ok {
		c.renderError(w, r, req, http.StatusNotFound, "Unknown provider", "The catalog has no provider "+strconv.Quote(id)+"; pick one from the list.")
		return
	}
	f, err := c.blankForm(r, req, prov)
	if err != nil {
		c.fail(w, r, req, err)
		return
	}
	f.Limit = limit
	c.render(w, r, http.StatusOK, "credential_form", c.newPage(req, "Add a key for "+prov.DisplayName, "credentials", f))
}

// limitText says how many credentials the organisation holds against its limit, when there is one.
func (c *Console) limitText(r *http.Request, req *request) string {
	s, _ := c.limitNear(r, req)
	return s
}

// limitNear is limitText and whether the organisation has used 80% of its limit or more (the list
// shows the limit only then: where it bites).
func (c *Console) limitNear(r *http.Request, req *request) (string, bool) {
	limit := c.svc.Limits().MaxCredentialsPerOrg
	if limit <= 0 {
		return "", false
	}
	n, err := c.svc.CountCredentials(r.Context(), req.p)
	if err != nil {
		return "", false
	}
	s := fmt.Sprintf("The organisation holds %d of at most %d credentials.", n, limit)
	if n >= limit {
		s += " It is full: delete a credential before adding one."
	}
	return s, n*10 >= limit*8
}

func (c *Console) blankForm(r *http.Request, req *request, prov api.Provider) (credentialForm, error) {
	f := credentialForm{Provider: prov, Verify: true, Errors: map[string]string{},
		OnePerProvider: slices.Contains(c.svc.Limits().OnePerProvider, prov.ID)}
	projects, err := c.allProjects(r.Context(), req.p)
	if err != nil {
		return f, err
	}
	f.Projects = projectOptions(projects, "", option{Value: "", Label: "Organisation (every project that inherits its keys)"})
	if req.p.ProjectID != "" {
		f.ProjectID = req.p.ProjectID
		f.Projects = projectOptions(projects, f.ProjectID)
	}
	f.fill(nil, nil)
	return f, nil
}

// fill builds the setting and secret inputs from the catalog, with the given values.
func (f *credentialForm) fill(settings map[string]string, _ map[string]string) {
	f.Settings, f.Secrets = nil, nil
	for _, s := range f.Provider.Settings {
		f.Settings = append(f.Settings, fieldView{Name: "settings." + s.Name, Label: s.Name, Description: s.Description,
			Example: s.Example, Required: s.Required && len(s.AuthMethods) == 0, Allowed: s.AllowedValues,
			AuthMethods: s.AuthMethods, Value: settings[s.Name]})
	}
	for _, s := range f.Provider.Secrets {
		label := "API key"
		if s.Name == api.SecretAuthToken {
			label = "Auth token"
		}
		desc := s.Description
		keyless := catalog.SupportsKeyless(f.Provider.ID)
		if keyless {
			desc += " Leave it empty with auth_method " + api.AuthMethodWorkloadIdentity + ": the server then signs in to the provider with its own identity and stores no key."
		}
		f.Secrets = append(f.Secrets, fieldView{Name: s.Name, Label: label, Description: desc,
			Required: s.Required && !f.Edit && !keyless, Secret: true, Multiline: catalog.SecretIsJSONKeyFile(f.Provider.ID, s.Name)})
	}
	dest := catalog.Destination(f.Provider, settings)
	f.DestinationFields = f.DestinationFields[:0]
	for _, s := range f.Provider.Settings {
		if _, ok := dest["settings."+s.Name]; ok || catalog.IsURLSetting(s.Name) || s.Name == api.SettingAuthMethod {
			f.DestinationFields = append(f.DestinationFields, s.Name)
		}
	}
}

// read takes the form's values from the request; secrets are returned apart and never kept.
func (f *credentialForm) read(r *http.Request) (settings, secrets map[string]string) {
	pf := r.PostForm
	f.Name = strings.TrimSpace(pf.Get("name"))
	f.Description = pf.Get("description")
	f.Labels = pf.Get("labels")
	f.RotationPeriod = strings.TrimSpace(pf.Get("rotation_period"))
	f.ExpiresAt = strings.TrimSpace(pf.Get("expires_at"))
	f.Verify = pf.Get("verify") == "true"
	if !f.Edit {
		f.ProjectID = pf.Get("project_id")
	}
	settings, secrets = map[string]string{}, map[string]string{}
	for _, s := range f.Provider.Settings {
		if v := strings.TrimSpace(pf.Get("settings." + s.Name)); v != "" {
			settings[s.Name] = v
		}
	}
	for _, s := range f.Provider.Secrets {
		v := pf.Get(s.Name)
		if !catalog.SecretIsJSONKeyFile(f.Provider.ID, s.Name) {
			v = strings.TrimSpace(v)
		}
		if v != "" {
			secrets[s.Name] = v
		}
	}
	f.fill(settings, nil)
	return settings, secrets
}

// parseLabels reads "key=value" lines.
func parseLabels(text string) (map[string]string, string) {
	out := map[string]string{}
	for i, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Sprintf("Line %d is not key=value; write one label a line, such as team=ml.", i+1)
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out, ""
}

func formatLabels(m map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(mapsKeys(m)) {
		b.WriteString(k + "=" + m[k] + "\n")
	}
	return b.String()
}

func mapsKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// showErrors puts a service refusal beside its fields; secrets are redacted from every message.
func (f *credentialForm) showErrors(err error, secrets map[string]string) {
	redact := func(s string) string {
		for _, v := range secrets {
			if v != "" {
				s = strings.ReplaceAll(s, v, "[redacted]")
			}
		}
		return s
	}
	var e *service.Error
	if !errors.As(err, &e) {
		f.Other = append(f.Other, errorText(err, ""))
		return
	}
	placedAll := len(e.Fields) > 0
	defer func() {
		// The detail often repeats the field errors; it is shown only when some refusal has no place.
		if e.Detail != "" && !placedAll {
			f.Other = append([]string{redact(e.Detail)}, f.Other...)
		}
	}()
	for _, fe := range e.Fields {
		msg := redact(fe.Message)
		placed := false
		for i := range f.Settings {
			if f.Settings[i].Name == fe.Field {
				f.Settings[i].Error, placed = joinMsg(f.Settings[i].Error, msg), true
			}
		}
		for i := range f.Secrets {
			if f.Secrets[i].Name == fe.Field {
				f.Secrets[i].Error, placed = joinMsg(f.Secrets[i].Error, msg), true
			}
		}
		key := fe.Field
		if strings.HasPrefix(key, "labels") {
			key = "labels"
		}
		if !placed && slices.Contains([]string{"name", "description", "labels", "rotation_period", "expires_at", "project_id", "verify"}, key) {
			f.Errors[key], placed = joinMsg(f.Errors[key], msg), true
		}
		if !placed {
			f.Other = append(f.Other, fe.Field+": "+msg)
			placedAll = false
		}
	}
	if len(e.Fields) == 0 && e.Detail == "" {
		f.Other = append(f.Other, e.Title)
	}
}

func joinMsg(a, b string) string {
	if a == "" {
		return b
	}
	return a + " " + b
}

// refusable is a service error the person can fix in the form (not a 404, 403 or 5xx).
func refusable(err error) bool {
	var e *service.Error
	return errors.As(err, &e) && e.Status >= 400 && e.Status < 500 && e.Status != http.StatusNotFound && e.Status != http.StatusForbidden
}

// createCredential posts the add form.
func (c *Console) createCredential(w http.ResponseWriter, r *http.Request, req *request) {
	prov, ok := catalog.Provider(r.PostForm.Get("provider"))
	if !ok {
		c.renderError(w, r, req, http.StatusUnprocessableEntity, "Unknown provider", "The form names no provider the catalog has; start again from “Add a key”.")
		return
	}
	f, err := c.blankForm(r, req, prov)
	if err != nil {
		c.fail(w, r, req, err)
		return
	}
	settings, secrets := f.read(r)
	f.Projects = c.reselect(f.Projects, f.ProjectID)
	labels, labelErr := parseLabels(f.Labels)
	if labelErr != "" {
		f.Errors["labels"] = labelErr
		f.Limit = c.limitText(r, req)
		c.render(w, r, http.StatusUnprocessableEntity, "credential_form", c.newPage(req, "Add a key for "+prov.DisplayName, "credentials", f))
		return
	}
	verify := f.Verify
	in := api.CredentialCreate{Name: f.Name, Description: f.Description, Provider: prov.ID, ProjectID: f.ProjectID,
		Settings: settings, Labels: labels, Verify: &verify, RotationPeriod: f.RotationPeriod, ExpiresAt: f.ExpiresAt}
	if v, ok := secrets[api.SecretAPIKey]; ok {
		in.APIKey = &v
	}
	if v, ok := secrets[api.SecretAuthToken]; ok {
		in.AuthToken = &v
	}
	cr, _, err := c.svc.CreateCredential(r.Context(), req.p, in, nil)
	if err != nil {
		if !refusable(err) {
			c.fail(w, r, req, err)
			return
		}
		f.showErrors(err, secrets)
		f.Limit = c.limitText(r, req)
		c.render(w, r, http.StatusUnprocessableEntity, "credential_form", c.newPage(req, "Add a key for "+prov.DisplayName, "credentials", f))
		return
	}
	msg := fmt.Sprintf("Added %s: the key ends %s and is %s.", cr.Name, cr.SecretHint, cr.Status)
	if cr.StatusMessage != "" {
		msg += " " + cr.StatusMessage
	}
	c.sessions.setFlash(req.id, msg, "")
	backToCredential(w, r, cr.ID)
}

func (c *Console) reselect(opts []option, selected string) []option {
	out := slices.Clone(opts)
	for i := range out {
		out[i].Selected = out[i].Value == selected
	}
	return out
}

// editForm is the edit form of cr, filled with its values.
func editForm(cr api.Credential) (credentialForm, bool) {
	prov, ok := catalog.Provider(cr.Provider)
	if !ok {
		return credentialForm{}, false
	}
	f := credentialForm{Edit: true, Provider: prov, ID: cr.ID, Version: cr.Version, Terraform: cr.ManagedBy == api.ManagedByTerraform,
		Name: cr.Name, Description: cr.Description, Labels: formatLabels(cr.Labels), RotationPeriod: cr.RotationPeriod,
		Verify: cr.Verify, ProjectID: cr.ProjectID, Errors: map[string]string{}, HasAPIKey: cr.HasAPIKey, HasAuthToken: cr.HasAuthToken}
	if cr.ExpiresAt != nil {
		f.ExpiresAt = cr.ExpiresAt.UTC().Format("2006-01-02T15:04:05Z")
	}
	f.fill(cr.Settings, nil)
	return f, true
}

func (c *Console) editCredentialPage(w http.ResponseWriter, r *http.Request, req *request) {
	if !c.mustWrite(w, r, req) {
		return
	}
	cr, err := c.svc.GetCredential(r.Context(), req.p, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, req, err)
		return
	}
	f, ok := editForm(cr)
	if !ok {
		c.renderError(w, r, req, http.StatusConflict, "Unknown provider", "This credential's provider is no longer in the catalog; it cannot be edited here.")
		return
	}
	c.render(w, r, http.StatusOK, "credential_form", c.newPage(req, "Edit "+cr.Name, "credentials", f))
}

// updateCredential posts the edit form: a patch of everything but the provider and scope, bound to
// the version the form showed.
func (c *Console) updateCredential(w http.ResponseWriter, r *http.Request, req *request) {
	id := r.PathValue("id")
	cur, err := c.svc.GetCredential(r.Context(), req.p, id)
	if err != nil {
		c.fail(w, r, req, err)
		return
	}
	f, ok := editForm(cur)
	if !ok {
		c.renderError(w, r, req, http.StatusConflict, "Unknown provider", "This credential's provider is no longer in the catalog; it cannot be edited here.")
		return
	}
	settings, secrets := f.read(r)
	// Settings the form has no input for (the catalog no longer lists them) are kept as they are: the
	// patch replaces the whole map.
	for k, v := range cur.Settings {
		if !slices.ContainsFunc(f.Provider.Settings, func(s api.ProviderSetting) bool { return s.Name == k }) {
			settings[k] = v
		}
	}
	shown, _ := strconv.ParseInt(r.PostForm.Get("version"), 10, 64)
	again := func(status int) {
		f.Version = shown
		c.render(w, r, status, "credential_form", c.newPage(req, "Edit "+cur.Name, "credentials", f))
	}
	if shown <= 0 {
		f.Other = append(f.Other, "This form does not say which version of the credential it was made for; reload the page and make the change again.")
		again(http.StatusBadRequest)
		return
	}
	if f.Terraform && r.PostForm.Get("confirm_drift") != "yes" {
		f.Errors["confirm_drift"] = "Terraform manages this credential: tick the box to confirm that its next plan will show this change as drift."
		again(http.StatusUnprocessableEntity)
		return
	}
	labels, labelErr := parseLabels(f.Labels)
	if labelErr != "" {
		f.Errors["labels"] = labelErr
		again(http.StatusUnprocessableEntity)
		return
	}
	patch := api.CredentialPatch{Name: &f.Name, Description: &f.Description, Settings: &settings, Labels: &labels,
		Verify: &f.Verify, RotationPeriod: &f.RotationPeriod, ExpiresAt: &f.ExpiresAt}
	// A secret left empty is kept (an empty string in a patch would remove it).
	if v, ok := secrets[api.SecretAPIKey]; ok {
		patch.APIKey = &v
	}
	if v, ok := secrets[api.SecretAuthToken]; ok {
		patch.AuthToken = &v
	}
	if _, ok := secrets[api.SecretAPIKey]; !ok && cur.ExpiresAt != nil && f.ExpiresAt == cur.ExpiresAt.UTC().Format("2006-01-02T15:04:05Z") {
		patch.ExpiresAt = nil // unchanged: leave it (a new secret without expires_at would drop it, as the API does)
	}
	if catalog.SecretsNeeded(cur.Provider, cur.Settings, settings, cur.Verify, f.Verify) {
		var missing []string
		if cur.HasAPIKey && patch.APIKey == nil {
			missing = append(missing, api.SecretAPIKey)
		}
		if cur.HasAuthToken && patch.AuthToken == nil {
			missing = append(missing, api.SecretAuthToken)
		}
		if len(missing) > 0 {
			// The service refuses this too (422); saying so here names the inputs to fill.
			for i := range f.Secrets {
				if slices.Contains(missing, f.Secrets[i].Name) {
					f.Secrets[i].Error = "This change sends the key to a new destination (or turns checks on): paste the " + f.Secrets[i].Label + " again, so it goes only where you chose."
					f.Secrets[i].Required = true
				}
			}
			again(http.StatusUnprocessableEntity)
			return
		}
	}
	cr, err := c.svc.UpdateCredential(r.Context(), req.p, id, patch, shown)
	if err != nil {
		if !refusable(err) {
			c.fail(w, r, req, err)
			return
		}
		var e *service.Error
		if errors.As(err, &e) && e.Status == http.StatusPreconditionFailed {
			f.Other = append(f.Other, "Someone changed this credential after you opened the form (it is now version "+strconv.FormatInt(cur.Version, 10)+"). Nothing was saved; reload the page to see their change and make yours again.")
		} else {
			f.showErrors(err, secrets)
		}
		again(http.StatusUnprocessableEntity)
		return
	}
	msg := "Saved " + cr.Name + "."
	if cr.ManagedBy == api.ManagedByTerraform {
		msg += " Terraform manages this credential: its next plan shows the change as drift."
	}
	c.sessions.setFlash(req.id, msg, "")
	backToCredential(w, r, id)
}

// ---- Delete ----

type deleteData struct {
	api.Credential
	Connections []api.Connection
	Terraform   bool
	Admin       bool
}

func (c *Console) deleteCredentialPage(w http.ResponseWriter, r *http.Request, req *request) {
	if !c.mustWrite(w, r, req) {
		return
	}
	id := r.PathValue("id")
	cr, err := c.svc.GetCredential(r.Context(), req.p, id)
	if err != nil {
		c.fail(w, r, req, err)
		return
	}
	conns, err := c.svc.ListConnections(r.Context(), req.p, store.ConnectionFilter{CredentialID: id, Limit: 100})
	if err != nil {
		c.fail(w, r, req, err)
		return
	}
	d := deleteData{Credential: cr, Connections: conns.Items, Terraform: cr.ManagedBy == api.ManagedByTerraform, Admin: req.p.Role == api.RoleAdmin}
	c.render(w, r, http.StatusOK, "credential_delete", c.newPage(req, "Delete "+cr.Name, "credentials", d))
}

func (c *Console) deleteCredential(w http.ResponseWriter, r *http.Request, req *request) {
	id := r.PathValue("id")
	shown, err := strconv.ParseInt(r.PostForm.Get("version"), 10, 64)
	if err != nil || shown <= 0 {
		c.sessions.setFlash(req.id, "", "Not deleted: the form does not say which version of the credential it was made for. Open “Delete” again.")
		backToCredential(w, r, id)
		return
	}
	cur, err := c.svc.GetCredential(r.Context(), req.p, id)
	if err != nil {
		c.fail(w, r, req, err)
		return
	}
	if cur.ManagedBy == api.ManagedByTerraform && r.PostForm.Get("confirm_drift") != "yes" {
		c.sessions.setFlash(req.id, "", "Not deleted: Terraform manages this credential. Tick the box that confirms its next plan will want to create it again.")
		http.Redirect(w, r, credentialURL(id)+"/delete", http.StatusSeeOther) //nolint:gosec // G710: a fixed local prefix and a path-escaped id
		return
	}
	force := r.PostForm.Get("force") == "true"
	if err := c.svc.DeleteCredential(r.Context(), req.p, id, shown, force); err != nil {
		var e *service.Error
		if errors.As(err, &e) && e.Status == http.StatusPreconditionFailed {
			c.sessions.setFlash(req.id, "", "Not deleted: someone changed this credential after you opened the form. Check it and delete again.")
			backToCredential(w, r, id)
			return
		}
		if refusable(err) {
			c.sessions.setFlash(req.id, "", "Not deleted: "+errorText(err, ""))
			http.Redirect(w, r, credentialURL(id)+"/delete", http.StatusSeeOther) //nolint:gosec // G710: as above
			return
		}
		c.fail(w, r, req, err)
		return
	}
	msg := "Deleted " + cur.Name + "."
	if cur.ManagedBy == api.ManagedByTerraform {
		msg += " Terraform manages it: its next plan will want to create it again."
	}
	c.sessions.setFlash(req.id, msg, "")
	http.Redirect(w, r, "/ui/credentials", http.StatusSeeOther)
}
