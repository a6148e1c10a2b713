package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
)

var _ datasource.DataSourceWithConfigure = (*credentialsDataSource)(nil)

// NewCredentialsDataSource is the modelkeys_credentials data source: the credentials matching filters.
func NewCredentialsDataSource() datasource.DataSource { return &credentialsDataSource{} }

type credentialsDataSource struct{ data *providerData }

type credentialsDataModel struct {
	ProjectID     types.String          `tfsdk:"project_id"`
	ModelProvider types.String          `tfsdk:"model_provider"`
	Name          types.String          `tfsdk:"name"`
	Lifecycle     types.String          `tfsdk:"lifecycle_status"`
	Credentials   []credentialDataModel `tfsdk:"credentials"`
	IDs           []string              `tfsdk:"ids"`
}

func (d *credentialsDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_credentials"
}

func (d *credentialsDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Lists the organisation's credentials (model-provider API keys), optionally narrowed by project, provider and name, " +
			"without their secrets. Useful to audit which keys exist, or to `for_each` over them.",
		Attributes: map[string]schema.Attribute{
			"project_id": schema.StringAttribute{
				MarkdownDescription: "Only the credentials of this project. Omitted: the credentials of every scope, organisation-wide and of every project " +
					"(the provider's `project` does not narrow this list).",
				Optional: true,
			},
			"model_provider": schema.StringAttribute{
				MarkdownDescription: "Only the credentials of this catalog provider: " + quotedList(catalog.ProviderIDs()) + ".",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.OneOf(catalog.ProviderIDs()...)},
			},
			"name": schema.StringAttribute{
				MarkdownDescription: "Only the credentials with exactly this name (one per scope at most).",
				Optional:            true,
			},
			"lifecycle_status": schema.StringAttribute{
				MarkdownDescription: "Only the credentials in this lifecycle status: `ok`, `rotation_due`, `expiring` or `expired` " +
					"(for example, to fail a `check` when any key has expired).",
				Optional:   true,
				Validators: []validator.String{stringvalidator.OneOf(api.LifecycleStatuses...)},
			},
			"credentials": schema.ListNestedAttribute{
				MarkdownDescription: "The matching credentials, oldest first, with the attributes of the `modelkeys_credential` data source.",
				Computed:            true,
				NestedObject:        schema.NestedAttributeObject{Attributes: credentialDataAttributes(false)},
			},
			"ids": schema.ListAttribute{
				MarkdownDescription: "Ids of the matching credentials, in the order of `credentials`.",
				ElementType:         types.StringType,
				Computed:            true,
			},
		},
	}
}

func (d *credentialsDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

func (d *credentialsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m credentialsDataModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || !d.data.ready(&resp.Diagnostics) {
		return
	}
	ctx = d.data.requestContext(ctx)
	opts := client.CredentialListOptions{
		ProjectID: m.ProjectID.ValueString(),
		Provider:  m.ModelProvider.ValueString(),
		Name:      m.Name.ValueString(),

		LifecycleStatus: m.Lifecycle.ValueString(),
	}
	list, err := d.data.client.ListAllCredentials(ctx, opts)
	if err != nil {
		addAPIError(&resp.Diagnostics, "Cannot list credentials", err)
		return
	}
	m.Credentials = make([]credentialDataModel, 0, len(list))
	m.IDs = make([]string, 0, len(list))
	for i := range list {
		m.Credentials = append(m.Credentials, credentialToDataModel(&list[i]))
		m.IDs = append(m.IDs, list[i].ID)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
