package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
)

// importKinds are the resources imported by id, with their id prefix and how to find them by name.
var importKinds = map[string]struct {
	kind, prefix string
	byName       func(ctx context.Context, c *client.Client, name string) ([]namedObject, error)
}{
	"modelkeys_credential": {"credential", "cred_", func(ctx context.Context, c *client.Client, name string) ([]namedObject, error) {
		found, err := c.ListAllCredentials(ctx, client.CredentialListOptions{Name: name})
		out := make([]namedObject, 0, len(found))
		for _, o := range found {
			out = append(out, namedObject{o.ID, o.Name, o.ProjectID})
		}
		return out, err
	}},
	"modelkeys_connection": {"connection", "conn_", func(ctx context.Context, c *client.Client, name string) ([]namedObject, error) {
		found, err := c.ListAllConnections(ctx, client.ConnectionListOptions{Name: name})
		out := make([]namedObject, 0, len(found))
		for _, o := range found {
			out = append(out, namedObject{o.ID, o.Name, o.ProjectID})
		}
		return out, err
	}},
	"modelkeys_project": {"project", "proj_", func(ctx context.Context, c *client.Client, name string) ([]namedObject, error) {
		found, err := c.ListAllProjects(ctx, client.ProjectListOptions{Name: name})
		out := make([]namedObject, 0, len(found))
		for _, o := range found {
			out = append(out, namedObject{o.ID, o.Name, ""})
		}
		return out, err
	}},
}

type namedObject struct{ id, name, projectID string }

// resolveImportName lets `terraform import` (and an import block's id) take a name where an id is
// expected: a value without the kind's id prefix is looked up by name, and the one object of that
// name becomes the id imported. Without this, a name went to the server as an id and came back as
// Terraform's "Cannot import non-existent remote object", which says neither what was looked for nor
// where. It returns the request to pass on, or an answer with the error when the name does not name
// exactly one object.
func (g *storeGuard) resolveImportName(ctx context.Context, req *tfprotov6.ImportResourceStateRequest) (*tfprotov6.ImportResourceStateRequest, *tfprotov6.ImportResourceStateResponse) {
	k, ok := importKinds[req.TypeName]
	d := g.data()
	if !ok || d == nil || d.client == nil || req.ID == "" || strings.HasPrefix(req.ID, k.prefix) {
		return req, nil
	}
	fail := func(detail string) (*tfprotov6.ImportResourceStateRequest, *tfprotov6.ImportResourceStateResponse) {
		return nil, &tfprotov6.ImportResourceStateResponse{Diagnostics: []*tfprotov6.Diagnostic{{
			Severity: tfprotov6.DiagnosticSeverityError, Summary: "Cannot import " + k.kind + " " + fmt.Sprintf("%q", req.ID), Detail: detail}}}
	}
	found, err := k.byName(ctx, d.client, req.ID)
	if err != nil {
		return fail(fmt.Sprintf("%q is not a %s id (%s...), so the provider looked for a %s of that name in %s, and the lookup failed: %v",
			req.ID, k.kind, k.prefix, k.kind, d.organizationName(), err))
	}
	var matches []namedObject
	for _, o := range found {
		if o.name == req.ID {
			matches = append(matches, o)
		}
	}
	switch len(matches) {
	case 1:
		out := *req
		out.ID = matches[0].id
		return &out, nil
	case 0:
		return fail(fmt.Sprintf("%q is not a %s id (%s...), and no %s of that name exists in %s. "+
			"Check the name, and that the token (or the embedded store) is the one of the organisation that holds it; "+
			"the modelkeys_%ss data source or the console lists what exists.", req.ID, k.kind, k.prefix, k.kind, d.organizationName(), k.kind))
	default:
		var where []string
		for _, o := range matches {
			where = append(where, o.id+" in "+scopeName(o.projectID))
		}
		return fail(fmt.Sprintf("%d %ss are named %q in %s (names are unique per project, not across projects): %s. Import one by its id.",
			len(matches), k.kind, req.ID, d.organizationName(), strings.Join(where, "; ")))
	}
}

// organizationName names the organisation the provider's token (or the embedded store) speaks for.
func (d *providerData) organizationName() string {
	if d.organization == "" {
		return "this organisation"
	}
	return fmt.Sprintf("organisation %q", d.organization)
}
