package provider

import (
	"context"
	"fmt"
	"strconv"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// configuredData takes the providerData handed to a resource, data source or ephemeral resource's
// Configure. nil before the provider is configured (validation runs without it).
func configuredData(raw any, diags *diag.Diagnostics) *providerData {
	if raw == nil {
		return nil
	}
	d, ok := raw.(*providerData)
	if !ok {
		diags.AddError("Unexpected provider data", fmt.Sprintf("expected *providerData, got %T; this is a bug in the modelkeys provider, please report it.", raw))
		return nil
	}
	return d
}

// requestContext adds the provider token's masking to an operation's context: framework contexts are
// per request, so masking set in Configure does not carry over.
func (d *providerData) requestContext(ctx context.Context, secrets ...string) context.Context {
	if d == nil {
		return maskSecrets(ctx, secrets...)
	}
	return maskSecrets(ctx, append([]string{d.token}, secrets...)...)
}

// ready reports whether the provider was configured with a client; when it was not (its endpoint or
// token depended on values unknown at the time), a data source cannot read and says why.
func (d *providerData) ready(diags *diag.Diagnostics) bool {
	if d != nil && d.client != nil {
		return true
	}
	diags.AddError("Provider not configured",
		"The modelkeys provider has no API client yet: its endpoint or token depends on values known only after apply. "+
			"Apply the resources they depend on first (terraform apply -target=...), then read this data source.")
	return false
}

// scopeName describes a project scope for messages: the project, or the organisation scope.
func scopeName(projectID string) string {
	if projectID == "" {
		return "the organisation scope (no project)"
	}
	return "project " + strconv.Quote(projectID)
}

// plannedProjectID is the project_id a resource plans when its configuration sets none: the provider's
// project, or null for the organisation scope.
func (d *providerData) plannedProjectID(configured types.String) types.String {
	if !configured.IsNull() {
		return configured
	}
	if d == nil || d.defaultProject == "" {
		return types.StringNull()
	}
	return types.StringValue(d.defaultProject)
}

// lookupScope is the project a data source looks in: its project_id when set, else the provider's
// project, else the organisation scope (""), the same rule the resources follow.
func (d *providerData) lookupScope(projectID types.String) string {
	if !projectID.IsNull() && !projectID.IsUnknown() {
		return projectID.ValueString()
	}
	if d == nil {
		return ""
	}
	return d.defaultProject
}
