package console

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

const (
	auditPageSize = 50
	// historySize is how many of a credential's changes its page shows.
	historySize = 20
)

type auditRow struct {
	api.AuditEvent
	Name string // the object's name, when it still exists
	Link string // the object's console page, when it has one
}

type auditData struct {
	Rows                        []auditRow
	Object, Actor, Action, Type string
	Types                       []option
	Older, Newest               string
	Filtered                    bool
}

// auditTypes are the object types the log records, for the filter.
var auditTypes = []string{"credential", "connection", "project", "model_policy", "credential_policy", "token", "identity_provider", "federation_rule"}

// auditPage shows the log newest first, auditPageSize events a page, filtered by object, actor,
// action and object type; ?before=ID pages back. Each page is one index range scan of its own length
// and one lookup of the names of its objects.
func (c *Console) auditPage(w http.ResponseWriter, r *http.Request, req *request) {
	qv := r.URL.Query()
	q := store.AuditQuery{ObjectID: qv.Get("object"), Actor: qv.Get("actor"), Action: qv.Get("action"), ObjectType: qv.Get("type"), Limit: auditPageSize}
	if b := qv.Get("before"); b != "" {
		var err error
		if q.BeforeID, err = strconv.ParseInt(b, 10, 64); err != nil || q.BeforeID <= 0 {
			c.renderError(w, r, req, http.StatusBadRequest, "Bad request", "before must be an audit event id.")
			return
		}
	}
	page, err := c.svc.SearchAudit(r.Context(), req.p, q)
	if err != nil {
		c.fail(w, r, req, err)
		return
	}
	var ids []string
	for _, e := range page.Items {
		if e.ObjectID != "" && !slices.Contains(ids, e.ObjectID) {
			ids = append(ids, e.ObjectID)
		}
	}
	names, err := c.svc.ObjectNames(r.Context(), req.p, ids)
	if err != nil {
		c.fail(w, r, req, err)
		return
	}
	d := auditData{Object: q.ObjectID, Actor: q.Actor, Action: q.Action, Type: q.ObjectType,
		Filtered: q.ObjectID != "" || q.Actor != "" || q.Action != "" || q.ObjectType != ""}
	d.Types = append(d.Types, option{Value: "", Label: "Any object", Selected: q.ObjectType == ""})
	for _, t := range auditTypes {
		d.Types = append(d.Types, option{Value: t, Label: t, Selected: t == q.ObjectType})
	}
	for _, e := range page.Items {
		row := auditRow{AuditEvent: e, Name: names[e.ObjectID]}
		if e.ObjectType == "credential" && row.Name != "" {
			row.Link = credentialURL(e.ObjectID)
		}
		d.Rows = append(d.Rows, row)
	}
	keep := url.Values{}
	for k, v := range qv {
		if k != "before" {
			keep[k] = v
		}
	}
	if page.NextPageToken != "" {
		older := url.Values{}
		for k, v := range keep {
			older[k] = v
		}
		older.Set("before", page.NextPageToken)
		d.Older = "/ui/audit?" + older.Encode()
	}
	if q.BeforeID != 0 {
		d.Newest = "/ui/audit"
		if len(keep) > 0 {
			d.Newest += "?" + keep.Encode()
		}
	}
	c.render(w, r, http.StatusOK, "audit", c.newPage(req, "Audit log", "audit", d))
}
