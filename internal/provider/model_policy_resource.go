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
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
)

var (
	_ resource.ResourceWithConfigure      = (*modelPolicyResource)(nil)
	_ resource.ResourceWithImportState    = (*modelPolicyResource)(nil)
	_ resource.ResourceWithValidateConfig = (*modelPolicyResource)(nil)
)

// NewModelPolicyResource is the modelkeys_model_policy resource.
func NewModelPolicyResource() resource.Resource { return newModelPolicyResource() }

// newModelPolicyResource is the resource and, for terraform query, its list resource.
func newModelPolicyResource() *modelPolicyResource {
	return &modelPolicyResource{scopedPolicy[modelPolicyModel]{kind: policyKind[modelPolicyModel]{
		name:    "model policy",
		resetTo: "mode all",
		scope:   func(m *modelPolicyModel) types.String { return m.ProjectID },
		read: func(ctx context.Context, c *client.Client, projectID string, m *modelPolicyModel) (int64, diag.Diagnostics, error) {
			pol, err := c.GetModelPolicy(ctx, projectID)
			if err != nil {
				return 0, nil, err
			}
			return pol.Version, policyToModel(ctx, pol, m), nil
		},
		write: func(ctx context.Context, c *client.Client, projectID string, m *modelPolicyModel, version int64) (int64, diag.Diagnostics, error) {
			in := api.ModelPolicyPut{Mode: m.Mode.ValueString()}
			var diags diag.Diagnostics
			diags.Append(setStrings(ctx, m.Models, &in.Models)...)
			diags.Append(setStrings(ctx, m.Publishers, &in.Publishers)...)
			if diags.HasError() {
				return 0, diags, nil
			}
			pol, err := c.PutModelPolicy(ctx, projectID, in, version)
			if err != nil {
				return 0, diags, err
			}
			return pol.Version, append(diags, policyToModel(ctx, pol, m)...), nil
		},
		reset: func(ctx context.Context, c *client.Client, projectID string) error {
			return c.DeleteModelPolicy(ctx, projectID, 0)
		},
	}}}
}

type modelPolicyResource struct {
	scopedPolicy[modelPolicyModel]
}

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
	attrs := scopedPolicyAttributes()
	attrs["mode"] = schema.StringAttribute{
		MarkdownDescription: "`all` allows every model (`models` and `publishers` must then be empty); `allowlist` allows only the listed models and " +
			"the models of the listed publishers; `denylist` allows everything except them.",
		Required:   true,
		Validators: []validator.String{stringvalidator.OneOf(api.PolicyAll, api.PolicyAllowlist, api.PolicyDenylist)},
	}
	attrs["models"] = schema.SetAttribute{
		MarkdownDescription: "Models as `provider/model`, such as `openai/gpt-4o` or `custom/llama3:8b`; the provider is a catalog id. " +
			"For providers with a model list the model must be one the catalog lists (the `modelkeys_models` data source), or one of your own in its provider's form " +
			"(`openai/ft:...`, `bedrock/arn:...`, `vertex_ai/projects/...`, `gemini/tunedModels/...`, `fireworks/accounts/...`); a typo is an error at plan time with the nearest known names.",
		ElementType: types.StringType,
		Optional:    true,
		Validators: []validator.Set{setvalidator.ValueStringsAre(
			stringCheck{description: "a provider/model reference", check: catalog.ValidateModelRef})},
	}
	attrs["publishers"] = schema.SetAttribute{
		MarkdownDescription: "Publishers of models, such as `openai`, `anthropic`, `meta` or `mistral`: they cover a publisher's models through every provider " +
			"(Meta's Llama on Bedrock, Vertex AI, ...), also models the catalog lacks whose maker is certain from the id (a new Bedrock `us.anthropic.*` inference profile, " +
			"Vertex AI `publishers/meta/models/*`). Each must be a publisher the catalog knows; a typo is an error at plan time (`opneai`: did you mean `openai`?). " +
			"Models of custom servers and gateways have no publisher; list them in `models`.",
		ElementType: types.StringType,
		Optional:    true,
		Validators:  []validator.Set{setvalidator.ValueStringsAre(stringCheck{description: "a publisher id", check: catalog.ValidatePublisher})},
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Which models a scope may use: the organisation (no `project_id`) or one project. There is one policy per scope; " +
			"a scope without one allows every model. A project's effective policy is the organisation's intersected with its own: a model must pass both. " +
			"Creating a connection to a refused model fails, and existing connections whose model a new policy refuses show `status = \"blocked\"`. " +
			"Creating the resource overwrites whatever policy the scope has; destroying it resets the scope to `mode = \"all\"`. " +
			"Import with `organization` or a project id.",
		Attributes: attrs,
	}
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

// policyToModel copies the API's policy into m; empty lists stay null when m had them null (left out
// of the configuration).
func policyToModel(ctx context.Context, pol *api.ModelPolicy, m *modelPolicyModel) diag.Diagnostics {
	var diags diag.Diagnostics
	m.ID = types.StringValue(policyIDFor(pol.ProjectID))
	m.ProjectID = stringOrNull(pol.ProjectID)
	m.Mode = types.StringValue(pol.Mode)
	var d diag.Diagnostics
	m.Models, d = setValue(ctx, pol.Models, m.Models)
	diags.Append(d...)
	m.Publishers, d = setValue(ctx, pol.Publishers, m.Publishers)
	diags.Append(d...)
	return diags
}
