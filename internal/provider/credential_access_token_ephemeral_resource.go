package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
)

var _ ephemeral.EphemeralResourceWithConfigure = (*credentialAccessTokenEphemeralResource)(nil)

// NewCredentialAccessTokenEphemeralResource is the modelkeys_credential_access_token ephemeral resource.
func NewCredentialAccessTokenEphemeralResource() ephemeral.EphemeralResource {
	return &credentialAccessTokenEphemeralResource{}
}

type credentialAccessTokenEphemeralResource struct{ data *providerData }

type credentialAccessTokenModel struct {
	CredentialID types.String `tfsdk:"credential_id"`
	AccessToken  types.String `tfsdk:"access_token"`
	TokenType    types.String `tfsdk:"token_type"`
	ExpiresAt    types.String `tfsdk:"expires_at"`
}

func (e *credentialAccessTokenEphemeralResource) Metadata(_ context.Context, req ephemeral.MetadataRequest, resp *ephemeral.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_credential_access_token"
}

func (e *credentialAccessTokenEphemeralResource) Schema(_ context.Context, _ ephemeral.SchemaRequest, resp *ephemeral.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A vendor access token of a keyless credential (`auth_method = \"workload_identity\"`) that lasts minutes, " +
			"for another provider's argument or a write-only attribute, without plan or state ever holding it (Terraform 1.10+). " +
			"modelkeys-server signs an assertion for the credential as its OpenID issuer and exchanges it at the vendor; it hands the same token out again until a minute before it expires. " +
			"Only admins, and tokens exchanged from a federation rule whose `credentials` list names the credential (or `\"*\"`), may open it; every opening is audited. " +
			"A credential that stores a key has no access token: keys never leave modelkeys (use `modelkeys_credential_secret` for those).",
		Attributes: map[string]schema.Attribute{
			"credential_id": schema.StringAttribute{
				MarkdownDescription: "Id of the keyless credential.",
				Required:            true,
			},
			"access_token": schema.StringAttribute{
				MarkdownDescription: "The vendor's token, sent to the vendor as `Authorization: Bearer ACCESS_TOKEN`.",
				Computed:            true,
				Sensitive:           true,
			},
			"token_type": schema.StringAttribute{
				MarkdownDescription: "Always `Bearer`.",
				Computed:            true,
			},
			"expires_at": schema.StringAttribute{
				MarkdownDescription: "When the vendor stops accepting the token (RFC 3339).",
				Computed:            true,
			},
		},
	}
}

func (e *credentialAccessTokenEphemeralResource) Configure(_ context.Context, req ephemeral.ConfigureRequest, resp *ephemeral.ConfigureResponse) {
	e.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

func (e *credentialAccessTokenEphemeralResource) Open(ctx context.Context, req ephemeral.OpenRequest, resp *ephemeral.OpenResponse) {
	var m credentialAccessTokenModel
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
	tok, err := e.data.client.CredentialAccessToken(ctx, id)
	switch {
	case client.IsForbidden(err):
		resp.Diagnostics.AddAttributeError(path.Root("credential_id"), "Access token refused",
			fmt.Sprintf("The server refused an access token of credential %s: %s\n\nOnly admin tokens, and tokens exchanged from a federation rule whose credentials list names the credential, may fetch one.", id, err))
		return
	case err != nil:
		addAPIError(&resp.Diagnostics, "Cannot open an access token of credential "+id, err)
		return
	}
	ctx = maskSecrets(ctx, tok.AccessToken)
	tflog.Info(ctx, "opened credential access token", map[string]any{"id": id, "expires_at": tok.ExpiresAt.Format(time.RFC3339)})
	m.AccessToken = types.StringValue(tok.AccessToken)
	m.TokenType = types.StringValue(tok.TokenType)
	m.ExpiresAt = types.StringValue(tok.ExpiresAt.UTC().Format(time.RFC3339))
	resp.Diagnostics.Append(resp.Result.Set(ctx, &m)...)
}
