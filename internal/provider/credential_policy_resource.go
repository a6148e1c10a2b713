package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

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
func NewCredentialPolicyResource() resource.Resource { return newCredentialPolicyResource() }

// newCredentialPolicyResource is the resource and, for terraform query, its list resource.
func newCredentialPolicyResource() *credentialPolicyResource {
	return &credentialPolicyResource{scopedPolicy[credentialPolicyModel]{kind: policyKind[credentialPolicyModel]{
		name:    "credential policy",
		resetTo: "no rules",
		scope:   func(m *credentialPolicyModel) types.String { return m.ProjectID },
		read: func(ctx context.Context, c *client.Client, projectID string, m *credentialPolicyModel) (int64, diag.Diagnostics, error) {
			pol, err := c.GetCredentialPolicy(ctx, projectID)
			if err != nil {
				return 0, nil, err
			}
			return pol.Version, credentialPolicyToModel(ctx, pol, m), nil
		},
		write: func(ctx context.Context, c *client.Client, projectID string, m *credentialPolicyModel, version int64) (int64, diag.Diagnostics, error) {
			in := api.CredentialPolicyPut{
				MaxRotationPeriod:   m.MaxRotationPeriod.ValueString(),
				ExpiryWarning:       m.ExpiryWarning.ValueString(),
				RequireVerification: m.RequireVerification.ValueBool(),
			}
			diags := setStrings(ctx, m.AllowedProviders, &in.AllowedProviders)
			if diags.HasError() {
				return 0, diags, nil
			}
			pol, err := c.PutCredentialPolicy(ctx, projectID, in, version)
			if err != nil {
				return 0, diags, err
			}
			return pol.Version, append(diags, credentialPolicyToModel(ctx, pol, m)...), nil
		},
		reset: func(ctx context.Context, c *client.Client, projectID string) error {
			return c.DeleteCredentialPolicy(ctx, projectID, 0)
		},
	}}}
}

type credentialPolicyResource struct {
	scopedPolicy[credentialPolicyModel]
}

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
	attrs := scopedPolicyAttributes()
	attrs["allowed_providers"] = schema.SetAttribute{
		MarkdownDescription: "Catalog providers the scope's credentials may be for: " + quotedList(catalog.ProviderIDs()) + ". " +
			"Omitted: every provider. Creating a credential of another provider in the scope fails, naming the allowed ones, " +
			"and so does connecting a project's connection to an organisation credential of another provider.",
		ElementType: types.StringType,
		Optional:    true,
		Validators: []validator.Set{setvalidator.SizeAtLeast(1),
			setvalidator.ValueStringsAre(stringvalidator.OneOf(catalog.ProviderIDs()...))},
	}
	attrs["max_rotation_period"] = schema.StringAttribute{
		MarkdownDescription: "The longest `rotation_period` a credential may have (`\"90d\"`, `\"2160h\"`); credentials without one are due for rotation after it.",
		Optional:            true,
		CustomType:          catalogtypes.DurationType{},
		PlanModifiers:       keepSpelling,
	}
	attrs["expiry_warning"] = schema.StringAttribute{
		MarkdownDescription: "How long before `expires_at` a credential turns `expiring`. Defaults to `14d`.",
		Optional:            true,
		Computed:            true,
		Default:             stringdefault.StaticString("14d"),
		CustomType:          catalogtypes.DurationType{},
		PlanModifiers:       keepSpelling,
	}
	attrs["require_verification"] = schema.BoolAttribute{
		MarkdownDescription: "Refuse `verify = false` on the scope's credentials. Defaults to `false`.",
		Optional:            true,
		Computed:            true,
		Default:             booldefault.StaticBool(false),
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Rules for the credentials of a scope: the organisation (no `project_id`) or one project. There is one policy per scope; " +
			"a scope without one has no rules. A project's effective policy is the organisation's and its own, the stricter of each rule. " +
			"A stricter policy does not break existing credentials: they show `policy_violations` (and a warning on every refresh), " +
			"and their next change is refused until it complies. " +
			"Creating the resource overwrites whatever policy the scope has; destroying it resets the scope to no rules. " +
			"Import with `organization` or a project id.",
		Attributes: attrs,
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
