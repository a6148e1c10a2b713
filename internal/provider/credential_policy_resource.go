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
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/provider/catalogtypes"
)

var (
	_ resource.ResourceWithConfigure   = (*credentialPolicyResource)(nil)
	_ resource.ResourceWithImportState = (*credentialPolicyResource)(nil)
)

// NewCredentialPolicyResource is the modelkeys_credential_policy resource.
func NewCredentialPolicyResource() resource.Resource { return &credentialPolicyResource{} }

type credentialPolicyResource struct{ data *providerData }

type credentialPolicyModel struct {
	ID                  types.String          `tfsdk:"id"`
	ProjectID           types.String          `tfsdk:"project_id"`
	AllowedProviders    types.Set             `tfsdk:"allowed_providers"`
	MaxRotationPeriod   catalogtypes.Duration `tfsdk:"max_rotation_period"`
	ExpiryWarning       catalogtypes.Duration `tfsdk:"expiry_warning"`
	RequireVerification types.Bool            `tfsdk:"require_verification"`
}

func (r *credentialPolicyResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_credential_policy"
}

func (r *credentialPolicyResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	keepSpelling := []planmodifier.String{catalogtypes.UseStateWhenSemanticallyEqual(catalogtypes.DurationType{})}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Rules for the credentials of a scope: the organisation (no `project_id`) or one project. There is one policy per scope; " +
			"a scope without one has no rules. A project's effective policy is the organisation's and its own, the stricter of each rule. " +
			"A stricter policy does not break existing credentials: they show `policy_violations` (and a warning on every refresh), " +
			"and their next change is refused until it complies. " +
			"Creating the resource overwrites whatever policy the scope has; destroying it resets the scope to no rules. " +
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
			"allowed_providers": schema.SetAttribute{
				MarkdownDescription: "Catalog providers the scope's credentials may be for: " + quotedList(catalog.ProviderIDs()) + ". " +
					"Omitted: every provider. Creating a credential of another provider in the scope fails, naming the allowed ones, " +
					"and so does connecting a project's connection to an organisation credential of another provider.",
				ElementType: types.StringType,
				Optional:    true,
				Validators: []validator.Set{setvalidator.SizeAtLeast(1),
					setvalidator.ValueStringsAre(stringvalidator.OneOf(catalog.ProviderIDs()...))},
			},
			"max_rotation_period": schema.StringAttribute{
				MarkdownDescription: "The longest `rotation_period` a credential may have (`\"90d\"`, `\"2160h\"`); credentials without one are due for rotation after it.",
				Optional:            true,
				CustomType:          catalogtypes.DurationType{},
				PlanModifiers:       keepSpelling,
			},
			"expiry_warning": schema.StringAttribute{
				MarkdownDescription: "How long before `expires_at` a credential turns `expiring`. Defaults to `14d`.",
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString("14d"),
				CustomType:          catalogtypes.DurationType{},
				PlanModifiers:       keepSpelling,
			},
			"require_verification": schema.BoolAttribute{
				MarkdownDescription: "Refuse `verify = false` on the scope's credentials. Defaults to `false`.",
				Optional:            true,
				Computed:            true,
				Default:             booldefault.StaticBool(false),
			},
		},
	}
}

func (r *credentialPolicyResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

func (r *credentialPolicyResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	if !r.data.ready(&resp.Diagnostics) {
		return
	}
	var plan credentialPolicyModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	newVersion := r.put(ctx, &plan, 0, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	resp.Diagnostics.Append(setVersion(ctx, resp.Private, newVersion)...)
}

func (r *credentialPolicyResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	if !r.data.ready(&resp.Diagnostics) {
		return
	}
	var state credentialPolicyModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = r.data.requestContext(ctx)
	projectID := state.ProjectID.ValueString()
	pol, err := r.data.client.GetCredentialPolicy(ctx, projectID)
	if client.IsNotFound(err) {
		tflog.Info(ctx, "the policy's project no longer exists; removing the credential policy from state", map[string]any{"project_id": projectID})
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		addAPIError(&resp.Diagnostics, "Cannot read the credential policy of "+policyScope(projectID), err)
		return
	}
	resp.Diagnostics.Append(credentialPolicyToModel(ctx, pol, &state)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
	resp.Diagnostics.Append(setVersion(ctx, resp.Private, pol.Version)...)
}

func (r *credentialPolicyResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	if !r.data.ready(&resp.Diagnostics) {
		return
	}
	var plan credentialPolicyModel
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
	resp.Diagnostics.Append(setVersion(ctx, resp.Private, newVersion)...)
}

// put writes plan's policy (If-Match version when non-zero), copies the answer back into plan and
// returns the policy's new version.
func (r *credentialPolicyResource) put(ctx context.Context, plan *credentialPolicyModel, version int64, diags *diag.Diagnostics) int64 {
	ctx = r.data.requestContext(ctx)
	projectID := plan.ProjectID.ValueString()
	in := api.CredentialPolicyPut{
		MaxRotationPeriod:   plan.MaxRotationPeriod.ValueString(),
		ExpiryWarning:       plan.ExpiryWarning.ValueString(),
		RequireVerification: plan.RequireVerification.ValueBool(),
	}
	diags.Append(setStrings(ctx, plan.AllowedProviders, &in.AllowedProviders)...)
	if diags.HasError() {
		return 0
	}
	tflog.Debug(ctx, "writing credential policy", map[string]any{"scope": policyScope(projectID), "if_match": version})
	pol, err := r.data.client.PutCredentialPolicy(ctx, projectID, in, version)
	if err != nil {
		if client.IsPreconditionFailed(err) {
			diags.AddError("Credential policy changed since Terraform read it",
				fmt.Sprintf("The credential policy of %s was changed by someone else (another workspace, or the API) after this plan read it, so it was not written. "+
					"Run terraform plan again to see the current policy, then apply.\n\n%s", policyScope(projectID), err))
			return 0
		}
		addAPIError(diags, "Cannot write the credential policy of "+policyScope(projectID), err)
		return 0
	}
	diags.Append(credentialPolicyToModel(ctx, pol, plan)...)
	return pol.Version
}

func (r *credentialPolicyResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	if !r.data.ready(&resp.Diagnostics) {
		return
	}
	var state credentialPolicyModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = r.data.requestContext(ctx)
	projectID := state.ProjectID.ValueString()
	if err := r.data.client.DeleteCredentialPolicy(ctx, projectID, 0); err != nil && !client.IsNotFound(err) {
		addAPIError(&resp.Diagnostics, "Cannot reset the credential policy of "+policyScope(projectID), err)
		return
	}
	tflog.Info(ctx, "reset credential policy to no rules", map[string]any{"scope": policyScope(projectID)})
}

// ImportState takes "organization" or a project id.
func (r *credentialPolicyResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
	if req.ID != organizationPolicyID {
		resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("project_id"), req.ID)...)
	}
}

// credentialPolicyToModel copies the API's policy into m (durations keep the configuration's spelling
// by their type's semantic equality); an empty provider list stays null when m had it null.
func credentialPolicyToModel(ctx context.Context, pol *api.CredentialPolicy, m *credentialPolicyModel) diag.Diagnostics {
	m.ID = types.StringValue(policyIDFor(pol.ProjectID))
	m.ProjectID = stringOrNull(pol.ProjectID)
	var diags diag.Diagnostics
	m.AllowedProviders, diags = setValue(ctx, pol.AllowedProviders, m.AllowedProviders)
	if len(pol.AllowedProviders) == 0 {
		m.AllowedProviders = types.SetNull(types.StringType)
	}
	m.MaxRotationPeriod = catalogtypes.NewDurationValue(pol.MaxRotationPeriod)
	m.ExpiryWarning = catalogtypes.NewDurationValue(pol.ExpiryWarning)
	m.RequireVerification = types.BoolValue(pol.RequireVerification)
	return diags
}
