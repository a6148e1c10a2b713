package provider

import (
	"context"
	"iter"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/list"
	listschema "github.com/hashicorp/terraform-plugin-framework/list/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
)

// List resources (Terraform 1.14+, `terraform query`): what exists on the server, each result with its
// identity and, for -generate-config-out, its attributes. Secrets never appear: the API does not return
// them, and the results leave api_key, auth_token and their write-only forms null.

var (
	_ list.ListResourceWithConfigure = (*credentialResource)(nil)
	_ list.ListResourceWithConfigure = (*connectionResource)(nil)
	_ list.ListResourceWithConfigure = (*projectResource)(nil)
)

// NewCredentialListResource is the modelkeys_credential list resource.
func NewCredentialListResource() list.ListResource { return &credentialResource{} }

// NewConnectionListResource is the modelkeys_connection list resource.
func NewConnectionListResource() list.ListResource { return &connectionResource{} }

// NewProjectListResource is the modelkeys_project list resource.
func NewProjectListResource() list.ListResource { return &projectResource{} }

// listPageSize is how many objects one API call asks for while listing.
const listPageSize = 100

type credentialListConfig struct {
	ModelProvider types.String `tfsdk:"model_provider"`
	ProjectID     types.String `tfsdk:"project_id"`
	NamePrefix    types.String `tfsdk:"name_prefix"`
	Status        types.String `tfsdk:"status"`
}

type connectionListConfig struct {
	CredentialID types.String `tfsdk:"credential_id"`
	ProjectID    types.String `tfsdk:"project_id"`
	Model        types.String `tfsdk:"model"`
}

type projectListConfig struct {
	NamePrefix types.String `tfsdk:"name_prefix"`
}

func (r *credentialResource) ListResourceConfigSchema(_ context.Context, _ list.ListResourceSchemaRequest, resp *list.ListResourceSchemaResponse) {
	resp.Schema = listschema.Schema{
		MarkdownDescription: "Lists the credentials that exist on the server, for `terraform query` (Terraform 1.14+): " +
			"with `-generate-config-out` it writes a `resource` and an `import` block for each, without the key, which the API never returns. " +
			"Every filter is optional; together they all apply.",
		Attributes: map[string]listschema.Attribute{
			"model_provider": listschema.StringAttribute{
				MarkdownDescription: "Only credentials of this catalog provider: " + quotedList(catalog.ProviderIDs()) + ".",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.OneOf(catalog.ProviderIDs()...)},
			},
			"project_id": listschema.StringAttribute{
				MarkdownDescription: "Only credentials of this project. Omitted: every scope, the organisation's and every project's (the provider's `project` does not apply).",
				Optional:            true,
			},
			"name_prefix": listschema.StringAttribute{
				MarkdownDescription: "Only credentials whose name starts with this (case-sensitive).",
				Optional:            true,
			},
			"status": listschema.StringAttribute{
				MarkdownDescription: "Only credentials with this status: `verified`, `unverified` or `invalid`.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.OneOf(api.StatusVerified, api.StatusUnverified, api.StatusInvalid)},
			},
		},
	}
}

func (r *connectionResource) ListResourceConfigSchema(_ context.Context, _ list.ListResourceSchemaRequest, resp *list.ListResourceSchemaResponse) {
	resp.Schema = listschema.Schema{
		MarkdownDescription: "Lists the connections that exist on the server, for `terraform query` (Terraform 1.14+). Every filter is optional; together they all apply.",
		Attributes: map[string]listschema.Attribute{
			"credential_id": listschema.StringAttribute{MarkdownDescription: "Only connections through this credential.", Optional: true},
			"project_id": listschema.StringAttribute{
				MarkdownDescription: "Only connections of this project. Omitted: every scope (the provider's `project` does not apply).",
				Optional:            true,
			},
			"model": listschema.StringAttribute{MarkdownDescription: "Only connections to this model id, such as `gpt-4.1`.", Optional: true},
		},
	}
}

func (r *projectResource) ListResourceConfigSchema(_ context.Context, _ list.ListResourceSchemaRequest, resp *list.ListResourceSchemaResponse) {
	resp.Schema = listschema.Schema{
		MarkdownDescription: "Lists the organisation's projects, for `terraform query` (Terraform 1.14+).",
		Attributes: map[string]listschema.Attribute{
			"name_prefix": listschema.StringAttribute{MarkdownDescription: "Only projects whose name starts with this (case-sensitive).", Optional: true},
		},
	}
}

func (r *credentialResource) List(ctx context.Context, req list.ListRequest, stream *list.ListResultsStream) {
	var cfg credentialListConfig
	if !readListConfig(ctx, req, r.data, &cfg, stream) {
		return
	}
	opts := client.CredentialListOptions{ProjectID: cfg.ProjectID.ValueString(), Provider: cfg.ModelProvider.ValueString(),
		NamePrefix: cfg.NamePrefix.ValueString(), Status: cfg.Status.ValueString(), Limit: listPageSize}
	stream.Results = listPages(ctx, req, "credentials", func(token string) ([]api.Credential, string, error) {
		opts.PageToken = token
		page, err := r.data.client.ListCredentials(r.data.requestContext(ctx), opts)
		if err != nil {
			return nil, "", err
		}
		return page.Items, page.NextPageToken, nil
	}, func(c api.Credential, result *list.ListResult) {
		result.DisplayName = c.Name
		result.Diagnostics.Append(setIDIdentity(ctx, result.Identity, types.StringValue(c.ID))...)
		if req.IncludeResource {
			var m credentialModel // secrets stay null: the API never returns them
			result.Diagnostics.Append(credentialToModel(ctx, &c, &m)...)
			result.Diagnostics.Append(result.Resource.Set(ctx, &m)...)
		}
	})
}

func (r *connectionResource) List(ctx context.Context, req list.ListRequest, stream *list.ListResultsStream) {
	var cfg connectionListConfig
	if !readListConfig(ctx, req, r.data, &cfg, stream) {
		return
	}
	opts := client.ConnectionListOptions{ProjectID: cfg.ProjectID.ValueString(), CredentialID: cfg.CredentialID.ValueString(),
		Model: cfg.Model.ValueString(), Limit: listPageSize}
	stream.Results = listPages(ctx, req, "connections", func(token string) ([]api.Connection, string, error) {
		opts.PageToken = token
		page, err := r.data.client.ListConnections(r.data.requestContext(ctx), opts)
		if err != nil {
			return nil, "", err
		}
		return page.Items, page.NextPageToken, nil
	}, func(c api.Connection, result *list.ListResult) {
		result.DisplayName = c.Name + " (" + c.Provider + "/" + c.Model + ")"
		result.Diagnostics.Append(setIDIdentity(ctx, result.Identity, types.StringValue(c.ID))...)
		if req.IncludeResource {
			var m connectionModel
			connectionToModel(&c, &m)
			result.Diagnostics.Append(result.Resource.Set(ctx, &m)...)
		}
	})
}

func (r *projectResource) List(ctx context.Context, req list.ListRequest, stream *list.ListResultsStream) {
	var cfg projectListConfig
	if !readListConfig(ctx, req, r.data, &cfg, stream) {
		return
	}
	opts := client.ProjectListOptions{NamePrefix: cfg.NamePrefix.ValueString(), Limit: listPageSize}
	stream.Results = listPages(ctx, req, "projects", func(token string) ([]api.Project, string, error) {
		opts.PageToken = token
		page, err := r.data.client.ListProjects(r.data.requestContext(ctx), opts)
		if err != nil {
			return nil, "", err
		}
		return page.Items, page.NextPageToken, nil
	}, func(p api.Project, result *list.ListResult) {
		result.DisplayName = p.Name
		result.Diagnostics.Append(setIDIdentity(ctx, result.Identity, types.StringValue(p.ID))...)
		if req.IncludeResource {
			var m projectModel
			projectToModel(&p, &m)
			result.Diagnostics.Append(result.Resource.Set(ctx, &m)...)
		}
	})
}

// readListConfig reads a list block's config into cfg; on failure it sets the stream to the error.
func readListConfig(ctx context.Context, req list.ListRequest, data *providerData, cfg any, stream *list.ListResultsStream) bool {
	var diags diag.Diagnostics
	if !data.ready(&diags) {
		stream.Results = list.ListResultsStreamDiagnostics(diags)
		return false
	}
	diags.Append(req.Config.Get(ctx, cfg)...)
	if diags.HasError() {
		stream.Results = list.ListResultsStreamDiagnostics(diags)
		return false
	}
	return true
}

// listPages pages through the API (fetch returns a page and the next page's token, "" after the last),
// pushing one result per object until the last page or req.Limit results, or until Terraform stops
// asking. An API error ends the stream with a result that carries it.
func listPages[T any](ctx context.Context, req list.ListRequest, what string, fetch func(token string) ([]T, string, error), fill func(T, *list.ListResult)) iter.Seq[list.ListResult] {
	return func(push func(list.ListResult) bool) {
		var pushed int64
		token := ""
		seen := map[string]bool{}
		for {
			items, next, err := fetch(token)
			if err != nil {
				var diags diag.Diagnostics
				addAPIError(&diags, "Cannot list "+what, err)
				push(list.ListResult{Diagnostics: diags})
				return
			}
			for _, item := range items {
				if req.Limit > 0 && pushed >= req.Limit {
					return
				}
				result := req.NewListResult(ctx)
				fill(item, &result)
				pushed++
				if !push(result) {
					return
				}
			}
			if next == "" || seen[next] || ctx.Err() != nil {
				return
			}
			seen[next] = true
			token = next
		}
	}
}
