package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/action"
	"github.com/hashicorp/terraform-plugin-framework/action/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"
)

var _ action.ActionWithConfigure = (*credentialRotateAction)(nil)

// NewCredentialRotateAction is the modelkeys_credential_rotate action (Terraform 1.14+).
func NewCredentialRotateAction() action.Action { return &credentialRotateAction{} }

type credentialRotateAction struct{ data *providerData }

type credentialRotateModel struct {
	CredentialID types.String `tfsdk:"credential_id"`
}

func (a *credentialRotateAction) Metadata(_ context.Context, req action.MetadataRequest, resp *action.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_credential_rotate"
}

func (a *credentialRotateAction) Schema(_ context.Context, _ action.SchemaRequest, resp *action.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Rotates a managed credential's key now (`rotation = { mode = \"managed\", ... }` on `modelkeys_credential`), through the server " +
			"(`POST /v1/credentials/{id}/rotate`): modelkeys mints a new key with the admin credential, verifies it and switches to it before the action ends; " +
			"the previous key keeps working for the credential's `overlap` and is then revoked at the vendor. A new key the vendor does not accept is revoked and the " +
			"old one kept, and the action fails saying why. Terraform 1.14+: run it with `terraform apply -invoke=action.modelkeys_credential_rotate.NAME`. " +
			"The next refresh takes the new `secret_version`, `secret_fingerprint` and `rotated_at` in without a drift warning, and the next plan is empty.",
		Attributes: map[string]schema.Attribute{
			"credential_id": schema.StringAttribute{
				MarkdownDescription: "The managed credential to rotate, `cred_...`.",
				Required:            true,
			},
		},
	}
}

func (a *credentialRotateAction) Configure(_ context.Context, req action.ConfigureRequest, resp *action.ConfigureResponse) {
	a.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

func (a *credentialRotateAction) Invoke(ctx context.Context, req action.InvokeRequest, resp *action.InvokeResponse) {
	if !a.data.ready(&resp.Diagnostics) {
		return
	}
	var cfg credentialRotateModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = a.data.requestContext(ctx)
	id := cfg.CredentialID.ValueString()
	progress := func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		tflog.Info(ctx, msg)
		if resp.SendProgress != nil {
			resp.SendProgress(action.InvokeProgressEvent{Message: msg})
		}
	}
	progress("rotating credential %s: minting, verifying and switching to a new key", id)
	c, err := a.data.client.RotateCredential(ctx, id, "terraform")
	if err != nil {
		addAPIError(&resp.Diagnostics, "Cannot rotate credential "+id, err)
		return
	}
	msg := fmt.Sprintf("credential %s (%s) now uses key %s (secret_version %d)", c.Name, c.ID, c.SecretHint, c.SecretVersion)
	if c.Rotation != nil && c.Rotation.PreviousKeyRevokeAt != nil {
		msg += fmt.Sprintf("; the previous key works until %s, then it is revoked", *c.Rotation.PreviousKeyRevokeAt)
	}
	progress("%s", msg)
}
