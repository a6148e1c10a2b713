package console

import (
	"net/http"
	"net/url"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// listPageSize is how many credentials a page of the list shows.
const listPageSize = 50

type credentialRow struct {
	api.Credential
	Scope      string
	LastChange *api.AuditEvent
}

type credentialsData struct {
	Rows                                    []credentialRow
	Query                                   string
	Providers, Statuses, Lifecycles, Scopes []option
	Sorts                                   []option
	Violations, Filtered                    bool
	Next, First                             string
	Limit                                   string
	Scanned                                 int
	ScanCut                                 bool
}

var statuses = []string{api.StatusVerified, api.StatusUnverified, api.StatusInvalid}

// credentialsPage is one page of credentials: searched by name or label, filtered by provider,
// status, lifecycle status, policy violations and scope, sorted, keyset-paged. It reads the page's
// rows (and, for the computed filters, at most a bounded batch more) and the newest audit event of
// each row, never the whole list or the audit log.
func (c *Console) credentialsPage(w http.ResponseWriter, r *http.Request, req *request) {
	ctx, p := r.Context(), req.p
	qv := r.URL.Query()
	q := store.CredentialSearch{Query: qv.Get("q"), Provider: qv.Get("provider"), Status: qv.Get("status"),
		Sort: qv.Get("sort"), AfterKey: qv.Get("key"), AfterID: qv.Get("after"), Limit: listPageSize}
	project, lifecycle, violations := qv.Get("project"), qv.Get("lifecycle"), qv.Get("violations") == "yes"
	switch q.Sort {
	case store.SortNewest, store.SortRotated:
	default:
		q.Sort = store.SortName
	}
	q.ProjectID = project
	projects, err := c.allProjects(ctx, p)
	if err != nil {
		c.fail(w, r, req, err)
		return
	}
	res, err := c.svc.SearchCredentials(ctx, p, q, lifecycle, violations)
	if err != nil {
		c.fail(w, r, req, err)
		return
	}
	ids := make([]string, 0, len(res.Items))
	for _, cr := range res.Items {
		ids = append(ids, cr.ID)
	}
	latest, err := c.svc.LatestEvents(ctx, p, ids)
	if err != nil {
		c.fail(w, r, req, err)
		return
	}
	idx := projectIndex(projects)
	d := credentialsData{Query: q.Query, Violations: violations, Scanned: res.Scanned,
		Filtered: q.Query != "" || q.Provider != "" || q.Status != "" || project != "" || lifecycle != "" || violations}
	for _, cr := range res.Items {
		row := credentialRow{Credential: cr, Scope: scopeName(cr.ProjectID, idx)}
		if e, ok := latest[cr.ID]; ok {
			row.LastChange = &e
		}
		d.Rows = append(d.Rows, row)
	}
	d.Providers = providerOptions(q.Provider)
	d.Statuses = append(d.Statuses, option{Value: "", Label: "Any status", Selected: q.Status == ""})
	for _, s := range statuses {
		d.Statuses = append(d.Statuses, option{Value: s, Label: s, Selected: s == q.Status})
	}
	d.Lifecycles = append(d.Lifecycles, option{Value: "", Label: "Any lifecycle", Selected: lifecycle == ""})
	for _, s := range api.LifecycleStatuses {
		d.Lifecycles = append(d.Lifecycles, option{Value: s, Label: s, Selected: s == lifecycle})
	}
	d.Scopes = projectOptions(projects, project, option{Value: "", Label: "All scopes"}, option{Value: "-", Label: "Organisation"})
	d.Sorts = []option{{Value: store.SortName, Label: "Name"}, {Value: store.SortNewest, Label: "Newest first"}, {Value: store.SortRotated, Label: "Oldest key first"}}
	for i := range d.Sorts {
		d.Sorts[i].Selected = d.Sorts[i].Value == q.Sort
	}
	if res.NextID != "" {
		next := url.Values{}
		for k, v := range qv {
			next[k] = v
		}
		next.Set("after", res.NextID)
		next.Set("key", res.NextKey)
		d.Next = "/ui/credentials?" + next.Encode()
		d.ScanCut = len(res.Items) < listPageSize
	}
	if q.AfterID != "" {
		first := url.Values{}
		for k, v := range qv {
			if k != "after" && k != "key" {
				first[k] = v
			}
		}
		d.First = "/ui/credentials?" + first.Encode()
	}
	if text, near := c.limitNear(r, req); near {
		d.Limit = text
	}
	c.render(w, r, http.StatusOK, "credentials", c.newPage(req, "Credentials", "credentials", d))
}
