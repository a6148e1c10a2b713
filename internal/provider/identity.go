package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/identityschema"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// Resource identity (Terraform 1.12+): what identifies an object on the server, stored in state beside
// its attributes, so that `import { to = ..., identity = { id = "cred_..." } }` works and list resources
// (terraform query, 1.14+) can say what they found. Credentials, connections and projects are
// identified by their id; a model or credential policy by its scope, project_id ("" for the organisation's).

var (
	_ resource.ResourceWithIdentity = (*credentialResource)(nil)
	_ resource.ResourceWithIdentity = (*connectionResource)(nil)
	_ resource.ResourceWithIdentity = (*projectResource)(nil)
	_ resource.ResourceWithIdentity = (*modelPolicyResource)(nil)
)

// idIdentity is the identity of the resources identified by their id.
type idIdentity struct {
	ID types.String `tfsdk:"id"`
}

// policyIdentity is the identity of a model policy: its scope.
type policyIdentity struct {
	ProjectID types.String `tfsdk:"project_id"`
}

func idIdentitySchema(what, prefix string) identityschema.Schema {
	return identityschema.Schema{
		Attributes: map[string]identityschema.Attribute{
			"id": identityschema.StringAttribute{
				Description:       "The " + what + "'s id, `" + prefix + "...`.",
				RequiredForImport: true,
			},
		},
	}
}

func (r *credentialResource) IdentitySchema(_ context.Context, _ resource.IdentitySchemaRequest, resp *resource.IdentitySchemaResponse) {
	resp.IdentitySchema = idIdentitySchema("credential", "cred_")
}

func (r *connectionResource) IdentitySchema(_ context.Context, _ resource.IdentitySchemaRequest, resp *resource.IdentitySchemaResponse) {
	resp.IdentitySchema = idIdentitySchema("connection", "conn_")
}

func (r *projectResource) IdentitySchema(_ context.Context, _ resource.IdentitySchemaRequest, resp *resource.IdentitySchemaResponse) {
	resp.IdentitySchema = idIdentitySchema("project", "proj_")
}

func (r *modelPolicyResource) IdentitySchema(_ context.Context, _ resource.IdentitySchemaRequest, resp *resource.IdentitySchemaResponse) {
	resp.IdentitySchema = policyIdentitySchema() // policy_list_resources.go, shared with modelkeys_credential_policy
}

// setIDIdentity records id as the identity; identity is nil where Terraform does not support it.
func setIDIdentity(ctx context.Context, identity *tfsdk.ResourceIdentity, id types.String) diag.Diagnostics {
	if identity == nil || id.IsNull() || id.IsUnknown() {
		return nil
	}
	return identity.Set(ctx, idIdentity{ID: id})
}

// setPolicyIdentity records a policy's scope as its identity: "" for the organisation's.
func setPolicyIdentity(ctx context.Context, identity *tfsdk.ResourceIdentity, projectID types.String) diag.Diagnostics {
	if identity == nil || projectID.IsUnknown() {
		return nil
	}
	return identity.Set(ctx, policyIdentity{ProjectID: types.StringValue(projectID.ValueString())})
}

// importByID imports from `terraform import ADDR ID`, an import block's id, or its identity = { id = ... }.
func importByID(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughWithIdentity(ctx, path.Root("id"), path.Root("id"), req, resp)
	if req.ID != "" && resp.Identity != nil && !resp.Diagnostics.HasError() {
		resp.Diagnostics.Append(setIDIdentity(ctx, resp.Identity, types.StringValue(req.ID))...)
	}
}
