package provider

import (
	"context"
	"fmt"
	"strconv"

	"github.com/hashicorp/terraform-plugin-framework-jsontypes/jsontypes"
	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
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
	_ resource.ResourceWithConfigure   = (*connectionResource)(nil)
	_ resource.ResourceWithImportState = (*connectionResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*connectionResource)(nil)
)

// NewConnectionResource is the modelkeys_connection resource.
func NewConnectionResource() resource.Resource { return &connectionResource{} }

type connectionResource struct{ data *providerData }

type connectionModel struct {
	ID            types.String         `tfsdk:"id"`
	Name          types.String         `tfsdk:"name"`
	CredentialID  types.String         `tfsdk:"credential_id"`
	Model         types.String         `tfsdk:"model"`
	ProjectID     types.String         `tfsdk:"project_id"`
	Parameters    jsontypes.Normalized `tfsdk:"parameters"`
	Enabled       types.Bool           `tfsdk:"enabled"`
	AllowUnknown  types.Bool           `tfsdk:"allow_unknown_model"`
	ModelProvider types.String         `tfsdk:"model_provider"`
	Status        types.String         `tfsdk:"status"`
	StatusMessage types.String         `tfsdk:"status_message"`
	CreatedAt     timetypes.RFC3339    `tfsdk:"created_at"`
	UpdatedAt     timetypes.RFC3339    `tfsdk:"updated_at"`
}

func (r *connectionResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_connection"
}

func (r *connectionResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A model reachable through a credential: what MLflow calls an endpoint and SuperAnnotate a connected model. " +
			"Applications ask for the connection and get the model with the credential's current key, so rotating the key changes nothing here. " +
			"The server refuses a model that the effective model policy (the organisation's, intersected with the project's) does not allow; " +
			"a policy applied later turns `status` to `blocked` without changing the configuration.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "Connection id, `conn_...`.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				MarkdownDescription: "Name, unique in its scope (the organisation, or `project_id`): 1 to 64 of `a-z`, `0-9`, `-`, `_` and `.`.",
				Required:            true,
				Validators:          []validator.String{stringCheck{description: "a valid object name", check: catalog.ValidateName}},
			},
			"credential_id": schema.StringAttribute{
				MarkdownDescription: "Id of the `modelkeys_credential` the model is reached through. A connection in a project may use the project's credentials, " +
					"and organisation credentials when the project has `inherit_organization_credentials = true`. " +
					"Changing it re-points the connection in place; reference the credential (`modelkeys_credential.NAME.id`) so that Terraform orders creates and deletes.",
				Required:   true,
				Validators: []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"model": schema.StringAttribute{
				MarkdownDescription: "The provider's model id, such as `gpt-4o` or `claude-sonnet-4-5` (for Azure OpenAI, the deployment's model). " +
					"For providers with a model list it must be one the catalog lists (the `modelkeys_models` data source) or one the provider itself lists for the credential; " +
					"anything else is an error, at plan time when the credential already exists, with the nearest known names, unless `allow_unknown_model = true`. " +
					"Custom servers, gateways, Azure and Databricks accept any id.",
				Required:   true,
				Validators: []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"allow_unknown_model": schema.BoolAttribute{
				MarkdownDescription: "Accept a `model` that neither the modelkeys catalog nor the credential's provider lists, such as a model released after this provider version's catalog. " +
					"Without it such a model is an error, so that a typo (`gpt-4o-mni`) fails at plan time instead of being stored as ready. " +
					"It applies when the model or the credential changes and is not stored by the server.",
				Optional: true,
			},
			"project_id": schema.StringAttribute{
				MarkdownDescription: "Project the connection belongs to. Omitted: the provider's `project`, or organisation-wide when that is unset too. Changing it replaces the connection.",
				Optional:            true,
				Computed:            true,
			},
			"parameters": schema.StringAttribute{
				MarkdownDescription: "Default request parameters, as a JSON object: `jsonencode({ temperature = 0.2, max_tokens = 1024 })`. " +
					"Compared as JSON, so key order and spacing never make a difference.",
				CustomType: jsontypes.NormalizedType{},
				Optional:   true,
				Validators: []validator.String{jsonObjectValidator{}},
			},
			"enabled": schema.BoolAttribute{
				MarkdownDescription: "Whether applications may use the connection. Defaults to `true`.",
				Optional:            true,
				Computed:            true,
				Default:             booldefault.StaticBool(true),
			},
			"model_provider": schema.StringAttribute{
				MarkdownDescription: "Catalog id of the credential's provider, such as `openai`.",
				Computed:            true,
			},
			"status": schema.StringAttribute{
				MarkdownDescription: "`ready`; `blocked` when the effective model policy refuses the model now; `invalid` when the provider refused the credential's key. " +
					"Computed by the server every time the connection is read, so a policy change elsewhere shows here without a planned change.",
				Computed: true,
			},
			"status_message": schema.StringAttribute{
				MarkdownDescription: "Why the status is what it is, such as the policy rule that blocks the model. Empty when `ready`.",
				Computed:            true,
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

func (r *connectionResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

// ModifyPlan resolves project_id from the provider's default project, keeps parameters as they are in
// state when the configuration says the same JSON differently, and keeps computed values stable when
// nothing changes, so that plans stay empty.
func (r *connectionResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return // destroy
	}
	var plan, cfg connectionModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if cfg.ProjectID.IsNull() {
		plan.ProjectID = r.data.plannedProjectID(cfg.ProjectID)
	}
	if req.State.Raw.IsNull() {
		r.checkModel(ctx, plan, &resp.Diagnostics)
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
		return
	}
	var state connectionModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !plan.Model.Equal(state.Model) || !plan.CredentialID.Equal(state.CredentialID) {
		r.checkModel(ctx, plan, &resp.Diagnostics)
	}
	if !plan.ProjectID.Equal(state.ProjectID) { // unknown counts as different, as RequiresReplace does
		resp.RequiresReplace = append(resp.RequiresReplace, path.Root("project_id"))
	}
	// The same JSON written differently (key order, spacing) is no change: plan the prior value.
	if known(plan.Parameters.StringValue) && known(state.Parameters.StringValue) && !plan.Parameters.Equal(state.Parameters) {
		equal, d := state.Parameters.StringSemanticEquals(ctx, plan.Parameters)
		resp.Diagnostics.Append(d...)
		if equal {
			plan.Parameters = state.Parameters
		}
	}
	repointed := !plan.CredentialID.Equal(state.CredentialID)
	// allow_unknown_model is not sent on its own (the server stores nothing of it), so it is no change.
	anyChange := repointed || !plan.Name.Equal(state.Name) || !plan.Model.Equal(state.Model) || !plan.Parameters.Equal(state.Parameters) ||
		!plan.Enabled.Equal(state.Enabled) || !plan.ProjectID.Equal(state.ProjectID)
	if !repointed {
		plan.ModelProvider = state.ModelProvider
	}
	// status is computed by the server when the connection is read; an update reads it again, and a
	// policy applied in the same run may change it, so it is known only after apply then.
	if !anyChange {
		plan.Status, plan.StatusMessage, plan.UpdatedAt = state.Status, state.StatusMessage, state.UpdatedAt
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

// checkModel reports, at plan time, a model that neither the catalog nor the credential's provider
// knows, with the words the server would use at apply (catalog.UnknownModelMessage). It needs the
// credential's provider, so it reads the credential; when that cannot be done yet (a credential
// created in the same apply, a provider not configured yet, a server that cannot be reached) the
// server decides at apply instead.
func (r *connectionResource) checkModel(ctx context.Context, plan connectionModel, diags *diag.Diagnostics) {
	if r.data == nil || r.data.client == nil || plan.AllowUnknown.ValueBool() || !known(plan.Model) || !known(plan.CredentialID) {
		return
	}
	model := plan.Model.ValueString()
	ctx = r.data.requestContext(ctx)
	cred, err := r.data.client.GetCredential(ctx, plan.CredentialID.ValueString())
	if err != nil {
		tflog.Debug(ctx, "cannot read the connection's credential at plan time; the server checks the model at apply", map[string]any{"error": err.Error()})
		return
	}
	if catalog.ModelListed(cred.Provider, model) {
		return
	}
	var live []string
	note := catalog.NoteNotAsked(cred.Name, cred.Provider)
	if cred.Verify {
		models, err := r.data.client.ListModels(ctx, client.ModelFilter{CredentialID: cred.ID})
		if err != nil {
			tflog.Debug(ctx, "cannot list the credential's models at plan time; the server checks the model at apply", map[string]any{"error": err.Error()})
			return
		}
		for _, m := range models {
			if m.ID == model {
				return
			}
			live = append(live, m.ID)
		}
		note = catalog.NoteListed(cred.Name, cred.Provider, len(live))
	}
	diags.AddAttributeError(path.Root("model"), "Unknown model", catalog.UnknownModelMessage(cred.Provider, model, live, note))
}

func (r *connectionResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	if !r.data.ready(&resp.Diagnostics) {
		return
	}
	var plan connectionModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = r.data.requestContext(ctx)
	in := api.ConnectionCreate{
		Name:         plan.Name.ValueString(),
		CredentialID: plan.CredentialID.ValueString(),
		Model:        plan.Model.ValueString(),
		ProjectID:    plan.ProjectID.ValueString(),
		Parameters:   plan.Parameters.ValueString(),
		Enabled:      plan.Enabled.ValueBoolPointer(),

		AllowUnknownModel: plan.AllowUnknown.ValueBool(),
	}
	tflog.Debug(ctx, "creating connection", map[string]any{"name": in.Name, "credential_id": in.CredentialID, "model": in.Model, "project_id": in.ProjectID})
	c, err := r.data.client.CreateConnection(ctx, in)
	if err != nil {
		addAPIError(&resp.Diagnostics, "Cannot create connection "+strconv.Quote(in.Name), err)
		return
	}
	tflog.Info(ctx, "created connection", map[string]any{"id": c.ID, "status": c.Status})
	connectionToModel(c, &plan)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	resp.Diagnostics.Append(setIDIdentity(ctx, resp.Identity, plan.ID)...)
	resp.Diagnostics.Append(setVersion(ctx, resp.Private, c.Version)...)
}

func (r *connectionResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	if !r.data.ready(&resp.Diagnostics) {
		return
	}
	var state connectionModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = r.data.requestContext(ctx)
	c, err := r.data.client.GetConnection(ctx, state.ID.ValueString())
	if client.IsNotFound(err) {
		tflog.Info(ctx, "connection no longer exists; removing it from state", map[string]any{"id": state.ID.ValueString()})
		resp.State.RemoveResource(ctx)
		// The framework wants an identity after every Read, even one that forgets the object (Terraform
		// before 1.12 sends none to keep).
		resp.Diagnostics.Append(setIDIdentity(ctx, resp.Identity, state.ID)...)
		return
	}
	if err != nil {
		addAPIError(&resp.Diagnostics, "Cannot read connection "+state.ID.ValueString(), err)
		return
	}
	connectionToModel(c, &state)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
	resp.Diagnostics.Append(setIDIdentity(ctx, resp.Identity, state.ID)...)
	resp.Diagnostics.Append(setVersion(ctx, resp.Private, c.Version)...)
}

func (r *connectionResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	if !r.data.ready(&resp.Diagnostics) {
		return
	}
	var plan, state connectionModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = r.data.requestContext(ctx)
	params := plan.Parameters.ValueString() // "" removes them
	patch := api.ConnectionPatch{
		Name:         plan.Name.ValueStringPointer(),
		CredentialID: plan.CredentialID.ValueStringPointer(),
		Model:        plan.Model.ValueStringPointer(),
		Parameters:   &params,
		Enabled:      plan.Enabled.ValueBoolPointer(),

		AllowUnknownModel: plan.AllowUnknown.ValueBool(),
	}
	version, d := getVersion(ctx, req.Private)
	resp.Diagnostics.Append(d...)
	tflog.Debug(ctx, "updating connection", map[string]any{"id": state.ID.ValueString(), "if_match": version})
	c, err := r.data.client.UpdateConnection(ctx, state.ID.ValueString(), patch, version)
	if err != nil {
		if client.IsPreconditionFailed(err) {
			resp.Diagnostics.AddError("Connection changed since Terraform read it",
				fmt.Sprintf("Connection %s was changed by someone else (another workspace, or the API) after this plan read it, so the update was not applied. "+
					"Run terraform plan again to see the current state, then apply.\n\n%s", state.ID.ValueString(), err))
			return
		}
		addAPIError(&resp.Diagnostics, "Cannot update connection "+state.ID.ValueString(), err)
		return
	}
	connectionToModel(c, &plan)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	resp.Diagnostics.Append(setIDIdentity(ctx, resp.Identity, plan.ID)...)
	resp.Diagnostics.Append(setVersion(ctx, resp.Private, c.Version)...)
}

func (r *connectionResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	if !r.data.ready(&resp.Diagnostics) {
		return
	}
	var state connectionModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = r.data.requestContext(ctx)
	err := r.data.client.DeleteConnection(ctx, state.ID.ValueString(), 0)
	if err != nil && !client.IsNotFound(err) {
		addAPIError(&resp.Diagnostics, "Cannot delete connection "+state.ID.ValueString(), err)
		return
	}
	tflog.Info(ctx, "deleted connection", map[string]any{"id": state.ID.ValueString()})
}

func (r *connectionResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importByID(ctx, req, resp)
}

// connectionToModel copies what the API returned into m. parameters keeps m's text when the server's
// normalized JSON means the same (the framework's semantic equality does the same for reads).
func connectionToModel(c *api.Connection, m *connectionModel) {
	m.ID = types.StringValue(c.ID)
	m.Name = types.StringValue(c.Name)
	m.CredentialID = stringOrNull(c.CredentialID) // null: its credential was deleted with force; the plan re-points it
	m.Model = types.StringValue(c.Model)
	m.ProjectID = types.StringNull()
	if c.ProjectID != "" {
		m.ProjectID = types.StringValue(c.ProjectID)
	}
	switch {
	case c.Parameters == "":
		m.Parameters = jsontypes.NewNormalizedNull()
	case known(m.Parameters.StringValue) && jsonSame(m.Parameters.ValueString(), c.Parameters):
	default:
		m.Parameters = jsontypes.NewNormalizedValue(c.Parameters)
	}
	m.Enabled = types.BoolValue(c.Enabled)
	m.ModelProvider = types.StringValue(c.Provider)
	m.Status = types.StringValue(c.Status)
	m.StatusMessage = types.StringValue(c.StatusMessage)
	m.CreatedAt = timeValue(&c.CreatedAt)
	m.UpdatedAt = timeValue(&c.UpdatedAt)
}

// jsonSame says whether two JSON texts hold the same value.
func jsonSame(a, b string) bool {
	equal, diags := jsontypes.NewNormalizedValue(a).StringSemanticEquals(context.Background(), jsontypes.NewNormalizedValue(b))
	return equal && !diags.HasError()
}
