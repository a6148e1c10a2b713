package provider

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
)

var (
	_ resource.ResourceWithConfigure   = (*projectResource)(nil)
	_ resource.ResourceWithImportState = (*projectResource)(nil)
)

// NewProjectResource is the modelkeys_project resource.
func NewProjectResource() resource.Resource { return &projectResource{} }

type projectResource struct{ data *providerData }

type projectModel struct {
	ID                             types.String      `tfsdk:"id"`
	Name                           types.String      `tfsdk:"name"`
	Description                    types.String      `tfsdk:"description"`
	InheritOrganizationCredentials types.Bool        `tfsdk:"inherit_organization_credentials"`
	CreatedAt                      timetypes.RFC3339 `tfsdk:"created_at"`
	UpdatedAt                      timetypes.RFC3339 `tfsdk:"updated_at"`
}

func (r *projectResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_project"
}

func (r *projectResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A project: a scope of its own for credentials, connections and a model policy inside the organisation. " +
			"Its connections may use organisation credentials only when `inherit_organization_credentials` is `true`. " +
			"A project can be deleted only once its credentials and connections are gone; deleting it also resets its model policy.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "Project id, `proj_...`: the value of `project_id` elsewhere.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				MarkdownDescription: "Name, unique in the organisation: 1 to 64 of `a-z`, `0-9`, `-`, `_` and `.`.",
				Required:            true,
				Validators:          []validator.String{stringCheck{description: "a valid object name", check: catalog.ValidateName}},
			},
			"description": schema.StringAttribute{
				MarkdownDescription: "Free text for people, up to 1024 characters; newlines and tabs are the only control characters allowed, and no invisible format characters (such as U+202E) but the zero-width joiners.",
				Optional:            true,
				Validators:          []validator.String{stringCheck{description: "a description", check: catalog.ValidateDescription}},
			},
			"inherit_organization_credentials": schema.BoolAttribute{
				MarkdownDescription: "Whether the project's connections may use organisation credentials (those without `project_id`), as well as the project's own. " +
					"Defaults to `false`. It cannot be turned off while connections of the project use organisation credentials.",
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(false),
			},
			"created_at": schema.StringAttribute{
				MarkdownDescription: "Creation time (RFC 3339).",
				Computed:            true,
				CustomType:          timetypes.RFC3339Type{},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"updated_at": schema.StringAttribute{
				MarkdownDescription: "Time of the last change (RFC 3339).",
				Computed:            true,
				CustomType:          timetypes.RFC3339Type{},
			},
		},
	}
}

func (r *projectResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

func (r *projectResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	if !r.data.ready(&resp.Diagnostics) {
		return
	}
	var plan projectModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = r.data.requestContext(ctx)
	in := api.ProjectCreate{
		Name:                           plan.Name.ValueString(),
		Description:                    plan.Description.ValueString(),
		InheritOrganizationCredentials: plan.InheritOrganizationCredentials.ValueBool(),
	}
	p, err := r.data.client.CreateProject(ctx, in)
	if err != nil {
		addAPIError(&resp.Diagnostics, "Cannot create project "+strconv.Quote(in.Name), err)
		return
	}
	tflog.Info(ctx, "created project", map[string]any{"id": p.ID})
	projectToModel(p, &plan)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	resp.Diagnostics.Append(setIDIdentity(ctx, resp.Identity, plan.ID)...)
	resp.Diagnostics.Append(setVersion(ctx, resp.Private, p.Version)...)
}

func (r *projectResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	if !r.data.ready(&resp.Diagnostics) {
		return
	}
	var state projectModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = r.data.requestContext(ctx)
	p, err := r.data.client.GetProject(ctx, state.ID.ValueString())
	if client.IsNotFound(err) {
		tflog.Info(ctx, "project no longer exists; removing it from state", map[string]any{"id": state.ID.ValueString()})
		resp.State.RemoveResource(ctx)
		// The framework wants an identity after every Read, even one that forgets the object (Terraform
		// before 1.12 sends none to keep).
		resp.Diagnostics.Append(setIDIdentity(ctx, resp.Identity, state.ID)...)
		return
	}
	if err != nil {
		addAPIError(&resp.Diagnostics, "Cannot read project "+state.ID.ValueString(), err)
		return
	}
	projectToModel(p, &state)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
	resp.Diagnostics.Append(setIDIdentity(ctx, resp.Identity, state.ID)...)
	resp.Diagnostics.Append(setVersion(ctx, resp.Private, p.Version)...)
}

func (r *projectResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	if !r.data.ready(&resp.Diagnostics) {
		return
	}
	var plan, state projectModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = r.data.requestContext(ctx)
	patch := api.ProjectPatch{
		Name:                           plan.Name.ValueStringPointer(),
		Description:                    stringPointerOrEmpty(plan.Description),
		InheritOrganizationCredentials: plan.InheritOrganizationCredentials.ValueBoolPointer(),
	}
	version, d := getVersion(ctx, req.Private)
	resp.Diagnostics.Append(d...)
	p, err := r.data.client.UpdateProject(ctx, state.ID.ValueString(), patch, version)
	if err != nil {
		switch {
		case client.IsPreconditionFailed(err):
			resp.Diagnostics.AddError("Project changed since Terraform read it",
				fmt.Sprintf("Project %s was changed by someone else (another workspace, or the API) after this plan read it, so the update was not applied. "+
					"Run terraform plan again to see the current state, then apply.\n\n%s", state.ID.ValueString(), err))
		case client.IsConflict(err) && conflictIDs(err) != nil:
			ae, _ := client.AsAPIError(err)
			resp.Diagnostics.AddAttributeError(path.Root("inherit_organization_credentials"), "Project still uses organisation credentials",
				fmt.Sprintf("Project %q (%s) cannot stop inheriting organisation credentials while connections of it use them: %s. "+
					"Point those connections at credentials of the project first, or keep inherit_organization_credentials = true.\n\n%s",
					state.Name.ValueString(), state.ID.ValueString(), strings.Join(ae.Problem.Conflicts, ", "), ae.Problem.Detail))
		case client.IsConflict(err):
			resp.Diagnostics.AddAttributeError(path.Root("name"), "Project name taken", err.Error())
		default:
			addAPIError(&resp.Diagnostics, "Cannot update project "+state.ID.ValueString(), err)
		}
		return
	}
	projectToModel(p, &plan)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	resp.Diagnostics.Append(setIDIdentity(ctx, resp.Identity, plan.ID)...)
	resp.Diagnostics.Append(setVersion(ctx, resp.Private, p.Version)...)
}

func (r *projectResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	if !r.data.ready(&resp.Diagnostics) {
		return
	}
	var state projectModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = r.data.requestContext(ctx)
	err := r.data.client.DeleteProject(ctx, state.ID.ValueString(), 0)
	switch {
	case err == nil || client.IsNotFound(err):
		tflog.Info(ctx, "deleted project", map[string]any{"id": state.ID.ValueString()})
	case client.IsConflict(err):
		ae, _ := client.AsAPIError(err)
		resp.Diagnostics.AddError("Project is not empty",
			fmt.Sprintf("Project %q (%s) cannot be deleted while it holds credentials or connections: %s. "+
				"Delete them first; when they are in the same configuration, reference the project from them (project_id = modelkeys_project.NAME.id) "+
				"so Terraform deletes them first.", state.Name.ValueString(), state.ID.ValueString(), strings.Join(ae.Problem.Conflicts, ", ")))
	default:
		addAPIError(&resp.Diagnostics, "Cannot delete project "+state.ID.ValueString(), err)
	}
}

func (r *projectResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importByID(ctx, req, resp)
}

func projectToModel(p *api.Project, m *projectModel) {
	m.ID = types.StringValue(p.ID)
	m.Name = types.StringValue(p.Name)
	m.Description = nullIfEmpty(p.Description, m.Description)
	m.InheritOrganizationCredentials = types.BoolValue(p.InheritOrganizationCredentials)
	m.CreatedAt = timeValue(&p.CreatedAt)
	m.UpdatedAt = timeValue(&p.UpdatedAt)
}
