package provider

import (
	"context"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

var _ datasource.DataSourceWithConfigure = (*providersDataSource)(nil)

// NewProvidersDataSource is the modelkeys_providers data source: the server's catalog of model providers.
func NewProvidersDataSource() datasource.DataSource { return &providersDataSource{} }

type providersDataSource struct{ data *providerData }

type providersDataModel struct {
	ID        types.String        `tfsdk:"id"`
	Category  types.String        `tfsdk:"category"`
	Providers []providerDataModel `tfsdk:"providers"`
}

type providerDataModel struct {
	ID               string                     `tfsdk:"id"`
	DisplayName      string                     `tfsdk:"display_name"`
	Category         string                     `tfsdk:"category"`
	RequiredSettings []string                   `tfsdk:"required_settings"`
	OptionalSettings []string                   `tfsdk:"optional_settings"`
	Settings         []providerSettingDataModel `tfsdk:"settings"`
	SecretFields     []providerSecretDataModel  `tfsdk:"secret_fields"`
	AuthMethods      []string                   `tfsdk:"auth_methods"`
	DefaultBaseURL   types.String               `tfsdk:"default_base_url"`
	DocsURL          types.String               `tfsdk:"docs_url"`
	AnyModel         bool                       `tfsdk:"any_model"`
}

type providerSettingDataModel struct {
	Name        string       `tfsdk:"name"`
	Description string       `tfsdk:"description"`
	Required    bool         `tfsdk:"required"`
	Example     types.String `tfsdk:"example"`
}

type providerSecretDataModel struct {
	Name        string `tfsdk:"name"`
	Description string `tfsdk:"description"`
	Required    bool   `tfsdk:"required"`
}

func (d *providersDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_providers"
}

func (d *providersDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The catalog of model providers that credentials can be made for, as the modelkeys server knows it: " +
			"for each provider, the settings a `modelkeys_credential` of that provider takes (and which are required), its secret fields, " +
			"how the key is presented to the provider, and where its documentation is. Use it to build credentials generically, " +
			"or to check a provider's settings before writing one.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "Catalog id of one provider, such as `openai` or `azure_openai`, to read only that one. " +
					"Omitted: every provider. An id the server does not know is an error that lists the ones it does.",
				Optional: true,
			},
			"category": schema.StringAttribute{
				MarkdownDescription: "Only the providers of this category: " + quotedList(api.ProviderCategories) + ".",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.OneOf(api.ProviderCategories...)},
			},
			"providers": schema.ListNestedAttribute{
				MarkdownDescription: "The providers, sorted by id.",
				Computed:            true,
				NestedObject: schema.NestedAttributeObject{
					Attributes: map[string]schema.Attribute{
						"id": schema.StringAttribute{
							MarkdownDescription: "Catalog id: the value of `model_provider` in `modelkeys_credential`.",
							Computed:            true,
						},
						"display_name": schema.StringAttribute{
							MarkdownDescription: "Name for people, such as `Azure OpenAI`.",
							Computed:            true,
						},
						"category": schema.StringAttribute{
							MarkdownDescription: "`model_provider` (a model maker's own API), `cloud` (a cloud platform that serves models), " +
								"`gateway` (a gateway in front of other providers) or `self_hosted` (a server of your own).",
							Computed: true,
						},
						"required_settings": schema.ListAttribute{
							MarkdownDescription: "Names of the settings a credential of this provider must have, in catalog order.",
							ElementType:         types.StringType,
							Computed:            true,
						},
						"optional_settings": schema.ListAttribute{
							MarkdownDescription: "Names of the settings a credential of this provider may have, in catalog order.",
							ElementType:         types.StringType,
							Computed:            true,
						},
						"settings": schema.ListNestedAttribute{
							MarkdownDescription: "Every non-secret setting (the keys of a credential's `settings` map), in catalog order.",
							Computed:            true,
							NestedObject: schema.NestedAttributeObject{
								Attributes: map[string]schema.Attribute{
									"name": schema.StringAttribute{
										MarkdownDescription: "Key in the credential's `settings` map.",
										Computed:            true,
									},
									"description": schema.StringAttribute{
										MarkdownDescription: "What the setting is for.",
										Computed:            true,
									},
									"required": schema.BoolAttribute{
										MarkdownDescription: "Whether a credential of this provider must set it.",
										Computed:            true,
									},
									"example": schema.StringAttribute{
										MarkdownDescription: "A sample value; null when the catalog gives none.",
										Computed:            true,
									},
								},
							},
						},
						"secret_fields": schema.ListNestedAttribute{
							MarkdownDescription: "The secrets the provider takes: `api_key` (set with `api_key` or `api_key_wo` on the credential) and `auth_token`.",
							Computed:            true,
							NestedObject: schema.NestedAttributeObject{
								Attributes: map[string]schema.Attribute{
									"name": schema.StringAttribute{
										MarkdownDescription: "`api_key` or `auth_token`.",
										Computed:            true,
									},
									"description": schema.StringAttribute{
										MarkdownDescription: "What the secret is and how it is sent to the provider.",
										Computed:            true,
									},
									"required": schema.BoolAttribute{
										MarkdownDescription: "Whether a credential of this provider must have it.",
										Computed:            true,
									},
								},
							},
						},
						"auth_methods": schema.ListAttribute{
							MarkdownDescription: "How the key is presented to the provider, such as `bearer`, `x-api-key` or `service_account`. " +
								"A provider with more than one takes the `auth_method` setting, which chooses among them; they are its values, the default first. " +
								"`workload_identity` makes a credential keyless: it takes no secret, and modelkeys-server exchanges an assertion it signs for a vendor token.",
							ElementType: types.StringType,
							Computed:    true,
						},
						"default_base_url": schema.StringAttribute{
							MarkdownDescription: "Base URL of the provider's API when the credential does not override it; null for providers with no fixed one (Azure, custom servers).",
							Computed:            true,
						},
						"docs_url": schema.StringAttribute{
							MarkdownDescription: "The provider's documentation of its API keys.",
							Computed:            true,
						},
						"any_model": schema.BoolAttribute{
							MarkdownDescription: "`true` for providers whose models the catalog cannot list (custom servers, gateways, Azure deployments): " +
								"a connection may name any model, subject to the model policy.",
							Computed: true,
						},
					},
				},
			},
		},
	}
}

func (d *providersDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

func (d *providersDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var cfg providersDataModel
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("id"), &cfg.ID)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("category"), &cfg.Category)...)
	if resp.Diagnostics.HasError() || !d.data.ready(&resp.Diagnostics) {
		return
	}
	ctx = d.data.requestContext(ctx)
	all, err := d.data.client.ListProviders(ctx)
	if err != nil {
		addAPIError(&resp.Diagnostics, "Cannot list model providers", err)
		return
	}
	cfg.Providers = []providerDataModel{}
	ids := make([]string, 0, len(all))
	for _, p := range all {
		ids = append(ids, p.ID)
		if known(cfg.ID) && p.ID != cfg.ID.ValueString() || known(cfg.Category) && p.Category != cfg.Category.ValueString() {
			continue
		}
		cfg.Providers = append(cfg.Providers, providerToDataModel(p))
	}
	if known(cfg.ID) && len(cfg.Providers) == 0 && !known(cfg.Category) {
		resp.Diagnostics.AddAttributeError(path.Root("id"), "Unknown model provider",
			"The modelkeys server knows no provider "+strconv.Quote(cfg.ID.ValueString())+". It knows: "+strings.Join(ids, ", ")+".")
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &cfg)...)
}

func providerToDataModel(p api.Provider) providerDataModel {
	m := providerDataModel{
		ID:               p.ID,
		DisplayName:      p.DisplayName,
		Category:         p.Category,
		RequiredSettings: []string{},
		OptionalSettings: []string{},
		Settings:         []providerSettingDataModel{},
		SecretFields:     []providerSecretDataModel{},
		AuthMethods:      append([]string{}, p.AuthMethods...),
		DefaultBaseURL:   stringOrNull(p.DefaultBaseURL),
		DocsURL:          stringOrNull(p.DocsURL),
		AnyModel:         p.AnyModel,
	}
	for _, s := range p.Settings {
		if s.Required {
			m.RequiredSettings = append(m.RequiredSettings, s.Name)
		} else {
			m.OptionalSettings = append(m.OptionalSettings, s.Name)
		}
		m.Settings = append(m.Settings, providerSettingDataModel{Name: s.Name, Description: s.Description, Required: s.Required, Example: stringOrNull(s.Example)})
	}
	for _, s := range p.Secrets {
		m.SecretFields = append(m.SecretFields, providerSecretDataModel{Name: s.Name, Description: s.Description, Required: s.Required})
	}
	return m
}

// stringOrNull maps an empty API string to null: the API leaves out what does not apply.
func stringOrNull(s string) types.String {
	if s == "" {
		return types.StringNull()
	}
	return types.StringValue(s)
}
