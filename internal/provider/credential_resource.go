package provider

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
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
	_ resource.ResourceWithConfigure        = (*credentialResource)(nil)
	_ resource.ResourceWithImportState      = (*credentialResource)(nil)
	_ resource.ResourceWithModifyPlan       = (*credentialResource)(nil)
	_ resource.ResourceWithValidateConfig   = (*credentialResource)(nil)
	_ resource.ResourceWithConfigValidators = (*credentialResource)(nil)
)

// NewCredentialResource is the modelkeys_credential resource.
func NewCredentialResource() resource.Resource { return &credentialResource{} }

type credentialResource struct{ data *providerData }

// credentialCodec reads and writes credentialModel without the framework's per-call reflection.
var credentialCodec = newModelCodec[credentialModel]()

type credentialModel struct {
	ID                 types.String      `tfsdk:"id"`
	Name               types.String      `tfsdk:"name"`
	Description        types.String      `tfsdk:"description"`
	ModelProvider      types.String      `tfsdk:"model_provider"`
	ProjectID          types.String      `tfsdk:"project_id"`
	APIKey             types.String      `tfsdk:"api_key"`
	APIKeyWO           types.String      `tfsdk:"api_key_wo"`
	APIKeyWOVersion    types.Int64       `tfsdk:"api_key_wo_version"`
	AuthToken          types.String      `tfsdk:"auth_token"`
	AuthTokenWO        types.String      `tfsdk:"auth_token_wo"`
	AuthTokenWOVersion types.Int64       `tfsdk:"auth_token_wo_version"`
	Settings           types.Map         `tfsdk:"settings"`
	Labels             types.Map         `tfsdk:"labels"`
	Verify             types.Bool        `tfsdk:"verify"`
	SecretHint         types.String      `tfsdk:"secret_hint"`
	SecretFingerprint  types.String      `tfsdk:"secret_fingerprint"`
	SecretVersion      types.Int64       `tfsdk:"secret_version"`
	Status             types.String      `tfsdk:"status"`
	StatusMessage      types.String      `tfsdk:"status_message"`
	VerifiedAt         timetypes.RFC3339 `tfsdk:"verified_at"`
	ConnectionIDs      types.Set         `tfsdk:"connection_ids"`
	CreatedAt          timetypes.RFC3339 `tfsdk:"created_at"`
	UpdatedAt          timetypes.RFC3339 `tfsdk:"updated_at"`
	Purpose            types.String      `tfsdk:"purpose"`
	Rotation           types.Object      `tfsdk:"rotation"`
	credentialLifecycleModel
}

func (r *credentialResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_credential"
}

func (r *credentialResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	defer func() {
		for name, a := range credentialLifecycleAttributes() {
			resp.Schema.Attributes[name] = a
		}
		for name, a := range credentialRotationAttributes() {
			resp.Schema.Attributes[name] = a
		}
	}()
	resp.Schema = schema.Schema{
		MarkdownDescription: "A model-provider API key (OpenAI, Anthropic, Azure OpenAI, Bedrock, a self-hosted server, ...) with its provider-specific settings. " +
			"The key is encrypted at rest and never returned by the API; `secret_fingerprint` lets `terraform plan` show when someone rotated it outside Terraform. " +
			"Set the key with `api_key` (kept in state, marked sensitive) or with the write-only `api_key_wo` and `api_key_wo_version` (Terraform 1.11+, never stored in state); " +
			"`auth_token` has the same two forms, `auth_token` and `auth_token_wo` with `auth_token_wo_version`.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "Credential id, `cred_...`.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				MarkdownDescription: "Name, unique in its scope (the organisation, or `project_id`): 1 to 64 of `a-z`, `0-9`, `-`, `_` and `.`.",
				Required:            true,
				Validators:          []validator.String{stringCheck{description: "a valid object name", check: catalog.ValidateName}},
			},
			"description": schema.StringAttribute{
				MarkdownDescription: "Free text for people, at most 1024 characters; newlines and tabs are the only control characters allowed, and no invisible format characters (such as U+202E) but the zero-width joiners.",
				Optional:            true,
				Validators:          []validator.String{stringCheck{description: "a description", check: catalog.ValidateDescription}},
			},
			"model_provider": schema.StringAttribute{
				MarkdownDescription: "Catalog id of the model provider: " + quotedList(catalog.ProviderIDs()) + ". Changing it replaces the credential. " +
					"The `modelkeys_providers` data source lists each provider's settings.",
				Required:      true,
				Validators:    []validator.String{stringvalidator.OneOf(catalog.ProviderIDs()...)},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"project_id": schema.StringAttribute{
				MarkdownDescription: "Project the credential belongs to. Omitted: the provider's `project`, or organisation-wide when that is unset too. Changing it replaces the credential.",
				Optional:            true,
				Computed:            true,
			},
			"api_key": schema.StringAttribute{
				MarkdownDescription: "The provider's API key (for Vertex AI, the service-account JSON). Stored in Terraform state, marked sensitive. " +
					"Set exactly one of `api_key` and `api_key_wo` for providers that need a key. " +
					"A keyless credential (`settings.auth_method = \"workload_identity\"`) takes none: it stores no secret at all.",
				Optional:  true,
				Sensitive: true,
			},
			"api_key_wo": schema.StringAttribute{
				MarkdownDescription: "Write-only form of `api_key`: sent to the API, never stored in plan or state (Terraform 1.11+). " +
					"Terraform cannot see it change, so set `api_key_wo_version` and bump it to rotate the key.",
				Optional:  true,
				Sensitive: true,
				WriteOnly: true,
			},
			"api_key_wo_version": schema.Int64Attribute{
				MarkdownDescription: "Version of `api_key_wo`. Changing it sends `api_key_wo` again, rotating the key in place; the key changes only then. " +
					"A change that moves where the key is sent, or turns `verify` on, sends it again with the version unchanged, and the server refuses it unless it is the stored key. Required with `api_key_wo`.",
				Optional:   true,
				Validators: []validator.Int64{int64validator.AlsoRequires(path.MatchRoot("api_key_wo"))},
			},
			"auth_token": schema.StringAttribute{
				MarkdownDescription: "A second secret, for providers that take one (a `custom` server behind an authenticating proxy). Stored in state, marked sensitive. " +
					"Set at most one of `auth_token` and `auth_token_wo`.",
				Optional:  true,
				Sensitive: true,
			},
			"auth_token_wo": schema.StringAttribute{
				MarkdownDescription: "Write-only form of `auth_token`: sent to the API, never stored in plan or state (Terraform 1.11+). " +
					"Terraform cannot see it change, so set `auth_token_wo_version` and bump it to rotate the token.",
				Optional:  true,
				Sensitive: true,
				WriteOnly: true,
			},
			"auth_token_wo_version": schema.Int64Attribute{
				MarkdownDescription: "Version of `auth_token_wo`. Changing it sends `auth_token_wo` again, rotating the token in place; the token changes only then. " +
					"A change that moves where it is sent, or turns `verify` on, sends it again with the version unchanged, and the server refuses it unless it is the stored token. Required with `auth_token_wo`.",
				Optional:   true,
				Validators: []validator.Int64{int64validator.AlsoRequires(path.MatchRoot("auth_token_wo"))},
			},
			"settings": schema.MapAttribute{
				MarkdownDescription: "Provider-specific, non-secret settings, such as `endpoint`, `deployment` and `api_version` for Azure OpenAI or `region` for Bedrock. " +
					"Keys, and which are required, come from the catalog; they are checked at plan time. " +
					"`auth_method = \"workload_identity\"` (openai, anthropic, openrouter, azure_openai, azure_ai_foundry, vertex_ai) makes the credential keyless: " +
					"modelkeys-server, started with `--issuer-url`, signs an assertion for it and exchanges it at the vendor (`token_url`) with the vendor's federation settings for a token that lasts minutes.",
				ElementType: types.StringType,
				Optional:    true,
			},
			"labels": schema.MapAttribute{
				MarkdownDescription: "Free-form labels: at most 64, keys of 1 to 63 characters, values of at most 256, without control or invisible format characters.",
				ElementType:         types.StringType,
				Optional:            true,
				Validators:          []validator.Map{labelsCheck{}},
			},
			"verify": schema.BoolAttribute{
				MarkdownDescription: "Ask the server to check the key with the provider on create and on every change of key or settings; a refused key fails the apply. " +
					"A keyless credential is checked by a fresh exchange at the vendor; one the vendor refuses is saved with status `invalid` (with a warning), since the vendor's federation object can name its subject only once it exists. " +
					"Defaults to `true`. Set `false` where the server cannot reach the provider.",
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(true),
			},
			"secret_hint": schema.StringAttribute{
				MarkdownDescription: "What the key looks like, such as `sk-...wxyz`: never more than its last 4 characters.",
				Computed:            true,
			},
			"secret_fingerprint": schema.StringAttribute{
				MarkdownDescription: "Keyed HMAC of the secrets, such as `hmac-sha256-org:` and 32 hex digits, keyed per organisation. It changes when the key changes, including outside Terraform, which is how drift is detected. " +
					"When only its scheme (the part before the last `:`) changes and `secret_version` does not, the server changed how it fingerprints, not the key: the refresh takes the new value without a warning.",
				Computed: true,
			},
			"secret_version": schema.Int64Attribute{
				MarkdownDescription: "Goes up by one every time the secret changes.",
				Computed:            true,
			},
			"status": schema.StringAttribute{
				MarkdownDescription: "`verified`, `unverified` or `invalid` (the provider refused the key).",
				Computed:            true,
			},
			"status_message": schema.StringAttribute{
				MarkdownDescription: "Why the status is what it is.",
				Computed:            true,
			},
			"verified_at": schema.StringAttribute{
				MarkdownDescription: "When the provider last accepted or refused the key (RFC 3339).",
				Computed:            true,
				CustomType:          timetypes.RFC3339Type{},
			},
			"connection_ids": schema.SetAttribute{
				MarkdownDescription: "Ids of the connections that use this credential.",
				ElementType:         types.StringType,
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

func (r *credentialResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

// ModifyPlan resolves project_id from the provider's default project and keeps computed values stable
// when nothing that affects them changes, so plans stay quiet.
func (r *credentialResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return // destroy
	}
	var plan, cfg credentialModel
	resp.Diagnostics.Append(credentialCodec.getPlan(ctx, req.Plan, &plan)...)
	resp.Diagnostics.Append(credentialCodec.getConfig(ctx, req.Config, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if req.State.Raw.IsNull() {
		r.planCreate(&plan, &cfg, &resp.Diagnostics)
		resp.Diagnostics.Append(credentialCodec.setPlan(ctx, &resp.Plan, &plan)...)
		return
	}
	r.planProject(&plan, &cfg)
	var state credentialModel
	resp.Diagnostics.Append(credentialCodec.getState(ctx, req.State, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !plan.ProjectID.Equal(state.ProjectID) { // unknown counts as different, as RequiresReplace does
		resp.RequiresReplace = append(resp.RequiresReplace, path.Root("project_id"))
	}
	secretChanged := !plan.APIKey.Equal(state.APIKey) || !plan.AuthToken.Equal(state.AuthToken) ||
		!plan.APIKeyWOVersion.Equal(state.APIKeyWOVersion) || !plan.AuthTokenWOVersion.Equal(state.AuthTokenWOVersion)
	// Secrets new to state that the server already holds (an adopted credential) are no change of
	// secret: the plan keeps the computed values and Update sends nothing.
	if resp.Private != nil {
		resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateAdoptedKey, nil)...)
	}
	if secretChanged && resp.Private != nil && r.adoptIfSecretsMatch(ctx, &plan, &state, &cfg, resp) {
		secretChanged = false
	}
	settingsChanged := !plan.Settings.Equal(state.Settings)
	anyChange := secretChanged || settingsChanged || !plan.Name.Equal(state.Name) || !plan.Description.Equal(state.Description) ||
		!plan.Labels.Equal(state.Labels) || !plan.Verify.Equal(state.Verify) || !plan.ProjectID.Equal(state.ProjectID) ||
		!plan.RotationPeriod.Equal(state.RotationPeriod) || !plan.ExpiresAt.Equal(state.ExpiresAt) || !plan.Rotation.Equal(state.Rotation)

	// connection_ids is the server's view as of the last refresh. Connections re-pointed or deleted in
	// the same run may land before or after this update, so Update keeps this value rather than
	// reporting one the plan did not promise; the next refresh brings it up to date.
	plan.ConnectionIDs = state.ConnectionIDs
	// A secret resent because the change needs it is the stored one or the apply fails (see Update), so
	// only a change of secret changes the fingerprint.
	secretKept := !secretChanged
	warnResend(&plan, &state, &cfg, &resp.Diagnostics)
	if secretKept {
		plan.SecretHint, plan.SecretFingerprint, plan.SecretVersion = state.SecretHint, state.SecretFingerprint, state.SecretVersion
	}
	planLifecycle(&plan.credentialLifecycleModel, &state.credentialLifecycleModel, secretKept, anyChange)
	if !secretChanged && !settingsChanged && plan.Verify.Equal(state.Verify) {
		plan.Status, plan.StatusMessage, plan.VerifiedAt = state.Status, state.StatusMessage, state.VerifiedAt
	}
	if !anyChange {
		plan.UpdatedAt = state.UpdatedAt
	}
	resp.Diagnostics.Append(credentialCodec.setPlan(ctx, &resp.Plan, &plan)...)
}

// planCreate is ModifyPlan's part for a new credential. The short path of a create plan
// (credential_short_plan_create.go) calls it too, so that it is written once.
func (r *credentialResource) planCreate(plan, cfg *credentialModel, diags *diag.Diagnostics) {
	r.planProject(plan, cfg)
	r.checkCreateHasKey(cfg, diags)
}

// planProject plans the provider's project for a credential whose project_id is omitted.
func (r *credentialResource) planProject(plan, cfg *credentialModel) {
	if cfg.ProjectID.IsNull() {
		plan.ProjectID = r.data.plannedProjectID(cfg.ProjectID)
	}
}

func (r *credentialResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	if !r.data.ready(&resp.Diagnostics) {
		return
	}
	var plan, cfg credentialModel
	resp.Diagnostics.Append(credentialCodec.getPlan(ctx, req.Plan, &plan)...)
	resp.Diagnostics.Append(credentialCodec.getConfig(ctx, req.Config, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	key, token := plan.APIKey.ValueString(), plan.AuthToken.ValueString()
	if !cfg.APIKeyWO.IsNull() {
		key = cfg.APIKeyWO.ValueString() // write-only values live only in the configuration
	}
	if !cfg.AuthTokenWO.IsNull() {
		token = cfg.AuthTokenWO.ValueString()
	}
	ctx = r.data.requestContext(ctx, key, token)
	in := api.CredentialCreate{
		Name:        plan.Name.ValueString(),
		Description: plan.Description.ValueString(),
		Provider:    plan.ModelProvider.ValueString(),
		ProjectID:   plan.ProjectID.ValueString(),
		APIKey:      optionalString(key),
		AuthToken:   optionalString(token),
		Verify:      plan.Verify.ValueBoolPointer(),
		ManagedBy:   api.ManagedByTerraform,

		RotationPeriod: plan.RotationPeriod.ValueString(),
		ExpiresAt:      plan.ExpiresAt.ValueString(),

		Purpose:  plan.Purpose.ValueString(),
		Rotation: rotationFromModel(plan.Rotation),
	}
	var d diag.Diagnostics
	in.Settings, d = stringMap(ctx, plan.Settings)
	resp.Diagnostics.Append(d...)
	in.Labels, d = stringMap(ctx, plan.Labels)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	tflog.Debug(ctx, "creating credential", map[string]any{"name": in.Name, "provider": in.Provider, "project_id": in.ProjectID, "write_only": !cfg.APIKeyWO.IsNull() || !cfg.AuthTokenWO.IsNull()})
	c, err := r.data.client.CreateCredential(ctx, in)
	if err != nil {
		addAPIError(&resp.Diagnostics, "Cannot create credential "+strconv.Quote(in.Name), err)
		return
	}
	tflog.Info(ctx, "created credential", map[string]any{"id": c.ID, "status": c.Status, "secret_version": c.SecretVersion})
	warnIfUnverified(&resp.Diagnostics, c)
	resp.Diagnostics.Append(credentialToModel(ctx, c, &plan)...)
	plan.APIKeyWO, plan.AuthTokenWO = types.StringNull(), types.StringNull()
	resp.Diagnostics.Append(credentialCodec.setState(ctx, &resp.State, &plan)...)
	resp.Diagnostics.Append(setIDIdentity(ctx, resp.Identity, plan.ID)...)
	resp.Diagnostics.Append(setVersion(ctx, resp.Private, c.Version)...)
}

func (r *credentialResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	if !r.data.ready(&resp.Diagnostics) {
		return
	}
	var state credentialModel
	resp.Diagnostics.Append(credentialCodec.getState(ctx, req.State, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	version, gone := r.refresh(ctx, &state, &resp.Diagnostics)
	if gone {
		resp.State.RemoveResource(ctx)
		// The framework wants an identity after every Read, even one that forgets the object (Terraform
		// before 1.12 sends none to keep).
		resp.Diagnostics.Append(setIDIdentity(ctx, resp.Identity, state.ID)...)
		return
	}
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(credentialCodec.setState(ctx, &resp.State, &state)...)
	resp.Diagnostics.Append(setIDIdentity(ctx, resp.Identity, state.ID)...)
	resp.Diagnostics.Append(setVersion(ctx, resp.Private, version)...)
}

// refresh brings state up to date with the credential on the server and returns the server's version
// of it, for the private state; gone when it no longer exists. Read calls it, and so does the short
// path of a refresh (credential_short_read.go), so that it is written once.
func (r *credentialResource) refresh(ctx context.Context, state *credentialModel, diags *diag.Diagnostics) (version int64, gone bool) {
	ctx = r.data.requestContext(ctx, state.APIKey.ValueString(), state.AuthToken.ValueString())
	c, err := r.data.client.GetCredential(ctx, state.ID.ValueString())
	if client.IsNotFound(err) {
		tflog.Info(ctx, "credential no longer exists; removing it from state", map[string]any{"id": state.ID.ValueString()})
		return 0, true
	}
	if err != nil {
		addAPIError(diags, "Cannot read credential "+state.ID.ValueString(), err)
		return 0, false
	}
	// Drift: the secret behind the fingerprint is not the one Terraform last wrote. Forget the declared
	// key in state so that the plan shows an update that puts it back.
	stateFP := state.SecretFingerprint.ValueString()
	drift := known(state.SecretFingerprint) && secretDrifted(stateFP, state.SecretVersion, c.SecretFingerprint, c.SecretVersion)
	if drift && managedRotationMoved(state, c) {
		// modelkeys rotated the key itself, as the configuration asks: no drift, the refresh takes it in.
		tflog.Info(ctx, "managed rotation moved the key", map[string]any{"id": c.ID, "secret_version": c.SecretVersion})
		drift = false
	}
	if known(state.SecretFingerprint) && !drift && stateFP != c.SecretFingerprint {
		tflog.Debug(ctx, "secret fingerprint scheme changed on the server; the secret did not", map[string]any{
			"id": c.ID, "from_scheme": fingerprintScheme(stateFP), "to_scheme": fingerprintScheme(c.SecretFingerprint), "secret_version": c.SecretVersion})
	}
	if drift {
		diags.AddWarning("Credential secret changed outside Terraform",
			fmt.Sprintf("The secret of credential %q (%s) no longer matches the one Terraform set: its fingerprint went from %s to %s (secret_version %d). "+
				"The next apply puts the configured key back; to keep the new key, put it in the configuration.",
				c.Name, c.ID, state.SecretFingerprint.ValueString(), fingerprintOrNone(c.SecretFingerprint), c.SecretVersion))
		tflog.Warn(ctx, "secret fingerprint drift", map[string]any{"id": c.ID, "secret_version": c.SecretVersion})
		if !state.APIKey.IsNull() {
			state.APIKey = types.StringNull()
		}
		if !state.AuthToken.IsNull() {
			state.AuthToken = types.StringNull()
		}
		if !state.APIKeyWOVersion.IsNull() {
			state.APIKeyWOVersion = types.Int64Null()
		}
		if !state.AuthTokenWOVersion.IsNull() {
			state.AuthTokenWOVersion = types.Int64Null()
		}
	}
	diags.Append(credentialToModel(ctx, c, state)...)
	lifecycleWarnings(c, diags)
	return c.Version, false
}

func (r *credentialResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	if !r.data.ready(&resp.Diagnostics) {
		return
	}
	var plan, state, cfg credentialModel
	resp.Diagnostics.Append(credentialCodec.getPlan(ctx, req.Plan, &plan)...)
	resp.Diagnostics.Append(credentialCodec.getState(ctx, req.State, &state)...)
	resp.Diagnostics.Append(credentialCodec.getConfig(ctx, req.Config, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = r.data.requestContext(ctx, plan.APIKey.ValueString(), cfg.APIKeyWO.ValueString(), plan.AuthToken.ValueString(), cfg.AuthTokenWO.ValueString())
	patch := api.CredentialPatch{
		Name:        plan.Name.ValueStringPointer(),
		Description: stringPointerOrEmpty(plan.Description),
		Verify:      plan.Verify.ValueBoolPointer(),
		// Always sent: a rotation without expires_at would drop the expiry on the server.
		RotationPeriod: stringPointerOrEmpty(plan.RotationPeriod.StringValue),
		ExpiresAt:      stringPointerOrEmpty(plan.ExpiresAt.StringValue),
	}
	settings, d := stringMap(ctx, plan.Settings)
	resp.Diagnostics.Append(d...)
	labels, d := stringMap(ctx, plan.Labels)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	patch.Settings, patch.Labels = &settings, &labels
	patch.Rotation = rotationPatch(&plan, &state)

	// Secrets are sent only when they change: a resent key is harmless, but a request without one
	// cannot leak it. One that ModifyPlan found already on the server (adopted) is not a change.
	adopted, d := adoptedInPlan(ctx, req.Private)
	resp.Diagnostics.Append(d...)
	// Mark what Terraform writes; an update that only adopts secrets the server holds writes nothing,
	// as its plan promised (the next real change marks it).
	onlyAdopts := adopted.any() && plan.Name.Equal(state.Name) && plan.Description.Equal(state.Description) &&
		plan.Labels.Equal(state.Labels) && plan.Verify.Equal(state.Verify) && plan.Settings.Equal(state.Settings)
	if !onlyAdopts {
		managedBy := api.ManagedByTerraform
		patch.ManagedBy = &managedBy
	}
	switch {
	case adopted.APIKey:
	case !cfg.APIKeyWO.IsNull() && !plan.APIKeyWOVersion.Equal(state.APIKeyWOVersion):
		patch.APIKey = cfg.APIKeyWO.ValueStringPointer()
	case cfg.APIKeyWO.IsNull() && plan.APIKey.IsNull() && managedInConfig(&cfg):
		// The key left the configuration because modelkeys now mints it: the current key stays in use
		// until the first managed rotation replaces it.
	case cfg.APIKeyWO.IsNull() && !plan.APIKey.Equal(state.APIKey):
		v := plan.APIKey.ValueString() // "" removes the key, for providers where it is optional
		patch.APIKey = &v
	}
	switch {
	case adopted.AuthToken:
	case !cfg.AuthTokenWO.IsNull() && !plan.AuthTokenWOVersion.Equal(state.AuthTokenWOVersion):
		patch.AuthToken = cfg.AuthTokenWO.ValueStringPointer()
	case cfg.AuthTokenWO.IsNull() && !plan.AuthToken.Equal(state.AuthToken):
		v := plan.AuthToken.ValueString() // "" removes the token
		patch.AuthToken = &v
	}
	// The server sends a stored key to a new destination, or turns verification on, only when the key
	// comes with the change (so that nobody can redirect a key they cannot read): resend the secrets
	// then, and only then, marked as resent so that the server refuses one that is not the stored key
	// rather than rotating it (a write-only key changes only when its version does).
	if secretsNeeded(&plan, &state) {
		patch.APIKey, patch.SecretsResent = resend(patch.APIKey, cfg.APIKeyWO, plan.APIKey, api.SecretAPIKey, patch.SecretsResent)
		patch.AuthToken, patch.SecretsResent = resend(patch.AuthToken, cfg.AuthTokenWO, plan.AuthToken, api.SecretAuthToken, patch.SecretsResent)
	}
	version, d := getVersion(ctx, req.Private)
	resp.Diagnostics.Append(d...)
	tflog.Debug(ctx, "updating credential", map[string]any{"id": state.ID.ValueString(), "rotates_secret": patch.APIKey != nil || patch.AuthToken != nil, "adopted": adopted.any(), "if_match": version})
	c, err := r.data.client.UpdateCredential(ctx, state.ID.ValueString(), patch, version)
	if err != nil {
		if client.IsPreconditionFailed(err) {
			resp.Diagnostics.AddError("Credential changed since Terraform read it",
				fmt.Sprintf("Credential %s was changed by someone else (another workspace, or the API) after this plan read it, so the update was not applied. "+
					"Run terraform plan again to see the current state, then apply.\n\n%s", state.ID.ValueString(), err))
			return
		}
		addAPIError(&resp.Diagnostics, "Cannot update credential "+state.ID.ValueString(), err)
		return
	}
	warnIfUnverified(&resp.Diagnostics, c)
	planned, plannedLifecycle := plan.ConnectionIDs, plan.credentialLifecycleModel
	resp.Diagnostics.Append(credentialToModel(ctx, c, &plan)...)
	if !planned.IsUnknown() {
		plan.ConnectionIDs = planned
	}
	keepPlannedLifecycle(plannedLifecycle, &plan.credentialLifecycleModel)
	plan.APIKeyWO, plan.AuthTokenWO = types.StringNull(), types.StringNull()
	resp.Diagnostics.Append(credentialCodec.setState(ctx, &resp.State, &plan)...)
	resp.Diagnostics.Append(setIDIdentity(ctx, resp.Identity, plan.ID)...)
	resp.Diagnostics.Append(setVersion(ctx, resp.Private, c.Version)...)
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateAdoptedKey, nil)...)
}

func (r *credentialResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	if !r.data.ready(&resp.Diagnostics) {
		return
	}
	var state credentialModel
	resp.Diagnostics.Append(credentialCodec.getState(ctx, req.State, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = r.data.requestContext(ctx, state.APIKey.ValueString(), state.AuthToken.ValueString())
	err := r.data.client.DeleteCredential(ctx, state.ID.ValueString(), 0)
	switch {
	case err == nil || client.IsNotFound(err):
		tflog.Info(ctx, "deleted credential", map[string]any{"id": state.ID.ValueString()})
	case client.IsConflict(err):
		ae, _ := client.AsAPIError(err)
		resp.Diagnostics.AddError("Credential is in use",
			fmt.Sprintf("Credential %q (%s) cannot be deleted while connections use it: %s. "+
				"Delete those connections (or point them at another credential) first; when they are in the same configuration, "+
				"reference this credential from them (credential_id = modelkeys_credential.NAME.id) so Terraform deletes them first.",
				state.Name.ValueString(), state.ID.ValueString(), strings.Join(ae.Problem.Conflicts, ", ")))
	default:
		addAPIError(&resp.Diagnostics, "Cannot delete credential "+state.ID.ValueString(), err)
	}
}

func (r *credentialResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importByID(ctx, req, resp)
}

// credentialToModel copies what the API returned into m. Inputs the API never returns (secrets) are
// left alone; empty maps and strings map to null when the configuration left them out.
func credentialToModel(ctx context.Context, c *api.Credential, m *credentialModel) diag.Diagnostics {
	var diags diag.Diagnostics
	m.ID = types.StringValue(c.ID)
	m.Name = types.StringValue(c.Name)
	m.Description = nullIfEmpty(c.Description, m.Description)
	m.ModelProvider = types.StringValue(c.Provider)
	m.ProjectID = types.StringNull()
	if c.ProjectID != "" {
		m.ProjectID = types.StringValue(c.ProjectID)
	}
	var d diag.Diagnostics
	m.Settings, d = mapValue(ctx, c.Settings, m.Settings)
	diags.Append(d...)
	m.Labels, d = mapValue(ctx, c.Labels, m.Labels)
	diags.Append(d...)
	m.SecretHint = types.StringValue(c.SecretHint)
	m.SecretFingerprint = types.StringValue(c.SecretFingerprint)
	m.SecretVersion = types.Int64Value(c.SecretVersion)
	m.Status = types.StringValue(c.Status)
	m.StatusMessage = types.StringValue(c.StatusMessage)
	m.VerifiedAt = timeValue(c.VerifiedAt)
	m.Verify = types.BoolValue(c.Verify)
	ids := make([]attr.Value, 0, len(c.ConnectionIDs))
	for _, id := range c.ConnectionIDs {
		ids = append(ids, types.StringValue(id))
	}
	m.ConnectionIDs, d = types.SetValue(types.StringType, ids)
	diags.Append(d...)
	m.CreatedAt = timeValue(&c.CreatedAt)
	m.UpdatedAt = timeValue(&c.UpdatedAt)
	diags.Append(lifecycleToModel(ctx, c, &m.credentialLifecycleModel)...)
	m.Purpose = types.StringValue(catalog.PurposeOrDefault(c.Purpose))
	m.Rotation, d = rotationToModel(c.Rotation, m.Rotation)
	diags.Append(d...)
	return diags
}
