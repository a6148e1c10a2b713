package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/resourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
)

// The checks of a modelkeys_credential configuration made at plan time: the same catalog rules the
// server applies, so a mistake shows before apply.

func (r *credentialResource) ConfigValidators(context.Context) []resource.ConfigValidator {
	// Each of these can object only when a write-only secret or its version is set; the gate skips
	// them (and their walks of the whole configuration) otherwise. See whenAnySet.
	return []resource.ConfigValidator{whenAnySet{
		attrs: []string{"api_key_wo", "api_key_wo_version", "auth_token_wo", "auth_token_wo_version"},
		validators: []resource.ConfigValidator{
			resourcevalidator.Conflicting(path.MatchRoot("api_key"), path.MatchRoot("api_key_wo")),
			resourcevalidator.RequiredTogether(path.MatchRoot("api_key_wo"), path.MatchRoot("api_key_wo_version")),
			resourcevalidator.Conflicting(path.MatchRoot("auth_token"), path.MatchRoot("auth_token_wo")),
			resourcevalidator.RequiredTogether(path.MatchRoot("auth_token_wo"), path.MatchRoot("auth_token_wo_version")),
		},
	}}
}

// ValidateConfig checks settings and secrets against the catalog, the same check the server makes, so
// mistakes show at plan time.
func (r *credentialResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var cfg credentialModel
	resp.Diagnostics.Append(credentialCodec.getConfig(ctx, req.Config, &cfg)...)
	if resp.Diagnostics.HasError() || cfg.ModelProvider.IsUnknown() || cfg.ModelProvider.IsNull() || cfg.Settings.IsUnknown() {
		return
	}
	settings, known := knownStringMap(cfg.Settings)
	if !known {
		return
	}
	hasKey := !cfg.APIKey.IsNull() || !cfg.APIKeyWO.IsNull()
	hasToken := !cfg.AuthToken.IsNull() || !cfg.AuthTokenWO.IsNull()
	validateRotationConfig(&cfg, settings, hasKey, &resp.Diagnostics)
	fields := catalog.ValidateCredential(cfg.ModelProvider.ValueString(), settings, hasKey || managedInConfig(&cfg), hasToken)
	for _, f := range fields {
		if f.Field == "provider" {
			continue // the OneOf validator on model_provider says it already
		}
		if f.Field == api.SecretAPIKey && !hasKey {
			// Not an error of the configuration: an existing credential (imported, or written by
			// terraform query -generate-config-out) may leave its key to the server. Creating one
			// without a key is refused in ModifyPlan.
			continue
		}
		at := wireToPath(f.Field)
		switch { // a secret set in its write-only form is reported on the attribute the configuration uses
		case f.Field == api.SecretAPIKey && !cfg.APIKeyWO.IsNull():
			at = path.Root("api_key_wo")
		case f.Field == api.SecretAuthToken && !cfg.AuthTokenWO.IsNull():
			at = path.Root("auth_token_wo")
		}
		resp.Diagnostics.AddAttributeError(at, "Invalid credential configuration", f.Message)
	}
	for _, h := range catalog.CredentialHints(cfg.ModelProvider.ValueString(), settings) {
		resp.Diagnostics.AddAttributeWarning(wireToPath(h.Field), "Check the credential configuration", h.Message)
	}
}

// checkCreateHasKey refuses, at plan time, to create a credential of a provider that needs a key
// without one. (An existing credential may leave its key to the server; see ValidateConfig.)
func (r *credentialResource) checkCreateHasKey(cfg *credentialModel, diags *diag.Diagnostics) {
	if cfg.ModelProvider.IsUnknown() || cfg.ModelProvider.IsNull() || cfg.Settings.IsUnknown() || cfg.APIKey.IsUnknown() || cfg.APIKeyWO.IsUnknown() {
		return
	}
	settings, known := knownStringMap(cfg.Settings)
	if !known {
		return
	}
	hasKey := !cfg.APIKey.IsNull() || !cfg.APIKeyWO.IsNull()
	hasToken := !cfg.AuthToken.IsNull() || !cfg.AuthTokenWO.IsNull()
	if hasKey || managedInConfig(cfg) || !rotationKnown(cfg.Rotation) {
		return // a managed credential's key is minted by the server
	}
	for _, f := range catalog.ValidateCredential(cfg.ModelProvider.ValueString(), settings, hasKey, hasToken) {
		if f.Field == api.SecretAPIKey {
			diags.AddAttributeError(path.Root("api_key"), "Missing API key", f.Message+" Set api_key, or api_key_wo with api_key_wo_version.")
		}
	}
}
