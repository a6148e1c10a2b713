package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
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
	for i, el := range audiences.Elements() {
		a, ok := el.(types.String)
		if !ok || a.IsNull() || a.IsUnknown() || a.ValueString() != clientID.ValueString() {
			continue
		}
		resp.Diagnostics.AddAttributeError(path.Root("audiences").AtListIndex(i), "Audience is the client_id",
			fmt.Sprintf("audience %q is this provider's client_id: people's ID tokens for the console carry it as their aud, so any person with an account at the issuer "+
				"could exchange one as a workload. Use an audience only workloads ask for (GitHub Actions: the audience input of the OIDC token request).", a.ValueString()))
	}
}
