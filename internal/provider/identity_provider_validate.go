package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/federation"
)

var _ resource.ResourceWithValidateConfig = (*identityProviderResource)(nil)

// ValidateConfig refuses at plan what the server refuses: a workload audience equal to client_id,
// which people's console ID tokens carry as their aud (so they would pass as a workload's).
func (r *identityProviderResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var clientID types.String
	var audiences types.List
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("client_id"), &clientID)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("audiences"), &audiences)...)
	if resp.Diagnostics.HasError() || clientID.IsNull() || clientID.IsUnknown() || audiences.IsNull() || audiences.IsUnknown() {
		return
	}
	var auds []string
	for _, el := range audiences.Elements() {
		a, ok := el.(types.String)
		if !ok || a.IsUnknown() {
			return // checked at apply, when every audience is known
		}
		auds = append(auds, a.ValueString())
	}
	for _, pr := range federation.CheckAudiencesNotClientID(auds, clientID.ValueString()) {
		resp.Diagnostics.AddAttributeError(path.Root("audiences").AtListIndex(pr.Index), "Audience is the client_id", pr.Message)
	}
}
