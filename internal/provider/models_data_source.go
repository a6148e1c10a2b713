package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
)

var _ datasource.DataSourceWithConfigure = (*modelsDataSource)(nil)

// NewModelsDataSource is the modelkeys_models data source: catalog models with whether policy allows them.
func NewModelsDataSource() datasource.DataSource { return &modelsDataSource{} }

type modelsDataSource struct{ data *providerData }

type modelsDataModel struct {
	ModelProvider types.String     `tfsdk:"model_provider"`
	Publisher     types.String     `tfsdk:"publisher"`
	Capability    types.String     `tfsdk:"capability"`
	ProjectID     types.String     `tfsdk:"project_id"`
	CredentialID  types.String     `tfsdk:"credential_id"`
	Models        []modelDataModel `tfsdk:"models"`
}

type modelDataModel struct {
	ID               string       `tfsdk:"id"`
	ModelProvider    string       `tfsdk:"model_provider"`
	Publisher        string       `tfsdk:"publisher"`
	DisplayName      string       `tfsdk:"display_name"`
	ContextWindow    int64        `tfsdk:"context_window"`
	MaxOutputTokens  int64        `tfsdk:"max_output_tokens"`
	InputModalities  []string     `tfsdk:"input_modalities"`
	OutputModalities []string     `tfsdk:"output_modalities"`
	ToolCall         bool         `tfsdk:"tool_call"`
	Reasoning        bool         `tfsdk:"reasoning"`
	ReleaseDate      types.String `tfsdk:"release_date"`
	Allowed          bool         `tfsdk:"allowed"`
}

func (d *modelsDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_models"
}

func (d *modelsDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Lists the models of the catalog, or the models a credential reaches, each with its limits and capabilities and " +
			"whether the effective model policy of a scope allows it (`allowed`). The effective policy of a project is the organisation's " +
			"intersected with the project's own. Providers whose models cannot be listed (`any_model` in `modelkeys_providers`) have none here.",
		Attributes: map[string]schema.Attribute{
			"model_provider": schema.StringAttribute{
				MarkdownDescription: "Only the models served by this catalog provider: " + quotedList(catalog.ProviderIDs()) + ".",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.OneOf(catalog.ProviderIDs()...)},
			},
			"publisher": schema.StringAttribute{
				MarkdownDescription: "Only the models of this publisher (the maker of the model), such as `openai`, `meta` or `mistral`. " +
					"A model can be served by several providers: `meta` models come through Bedrock, Fireworks, Databricks and others.",
				Optional: true,
			},
			"capability": schema.StringAttribute{
				MarkdownDescription: "Only the models with this capability: `tool_call` (calls tools), `reasoning` (thinks before it answers), " +
					"`vision`, `pdf`, `audio` or `video` (accepts that kind of input).",
				Optional:   true,
				Validators: []validator.String{stringvalidator.OneOf(catalog.Capabilities()...)},
			},
			"project_id": schema.StringAttribute{
				MarkdownDescription: "Project whose effective policy decides `allowed`. Omitted: the provider's `project`, or the organisation's " +
					"policy when that is unset too; `\"\"` selects the organisation's policy even when the provider has a `project`. Conflicts with `credential_id`.",
				Optional:   true,
				Computed:   true,
				Validators: []validator.String{stringvalidator.ConflictsWith(path.MatchRoot("credential_id"))},
			},
			"credential_id": schema.StringAttribute{
				MarkdownDescription: "List the models this credential reaches instead of the whole catalog: the provider's own answer when the server " +
					"can ask it, otherwise the catalog's models of the credential's provider. `allowed` then follows the policy of the credential's scope, " +
					"and the other filters narrow the list further.",
				Optional: true,
			},
			"models": schema.ListNestedAttribute{
				MarkdownDescription: "The matching models, sorted by provider and then by id.",
				Computed:            true,
				NestedObject: schema.NestedAttributeObject{
					Attributes: map[string]schema.Attribute{
						"id": schema.StringAttribute{
							MarkdownDescription: "The provider's model id, as a connection's `model` takes it, such as `gpt-4o-mini`.",
							Computed:            true,
						},
						"model_provider": schema.StringAttribute{
							MarkdownDescription: "Catalog id of the provider that serves the model. `model_provider/id` is how a model policy names it.",
							Computed:            true,
						},
						"publisher": schema.StringAttribute{
							MarkdownDescription: "Who made the model, such as `openai` or `meta`; empty for a model the catalog does not know.",
							Computed:            true,
						},
						"display_name": schema.StringAttribute{
							MarkdownDescription: "Name for people.",
							Computed:            true,
						},
						"context_window": schema.Int64Attribute{
							MarkdownDescription: "Most tokens the model reads at once, prompt and answer together; 0 when unknown.",
							Computed:            true,
						},
						"max_output_tokens": schema.Int64Attribute{
							MarkdownDescription: "Most tokens the model writes in one answer; 0 when unknown.",
							Computed:            true,
						},
						"input_modalities": schema.ListAttribute{
							MarkdownDescription: "Kinds of input the model accepts: `text`, `image`, `pdf`, `audio`, `video`.",
							ElementType:         types.StringType,
							Computed:            true,
						},
						"output_modalities": schema.ListAttribute{
							MarkdownDescription: "Kinds of output the model produces.",
							ElementType:         types.StringType,
							Computed:            true,
						},
						"tool_call": schema.BoolAttribute{
							MarkdownDescription: "Whether the model can call tools (functions).",
							Computed:            true,
						},
						"reasoning": schema.BoolAttribute{
							MarkdownDescription: "Whether the model reasons before it answers.",
							Computed:            true,
						},
						"release_date": schema.StringAttribute{
							MarkdownDescription: "Release date, `YYYY-MM-DD`; null when unknown.",
							Computed:            true,
						},
						"allowed": schema.BoolAttribute{
							MarkdownDescription: "Whether the effective model policy of the scope lets connections use this model. " +
								"A connection to a refused model is rejected at create, and shows `status = \"blocked\"` if a later policy refuses it.",
							Computed: true,
						},
					},
				},
			},
		},
	}
}

func (d *modelsDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

func (d *modelsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m modelsDataModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || !d.data.ready(&resp.Diagnostics) {
		return
	}
	ctx = d.data.requestContext(ctx)
	filter := client.ModelFilter{
		Provider:   m.ModelProvider.ValueString(),
		Publisher:  m.Publisher.ValueString(),
		Capability: m.Capability.ValueString(),
	}
	var models []api.Model
	var err error
	if known(m.CredentialID) {
		// The credential's scope decides allowed; project_id does not apply.
		m.ProjectID = types.StringNull()
		models, err = d.data.client.CredentialModels(ctx, m.CredentialID.ValueString())
		if client.IsNotFound(err) {
			resp.Diagnostics.AddAttributeError(path.Root("credential_id"), "Credential not found",
				fmt.Sprintf("No credential with id %q exists in this organisation.", m.CredentialID.ValueString()))
			return
		}
	} else {
		filter.ProjectID = d.data.lookupScope(m.ProjectID)
		if !known(m.ProjectID) {
			m.ProjectID = stringOrNull(filter.ProjectID)
		}
		models, err = d.data.client.ListModels(ctx, filter)
		if client.IsNotFound(err) {
			resp.Diagnostics.AddAttributeError(path.Root("project_id"), "Project not found",
				fmt.Sprintf("No project with id %q exists in this organisation, so it has no model policy to apply.", filter.ProjectID))
			return
		}
	}
	if err != nil {
		addAPIError(&resp.Diagnostics, "Cannot list models", err)
		return
	}
	m.Models = make([]modelDataModel, 0, len(models))
	for _, x := range models {
		// Filtered here too: the credential's list is not filtered by the server, and the catalog's
		// answer passes unchanged.
		if !modelMatches(x, filter) {
			continue
		}
		m.Models = append(m.Models, modelToDataModel(x))
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func modelMatches(x api.Model, f client.ModelFilter) bool {
	return (f.Provider == "" || x.Provider == f.Provider) &&
		(f.Publisher == "" || x.Publisher == f.Publisher) &&
		(f.Capability == "" || catalog.HasCapability(x, f.Capability))
}

func modelToDataModel(x api.Model) modelDataModel {
	return modelDataModel{
		ID:               x.ID,
		ModelProvider:    x.Provider,
		Publisher:        x.Publisher,
		DisplayName:      x.DisplayName,
		ContextWindow:    x.ContextWindow,
		MaxOutputTokens:  x.MaxOutputTokens,
		InputModalities:  append([]string{}, x.InputModalities...),
		OutputModalities: append([]string{}, x.OutputModalities...),
		ToolCall:         x.ToolCall,
		Reasoning:        x.Reasoning,
		ReleaseDate:      stringOrNull(x.ReleaseDate),
		Allowed:          x.Allowed,
	}
}
