package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/list"
	listschema "github.com/hashicorp/terraform-plugin-framework/list/schema"
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
	"github.com/modelkeys/terraform-provider-modelkeys/internal/jwkset"
)

var (
	_ resource.ResourceWithConfigure   = (*identityProviderResource)(nil)
	_ resource.ResourceWithImportState = (*identityProviderResource)(nil)
	_ resource.ResourceWithIdentity    = (*identityProviderResource)(nil)
	_ list.ListResourceWithConfigure   = (*identityProviderResource)(nil)
)

// NewIdentityProviderResource is the modelkeys_identity_provider resource.
func NewIdentityProviderResource() resource.Resource { return &identityProviderResource{} }

// NewIdentityProviderListResource is the modelkeys_identity_provider list resource.
func NewIdentityProviderListResource() list.ListResource { return &identityProviderResource{} }

type identityProviderResource struct{ data *providerData }

type identityProviderModel struct {
	ID                    types.String      `tfsdk:"id"`
	Name                  types.String      `tfsdk:"name"`
	Issuer                types.String      `tfsdk:"issuer"`
	Audiences             types.List        `tfsdk:"audiences"`
	JWKSJSON              types.String      `tfsdk:"jwks_json"`
	ClientID              types.String      `tfsdk:"client_id"`
	ClientSecretWO        types.String      `tfsdk:"client_secret_wo"`
	ClientSecretWOVersion types.Int64       `tfsdk:"client_secret_wo_version"`
	HasClientSecret       types.Bool        `tfsdk:"has_client_secret"`
	CreatedAt             timetypes.RFC3339 `tfsdk:"created_at"`
	UpdatedAt             timetypes.RFC3339 `tfsdk:"updated_at"`
}

func (r *identityProviderResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_identity_provider"
}

func (r *identityProviderResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "An OpenID Connect issuer the organisation trusts: a CI system (GitHub Actions, GitLab, HCP Terraform) whose jobs sign in " +
			"with their own identity token instead of a stored `MODELKEYS_TOKEN`, or the company's single sign-on for the console. " +
			"Trusting the issuer grants nothing by itself: `modelkeys_federation_rule` says which of its tokens are accepted, as whom. " +
			"Needs an admin token; every change is audited. The server fetches the issuer's keys through its egress policy, caches them and " +
			"refetches them (at a bounded rate) when a token names a key it does not know, so the issuer can rotate its keys.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "Identity provider id, `idp_...`: the `identity_provider_id` of its federation rules.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				MarkdownDescription: "Name, unique in the organisation: 1 to 64 of `a-z`, `0-9`, `-`, `_` and `.`. The console's sign-in page shows it.",
				Required:            true,
				Validators:          []validator.String{stringCheck{description: "a valid object name", check: catalog.ValidateName}},
			},
			"issuer": schema.StringAttribute{
				MarkdownDescription: "The issuer URL, exactly as the tokens' `iss` claim has it (`https://token.actions.githubusercontent.com`, `https://gitlab.com`, " +
					"`https://app.terraform.io`), and where discovery (`/.well-known/openid-configuration`) starts unless `jwks_json` is set. It must be `https://`; " +
					"`http://` only to a loopback address, and only where the server's egress policy allows it. Trust in one issuer is never moved to another: " +
					"changing it replaces the identity provider (and so needs its rules replaced too).",
				Required:      true,
				Validators:    []validator.String{stringCheck{description: "an https issuer URL", check: checkIssuerURL}},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"audiences": schema.ListAttribute{
				MarkdownDescription: "The `aud` values a workload's token may carry (one must match), such as the `audience` the provider's `workload_identity` " +
					"asks GitHub for, GitLab's `id_tokens: aud` or HCP Terraform's `TFC_WORKLOAD_IDENTITY_AUDIENCE`. Needed for `workload` rules; console sign-in " +
					"checks `client_id` instead, and no audience may equal `client_id` (people's ID tokens carry it, so they would pass as a workload's).",
				ElementType: types.StringType,
				Optional:    true,
				Validators: []validator.List{
					listvalidator.SizeAtLeast(1),
					listvalidator.UniqueValues(),
					listvalidator.ValueStringsAre(stringvalidator.LengthBetween(1, 512)),
				},
			},
			"jwks_json": schema.StringAttribute{
				MarkdownDescription: "The issuer's public keys as a JSON Web Key Set (`{\"keys\": [...]}`), for an issuer the server cannot reach: the server then " +
					"verifies with these keys only and never fetches any. It stores the public keys only, re-serialised (members that are not part of a public key " +
					"are dropped, and a key with private members such as `d`, `p` or `q` is refused); the configuration's spelling is kept in state. Omitted: discovery from `issuer`.",
				Optional:   true,
				Validators: []validator.String{stringCheck{description: "a JSON Web Key Set", check: checkJWKSJSON}},
			},
			"client_id": schema.StringAttribute{
				MarkdownDescription: "The console's OAuth client id at the issuer. Set it to let people sign in to the console with this provider " +
					"(`/ui/login/oidc/ID`); their ID tokens must carry it as audience.",
				Optional:   true,
				Validators: []validator.String{stringvalidator.LengthBetween(1, 512)},
			},
			"client_secret_wo": schema.StringAttribute{
				MarkdownDescription: "The console's OAuth client secret, write-only: sent to the server, which keeps it encrypted and never returns it; never " +
					"stored in plan or state (Terraform 1.11+). Terraform cannot see it change, so set `client_secret_wo_version` and bump it to send a new secret.",
				Optional:   true,
				Sensitive:  true,
				WriteOnly:  true,
				Validators: []validator.String{stringvalidator.AlsoRequires(path.MatchRoot("client_id")), stringvalidator.LengthAtLeast(1)},
			},
			"client_secret_wo_version": schema.Int64Attribute{
				MarkdownDescription: "Version of `client_secret_wo`. Changing it sends `client_secret_wo` again, replacing the stored secret; the secret changes only then. " +
					"Required with `client_secret_wo`.",
				Optional:   true,
				Validators: []validator.Int64{int64validator.AlsoRequires(path.MatchRoot("client_secret_wo"))},
			},
			"has_client_secret": schema.BoolAttribute{
				MarkdownDescription: "Whether the server holds a client secret for this provider. The secret itself is never returned.",
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

// checkIssuerURL: an absolute https URL without query or fragment, or http to a loopback host (which
// the server accepts only when its egress policy allows it).
func checkIssuerURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("%q is not an absolute https:// URL", s)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("%q must not have a query, a fragment or user info: an issuer is a plain URL", s)
	}
	if u.Scheme == "http" && !isLoopbackHost(u.Hostname()) {
		return fmt.Errorf("%q uses http://: an issuer must be https:// (plain http only to a loopback address, for tests)", s)
	}
	return nil
}

func isLoopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// checkJWKSJSON: a JSON object with a non-empty "keys" array, each key an object with "kty".
func checkJWKSJSON(s string) error {
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal([]byte(s), &set); err != nil {
		return fmt.Errorf("jwks_json is not a JSON Web Key Set (a JSON object with a \"keys\" array): %v", err)
	}
	if len(set.Keys) == 0 {
		return fmt.Errorf("jwks_json has no keys: a key set needs at least one public key")
	}
	for i, k := range set.Keys {
		if _, ok := k["kty"].(string); !ok {
			return fmt.Errorf("key %d of jwks_json has no \"kty\"", i)
		}
		for _, m := range []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"} {
			if _, ok := k[m]; ok {
				return fmt.Errorf("key %d of jwks_json is a private key (it has %q): upload the public keys only", i, m)
			}
		}
	}
	return nil
}

func (r *identityProviderResource) IdentitySchema(_ context.Context, _ resource.IdentitySchemaRequest, resp *resource.IdentitySchemaResponse) {
	resp.IdentitySchema = idIdentitySchema("identity provider", "idp_")
}

func (r *identityProviderResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

func (r *identityProviderResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	if !r.data.ready(&resp.Diagnostics) {
		return
	}
	var plan, cfg identityProviderModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = r.data.requestContext(ctx, cfg.ClientSecretWO.ValueString())
	auds, d := stringList(ctx, plan.Audiences)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	in := api.IdentityProviderCreate{
		Name:      plan.Name.ValueString(),
		Issuer:    plan.Issuer.ValueString(),
		Audiences: auds,
		JWKSJSON:  plan.JWKSJSON.ValueString(),
		ClientID:  plan.ClientID.ValueString(),
	}
	if !cfg.ClientSecretWO.IsNull() {
		in.ClientSecret = cfg.ClientSecretWO.ValueStringPointer() // write-only values live only in the configuration
	}
	p, err := r.data.client.CreateIdentityProvider(ctx, in)
	if err != nil {
		r.addError(&resp.Diagnostics, "Cannot create identity provider "+strconv.Quote(in.Name), err)
		return
	}
	tflog.Info(ctx, "created identity provider", map[string]any{"id": p.ID, "issuer": p.Issuer})
	resp.Diagnostics.Append(identityProviderToModel(ctx, p, &plan)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	resp.Diagnostics.Append(setIDIdentity(ctx, resp.Identity, plan.ID)...)
	resp.Diagnostics.Append(setVersion(ctx, resp.Private, p.Version)...)
}

func (r *identityProviderResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	if !r.data.ready(&resp.Diagnostics) {
		return
	}
	var state identityProviderModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = r.data.requestContext(ctx)
	p, err := r.data.client.GetIdentityProvider(ctx, state.ID.ValueString())
	if client.IsNotFound(err) {
		tflog.Info(ctx, "identity provider no longer exists; removing it from state", map[string]any{"id": state.ID.ValueString()})
		resp.State.RemoveResource(ctx)
		resp.Diagnostics.Append(setIDIdentity(ctx, resp.Identity, state.ID)...)
		return
	}
	if err != nil {
		addAPIError(&resp.Diagnostics, "Cannot read identity provider "+state.ID.ValueString(), err)
		return
	}
	resp.Diagnostics.Append(identityProviderToModel(ctx, p, &state)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
	resp.Diagnostics.Append(setIDIdentity(ctx, resp.Identity, state.ID)...)
	resp.Diagnostics.Append(setVersion(ctx, resp.Private, p.Version)...)
}

func (r *identityProviderResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	if !r.data.ready(&resp.Diagnostics) {
		return
	}
	var plan, state, cfg identityProviderModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = r.data.requestContext(ctx, cfg.ClientSecretWO.ValueString())
	auds, d := stringList(ctx, plan.Audiences)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	patch := api.IdentityProviderPatch{
		Name:      plan.Name.ValueStringPointer(),
		Audiences: &auds,
		JWKSJSON:  stringPointerOrEmpty(plan.JWKSJSON),
		ClientID:  stringPointerOrEmpty(plan.ClientID),
	}
	switch {
	case !cfg.ClientSecretWO.IsNull() && !plan.ClientSecretWOVersion.Equal(state.ClientSecretWOVersion):
		patch.ClientSecret = cfg.ClientSecretWO.ValueStringPointer()
	case cfg.ClientSecretWO.IsNull() && !state.ClientSecretWOVersion.IsNull():
		// The configuration dropped the secret: the server forgets it too.
		empty := ""
		patch.ClientSecret = &empty
	}
	version, d := getVersion(ctx, req.Private)
	resp.Diagnostics.Append(d...)
	p, err := r.data.client.UpdateIdentityProvider(ctx, state.ID.ValueString(), patch, version)
	if err != nil {
		if client.IsPreconditionFailed(err) {
			resp.Diagnostics.AddError("Identity provider changed since Terraform read it",
				fmt.Sprintf("Identity provider %s was changed by someone else (another workspace, or the API) after this plan read it, so the update was not applied. "+
					"Run terraform plan again to see the current state, then apply.\n\n%s", state.ID.ValueString(), err))
			return
		}
		r.addError(&resp.Diagnostics, "Cannot update identity provider "+state.ID.ValueString(), err)
		return
	}
	resp.Diagnostics.Append(identityProviderToModel(ctx, p, &plan)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	resp.Diagnostics.Append(setIDIdentity(ctx, resp.Identity, plan.ID)...)
	resp.Diagnostics.Append(setVersion(ctx, resp.Private, p.Version)...)
}

func (r *identityProviderResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	if !r.data.ready(&resp.Diagnostics) {
		return
	}
	var state identityProviderModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = r.data.requestContext(ctx)
	err := r.data.client.DeleteIdentityProvider(ctx, state.ID.ValueString(), 0)
	switch {
	case err == nil || client.IsNotFound(err):
		tflog.Info(ctx, "deleted identity provider", map[string]any{"id": state.ID.ValueString()})
	case client.IsConflict(err):
		ae, _ := client.AsAPIError(err)
		resp.Diagnostics.AddError("Identity provider still trusted by federation rules",
			fmt.Sprintf("Identity provider %q (%s) cannot be deleted while federation rules trust it: %s. Delete those rules first; when they are in the same "+
				"configuration, reference the provider from them (identity_provider_id = modelkeys_identity_provider.NAME.id) so Terraform deletes them first.",
				state.Name.ValueString(), state.ID.ValueString(), strings.Join(ae.Problem.Conflicts, ", ")))
	default:
		addAPIError(&resp.Diagnostics, "Cannot delete identity provider "+state.ID.ValueString(), err)
	}
}

func (r *identityProviderResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importByID(ctx, req, resp)
}

// addError explains the errors a create or update of an identity provider can meet.
func (r *identityProviderResource) addError(diags *diag.Diagnostics, summary string, err error) {
	switch {
	case client.IsConflict(err):
		diags.AddAttributeError(path.Root("name"), "Identity provider name taken", err.Error())
	case client.IsForbidden(err):
		diags.AddError(summary, err.Error()+"\n\nIdentity providers are managed with an admin token: trust in an issuer decides who may sign in.")
	default:
		addAPIError(diags, summary, err)
	}
}

// identityProviderToModel copies the server's object into m; the write-only secret and its version are
// left as they were (they live only in configuration and state).
func identityProviderToModel(ctx context.Context, p *api.IdentityProvider, m *identityProviderModel) diag.Diagnostics {
	var diags diag.Diagnostics
	m.ID = types.StringValue(p.ID)
	m.Name = types.StringValue(p.Name)
	m.Issuer = types.StringValue(p.Issuer)
	if len(p.Audiences) == 0 && (m.Audiences.IsNull() || m.Audiences.IsUnknown()) {
		m.Audiences = types.ListNull(types.StringType)
	} else {
		l, d := types.ListValueFrom(ctx, types.StringType, nonNil(p.Audiences))
		diags.Append(d...)
		m.Audiences = l
	}
	m.JWKSJSON = jwksValue(p.JWKSJSON, m.JWKSJSON)
	m.ClientID = nullIfEmpty(p.ClientID, m.ClientID)
	m.ClientSecretWO = types.StringNull()
	m.HasClientSecret = types.BoolValue(p.HasClientSecret)
	m.CreatedAt = timeValue(&p.CreatedAt)
	m.UpdatedAt = timeValue(&p.UpdatedAt)
	return diags
}

// jwksValue keeps the configuration's spelling of a key set the server holds unchanged in meaning
// (it stores the public keys only, re-serialised: jwkset.Normalize), so that whitespace, member
// order and members it drops are not drift.
func jwksValue(server string, prior types.String) types.String {
	if server == "" {
		return nullIfEmpty("", prior)
	}
	if !prior.IsNull() && !prior.IsUnknown() && (jsonEqual(prior.ValueString(), server) || jwkset.Equal(prior.ValueString(), server)) {
		return prior
	}
	return types.StringValue(server)
}

func jsonEqual(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return a == b
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// stringList reads a list(string) attribute; null gives nil.
func stringList(ctx context.Context, l types.List) ([]string, diag.Diagnostics) {
	if l.IsNull() || l.IsUnknown() {
		return nil, nil
	}
	var out []string
	diags := l.ElementsAs(ctx, &out, false)
	return out, diags
}

// ---- list resource ----

type identityProviderListConfig struct {
	Name types.String `tfsdk:"name"`
}

func (r *identityProviderResource) ListResourceConfigSchema(_ context.Context, _ list.ListResourceSchemaRequest, resp *list.ListResourceSchemaResponse) {
	resp.Schema = listschema.Schema{
		MarkdownDescription: "Lists the organisation's identity providers, for `terraform query` (Terraform 1.14+): with `-generate-config-out` it writes a " +
			"`resource` and an `import` block for each, without the client secret, which the API never returns.",
		Attributes: map[string]listschema.Attribute{
			"name": listschema.StringAttribute{MarkdownDescription: "Only the identity provider of this name.", Optional: true},
		},
	}
}

func (r *identityProviderResource) List(ctx context.Context, req list.ListRequest, stream *list.ListResultsStream) {
	var cfg identityProviderListConfig
	if !readListConfig(ctx, req, r.data, &cfg, stream) {
		return
	}
	opts := client.IdentityProviderListOptions{Name: cfg.Name.ValueString(), Limit: listPageSize}
	stream.Results = listPages(ctx, req, "identity providers", func(token string) ([]api.IdentityProvider, string, error) {
		opts.PageToken = token
		page, err := r.data.client.ListIdentityProviders(r.data.requestContext(ctx), opts)
		if err != nil {
			return nil, "", err
		}
		return page.Items, page.NextPageToken, nil
	}, func(p api.IdentityProvider, result *list.ListResult) {
		result.DisplayName = p.Name + " (" + p.Issuer + ")"
		result.Diagnostics.Append(setIDIdentity(ctx, result.Identity, types.StringValue(p.ID))...)
		if req.IncludeResource {
			m := identityProviderModel{Audiences: types.ListNull(types.StringType), JWKSJSON: types.StringNull(), ClientID: types.StringNull(),
				ClientSecretWOVersion: types.Int64Null()}
			result.Diagnostics.Append(identityProviderToModel(ctx, &p, &m)...)
			result.Diagnostics.Append(result.Resource.Set(ctx, &m)...)
		}
	})
}
