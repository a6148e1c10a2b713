package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/datasourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
)

var (
	_ datasource.DataSourceWithConfigure        = (*credentialDataSource)(nil)
	_ datasource.DataSourceWithConfigValidators = (*credentialDataSource)(nil)
)

// NewCredentialDataSource is the modelkeys_credential data source: one credential, by id or by name.
func NewCredentialDataSource() datasource.DataSource { return &credentialDataSource{} }

type credentialDataSource struct{ data *providerData }

// credentialDataModel is a credential without its secrets: the modelkeys_credential data source, and
// each item of modelkeys_credentials.
type credentialDataModel struct {
	ID                types.String      `tfsdk:"id"`
	Name              types.String      `tfsdk:"name"`
	ProjectID         types.String      `tfsdk:"project_id"`
	Description       string            `tfsdk:"description"`
	ModelProvider     string            `tfsdk:"model_provider"`
	Settings          map[string]string `tfsdk:"settings"`
	Labels            map[string]string `tfsdk:"labels"`
	Verify            bool              `tfsdk:"verify"`
	SecretHint        string            `tfsdk:"secret_hint"`
	SecretFingerprint string            `tfsdk:"secret_fingerprint"`
	SecretVersion     int64             `tfsdk:"secret_version"`
	Status            string            `tfsdk:"status"`
	StatusMessage     string            `tfsdk:"status_message"`
	VerifiedAt        timetypes.RFC3339 `tfsdk:"verified_at"`
	ConnectionIDs     []string          `tfsdk:"connection_ids"`
	CreatedAt         timetypes.RFC3339 `tfsdk:"created_at"`
	UpdatedAt         timetypes.RFC3339 `tfsdk:"updated_at"`
	credentialLifecycleDataModel
}

func (d *credentialDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_credential"
}

func (d *credentialDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Looks up one credential (a model-provider API key) by `id`, or by `name` in a scope, for example to connect models " +
			"to a key managed in another workspace. It reads everything about the credential except its secret, which the API never returns: " +
			"`secret_hint` and `secret_fingerprint` show which key it is. Set exactly one of `id` and `name`.",
		Attributes: credentialDataAttributes(true),
	}
}

// credentialDataAttributes is the schema of a credential without its secrets. With lookup, id, name and
// project_id are arguments of the modelkeys_credential data source; without, every attribute is read.
func credentialBaseDataAttributes(lookup bool) map[string]schema.Attribute {
	id := schema.StringAttribute{MarkdownDescription: "Credential id, `cred_...`.", Computed: true}
	name := schema.StringAttribute{MarkdownDescription: "Name, unique in its scope.", Computed: true}
	project := schema.StringAttribute{MarkdownDescription: "Project the credential belongs to; null for an organisation-wide credential.", Computed: true}
	if lookup {
		id = schema.StringAttribute{
			MarkdownDescription: "Id of the credential to read, `cred_...`. Conflicts with `name`.",
			Optional:            true,
			Computed:            true,
		}
		name = schema.StringAttribute{
			MarkdownDescription: "Name of the credential to read, in the scope that `project_id` selects. Conflicts with `id`.",
			Optional:            true,
			Computed:            true,
		}
		project = schema.StringAttribute{
			MarkdownDescription: "With `name`: the project to look in. Omitted: the provider's `project`, or the organisation scope " +
				"(credentials of no project) when that is unset too; `\"\"` selects the organisation scope even when the provider has a `project`. " +
				"Read back as the credential's project, null for an organisation-wide credential.",
			Optional:   true,
			Computed:   true,
			Validators: []validator.String{stringvalidator.ConflictsWith(path.MatchRoot("id"))},
		}
	}
	return map[string]schema.Attribute{
		"id":         id,
		"name":       name,
		"project_id": project,
		"description": schema.StringAttribute{
			MarkdownDescription: "Free text for people; empty when unset.",
			Computed:            true,
		},
		"model_provider": schema.StringAttribute{
			MarkdownDescription: "Catalog id of the model provider, such as `openai`.",
			Computed:            true,
		},
		"settings": schema.MapAttribute{
			MarkdownDescription: "Provider-specific, non-secret settings.",
			ElementType:         types.StringType,
			Computed:            true,
		},
		"labels": schema.MapAttribute{
			MarkdownDescription: "Free-form labels.",
			ElementType:         types.StringType,
			Computed:            true,
		},
		"verify": schema.BoolAttribute{
			MarkdownDescription: "Whether the server checks the key with the provider when the key or settings change.",
			Computed:            true,
		},
		"secret_hint": schema.StringAttribute{
			MarkdownDescription: "What the key looks like, such as `sk-...wxyz`: never more than its last 4 characters. Empty for a credential without a secret.",
			Computed:            true,
		},
		"secret_fingerprint": schema.StringAttribute{
			MarkdownDescription: "Keyed HMAC of the secrets: it changes when the key changes.",
			Computed:            true,
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
			MarkdownDescription: "When the provider last accepted or refused the key (RFC 3339); null if it was never asked.",
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
		},
		"updated_at": schema.StringAttribute{
			MarkdownDescription: "Time of the last change (RFC 3339).",
			Computed:            true,
			CustomType:          timetypes.RFC3339Type{},
		},
	}
}

func (d *credentialDataSource) ConfigValidators(context.Context) []datasource.ConfigValidator {
	return []datasource.ConfigValidator{
		datasourcevalidator.ExactlyOneOf(path.MatchRoot("id"), path.MatchRoot("name")),
	}
}

func (d *credentialDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

func (d *credentialDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var id, name, projectID types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("id"), &id)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("name"), &name)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("project_id"), &projectID)...)
	if resp.Diagnostics.HasError() || !d.data.ready(&resp.Diagnostics) {
		return
	}
	ctx = d.data.requestContext(ctx)

	c := credentialLookup(d.data).find(ctx, d.data, id, name, projectID, &resp.Diagnostics)
	if c == nil {
		return
	}
	tflog.Debug(ctx, "read credential", map[string]any{"id": c.ID, "project_id": c.ProjectID})
	m := credentialToDataModel(c)
	if known(projectID) {
		m.ProjectID = projectID // "" (the organisation scope) stays as configured
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// credentialLookup finds a credential by id, or by name in one scope.
func credentialLookup(d *providerData) byIDOrName[api.Credential] {
	return byIDOrName[api.Credential]{
		kind: "credential",
		get:  d.client.GetCredential,
		list: func(ctx context.Context, name string) ([]api.Credential, error) {
			return d.client.ListAllCredentials(ctx, client.CredentialListOptions{Name: name})
		},
		nameOf:  func(c *api.Credential) string { return c.Name },
		scopeOf: func(c *api.Credential) string { return c.ProjectID },
	}
}

// credentialToDataModel copies a credential as the API returns it: never a secret, which the API does
// not have to give.
func credentialToDataModel(c *api.Credential) credentialDataModel {
	m := credentialDataModel{
		ID:                types.StringValue(c.ID),
		Name:              types.StringValue(c.Name),
		ProjectID:         stringOrNull(c.ProjectID),
		Description:       c.Description,
		ModelProvider:     c.Provider,
		Settings:          map[string]string{},
		Labels:            map[string]string{},
		Verify:            c.Verify,
		SecretHint:        c.SecretHint,
		SecretFingerprint: c.SecretFingerprint,
		SecretVersion:     c.SecretVersion,
		Status:            c.Status,
		StatusMessage:     c.StatusMessage,
		VerifiedAt:        timeValue(c.VerifiedAt),
		ConnectionIDs:     append([]string{}, c.ConnectionIDs...),
		CreatedAt:         timeValue(&c.CreatedAt),
		UpdatedAt:         timeValue(&c.UpdatedAt),

		credentialLifecycleDataModel: lifecycleToDataModel(c),
	}
	for k, v := range c.Settings {
		m.Settings[k] = v
	}
	for k, v := range c.Labels {
		m.Labels[k] = v
	}
	return m
}
