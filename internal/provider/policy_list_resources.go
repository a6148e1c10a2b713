package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/list"
	listschema "github.com/hashicorp/terraform-plugin-framework/list/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/identityschema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
)

// The scope policies' identity and list resources. A policy is one per scope, so its identity is the
// scope: project_id, "" for the organisation's. The "" (rather than null) is what a list result and a
// refresh record, and an import block may write it either way, so that identity = { project_id = "" }
// from terraform query's generated configuration imports the organisation's policy again.

var (
	_ resource.ResourceWithIdentity  = (*credentialPolicyResource)(nil)
	_ list.ListResourceWithConfigure = (*credentialPolicyResource)(nil)
	_ list.ListResourceWithConfigure = (*modelPolicyResource)(nil)
)

// NewCredentialPolicyListResource is the modelkeys_credential_policy list resource.
func NewCredentialPolicyListResource() list.ListResource {
	return newCredentialPolicyResource()
}

// NewModelPolicyListResource is the modelkeys_model_policy list resource.
func NewModelPolicyListResource() list.ListResource {
	return newModelPolicyResource()
}

// policyIdentitySchema is the identity of both scope policies.
func policyIdentitySchema() identityschema.Schema {
	return identityschema.Schema{
		Attributes: map[string]identityschema.Attribute{
			"project_id": identityschema.StringAttribute{
				Description:       "The project whose policy this is; empty (`\"\"`) or left out for the organisation's policy.",
				OptionalForImport: true,
			},
		},
	}
}

func (r *credentialPolicyResource) IdentitySchema(_ context.Context, _ resource.IdentitySchemaRequest, resp *resource.IdentitySchemaResponse) {
	resp.IdentitySchema = policyIdentitySchema()
}

type policyListConfig struct {
	ProjectID types.String `tfsdk:"project_id"`
}

// policyListSchema is the config of both policy list resources; kind is "model policy" or "credential policy".
func policyListSchema(kind, unwritten string) listschema.Schema {
	return listschema.Schema{
		MarkdownDescription: "Lists the " + kind + " of every scope that has one written (the organisation's and each project's), for `terraform query` " +
			"(Terraform 1.14+); with `-generate-config-out` it writes a `resource` and an `import` block (by identity, the scope) for each. " +
			"A scope whose policy was never written, or was reset, has " + unwritten + " and is left out: there is nothing to adopt.",
		Attributes: map[string]listschema.Attribute{
			"project_id": listschema.StringAttribute{
				MarkdownDescription: "Only this project's policy. Omitted: the organisation's and every project's (the provider's `project` does not apply).",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
			},
		},
	}
}

func (r *credentialPolicyResource) ListResourceConfigSchema(_ context.Context, _ list.ListResourceSchemaRequest, resp *list.ListResourceSchemaResponse) {
	resp.Schema = policyListSchema("credential policy", "no rules")
}

func (r *modelPolicyResource) ListResourceConfigSchema(_ context.Context, _ list.ListResourceSchemaRequest, resp *list.ListResourceSchemaResponse) {
	resp.Schema = policyListSchema("model policy", "`mode = \"all\"`")
}

func (r *credentialPolicyResource) List(ctx context.Context, req list.ListRequest, stream *list.ListResultsStream) {
	listScopePolicies(ctx, req, stream, r.data, &r.kind)
}

func (r *modelPolicyResource) List(ctx context.Context, req list.ListRequest, stream *list.ListResultsStream) {
	listScopePolicies(ctx, req, stream, r.data, &r.kind)
}

// listScopePolicies pushes the written policy of each scope: the organisation's, then each project's
// in the API's order (one request per scope), or only the project of the config's project_id.
func listScopePolicies[M any](ctx context.Context, req list.ListRequest, stream *list.ListResultsStream, data *providerData, kind *policyKind[M]) {
	var cfg policyListConfig
	if !readListConfig(ctx, req, data, &cfg, stream) {
		return
	}
	rctx := data.requestContext(ctx)
	stream.Results = func(push func(list.ListResult) bool) {
		var pushed int64
		// scope pushes the policy of projectID when it has been written; false stops the listing.
		scope := func(projectID, display string, missingIsError bool) bool {
			var m M
			version, diags, err := kind.read(rctx, data.client, projectID, &m)
			if client.IsNotFound(err) && !missingIsError {
				return true // the project went while we listed
			}
			if err != nil {
				var d diag.Diagnostics
				addAPIError(&d, "Cannot list the "+kind.name+" of "+policyScope(projectID), err)
				push(list.ListResult{Diagnostics: d})
				return false
			}
			if version == 0 {
				return true
			}
			if req.Limit > 0 && pushed >= req.Limit {
				return false
			}
			result := req.NewListResult(ctx)
			result.DisplayName = display
			result.Diagnostics.Append(setPolicyIdentity(ctx, result.Identity, types.StringValue(projectID))...)
			if req.IncludeResource {
				result.Diagnostics.Append(diags...)
				result.Diagnostics.Append(result.Resource.Set(ctx, &m)...)
			}
			pushed++
			return push(result)
		}
		if id := cfg.ProjectID.ValueString(); id != "" {
			scope(id, kind.name+" of project "+id, true)
			return
		}
		if !scope("", kind.name+" of the organisation", true) {
			return
		}
		opts := client.ProjectListOptions{Limit: listPageSize}
		seen := map[string]bool{}
		for {
			page, err := data.client.ListProjects(rctx, opts)
			if err != nil {
				var d diag.Diagnostics
				addAPIError(&d, "Cannot list the projects whose "+kind.name+" to list", err)
				push(list.ListResult{Diagnostics: d})
				return
			}
			for _, p := range page.Items {
				if !scope(p.ID, kind.name+" of project "+p.Name+" ("+p.ID+")", false) {
					return
				}
			}
			if page.NextPageToken == "" || seen[page.NextPageToken] || ctx.Err() != nil {
				return
			}
			seen[page.NextPageToken] = true
			opts.PageToken = page.NextPageToken
		}
	}
}
