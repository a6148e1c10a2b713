package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

// maxPages guards the list-all helpers against a server that keeps handing out page tokens.
const maxPages = 10000

// ModelFilter narrows GET /v1/models. Empty fields are not sent.
type ModelFilter struct {
	// Provider is a catalog provider id, e.g. "openai".
	Provider string
	// Publisher is the model's publisher, e.g. "meta".
	Publisher string
	// ProjectID selects whose effective policy decides api.Model.Allowed; empty means the organisation's.
	ProjectID string
	// Capability keeps models with a capability, e.g. "tool_call", "reasoning" or a modality.
	Capability string
	// CredentialID keeps models reachable through that credential's provider.
	CredentialID string
}

// CredentialListOptions narrows GET /v1/credentials and selects a page. Empty fields are not sent.
type CredentialListOptions struct {
	ProjectID string
	Provider  string
	Name      string
	// LifecycleStatus keeps credentials in that lifecycle status (ok, rotation_due, expiring, expired).
	LifecycleStatus string
	// NamePrefix keeps the credentials whose name starts with it; Status those with that status.
	NamePrefix string
	Status     string
	// PageToken is the NextPageToken of the previous page; empty for the first page.
	PageToken string
	// Limit is the page size; zero leaves it to the server.
	Limit int
}

// ConnectionListOptions narrows GET /v1/connections and selects a page. Empty fields are not sent.
type ConnectionListOptions struct {
	ProjectID    string
	CredentialID string
	Name         string
	// Model keeps the connections to that model; NamePrefix those whose name starts with it.
	Model      string
	NamePrefix string
	PageToken  string
	Limit      int
}

// ProjectListOptions narrows GET /v1/projects and selects a page. Empty fields are not sent.
type ProjectListOptions struct {
	Name string
	// NamePrefix keeps the projects whose name starts with it.
	NamePrefix string
	PageToken  string
	Limit      int
}

// values builds a query from name/value pairs, leaving out empty values so that an unset filter is not
// sent as an empty one.
func values(kv ...string) url.Values {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	return q
}

func setLimit(q url.Values, limit int) {
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
}

// listAll follows next_page_token from the first page until the last, for lists whose callers want
// every item (Terraform data sources, Read of a whole collection).
func listAll[T any](ctx context.Context, c *Client, path string, q url.Values) ([]T, error) {
	var all []T
	seen := map[string]bool{}
	for range maxPages {
		var page api.List[T]
		if err := c.do(ctx, request{method: http.MethodGet, path: path, query: q}, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Items...)
		if page.NextPageToken == "" {
			return all, nil
		}
		if seen[page.NextPageToken] {
			return nil, fmt.Errorf("modelkeys: GET %s: server repeated page token %q", path, page.NextPageToken)
		}
		seen[page.NextPageToken] = true
		q = cloneValues(q)
		q.Set("page_token", page.NextPageToken)
	}
	return nil, fmt.Errorf("modelkeys: GET %s: more than %d pages", path, maxPages)
}

func cloneValues(q url.Values) url.Values {
	out := make(url.Values, len(q)+1)
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	return out
}

func getObject[T any](ctx context.Context, c *Client, path string, q url.Values) (*T, error) {
	var out T
	if err := c.do(ctx, request{method: http.MethodGet, path: path, query: q}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func getPage[T any](ctx context.Context, c *Client, path string, q url.Values) (*api.List[T], error) {
	var out api.List[T]
	if err := c.do(ctx, request{method: http.MethodGet, path: path, query: q}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func send[T any](ctx context.Context, c *Client, r request) (*T, error) {
	var out T
	if err := c.do(ctx, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func strp(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// ---- catalog ----

// ListProviders returns the catalog's model providers (GET /v1/providers), following pages if the
// server pages them.
func (c *Client) ListProviders(ctx context.Context) ([]api.Provider, error) {
	return listAll[api.Provider](ctx, c, "/v1/providers", url.Values{})
}

// ListModels returns the catalog's models matching f (GET /v1/models), each with Allowed set under the
// effective policy of f.ProjectID's scope.
func (c *Client) ListModels(ctx context.Context, f ModelFilter) ([]api.Model, error) {
	q := values(
		"provider", f.Provider,
		"publisher", f.Publisher,
		"project_id", f.ProjectID,
		"capability", f.Capability,
		"credential_id", f.CredentialID,
	)
	return listAll[api.Model](ctx, c, "/v1/models", q)
}

// ---- credentials ----

// CreateCredential creates a credential (POST /v1/credentials). With Verify unset or true the server
// probes the provider first and answers 422 if the key does not work.
func (c *Client) CreateCredential(ctx context.Context, in api.CredentialCreate) (*api.Credential, error) {
	return send[api.Credential](ctx, c, request{
		method:  http.MethodPost,
		path:    "/v1/credentials",
		body:    in,
		secrets: []string{strp(in.APIKey), strp(in.AuthToken)},
	})
}

// GetCredential reads one credential (GET /v1/credentials/{id}). It never carries the secret.
func (c *Client) GetCredential(ctx context.Context, id string) (*api.Credential, error) {
	eid, err := escapeID("credential", id)
	if err != nil {
		return nil, err
	}
	return getObject[api.Credential](ctx, c, "/v1/credentials/"+eid, nil)
}

// UpdateCredential patches a credential (PATCH /v1/credentials/{id}). expectedVersion, when non-zero, is
// sent as If-Match so a concurrent change makes the call fail with 412 instead of being overwritten.
func (c *Client) UpdateCredential(ctx context.Context, id string, patch api.CredentialPatch, expectedVersion int64) (*api.Credential, error) {
	eid, err := escapeID("credential", id)
	if err != nil {
		return nil, err
	}
	return send[api.Credential](ctx, c, request{
		method:  http.MethodPatch,
		path:    "/v1/credentials/" + eid,
		body:    patch,
		ifMatch: expectedVersion,
		secrets: []string{strp(patch.APIKey), strp(patch.AuthToken)},
	})
}

// DeleteCredential deletes a credential (DELETE /v1/credentials/{id}); expectedVersion as in
// UpdateCredential. A credential that connections use is refused with 409 (see IsConflict).
func (c *Client) DeleteCredential(ctx context.Context, id string, expectedVersion int64) error {
	eid, err := escapeID("credential", id)
	if err != nil {
		return err
	}
	return c.do(ctx, request{method: http.MethodDelete, path: "/v1/credentials/" + eid, ifMatch: expectedVersion}, nil)
}

// ForceDeleteCredential deletes a credential even while connections use it (DELETE
// /v1/credentials/{id}?force=true, admin tokens only): they are left without a credential and invalid
// until pointed at another.
func (c *Client) ForceDeleteCredential(ctx context.Context, id string, expectedVersion int64) error {
	eid, err := escapeID("credential", id)
	if err != nil {
		return err
	}
	return c.do(ctx, request{method: http.MethodDelete, path: "/v1/credentials/" + eid, query: url.Values{"force": {"true"}},
		ifMatch: expectedVersion}, nil)
}

func (o CredentialListOptions) query() url.Values {
	q := values("project_id", o.ProjectID, "provider", o.Provider, "name", o.Name, "name_prefix", o.NamePrefix, "status", o.Status,
		"lifecycle_status", o.LifecycleStatus, "page_token", o.PageToken)
	setLimit(q, o.Limit)
	return q
}

// ListCredentials returns one page of credentials (GET /v1/credentials). Pass the page's NextPageToken
// as opts.PageToken for the next; ListAllCredentials does that for you.
func (c *Client) ListCredentials(ctx context.Context, opts CredentialListOptions) (*api.List[api.Credential], error) {
	return getPage[api.Credential](ctx, c, "/v1/credentials", opts.query())
}

// ListAllCredentials returns every credential matching opts, following next_page_token from
// opts.PageToken (usually empty) to the last page.
func (c *Client) ListAllCredentials(ctx context.Context, opts CredentialListOptions) ([]api.Credential, error) {
	return listAll[api.Credential](ctx, c, "/v1/credentials", opts.query())
}

// VerifyCredential asks the server to probe the credential's provider now (POST
// /v1/credentials/{id}/verify) and returns the credential with its updated status, status_message and
// verified_at.
func (c *Client) VerifyCredential(ctx context.Context, id string) (*api.Credential, error) {
	eid, err := escapeID("credential", id)
	if err != nil {
		return nil, err
	}
	return send[api.Credential](ctx, c, request{method: http.MethodPost, path: "/v1/credentials/" + eid + "/verify"})
}

// CredentialSecretMatches asks whether the secrets in in equal the credential's stored ones (POST
// /v1/credentials/{id}/secret-matches) without writing anything. Editor or admin tokens; the server
// rate-limits and audits it. in holds secrets: they are masked in logs and errors.
func (c *Client) CredentialSecretMatches(ctx context.Context, id string, in api.SecretMatch) (bool, error) {
	eid, err := escapeID("credential", id)
	if err != nil {
		return false, err
	}
	out, err := send[api.SecretMatchResult](ctx, c, request{
		method:  http.MethodPost,
		path:    "/v1/credentials/" + eid + "/secret-matches",
		body:    in,
		secrets: []string{strp(in.APIKey), strp(in.AuthToken)},
	})
	if err != nil {
		return false, err
	}
	return out.Matches, nil
}

// CredentialModels lists the models reachable through a credential (GET /v1/credentials/{id}/models).
func (c *Client) CredentialModels(ctx context.Context, id string) ([]api.Model, error) {
	eid, err := escapeID("credential", id)
	if err != nil {
		return nil, err
	}
	return listAll[api.Model](ctx, c, "/v1/credentials/"+eid+"/models", url.Values{})
}

// RevealCredential returns the decrypted secrets of a credential (POST /v1/credentials/{id}/reveal).
// The server answers only when started with --allow-reveal and only to admin tokens (403 otherwise) and
// audits every reveal. The result holds secrets: never log it or put it in an error.
func (c *Client) RevealCredential(ctx context.Context, id string) (*api.CredentialSecret, error) {
	eid, err := escapeID("credential", id)
	if err != nil {
		return nil, err
	}
	return send[api.CredentialSecret](ctx, c, request{method: http.MethodPost, path: "/v1/credentials/" + eid + "/reveal"})
}

// ---- connections ----

// CreateConnection connects a model to a credential (POST /v1/connections). A model the effective
// policy refuses is rejected with 422.
func (c *Client) CreateConnection(ctx context.Context, in api.ConnectionCreate) (*api.Connection, error) {
	return send[api.Connection](ctx, c, request{method: http.MethodPost, path: "/v1/connections", body: in})
}

// GetConnection reads one connection (GET /v1/connections/{id}).
func (c *Client) GetConnection(ctx context.Context, id string) (*api.Connection, error) {
	eid, err := escapeID("connection", id)
	if err != nil {
		return nil, err
	}
	return getObject[api.Connection](ctx, c, "/v1/connections/"+eid, nil)
}

// UpdateConnection patches a connection (PATCH /v1/connections/{id}); expectedVersion, when non-zero,
// is sent as If-Match.
func (c *Client) UpdateConnection(ctx context.Context, id string, patch api.ConnectionPatch, expectedVersion int64) (*api.Connection, error) {
	eid, err := escapeID("connection", id)
	if err != nil {
		return nil, err
	}
	return send[api.Connection](ctx, c, request{method: http.MethodPatch, path: "/v1/connections/" + eid, body: patch, ifMatch: expectedVersion})
}

// DeleteConnection deletes a connection (DELETE /v1/connections/{id}); expectedVersion, when non-zero,
// is sent as If-Match.
func (c *Client) DeleteConnection(ctx context.Context, id string, expectedVersion int64) error {
	eid, err := escapeID("connection", id)
	if err != nil {
		return err
	}
	return c.do(ctx, request{method: http.MethodDelete, path: "/v1/connections/" + eid, ifMatch: expectedVersion}, nil)
}

func (o ConnectionListOptions) query() url.Values {
	q := values("project_id", o.ProjectID, "credential_id", o.CredentialID, "name", o.Name, "model", o.Model, "name_prefix", o.NamePrefix, "page_token", o.PageToken)
	setLimit(q, o.Limit)
	return q
}

// ListConnections returns one page of connections (GET /v1/connections).
func (c *Client) ListConnections(ctx context.Context, opts ConnectionListOptions) (*api.List[api.Connection], error) {
	return getPage[api.Connection](ctx, c, "/v1/connections", opts.query())
}

// ListAllConnections returns every connection matching opts, following next_page_token.
func (c *Client) ListAllConnections(ctx context.Context, opts ConnectionListOptions) ([]api.Connection, error) {
	return listAll[api.Connection](ctx, c, "/v1/connections", opts.query())
}

// ---- model policy ----

// policyQuery selects the organisation's policy (empty projectID) or a project's.
func policyQuery(projectID string) url.Values { return values("project_id", projectID) }

// GetModelPolicy reads the model policy of a scope (GET /v1/model-policy[?project_id=]); an empty
// projectID means the organisation's. A scope that never had a policy reads as mode "all".
func (c *Client) GetModelPolicy(ctx context.Context, projectID string) (*api.ModelPolicy, error) {
	return getObject[api.ModelPolicy](ctx, c, "/v1/model-policy", policyQuery(projectID))
}

// PutModelPolicy writes the whole model policy of a scope (PUT /v1/model-policy[?project_id=]);
// expectedVersion, when non-zero, is sent as If-Match.
func (c *Client) PutModelPolicy(ctx context.Context, projectID string, in api.ModelPolicyPut, expectedVersion int64) (*api.ModelPolicy, error) {
	return send[api.ModelPolicy](ctx, c, request{method: http.MethodPut, path: "/v1/model-policy", query: policyQuery(projectID), body: in, ifMatch: expectedVersion})
}

// DeleteModelPolicy resets a scope's policy to mode "all" (DELETE /v1/model-policy[?project_id=]);
// expectedVersion, when non-zero, is sent as If-Match.
func (c *Client) DeleteModelPolicy(ctx context.Context, projectID string, expectedVersion int64) error {
	return c.do(ctx, request{method: http.MethodDelete, path: "/v1/model-policy", query: policyQuery(projectID), ifMatch: expectedVersion}, nil)
}

// ---- projects ----

// CreateProject creates a project (POST /v1/projects).
func (c *Client) CreateProject(ctx context.Context, in api.ProjectCreate) (*api.Project, error) {
	return send[api.Project](ctx, c, request{method: http.MethodPost, path: "/v1/projects", body: in})
}

// GetProject reads one project (GET /v1/projects/{id}).
func (c *Client) GetProject(ctx context.Context, id string) (*api.Project, error) {
	eid, err := escapeID("project", id)
	if err != nil {
		return nil, err
	}
	return getObject[api.Project](ctx, c, "/v1/projects/"+eid, nil)
}

// UpdateProject patches a project (PATCH /v1/projects/{id}); expectedVersion, when non-zero, is sent as
// If-Match.
func (c *Client) UpdateProject(ctx context.Context, id string, patch api.ProjectPatch, expectedVersion int64) (*api.Project, error) {
	eid, err := escapeID("project", id)
	if err != nil {
		return nil, err
	}
	return send[api.Project](ctx, c, request{method: http.MethodPatch, path: "/v1/projects/" + eid, body: patch, ifMatch: expectedVersion})
}

// DeleteProject deletes a project (DELETE /v1/projects/{id}); expectedVersion, when non-zero, is sent as
// If-Match.
func (c *Client) DeleteProject(ctx context.Context, id string, expectedVersion int64) error {
	eid, err := escapeID("project", id)
	if err != nil {
		return err
	}
	return c.do(ctx, request{method: http.MethodDelete, path: "/v1/projects/" + eid, ifMatch: expectedVersion}, nil)
}

func (o ProjectListOptions) query() url.Values {
	q := values("name", o.Name, "name_prefix", o.NamePrefix, "page_token", o.PageToken)
	setLimit(q, o.Limit)
	return q
}

// ListProjects returns one page of projects (GET /v1/projects).
func (c *Client) ListProjects(ctx context.Context, opts ProjectListOptions) (*api.List[api.Project], error) {
	return getPage[api.Project](ctx, c, "/v1/projects", opts.query())
}

// ListAllProjects returns every project matching opts, following next_page_token.
func (c *Client) ListAllProjects(ctx context.Context, opts ProjectListOptions) ([]api.Project, error) {
	return listAll[api.Project](ctx, c, "/v1/projects", opts.query())
}

// ---- audit and health ----

// ListAuditEvents returns audit events with an id greater than after, oldest first, at most limit of
// them (GET /v1/audit-events). after 0 starts at the beginning and limit 0 leaves the size to the
// server; to read on, pass the last event's id as after. An organisation's events take their ids in
// commit order, so reading on this way never skips one.
func (c *Client) ListAuditEvents(ctx context.Context, after int64, limit int) (*api.List[api.AuditEvent], error) {
	q := url.Values{}
	if after > 0 {
		q.Set("after", strconv.FormatInt(after, 10))
	}
	setLimit(q, limit)
	return getPage[api.AuditEvent](ctx, c, "/v1/audit-events", q)
}

// Healthz reports whether the server process is up (GET /healthz). It makes a single attempt, because a
// health check should report the state now, and a caller waiting for the server polls it.
func (c *Client) Healthz(ctx context.Context) error {
	return c.do(ctx, request{method: http.MethodGet, path: "/healthz", noRetry: true}, nil)
}

// Readyz reports whether the server can serve requests, its database included (GET /readyz). It makes a
// single attempt, like Healthz.
func (c *Client) Readyz(ctx context.Context) error {
	return c.do(ctx, request{method: http.MethodGet, path: "/readyz", noRetry: true}, nil)
}
