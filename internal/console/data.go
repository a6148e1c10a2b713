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
