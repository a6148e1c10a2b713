package provider

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/list"
	listschema "github.com/hashicorp/terraform-plugin-framework/list/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/federation"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
)

var (
	_ resource.ResourceWithConfigure      = (*federationRuleResource)(nil)
	_ resource.ResourceWithImportState    = (*federationRuleResource)(nil)
	_ resource.ResourceWithIdentity       = (*federationRuleResource)(nil)
	_ resource.ResourceWithValidateConfig = (*federationRuleResource)(nil)
	_ list.ListResourceWithConfigure      = (*federationRuleResource)(nil)
)

// NewFederationRuleResource is the modelkeys_federation_rule resource.
func NewFederationRuleResource() resource.Resource { return &federationRuleResource{} }

// NewFederationRuleListResource is the modelkeys_federation_rule list resource.
func NewFederationRuleListResource() list.ListResource { return &federationRuleResource{} }

type federationRuleResource struct{ data *providerData }

type federationRuleModel struct {
	ID                 types.String      `tfsdk:"id"`
	Name               types.String      `tfsdk:"name"`
	IdentityProviderID types.String      `tfsdk:"identity_provider_id"`
	Kind               types.String      `tfsdk:"kind"`
	Conditions         types.Map         `tfsdk:"conditions"`
	Role               types.String      `tfsdk:"role"`
	ProjectID          types.String      `tfsdk:"project_id"`
	TokenTTL           types.String      `tfsdk:"token_ttl"`
	Credentials        types.List        `tfsdk:"credentials"`
	CreatedAt          timetypes.RFC3339 `tfsdk:"created_at"`
	UpdatedAt          timetypes.RFC3339 `tfsdk:"updated_at"`
}

func (r *federationRuleResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_federation_rule"
}

func (r *federationRuleResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Which tokens of a `modelkeys_identity_provider` are trusted, as whom, in which project and for how long. " +
			"A `workload` rule lets a CI job or Terraform run trade its OpenID token for a short-lived modelkeys token (the provider's `workload_identity` " +
			"block does it); a `people` rule lets people sign in to the console. A token is trusted when every condition matches its claims. " +
			"Any change to a rule, and deleting it, ends the tokens it issued. Needs an admin token; every change is audited.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "Federation rule id, `fr_...`: the `federation_rule` of the provider's `workload_identity` block.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				MarkdownDescription: "Name, unique in the organisation: 1 to 64 of `a-z`, `0-9`, `-`, `_` and `.`. Audit events name it.",
				Required:            true,
				Validators:          []validator.String{stringCheck{description: "a valid object name", check: catalog.ValidateName}},
			},
			"identity_provider_id": schema.StringAttribute{
				MarkdownDescription: "The identity provider whose tokens the rule trusts. Changing it replaces the rule.",
				Required:            true,
				Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"kind": schema.StringAttribute{
				MarkdownDescription: "`workload` (the default): machines exchange their token at `/v1/oauth/token`. `people`: console sign-in. Changing it replaces the rule.",
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString(api.FederationWorkload),
				Validators:          []validator.String{stringvalidator.OneOf(api.FederationWorkload, api.FederationPeople)},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"conditions": schema.MapAttribute{
				MarkdownDescription: "Claim name to pattern; a token is trusted only when every one matches. `*` matches any run of characters, everything else " +
					"matches itself; a claim that is a list (such as `groups`) matches when one of its items does; a missing claim matches nothing. " +
					"At least one condition, and not all of them wildcards. A rule must name whose token it is: at least one condition pins, to a value that is not " +
					"only wildcards, a claim other than those every token of the issuer can carry (`iss`, `aud`, times and ids, `ref` and other branch claims, " +
					"`event_name`, `environment`, `workflow`, `run_id`, `email_verified`, ...), such as `sub`, `repository`, `project_path`, " +
					"`terraform_organization_name` or `email`; a rule pinned only by the branch or environment would trust every repository of a shared issuer. " +
					"Pin the repository, project or workspace, and usually the branch, such as " +
					"`{ repository = \"acme/infra\", ref = \"refs/heads/main\" }` for GitHub Actions or " +
					"`{ sub = \"organization:acme:project:*:workspace:prod:run_phase:apply\" }` for HCP Terraform.",
				ElementType: types.StringType,
				Required:    true,
				Validators:  []validator.Map{conditionsCheck{}},
			},
			"role": schema.StringAttribute{
				MarkdownDescription: "The role of the tokens the rule issues: `viewer` (plan) or `editor` (apply); `admin` only for `people` rules, a machine never gets an admin token.",
				Required:            true,
				Validators:          []validator.String{stringvalidator.OneOf(api.RoleViewer, api.RoleEditor, api.RoleAdmin)},
			},
			"project_id": schema.StringAttribute{
				MarkdownDescription: "Confines the rule's tokens to this project: they cannot read or change anything outside it, nor organisation-wide objects. " +
					"Omitted: the organisation scope. The provider's `project` does not apply here.",
				Optional:   true,
				Validators: []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"token_ttl": schema.StringAttribute{
				MarkdownDescription: "How long an exchanged token lives, as a Go duration (`15m`, the default; at most `1h`). The provider renews its token " +
					"before it expires, so a short lifetime does not cut a long apply short.",
				Optional:   true,
				Computed:   true,
				Default:    stringdefault.StaticString("15m"),
				Validators: []validator.String{stringCheck{description: "a duration of at most 1h", check: checkTokenTTL}},
			},
			"credentials": schema.ListAttribute{
				MarkdownDescription: "Keyless credentials (ids, or `[\"*\"]` for all in the rule's scope) whose minutes-lived vendor tokens the rule's tokens may fetch. Workload rules only.",
				ElementType:         types.StringType,
				Optional:            true,
				Validators:          []validator.List{listvalidator.UniqueValues(), listvalidator.ValueStringsAre(stringvalidator.LengthAtLeast(1))},
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

// checkTokenTTL is the server's rule: a Go duration above zero and at most service.MaxTokenTTL.
func checkTokenTTL(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("token_ttl %q is not a duration; write it as Go does, such as \"15m\" or \"1h\"", s)
	}
	if d <= 0 || d > service.MaxTokenTTL {
		return fmt.Errorf("token_ttl must be above 0 and at most %s, not %s: a longer-lived token is what federation replaces", service.MaxTokenTTL, s)
	}
	return nil
}

// conditionsCheck runs federation.CheckConditions, the rule the server applies, at plan time.
type conditionsCheck struct{}

func (conditionsCheck) Description(context.Context) string {
	return "at least one condition, not all wildcards"
}
func (c conditionsCheck) MarkdownDescription(ctx context.Context) string { return c.Description(ctx) }

func (conditionsCheck) ValidateMap(ctx context.Context, req validator.MapRequest, resp *validator.MapResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	conds := map[string]string{}
	for k, v := range req.ConfigValue.Elements() {
		s, ok := v.(types.String)
		if !ok || s.IsUnknown() {
			return // known at apply; the server checks it then
		}
		conds[k] = s.ValueString()
	}
	if err := federation.CheckConditions(conds); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid conditions", err.Error()+".")
	}
}

// ValidateConfig refuses, at plan, what a kind of rule may not have.
func (r *federationRuleResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var cfg federationRuleModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() || cfg.Kind.IsUnknown() || cfg.Role.IsUnknown() {
		return
	}
	kind := cfg.Kind.ValueString()
	if kind == "" {
		kind = api.FederationWorkload
	}
	if kind == api.FederationWorkload && cfg.Role.ValueString() == api.RoleAdmin {
		resp.Diagnostics.AddAttributeError(path.Root("role"), "A workload rule cannot grant admin",
			`A workload rule's role is "viewer" or "editor": a machine never gets an admin token. Use "editor" for an apply job; admin work stays with people (kind = "people").`)
	}
	if kind == api.FederationPeople && !cfg.Credentials.IsNull() && !cfg.Credentials.IsUnknown() && len(cfg.Credentials.Elements()) > 0 {
		resp.Diagnostics.AddAttributeError(path.Root("credentials"), "Credentials are for workload rules",
			"credentials name the keyless credentials a job may fetch vendor tokens for; a people rule has none. Remove credentials or set kind = \"workload\".")
	}
}

func (r *federationRuleResource) IdentitySchema(_ context.Context, _ resource.IdentitySchemaRequest, resp *resource.IdentitySchemaResponse) {
	resp.IdentitySchema = idIdentitySchema("federation rule", "fr_")
}

func (r *federationRuleResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

func (r *federationRuleResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	if !r.data.ready(&resp.Diagnostics) {
		return
	}
	var plan federationRuleModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = r.data.requestContext(ctx)
	conds, d := stringMap(ctx, plan.Conditions)
	resp.Diagnostics.Append(d...)
	creds, d := stringList(ctx, plan.Credentials)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	in := api.FederationRuleCreate{
		Name:               plan.Name.ValueString(),
		IdentityProviderID: plan.IdentityProviderID.ValueString(),
		Kind:               plan.Kind.ValueString(),
		Conditions:         conds,
		Role:               plan.Role.ValueString(),
		ProjectID:          plan.ProjectID.ValueString(),
		TokenTTL:           plan.TokenTTL.ValueString(),
		Credentials:        creds,
	}
	fr, err := r.data.client.CreateFederationRule(ctx, in)
	if err != nil {
		r.addError(&resp.Diagnostics, "Cannot create federation rule "+strconv.Quote(in.Name), err)
		return
	}
	tflog.Info(ctx, "created federation rule", map[string]any{"id": fr.ID, "identity_provider_id": fr.IdentityProviderID})
	resp.Diagnostics.Append(federationRuleToModel(ctx, fr, &plan)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	resp.Diagnostics.Append(setIDIdentity(ctx, resp.Identity, plan.ID)...)
	resp.Diagnostics.Append(setVersion(ctx, resp.Private, fr.Version)...)
}

func (r *federationRuleResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	if !r.data.ready(&resp.Diagnostics) {
		return
	}
	var state federationRuleModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = r.data.requestContext(ctx)
	fr, err := r.data.client.GetFederationRule(ctx, state.ID.ValueString())
	if client.IsNotFound(err) {
		tflog.Info(ctx, "federation rule no longer exists; removing it from state", map[string]any{"id": state.ID.ValueString()})
		resp.State.RemoveResource(ctx)
		resp.Diagnostics.Append(setIDIdentity(ctx, resp.Identity, state.ID)...)
		return
	}
	if err != nil {
		addAPIError(&resp.Diagnostics, "Cannot read federation rule "+state.ID.ValueString(), err)
		return
	}
	resp.Diagnostics.Append(federationRuleToModel(ctx, fr, &state)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
	resp.Diagnostics.Append(setIDIdentity(ctx, resp.Identity, state.ID)...)
	resp.Diagnostics.Append(setVersion(ctx, resp.Private, fr.Version)...)
}

func (r *federationRuleResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	if !r.data.ready(&resp.Diagnostics) {
		return
	}
	var plan, state federationRuleModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = r.data.requestContext(ctx)
	conds, d := stringMap(ctx, plan.Conditions)
	resp.Diagnostics.Append(d...)
	creds, d := stringList(ctx, plan.Credentials)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	creds = nonNil(creds)
	patch := api.FederationRulePatch{
		Name:        plan.Name.ValueStringPointer(),
		Conditions:  &conds,
		Role:        plan.Role.ValueStringPointer(),
		ProjectID:   stringPointerOrEmpty(plan.ProjectID),
		TokenTTL:    plan.TokenTTL.ValueStringPointer(),
		Credentials: &creds,
	}
	version, d := getVersion(ctx, req.Private)
	resp.Diagnostics.Append(d...)
	fr, err := r.data.client.UpdateFederationRule(ctx, state.ID.ValueString(), patch, version)
	if err != nil {
		if client.IsPreconditionFailed(err) {
			resp.Diagnostics.AddError("Federation rule changed since Terraform read it",
				fmt.Sprintf("Federation rule %s was changed by someone else (another workspace, or the API) after this plan read it, so the update was not applied. "+
					"Run terraform plan again to see the current state, then apply.\n\n%s", state.ID.ValueString(), err))
			return
		}
		r.addError(&resp.Diagnostics, "Cannot update federation rule "+state.ID.ValueString(), err)
		return
	}
	tflog.Info(ctx, "updated federation rule; the tokens it issued before have ended", map[string]any{"id": fr.ID})
	resp.Diagnostics.Append(federationRuleToModel(ctx, fr, &plan)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	resp.Diagnostics.Append(setIDIdentity(ctx, resp.Identity, plan.ID)...)
	resp.Diagnostics.Append(setVersion(ctx, resp.Private, fr.Version)...)
}

func (r *federationRuleResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	if !r.data.ready(&resp.Diagnostics) {
		return
	}
	var state federationRuleModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = r.data.requestContext(ctx)
	err := r.data.client.DeleteFederationRule(ctx, state.ID.ValueString(), 0)
	if err != nil && !client.IsNotFound(err) {
		addAPIError(&resp.Diagnostics, "Cannot delete federation rule "+state.ID.ValueString(), err)
		return
	}
	tflog.Info(ctx, "deleted federation rule; the tokens it issued have ended", map[string]any{"id": state.ID.ValueString()})
}

func (r *federationRuleResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importByID(ctx, req, resp)
}

func (r *federationRuleResource) addError(diags *diag.Diagnostics, summary string, err error) {
	switch {
	case client.IsConflict(err):
		diags.AddAttributeError(path.Root("name"), "Federation rule name taken", err.Error())
	case client.IsForbidden(err):
		diags.AddError(summary, err.Error()+"\n\nFederation rules are managed with an admin token: a rule decides who may sign in, as whom.")
	default:
		addAPIError(diags, summary, err)
	}
}

// federationRuleToModel copies the server's rule into m, keeping null for optional attributes the
// configuration left out.
func federationRuleToModel(ctx context.Context, fr *api.FederationRule, m *federationRuleModel) diag.Diagnostics {
	var diags diag.Diagnostics
	m.ID = types.StringValue(fr.ID)
	m.Name = types.StringValue(fr.Name)
	m.IdentityProviderID = types.StringValue(fr.IdentityProviderID)
	m.Kind = types.StringValue(fr.Kind)
	conds, d := types.MapValueFrom(ctx, types.StringType, fr.Conditions)
	diags.Append(d...)
	m.Conditions = conds
	m.Role = types.StringValue(fr.Role)
	m.ProjectID = nullIfEmpty(fr.ProjectID, m.ProjectID)
	m.TokenTTL = types.StringValue(fr.TokenTTL)
	if len(fr.Credentials) == 0 && (m.Credentials.IsNull() || m.Credentials.IsUnknown()) {
		m.Credentials = types.ListNull(types.StringType)
	} else {
		l, d := types.ListValueFrom(ctx, types.StringType, nonNil(fr.Credentials))
		diags.Append(d...)
		m.Credentials = l
	}
	m.CreatedAt = timeValue(&fr.CreatedAt)
	m.UpdatedAt = timeValue(&fr.UpdatedAt)
	return diags
}

// ---- list resource ----

type federationRuleListConfig struct {
	IdentityProviderID types.String `tfsdk:"identity_provider_id"`
	Kind               types.String `tfsdk:"kind"`
}

func (r *federationRuleResource) ListResourceConfigSchema(_ context.Context, _ list.ListResourceSchemaRequest, resp *list.ListResourceSchemaResponse) {
	resp.Schema = listschema.Schema{
		MarkdownDescription: "Lists the organisation's federation rules, for `terraform query` (Terraform 1.14+). Every filter is optional; together they all apply.",
		Attributes: map[string]listschema.Attribute{
			"identity_provider_id": listschema.StringAttribute{MarkdownDescription: "Only the rules that trust this identity provider.", Optional: true},
			"kind": listschema.StringAttribute{
				MarkdownDescription: "Only rules of this kind: `workload` or `people`.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.OneOf(api.FederationWorkload, api.FederationPeople)},
			},
		},
	}
}

func (r *federationRuleResource) List(ctx context.Context, req list.ListRequest, stream *list.ListResultsStream) {
	var cfg federationRuleListConfig
	if !readListConfig(ctx, req, r.data, &cfg, stream) {
		return
	}
	opts := client.FederationRuleListOptions{IdentityProviderID: cfg.IdentityProviderID.ValueString(), Kind: cfg.Kind.ValueString(), Limit: listPageSize}
	stream.Results = listPages(ctx, req, "federation rules", func(token string) ([]api.FederationRule, string, error) {
		opts.PageToken = token
		page, err := r.data.client.ListFederationRules(r.data.requestContext(ctx), opts)
		if err != nil {
			return nil, "", err
		}
		return page.Items, page.NextPageToken, nil
	}, func(fr api.FederationRule, result *list.ListResult) {
		result.DisplayName = fr.Name + " (" + fr.Kind + ", " + fr.Role + ")"
		result.Diagnostics.Append(setIDIdentity(ctx, result.Identity, types.StringValue(fr.ID))...)
		if req.IncludeResource {
			m := federationRuleModel{ProjectID: types.StringNull(), Credentials: types.ListNull(types.StringType)}
			result.Diagnostics.Append(federationRuleToModel(ctx, &fr, &m)...)
			result.Diagnostics.Append(result.Resource.Set(ctx, &m)...)
		}
	})
}
