package provider

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/vmihailenco/msgpack/v5"
)

// explainDefaultProject rewrites the server's "project does not exist" on a resource's project_id when
// the resource did not set project_id and the provider's project supplied it: the server's advice (omit
// project_id) and the attribute it points at are the resource's, while the setting to fix is the
// provider's project (or MODELKEYS_PROJECT).
func (g *storeGuard) explainDefaultProject(config *tfprotov6.DynamicValue, diags []*tfprotov6.Diagnostic) {
	d := g.data()
	if d == nil || d.defaultProject == "" || !configLeavesOut(config, "project_id") {
		return
	}
	projectID := tftypes.NewAttributePath().WithAttributeName("project_id")
	quoted := fmt.Sprintf("%q", d.defaultProject)
	for _, diag := range diags {
		if diag == nil || diag.Severity != tfprotov6.DiagnosticSeverityError || !strings.Contains(diag.Detail, quoted) ||
			!strings.Contains(diag.Detail, "does not exist") || diag.Attribute == nil || !diag.Attribute.Equal(projectID) {
			continue
		}
		diag.Attribute = nil // not the resource's project_id, which its configuration leaves out
		diag.Detail = fmt.Sprintf("This resource sets no project_id, so it goes into the provider's project, %s (the provider's project argument, or MODELKEYS_PROJECT), "+
			"and no project with that id exists in %s at %s.\n\n"+
			"Set the provider's project to the id (proj_...) of an existing project, or unset it for organisation-wide objects; or set project_id on this resource.",
			quoted, d.organizationName(), d.where())
	}
}

// configLeavesOut reports whether a resource configuration leaves attribute name null.
func configLeavesOut(config *tfprotov6.DynamicValue, name string) bool {
	var attrs map[string]any
	switch {
	case config == nil:
		return false
	case len(config.MsgPack) > 0:
		if msgpack.Unmarshal(config.MsgPack, &attrs) != nil {
			return false
		}
	case json.Unmarshal(config.JSON, &attrs) != nil:
		return false
	}
	v, ok := attrs[name]
	return ok && v == nil
}
