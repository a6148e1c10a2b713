package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
)

var _ datasource.DataSourceWithConfigure = (*issuerDataSource)(nil)

// NewIssuerDataSource is the modelkeys_issuer data source: the server's OpenID issuer and the
// subject of a credential's assertions, for the vendor-side federation objects.
func NewIssuerDataSource() datasource.DataSource { return &issuerDataSource{} }

type issuerDataSource struct{ data *providerData }

type issuerDataModel struct {
	CredentialID  types.String `tfsdk:"credential_id"`
	Issuer        types.String `tfsdk:"issuer"`
	JWKSURI       types.String `tfsdk:"jwks_uri"`
	DiscoveryURL  types.String `tfsdk:"discovery_url"`
	Subject       types.String `tfsdk:"subject"`
	SubjectFormat types.String `tfsdk:"subject_format"`
	SubjectPrefix types.String `tfsdk:"subject_prefix"`
}

func (d *issuerDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_issuer"
}

func (d *issuerDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The modelkeys server as an OpenID issuer (`modelkeys-server serve --issuer-url`), which keyless credentials " +
			"(`auth_method = \"workload_identity\"`) use: each exchange at the vendor presents a five-minute assertion the server signs. " +
			"Read it to write the vendor's side of the trust in the same configuration, with the vendor's own provider: the `issuer` and " +
			"`jwks_uri` the vendor fetches keys from, and the `subject` (`sub`) the assertions of a credential carry, which the vendor's " +
			"federation rule, policy or federated credential matches. The server must have been started with `--issuer-url`; " +
			"embedded mode (`file://`) is never an issuer, since vendors must reach it over https.",
		Attributes: map[string]schema.Attribute{
			"credential_id": schema.StringAttribute{
				MarkdownDescription: "Id of a credential (usually a keyless one) whose assertions' `subject` to read. Unset: `subject` is null.",
				Optional:            true,
			},
			"issuer": schema.StringAttribute{
				MarkdownDescription: "The issuer identifier, the `iss` of every assertion: the server's `--issuer-url`. Register it at the vendor as the trusted issuer.",
				Computed:            true,
			},
			"jwks_uri": schema.StringAttribute{
				MarkdownDescription: "Where the server publishes its public signing keys (`<issuer>/.well-known/jwks.json`), for vendors that take a JWKS URL rather than discovery.",
				Computed:            true,
			},
			"discovery_url": schema.StringAttribute{
				MarkdownDescription: "The OpenID discovery document (`<issuer>/.well-known/openid-configuration`).",
				Computed:            true,
			},
			"subject": schema.StringAttribute{
				MarkdownDescription: "The `sub` of every assertion minted for `credential_id`: " +
					"`modelkeys:org:<organisation id>:credential:<credential id>`, stable for the credential's life. " +
					"Match it exactly in the vendor's federation rule. Null without `credential_id`.",
				Computed: true,
			},
			"subject_prefix": schema.StringAttribute{
				MarkdownDescription: "What every subject of this organisation starts with, `modelkeys:org:<organisation id>:credential:`: " +
					"for a vendor rule that trusts every credential of the organisation (a subject prefix, or a condition such as Google's " +
					"`assertion.sub.startsWith(...)`), which can be written before any credential exists.",
				Computed: true,
			},
			"subject_format": schema.StringAttribute{
				MarkdownDescription: "The form of every subject, `modelkeys:org:<organisation id>:credential:<credential id>`, for rules that match a pattern.",
				Computed:            true,
			},
		},
	}
}

func (d *issuerDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

func (d *issuerDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m issuerDataModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || !d.data.ready(&resp.Diagnostics) {
		return
	}
	ctx = d.data.requestContext(ctx)
	out, err := d.data.client.Issuer(ctx, m.CredentialID.ValueString())
	switch {
	case client.IsConflict(err):
		resp.Diagnostics.AddError("The modelkeys server is not an issuer",
			"The server answered: "+err.Error()+"\n\nKeyless credentials need a modelkeys-server started with --issuer-url (its public https URL); "+
				"the provider's embedded mode (file://) is never an issuer.")
		return
	case client.IsNotFound(err):
		resp.Diagnostics.AddAttributeError(path.Root("credential_id"), "Credential not found",
			"No credential with id "+m.CredentialID.String()+" exists in this organisation: check credential_id.")
		return
	case err != nil:
		addAPIError(&resp.Diagnostics, "Reading the issuer failed", err)
		return
	}
	m.Issuer = types.StringValue(out.Issuer)
	m.JWKSURI = types.StringValue(out.JWKSURI)
	m.DiscoveryURL = types.StringValue(out.DiscoveryURL)
	m.SubjectFormat = types.StringValue(out.SubjectFormat)
	m.SubjectPrefix = types.StringValue(out.SubjectPrefix)
	m.Subject = types.StringNull()
	if out.Subject != "" {
		m.Subject = types.StringValue(out.Subject)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
