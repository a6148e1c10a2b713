package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/datasourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
)

var (
	_ datasource.DataSourceWithConfigure        = (*projectDataSource)(nil)
	_ datasource.DataSourceWithConfigValidators = (*projectDataSource)(nil)
)

// NewProjectDataSource is the modelkeys_project data source: one project, by id or by name.
func NewProjectDataSource() datasource.DataSource { return &projectDataSource{} }

type projectDataSource struct{ data *providerData }

type projectDataModel struct {
	ID                             types.String      `tfsdk:"id"`
	Name                           types.String      `tfsdk:"name"`
	Description                    string            `tfsdk:"description"`
	InheritOrganizationCredentials bool              `tfsdk:"inherit_organization_credentials"`
	CreatedAt                      timetypes.RFC3339 `tfsdk:"created_at"`
	UpdatedAt                      timetypes.RFC3339 `tfsdk:"updated_at"`
}

func (d *projectDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_project"
}

func (d *projectDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Looks up one project (a scope for credentials, connections and a model policy) by `id` or by `name`, " +
			"for example to put credentials in a project that another workspace manages. Set exactly one of `id` and `name`.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "Id of the project to read. Conflicts with `name`.",
				Optional:            true,
				Computed:            true,
			},
			"name": schema.StringAttribute{
				MarkdownDescription: "Name of the project to read, unique in the organisation. Conflicts with `id`.",
				Optional:            true,
				Computed:            true,
			},
			"description": schema.StringAttribute{
				MarkdownDescription: "Free text for people; empty when unset.",
				Computed:            true,
			},
			"inherit_organization_credentials": schema.BoolAttribute{
				MarkdownDescription: "Whether connections in this project may use organisation-wide credentials, besides the project's own.",
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

func (d *projectDataSource) ConfigValidators(context.Context) []datasource.ConfigValidator {
	return []datasource.ConfigValidator{
		datasourcevalidator.ExactlyOneOf(path.MatchRoot("id"), path.MatchRoot("name")),
	}
}

func (d *projectDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

func (d *projectDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var id, name types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("id"), &id)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("name"), &name)...)
	if resp.Diagnostics.HasError() || !d.data.ready(&resp.Diagnostics) {
		return
	}
	ctx = d.data.requestContext(ctx)

	p := byIDOrName[api.Project]{
		kind: "project",
		get:  d.data.client.GetProject,
		list: func(ctx context.Context, name string) ([]api.Project, error) {
			return d.data.client.ListAllProjects(ctx, client.ProjectListOptions{Name: name})
		},
		nameOf: func(p *api.Project) string { return p.Name },
	}.find(ctx, d.data, id, name, types.StringNull(), &resp.Diagnostics)
	if p == nil {
		return
	}
	m := projectDataModel{
		ID:                             types.StringValue(p.ID),
		Name:                           types.StringValue(p.Name),
		Description:                    p.Description,
		InheritOrganizationCredentials: p.InheritOrganizationCredentials,
		CreatedAt:                      timeValue(&p.CreatedAt),
		UpdatedAt:                      timeValue(&p.UpdatedAt),
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
