package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-jsontypes/jsontypes"
	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/datasourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
)

var (
	_ datasource.DataSourceWithConfigure        = (*connectionDataSource)(nil)
	_ datasource.DataSourceWithConfigValidators = (*connectionDataSource)(nil)
)

// NewConnectionDataSource is the modelkeys_connection data source: one connection, by id or by name.
func NewConnectionDataSource() datasource.DataSource { return &connectionDataSource{} }

type connectionDataSource struct{ data *providerData }

type connectionDataModel struct {
	ID            types.String         `tfsdk:"id"`
	Name          types.String         `tfsdk:"name"`
	ProjectID     types.String         `tfsdk:"project_id"`
	CredentialID  types.String         `tfsdk:"credential_id"`
	Model         string               `tfsdk:"model"`
	Parameters    jsontypes.Normalized `tfsdk:"parameters"`
	Enabled       bool                 `tfsdk:"enabled"`
	ModelProvider types.String         `tfsdk:"model_provider"`
	Status        string               `tfsdk:"status"`
	StatusMessage string               `tfsdk:"status_message"`
	CreatedAt     timetypes.RFC3339    `tfsdk:"created_at"`
	UpdatedAt     timetypes.RFC3339    `tfsdk:"updated_at"`
}

func (d *connectionDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_connection"
}

func (d *connectionDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Looks up one connection (a model reachable through a credential) by `id`, or by `name` in a scope, " +
			"and reads its model, credential, parameters and status. Set exactly one of `id` and `name`.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "Id of the connection to read, `conn_...`. Conflicts with `name`.",
				Optional:            true,
				Computed:            true,
			},
			"name": schema.StringAttribute{
				MarkdownDescription: "Name of the connection to read, in the scope that `project_id` selects. Conflicts with `id`.",
				Optional:            true,
				Computed:            true,
			},
			"project_id": schema.StringAttribute{
				MarkdownDescription: "With `name`: the project to look in. Omitted: the provider's `project`, or the organisation scope " +
					"(connections of no project) when that is unset too; `\"\"` selects the organisation scope even when the provider has a `project`. " +
					"Read back as the connection's project, null for an organisation-wide connection.",
				Optional:   true,
				Computed:   true,
				Validators: []validator.String{stringvalidator.ConflictsWith(path.MatchRoot("id"))},
			},
			"credential_id": schema.StringAttribute{
				MarkdownDescription: "Id of the credential the model is reached through; null when an admin deleted that credential with force (the connection is then `invalid`).",
				Computed:            true,
			},
			"model": schema.StringAttribute{
				MarkdownDescription: "The provider's model id (for Azure OpenAI, the deployment's model).",
				Computed:            true,
			},
			"parameters": schema.StringAttribute{
				MarkdownDescription: "Default request parameters, as a JSON object (use `jsondecode` to read them); null when the connection has none.",
				CustomType:          jsontypes.NormalizedType{},
				Computed:            true,
			},
			"enabled": schema.BoolAttribute{
				MarkdownDescription: "Whether the connection may be used.",
				Computed:            true,
			},
			"model_provider": schema.StringAttribute{
				MarkdownDescription: "Catalog id of the provider of the connection's credential.",
				Computed:            true,
			},
			"status": schema.StringAttribute{
				MarkdownDescription: "`ready`, `blocked` (the effective model policy refuses the model) or `invalid` (the credential is invalid).",
				Computed:            true,
			},
			"status_message": schema.StringAttribute{
				MarkdownDescription: "Why the status is what it is.",
				Computed:            true,
			},
			"created_at": schema.StringAttribute{
				MarkdownDescription: "Creation time (RFC 3339).",
				Computed:            true,
				CustomType:          timetypes.RFC3339Type{},
			},
			"updated_at": schema.StringAttribute{
				MarkdownDescription: "Time of the last change (RFC 3339).",
				Computed:            true,
				CustomType:          timetypes.RFC3339Type{},
			},
		},
	}
}

func (d *connectionDataSource) ConfigValidators(context.Context) []datasource.ConfigValidator {
	return []datasource.ConfigValidator{
		datasourcevalidator.ExactlyOneOf(path.MatchRoot("id"), path.MatchRoot("name")),
	}
}

func (d *connectionDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

func (d *connectionDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var id, name, projectID types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("id"), &id)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("name"), &name)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("project_id"), &projectID)...)
	if resp.Diagnostics.HasError() || !d.data.ready(&resp.Diagnostics) {
		return
	}
	ctx = d.data.requestContext(ctx)

	c := connectionLookup(d.data).find(ctx, d.data, id, name, projectID, &resp.Diagnostics)
	if c == nil {
		return
	}
	m := connectionDataModel{
		ID:            types.StringValue(c.ID),
		Name:          types.StringValue(c.Name),
		ProjectID:     stringOrNull(c.ProjectID),
		CredentialID:  stringOrNull(c.CredentialID),
		Model:         c.Model,
		Parameters:    jsontypes.NewNormalizedNull(),
		Enabled:       c.Enabled,
		ModelProvider: stringOrNull(c.Provider),
		Status:        c.Status,
		StatusMessage: c.StatusMessage,
		CreatedAt:     timeValue(&c.CreatedAt),
		UpdatedAt:     timeValue(&c.UpdatedAt),
	}
	if known(projectID) {
		m.ProjectID = projectID // "" (the organisation scope) stays as configured
	}
	if c.Parameters != "" {
		m.Parameters = jsontypes.NewNormalizedValue(c.Parameters)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// connectionLookup finds a connection by id, or by name in one scope.
func connectionLookup(d *providerData) byIDOrName[api.Connection] {
	return byIDOrName[api.Connection]{
		kind: "connection",
		get:  d.client.GetConnection,
		list: func(ctx context.Context, name string) ([]api.Connection, error) {
			return d.client.ListAllConnections(ctx, client.ConnectionListOptions{Name: name})
		},
		nameOf:  func(c *api.Connection) string { return c.Name },
		scopeOf: func(c *api.Connection) string { return c.ProjectID },
	}
}
