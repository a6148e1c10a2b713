package provider

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
)

// byIDOrName is how a data source configured with exactly one of id and name finds its object. kind
// is "credential", "connection" or "project"; list returns the objects called name (in every scope);
// scopeOf is nil for objects that belong to no project (projects themselves).
type byIDOrName[T any] struct {
	kind    string
	get     func(ctx context.Context, id string) (*T, error)
	list    func(ctx context.Context, name string) ([]T, error)
	nameOf  func(*T) string
	scopeOf func(*T) string
}

// find reads the object with id when id is known, else the one called name: for scoped objects, in
// the scope the data source looks in (its project_id, else the provider's default project). Every
// failure is an error on the attribute that was used; nil then.
func (l byIDOrName[T]) find(ctx context.Context, d *providerData, id, name, projectID types.String, diags *diag.Diagnostics) *T {
	if known(id) {
		obj, err := l.get(ctx, id.ValueString())
		switch {
		case client.IsNotFound(err):
			diags.AddAttributeError(path.Root("id"), capitalized(l.kind)+" not found",
				fmt.Sprintf("No %s with id %q exists in this organisation.", l.kind, id.ValueString()))
			return nil
		case err != nil:
			addAPIError(diags, "Cannot read "+l.kind+" "+id.ValueString(), err)
			return nil
		}
		return obj
	}
	found, err := l.list(ctx, name.ValueString())
	if err != nil {
		addAPIError(diags, fmt.Sprintf("Cannot look up %s %q", l.kind, name.ValueString()), err)
		return nil
	}
	if l.scopeOf != nil {
		return findInScope(found, l.kind, name.ValueString(), d.lookupScope(projectID), projectID.IsNull(), l.nameOf, l.scopeOf, diags)
	}
	for i := range found {
		if l.nameOf(&found[i]) == name.ValueString() {
			return &found[i]
		}
	}
	diags.AddAttributeError(path.Root("name"), capitalized(l.kind)+" not found",
		fmt.Sprintf("No %s named %q exists in this organisation.", l.kind, name.ValueString()))
	return nil
}

func capitalized(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

// findInScope picks the object called name in one scope out of found, the objects of that name in
// every scope (names are unique per scope, not across scopes, so the match is made here). When none is
// in scope, the error on the name attribute says so and names the scopes where one exists. kind is
// "credential" or "connection"; scopeOf gives an object's project id ("" for the organisation).
func findInScope[T any](found []T, kind, name, scope string, fromDefault bool, nameOf, scopeOf func(*T) string, diags *diag.Diagnostics) *T {
	var elsewhere []string
	for i := range found {
		if nameOf(&found[i]) != name {
			continue
		}
		if scopeOf(&found[i]) == scope {
			return &found[i]
		}
		elsewhere = append(elsewhere, scopeName(scopeOf(&found[i])))
	}
	detail := fmt.Sprintf("No %s named %q exists in %s.", kind, name, scopeName(scope))
	if fromDefault && scope != "" {
		detail += " That project is the provider's default project (its project argument or MODELKEYS_PROJECT), used because project_id is not set."
	}
	if len(elsewhere) > 0 {
		sort.Strings(elsewhere)
		detail += fmt.Sprintf(" A %s of that name exists in %s; set project_id to that project's id, or to \"\" for the organisation scope, to read it there.",
			kind, strings.Join(elsewhere, " and in "))
	}
	diags.AddAttributeError(path.Root("name"), capitalized(kind)+" not found", detail)
	return nil
}
