package provider

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
)

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
	diags.AddAttributeError(path.Root("name"), strings.ToUpper(kind[:1])+kind[1:]+" not found", detail)
	return nil
}
