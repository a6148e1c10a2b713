package console

import (
	"context"
	"slices"
	"strings"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// Lists that are small by nature (projects, a credential's connections) are read whole through the
// service's paged methods; credentials and the audit log are read a page at a time (credentials_list.go,
// audit_page.go).

const pageSize = 500

// every reads all pages of a list: page fetches the one after the given token ("" for the first).
func every[T any](page func(after string) (api.List[T], error)) ([]T, error) {
	var out []T
	after := ""
	for {
		got, err := page(after)
		if err != nil {
			return nil, err
		}
		out = append(out, got.Items...)
		if got.NextPageToken == "" {
			return out, nil
		}
		after = got.NextPageToken
	}
}

func (c *Console) allCredentials(ctx context.Context, p service.Principal, f store.CredentialFilter) ([]api.Credential, error) {
	f.Limit = pageSize
	return every(func(after string) (api.List[api.Credential], error) {
		f.AfterID = after
		return c.svc.ListCredentials(ctx, p, f)
	})
}

func (c *Console) allConnections(ctx context.Context, p service.Principal, f store.ConnectionFilter) ([]api.Connection, error) {
	f.Limit = pageSize
	return every(func(after string) (api.List[api.Connection], error) {
		f.AfterID = after
		return c.svc.ListConnections(ctx, p, f)
	})
}

// allProjects is every project, by name.
func (c *Console) allProjects(ctx context.Context, p service.Principal) ([]api.Project, error) {
	out, err := every(func(after string) (api.List[api.Project], error) {
		return c.svc.ListProjects(ctx, p, "", after, pageSize)
	})
	slices.SortFunc(out, func(a, b api.Project) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	return out, err
}

// inventory is what the overview pages list together: every project and, as asked, every
// credential and connection the principal can see.
type inventory struct {
	projects    []api.Project
	credentials []api.Credential
	connections []api.Connection
}

func (c *Console) inventory(ctx context.Context, p service.Principal, credentials, connections bool) (inv inventory, err error) {
	if inv.projects, err = c.allProjects(ctx, p); err != nil {
		return inv, err
	}
	if credentials {
		if inv.credentials, err = c.allCredentials(ctx, p, store.CredentialFilter{}); err != nil {
			return inv, err
		}
	}
	if connections {
		inv.connections, err = c.allConnections(ctx, p, store.ConnectionFilter{})
	}
	return inv, err
}
