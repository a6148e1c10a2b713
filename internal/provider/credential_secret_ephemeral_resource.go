package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
)

var _ ephemeral.EphemeralResourceWithConfigure = (*credentialSecretEphemeralResource)(nil)

// NewCredentialSecretEphemeralResource is the modelkeys_credential_secret ephemeral resource.
func NewCredentialSecretEphemeralResource() ephemeral.EphemeralResource {
	return &credentialSecretEphemeralResource{}
}

type credentialSecretEphemeralResource struct{ data *providerData }

type credentialSecretModel struct {
	CredentialID types.String `tfsdk:"credential_id"`
	APIKey       types.String `tfsdk:"api_key"`
	AuthToken    types.String `tfsdk:"auth_token"`
}

func (e *credentialSecretEphemeralResource) Metadata(_ context.Context, req ephemeral.MetadataRequest, resp *ephemeral.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_credential_secret"
}

func (e *credentialSecretEphemeralResource) Schema(_ context.Context, _ ephemeral.SchemaRequest, resp *ephemeral.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The decrypted secrets of a credential, for another provider's write-only argument (a Kubernetes secret, a CI variable), " +
			"so that a key managed by modelkeys reaches the system that uses it without ever touching plan or state (Terraform 1.10+). " +
			"A server answers only when started with `--allow-reveal`, only for `admin` tokens, and audits every reveal; the embedded store always answers.",
		Attributes: map[string]schema.Attribute{
			"credential_id": schema.StringAttribute{
				MarkdownDescription: "Id of the credential to open.",
				Required:            true,
			},
			"api_key": schema.StringAttribute{
				MarkdownDescription: "The credential's API key; null when it has none.",
				Computed:            true,
				Sensitive:           true,
			},
			"auth_token": schema.StringAttribute{
				MarkdownDescription: "The credential's auth token; null when it has none.",
				Computed:            true,
				Sensitive:           true,
			},
		},
	}
}

func (e *credentialSecretEphemeralResource) Configure(_ context.Context, req ephemeral.ConfigureRequest, resp *ephemeral.ConfigureResponse) {
	e.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

func (e *credentialSecretEphemeralResource) Open(ctx context.Context, req ephemeral.OpenRequest, resp *ephemeral.OpenResponse) {
	var m credentialSecretModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if e.data == nil || e.data.client == nil {
		resp.Diagnostics.AddError("Provider not configured", "The modelkeys provider has no API client yet; its endpoint or token is not known.")
		return
	}
	ctx = e.data.requestContext(ctx)
	id := m.CredentialID.ValueString()
	sec, err := e.data.client.RevealCredential(ctx, id)
	switch {
	case client.IsForbidden(err):
		resp.Diagnostics.AddAttributeError(path.Root("credential_id"), "Reveal refused",
			fmt.Sprintf("The server refused to reveal credential %s: %s\n\nA server reveals secrets only when started with --allow-reveal, and only to admin tokens.", id, err))
		return
	case err != nil:
		addAPIError(&resp.Diagnostics, "Cannot open credential "+id, err)
		return
	}
	ctx = maskSecrets(ctx, sec.APIKey, sec.AuthToken)
	tflog.Info(ctx, "opened credential secret", map[string]any{"id": id, "has_api_key": sec.APIKey != "", "has_auth_token": sec.AuthToken != ""})
	m.APIKey, m.AuthToken = types.StringNull(), types.StringNull()
	if sec.APIKey != "" {
		m.APIKey = types.StringValue(sec.APIKey)
	}
	if sec.AuthToken != "" {
		m.AuthToken = types.StringValue(sec.AuthToken)
	}
	resp.Diagnostics.Append(resp.Result.Set(ctx, &m)...)
}
