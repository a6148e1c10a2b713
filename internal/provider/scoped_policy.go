package provider

import (
	"context"
	"fmt"
	"strings"

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

	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
)

// organizationPolicyID is the id of the organisation's policy; a project's policy has the project's id.
const organizationPolicyID = "organization"

// scopedPolicy is what modelkeys_model_policy and modelkeys_credential_policy share: a policy that
// always exists, one per scope (the organisation, or the project in project_id), so that creating
// writes it whole, destroying resets it, a refresh forgets it only with its project, writes carry
// If-Match, and import takes "organization" or a project id. A resource embeds it with its policyKind
// and adds its schema (scopedPolicyAttributes and its own) and the conversion in policyKind.
type scopedPolicy[M any] struct {
	data *providerData
	kind policyKind[M]
}

// policyKind is one kind of scope policy: its name in messages and its API calls, each of which copies
// the server's answer into the model and returns the policy's version.
type policyKind[M any] struct {
	name    string // "model policy"
	resetTo string // what destroying leaves, for the log: "mode all"
	scope   func(m *M) types.String
	read    func(ctx context.Context, c *client.Client, projectID string, m *M) (int64, diag.Diagnostics, error)
	write   func(ctx context.Context, c *client.Client, projectID string, m *M, version int64) (int64, diag.Diagnostics, error)
	reset   func(ctx context.Context, c *client.Client, projectID string) error
}

// scopedPolicyAttributes are the id and project_id attributes of a scope policy.
func scopedPolicyAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
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
	}
}

func (p *scopedPolicy[M]) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	p.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

func (p *scopedPolicy[M]) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	if !p.data.ready(&resp.Diagnostics) {
		return
	}
	var plan M
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	// The scope's policy always exists (no rules when never written): creating writes it whole.
	newVersion := p.put(ctx, &plan, 0, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	resp.Diagnostics.Append(setPolicyIdentity(ctx, resp.Identity, p.kind.scope(&plan))...)
	resp.Diagnostics.Append(setVersion(ctx, resp.Private, newVersion)...)
}

func (p *scopedPolicy[M]) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	if !p.data.ready(&resp.Diagnostics) {
		return
	}
	var state M
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = p.data.requestContext(ctx)
	projectID := p.kind.scope(&state).ValueString()
	version, diags, err := p.kind.read(ctx, p.data.client, projectID, &state)
	if client.IsNotFound(err) {
		tflog.Info(ctx, "the policy's project no longer exists; removing the "+p.kind.name+" from state", map[string]any{"project_id": projectID})
		resp.State.RemoveResource(ctx)
		// The framework wants an identity after every Read, even one that forgets the object (Terraform
		// before 1.12 sends none to keep).
		resp.Diagnostics.Append(setPolicyIdentity(ctx, resp.Identity, p.kind.scope(&state))...)
		return
	}
	if err != nil {
		addAPIError(&resp.Diagnostics, "Cannot read the "+p.kind.name+" of "+policyScope(projectID), err)
		return
	}
	resp.Diagnostics.Append(diags...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
	resp.Diagnostics.Append(setPolicyIdentity(ctx, resp.Identity, p.kind.scope(&state))...)
	resp.Diagnostics.Append(setVersion(ctx, resp.Private, version)...)
}

func (p *scopedPolicy[M]) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	if !p.data.ready(&resp.Diagnostics) {
		return
	}
	var plan M
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	version, d := getVersion(ctx, req.Private)
	resp.Diagnostics.Append(d...)
	newVersion := p.put(ctx, &plan, version, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	resp.Diagnostics.Append(setPolicyIdentity(ctx, resp.Identity, p.kind.scope(&plan))...)
	resp.Diagnostics.Append(setVersion(ctx, resp.Private, newVersion)...)
}

// put writes plan's policy (If-Match version when non-zero), copies the answer back into plan and
// returns the policy's new version.
func (p *scopedPolicy[M]) put(ctx context.Context, plan *M, version int64, diags *diag.Diagnostics) int64 {
	ctx = p.data.requestContext(ctx)
	projectID := p.kind.scope(plan).ValueString()
	tflog.Debug(ctx, "writing "+p.kind.name, map[string]any{"scope": policyScope(projectID), "if_match": version})
	newVersion, d, err := p.kind.write(ctx, p.data.client, projectID, plan, version)
	diags.Append(d...)
	if err != nil {
		if client.IsPreconditionFailed(err) {
			diags.AddError(capitalize(p.kind.name)+" changed since Terraform read it",
				fmt.Sprintf("The %s of %s was changed by someone else (another workspace, or the API) after this plan read it, so it was not written. "+
					"Run terraform plan again to see the current policy, then apply.\n\n%s", p.kind.name, policyScope(projectID), err))
			return 0
		}
		addAPIError(diags, "Cannot write the "+p.kind.name+" of "+policyScope(projectID), err)
		return 0
	}
	return newVersion
}

func (p *scopedPolicy[M]) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	if !p.data.ready(&resp.Diagnostics) {
		return
	}
	var state M
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = p.data.requestContext(ctx)
	projectID := p.kind.scope(&state).ValueString()
	if err := p.kind.reset(ctx, p.data.client, projectID); err != nil && !client.IsNotFound(err) {
		addAPIError(&resp.Diagnostics, "Cannot reset the "+p.kind.name+" of "+policyScope(projectID), err)
		return
	}
	tflog.Info(ctx, "reset "+p.kind.name+" to "+p.kind.resetTo, map[string]any{"scope": policyScope(projectID)})
}

// ImportState takes "organization" or a project id, or, where the resource has an identity,
// project_id: empty or left out for the organisation's policy.
func (p *scopedPolicy[M]) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
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

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
