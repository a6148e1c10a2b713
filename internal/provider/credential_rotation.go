package provider

import (
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
)

// Admin credentials and managed rotation on modelkeys_credential (issue 35): the purpose and rotation
// attributes, their plan-time checks (the catalog's rules, as the server applies them), and how a
// rotation the server made is taken into state without a drift warning.

var rotationAttrTypes = map[string]attr.Type{
	"mode":                types.StringType,
	"admin_credential_id": types.StringType,
	"overlap":             types.StringType,
}

func credentialRotationAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"purpose": schema.StringAttribute{
			MarkdownDescription: "`inference` (the default): a key that connections use. `admin`: a vendor admin key that mints and revokes the keys of managed credentials " +
				"(an OpenAI admin key, an OpenRouter management key, a LiteLLM master key, the client secret of an Azure service principal with `auth_method = \"entra_id\"`, " +
				"an IAM secret access key with `auth_method = \"sigv4\"` for Bedrock), checked with a cheap admin read; it is never usable by connections, never revealed, " +
				"and only admin tokens may create or change it. Changing it replaces the credential.",
			Optional:      true,
			Computed:      true,
			Default:       stringdefault.StaticString(api.PurposeInference),
			Validators:    []validator.String{stringvalidator.OneOf(api.Purposes...)},
			PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
		},
		"rotation": schema.SingleNestedAttribute{
			MarkdownDescription: "Managed rotation: modelkeys mints this credential's keys itself through the admin credential, so the credential has no `api_key`. " +
				"On create it mints the first key; when `rotation_due_at` passes (see `rotation_period`), or when asked (the `modelkeys_credential_rotate` action, " +
				"`POST /v1/credentials/{id}/rotate`, the console), it mints a new key, verifies it, switches to it and revokes the old one at the vendor when `overlap` ends. " +
				"A managed rotation moves `secret_version`, `secret_fingerprint`, `secret_hint` and `rotated_at`; the refresh takes that in without a drift warning. " +
				"Supported providers: " + quotedList(catalog.ManagedRotationProviders()) + " (OpenAI needs `settings.project`; Azure `subscription_id`, `resource_group` and `account_name`; Bedrock `iam_user_name`, an IAM user dedicated to this credential). " +
				"Anthropic has no API that creates keys: use a keyless credential (`settings.auth_method = \"workload_identity\"`) instead.",
			Optional: true,
			Attributes: map[string]schema.Attribute{
				"mode": schema.StringAttribute{
					MarkdownDescription: "`managed`.",
					Required:            true,
					Validators:          []validator.String{stringvalidator.OneOf(api.RotationModeManaged)},
				},
				"admin_credential_id": schema.StringAttribute{
					MarkdownDescription: "Id of a `modelkeys_credential` of the same provider and destination with `purpose = \"admin\"`.",
					Required:            true,
				},
				"overlap": schema.StringAttribute{
					MarkdownDescription: "How long the previous key keeps working after a switch, so clients that read it can move to the new one: `1h` (the default), `30m`, `1d`.",
					Optional:            true,
					Validators:          []validator.String{stringCheck{description: "a duration such as 1h or 1d", check: catalog.ValidateDuration}},
				},
			},
		},
	}
}

// rotationFromModel reads the rotation attribute; nil when it is null (or unknown).
func rotationFromModel(o types.Object) *api.CredentialRotation {
	if o.IsNull() || o.IsUnknown() {
		return nil
	}
	attrs := o.Attributes()
	str := func(name string) string {
		if v, ok := attrs[name].(basetypes.StringValue); ok {
			return v.ValueString()
		}
		return ""
	}
	return &api.CredentialRotation{Mode: str("mode"), AdminCredentialID: str("admin_credential_id"), Overlap: str("overlap")}
}

// rotationKnown reports whether every value of the rotation attribute is known.
func rotationKnown(o types.Object) bool {
	if o.IsUnknown() {
		return false
	}
	for _, v := range o.Attributes() {
		if v.IsUnknown() {
			return false
		}
	}
	return true
}

// rotationToModel writes the server's rotation into the attribute, keeping the prior overlap's
// spelling when it means the same duration ("60m" and "1h").
func rotationToModel(r *api.CredentialRotation, prior types.Object) (types.Object, diag.Diagnostics) {
	if r == nil || r.Mode == "" {
		return types.ObjectNull(rotationAttrTypes), nil
	}
	overlap := types.StringValue(r.Overlap)
	if p := rotationFromModel(prior); p != nil {
		switch {
		case p.Overlap == "" && catalog.DurationsEqual(r.Overlap, api.DefaultRotationOverlap):
			overlap = types.StringNull()
		case p.Overlap != "" && catalog.DurationsEqual(p.Overlap, r.Overlap):
			overlap = types.StringValue(p.Overlap)
		}
	} else if catalog.DurationsEqual(r.Overlap, api.DefaultRotationOverlap) {
		overlap = types.StringNull()
	}
	return types.ObjectValue(rotationAttrTypes, map[string]attr.Value{
		"mode": types.StringValue(r.Mode), "admin_credential_id": types.StringValue(r.AdminCredentialID), "overlap": overlap,
	})
}

// validateRotationConfig applies the catalog's rules of purpose and rotation at plan time.
func validateRotationConfig(cfg *credentialModel, settings map[string]string, hasKey bool, diags *diag.Diagnostics) {
	if cfg.Purpose.IsUnknown() || !rotationKnown(cfg.Rotation) {
		return
	}
	_, fields := catalog.ValidatePurposeAndRotation(cfg.ModelProvider.ValueString(), cfg.Purpose.ValueString(), rotationFromModel(cfg.Rotation), settings, hasKey)
	for _, f := range fields {
		at := wireToPath(f.Field)
		switch f.Field {
		case "purpose":
			at = path.Root("purpose")
		case "rotation":
			at = path.Root("rotation")
		case "rotation.mode", "rotation.admin_credential_id", "rotation.overlap":
			at = path.Root("rotation").AtName(f.Field[len("rotation."):])
		case api.SecretAPIKey:
			if !cfg.APIKeyWO.IsNull() {
				at = path.Root("api_key_wo")
			}
		}
		diags.AddAttributeError(at, "Invalid credential configuration", f.Message)
	}
}

// managedInConfig reports whether the configuration asks for managed rotation.
func managedInConfig(cfg *credentialModel) bool {
	return catalog.IsManaged(rotationFromModel(cfg.Rotation))
}

// rotationPatch is the patch's rotation for a change from state to plan; nil when it did not change.
func rotationPatch(plan, state *credentialModel) *api.CredentialRotation {
	if plan.Rotation.Equal(state.Rotation) {
		return nil
	}
	if r := rotationFromModel(plan.Rotation); r != nil {
		return r
	}
	return &api.CredentialRotation{} // mode "": managed rotation ends, the key stays
}

// managedRotationMoved reports whether a change of the secret seen at refresh is the server's own
// managed rotation: the credential is managed on the server and in state. A key changed by hand on a
// managed credential needs its management ended first, which the server shows, so it stays drift.
func managedRotationMoved(state *credentialModel, c *api.Credential) bool {
	return catalog.IsManaged(c.Rotation) && managedInConfig(state)
}
