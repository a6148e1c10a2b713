package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
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
	_ resource.ResourceWithConfigure      = (*modelPolicyResource)(nil)
	_ resource.ResourceWithImportState    = (*modelPolicyResource)(nil)
	_ resource.ResourceWithValidateConfig = (*modelPolicyResource)(nil)
)

// organizationPolicyID is the id of the organisation's model policy; a project's policy has the
// project's id.
const organizationPolicyID = "organization"

// NewModelPolicyResource is the modelkeys_model_policy resource.
func NewModelPolicyResource() resource.Resource { return &modelPolicyResource{} }

type modelPolicyResource struct{ data *providerData }

type modelPolicyModel struct {
	ID         types.String `tfsdk:"id"`
	ProjectID  types.String `tfsdk:"project_id"`
	Mode       types.String `tfsdk:"mode"`
	Models     types.Set    `tfsdk:"models"`
	Publishers types.Set    `tfsdk:"publishers"`
}

func (r *modelPolicyResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_model_policy"
}

func (r *modelPolicyResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Which models a scope may use: the organisation (no `project_id`) or one project. There is one policy per scope; " +
			"a scope without one allows every model. A project's effective policy is the organisation's intersected with its own: a model must pass both. " +
			"Creating a connection to a refused model fails, and existing connections whose model a new policy refuses show `status = \"blocked\"`. " +
			"Creating the resource overwrites whatever policy the scope has; destroying it resets the scope to `mode = \"all\"`. " +
			"Import with `organization` or a project id.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "`" + organizationPolicyID + "` for the organisation's policy, otherwise the project id.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"project_id": schema.StringAttribute{
				MarkdownDescription: "Project whose policy this is. Omitted: the organisation's policy (the provider's `project` does not apply here). " +
					"Changing it replaces the resource, resetting the old scope.",
				Optional:      true,
				Validators:    []validator.String{stringvalidator.LengthAtLeast(1)},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"mode": schema.StringAttribute{
				MarkdownDescription: "`all` allows every model (`models` and `publishers` must then be empty); `allowlist` allows only the listed models and " +
					"the models of the listed publishers; `denylist` allows everything except them.",
				Required:   true,
				Validators: []validator.String{stringvalidator.OneOf(api.PolicyAll, api.PolicyAllowlist, api.PolicyDenylist)},
			},
			"models": schema.SetAttribute{
				MarkdownDescription: "Models as `provider/model`, such as `openai/gpt-4.1` or `custom/llama3:8b`; the provider is a catalog id.",
				ElementType:         types.StringType,
				Optional:            true,
				Validators: []validator.Set{setvalidator.ValueStringsAre(
					stringCheck{description: "a provider/model reference", check: catalog.ValidateModelRef})},
			},
			"publishers": schema.SetAttribute{
				MarkdownDescription: "Publishers of models, such as `openai`, `anthropic`, `meta` or `mistral`: they cover a publisher's models through every provider " +
					"(Meta's Llama on Bedrock, Vertex AI, ...). Models of custom servers have no publisher; list them in `models`.",
				ElementType: types.StringType,
				Optional:    true,
				Validators:  []validator.Set{setvalidator.ValueStringsAre(stringCheck{description: "a publisher id", check: catalog.ValidatePublisher})},
			},
		},
	}
}

func (r *modelPolicyResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

// ValidateConfig refuses lists with mode "all", which would silently allow what they name.
func (r *modelPolicyResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var cfg modelPolicyModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() || cfg.Mode.IsUnknown() || cfg.Mode.ValueString() != api.PolicyAll {
		return
	}
	for name, set := range map[string]types.Set{"models": cfg.Models, "publishers": cfg.Publishers} {
		if !set.IsNull() && !set.IsUnknown() && len(set.Elements()) > 0 {
			resp.Diagnostics.AddAttributeError(path.Root(name), "Invalid "+name,
				fmt.Sprintf(`mode = "all" allows every model, so %s must be empty: use mode = "allowlist" to allow only what it lists, or "denylist" to refuse it.`, name))
		}
	}
}

func (r *modelPolicyResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	if !r.data.ready(&resp.Diagnostics) {
		return
	}
	var plan modelPolicyModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	// One policy per scope always exists (mode all when never written): creating writes it whole.
	newVersion := r.put(ctx, &plan, 0, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	resp.Diagnostics.Append(setPolicyIdentity(ctx, resp.Identity, plan.ProjectID)...)
	resp.Diagnostics.Append(setVersion(ctx, resp.Private, newVersion)...)
}

func (r *modelPolicyResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	if !r.data.ready(&resp.Diagnostics) {
		return
	}
	var state modelPolicyModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = r.data.requestContext(ctx)
	projectID := state.ProjectID.ValueString()
	pol, err := r.data.client.GetModelPolicy(ctx, projectID)
	if client.IsNotFound(err) {
		tflog.Info(ctx, "the policy's project no longer exists; removing the policy from state", map[string]any{"project_id": projectID})
		resp.State.RemoveResource(ctx)
		// The framework wants an identity after every Read, even one that forgets the object (Terraform
		// before 1.12 sends none to keep).
		resp.Diagnostics.Append(setPolicyIdentity(ctx, resp.Identity, state.ProjectID)...)
		return
	}
	if err != nil {
		addAPIError(&resp.Diagnostics, "Cannot read the model policy of "+policyScope(projectID), err)
		return
	}
	resp.Diagnostics.Append(policyToModel(ctx, pol, &state)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
	resp.Diagnostics.Append(setPolicyIdentity(ctx, resp.Identity, state.ProjectID)...)
	resp.Diagnostics.Append(setVersion(ctx, resp.Private, pol.Version)...)
}

func (r *modelPolicyResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	if !r.data.ready(&resp.Diagnostics) {
		return
	}
	var plan modelPolicyModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	version, d := getVersion(ctx, req.Private)
	resp.Diagnostics.Append(d...)
	newVersion := r.put(ctx, &plan, version, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	resp.Diagnostics.Append(setPolicyIdentity(ctx, resp.Identity, plan.ProjectID)...)
	resp.Diagnostics.Append(setVersion(ctx, resp.Private, newVersion)...)
}

// put writes plan's policy (If-Match version when non-zero), copies the answer back into plan and
// returns the policy's new version.
func (r *modelPolicyResource) put(ctx context.Context, plan *modelPolicyModel, version int64, diags *diag.Diagnostics) int64 {
	ctx = r.data.requestContext(ctx)
	projectID := plan.ProjectID.ValueString()
	in := api.ModelPolicyPut{Mode: plan.Mode.ValueString()}
	diags.Append(setStrings(ctx, plan.Models, &in.Models)...)
	diags.Append(setStrings(ctx, plan.Publishers, &in.Publishers)...)
	if diags.HasError() {
		return 0
	}
	tflog.Debug(ctx, "writing model policy", map[string]any{"scope": policyScope(projectID), "mode": in.Mode, "if_match": version})
	pol, err := r.data.client.PutModelPolicy(ctx, projectID, in, version)
	if err != nil {
		if client.IsPreconditionFailed(err) {
			diags.AddError("Model policy changed since Terraform read it",
				fmt.Sprintf("The model policy of %s was changed by someone else (another workspace, or the API) after this plan read it, so it was not written. "+
					"Run terraform plan again to see the current policy, then apply.\n\n%s", policyScope(projectID), err))
			return 0
		}
		addAPIError(diags, "Cannot write the model policy of "+policyScope(projectID), err)
		return 0
	}
	diags.Append(policyToModel(ctx, pol, plan)...)
	return pol.Version
}

func (r *modelPolicyResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	if !r.data.ready(&resp.Diagnostics) {
		return
	}
	var state modelPolicyModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = r.data.requestContext(ctx)
	projectID := state.ProjectID.ValueString()
	err := r.data.client.DeleteModelPolicy(ctx, projectID, 0)
	if err != nil && !client.IsNotFound(err) {
		addAPIError(&resp.Diagnostics, "Cannot reset the model policy of "+policyScope(projectID), err)
		return
	}
	tflog.Info(ctx, "reset model policy to mode all", map[string]any{"scope": policyScope(projectID)})
}

// ImportState takes "organization" or a project id, or an identity: project_id, empty or left out for
// the organisation's policy.
func (r *modelPolicyResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	id := req.ID
	if id == "" && req.Identity != nil {
		var ident policyIdentity
		resp.Diagnostics.Append(req.Identity.Get(ctx, &ident)...)
		if resp.Diagnostics.HasError() {
			return
		}
		id = policyIDFor(ident.ProjectID.ValueString())
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), id)...)
	projectID := types.StringValue("")
	if id != organizationPolicyID {
		resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("project_id"), id)...)
		projectID = types.StringValue(id)
	}
	resp.Diagnostics.Append(setPolicyIdentity(ctx, resp.Identity, projectID)...)
}

func policyScope(projectID string) string {
	if projectID == "" {
		return "the organisation"
	}
	return "project " + projectID
}

// policyToModel copies the API's policy into m; empty lists stay null when m had them null (left out
// of the configuration).
func policyToModel(ctx context.Context, pol *api.ModelPolicy, m *modelPolicyModel) diag.Diagnostics {
	var diags diag.Diagnostics
	m.ID = types.StringValue(policyIDFor(pol.ProjectID))
	m.ProjectID = types.StringNull()
	if pol.ProjectID != "" {
		m.ProjectID = types.StringValue(pol.ProjectID)
	}
	m.Mode = types.StringValue(pol.Mode)
	var d diag.Diagnostics
	m.Models, d = setValue(ctx, pol.Models, m.Models)
	diags.Append(d...)
	m.Publishers, d = setValue(ctx, pol.Publishers, m.Publishers)
	diags.Append(d...)
	return diags
}

func policyIDFor(projectID string) string {
	if projectID == "" {
		return organizationPolicyID
	}
	return projectID
}

// setStrings reads a set(string) attribute into *dst; null leaves it nil.
func setStrings(ctx context.Context, s types.Set, dst *[]string) diag.Diagnostics {
	if s.IsNull() || s.IsUnknown() {
		return nil
	}
	return s.ElementsAs(ctx, dst, false)
}

// setValue turns an API list into a set attribute, keeping null when the list is empty and the prior
// value was null.
func setValue(ctx context.Context, items []string, prior types.Set) (types.Set, diag.Diagnostics) {
	if len(items) == 0 && prior.IsNull() {
		return types.SetNull(types.StringType), nil
	}
	if items == nil {
		items = []string{}
	}
	return types.SetValueFrom(ctx, types.StringType, items)
}
