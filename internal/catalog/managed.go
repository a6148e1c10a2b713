package catalog

import (
	"fmt"
	"slices"
	"strings"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

// Managed rotation: which providers have an admin API that mints and revokes inference keys, what
// their admin key is, and which settings of a managed credential scope its keys. The Terraform provider
// checks configurations with these rules at plan time and the server checks requests with them.

// managedSupport is one provider's admin API.
type managedSupport struct {
	// adminKey says what an admin credential's api_key holds.
	adminKey string
	// scope are the settings a managed credential must set (the vendor's scope of its keys).
	scope []string
	// mint says how a rotation makes a key, for messages and docs.
	mint string
	// apart is true when the admin key goes elsewhere than the inference keys (Azure: Entra ID and
	// Resource Manager), so the two credentials need not share a destination.
	apart bool
	// adminAuth is the auth_method an admin credential must use ("" any).
	adminAuth string
}

var managedProviders = map[string]managedSupport{
	"openai": {
		adminKey: "an OpenAI admin key (sk-admin-...), made by an organisation owner",
		scope:    []string{"project"},
		mint:     "a new service account of the project, whose key is the credential's key",
	},
	"openrouter": {
		adminKey: "an OpenRouter management (provisioning) key",
		mint:     "a new API key",
	},
	"litellm": {
		adminKey: "the LiteLLM proxy's master key",
		mint:     "a new virtual key (/key/generate), the old one deleted after the overlap",
	},
	"bedrock": {
		adminKey:  "an IAM secret access key (auth_method sigv4 with access_key_id) allowed iam:CreateServiceSpecificCredential, iam:DeleteServiceSpecificCredential and iam:ListServiceSpecificCredentials on the user in iam_user_name",
		scope:     []string{"iam_user_name"},
		mint:      "a new Bedrock API key (an IAM service-specific credential for bedrock.amazonaws.com) of the IAM user",
		apart:     true,
		adminAuth: "sigv4",
	},
	"azure_openai":     azureManaged,
	"azure_ai_foundry": azureManaged,
}

var azureManaged = managedSupport{
	adminKey:  "the client secret of a Microsoft Entra ID service principal (auth_method entra_id, tenant_id, client_id) allowed to call listKeys and regenerateKey on the resource (Cognitive Services Contributor)",
	scope:     []string{"subscription_id", "resource_group", "account_name"},
	mint:      "the resource's other key (key1 and key2 alternate) by Azure Resource Manager's regenerateKey",
	apart:     true,
	adminAuth: "entra_id",
}

// ManagedAdminApart reports whether provider id's admin key goes elsewhere than its inference keys,
// so a managed credential and its admin credential need not share a destination.
func ManagedAdminApart(id string) bool { return managedProviders[id].apart }

// ManagedRotationProviders lists the providers that support purpose "admin" and managed rotation.
func ManagedRotationProviders() []string {
	out := make([]string, 0, len(managedProviders))
	for id := range managedProviders {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// SupportsManagedRotation reports whether provider id has an admin API modelkeys can rotate keys with.
func SupportsManagedRotation(id string) bool {
	_, ok := managedProviders[id]
	return ok
}

// ManagedRotationScope lists the settings a managed credential of provider id must set.
func ManagedRotationScope(id string) []string { return managedProviders[id].scope }

// IsManaged reports whether r is a managed rotation.
func IsManaged(r *api.CredentialRotation) bool {
	return r != nil && r.Mode == api.RotationModeManaged
}

// PurposeOrDefault is purpose, or "inference" when it is empty.
func PurposeOrDefault(purpose string) string {
	if purpose == "" {
		return api.PurposeInference
	}
	return purpose
}

// ValidatePurposeAndRotation checks a credential's purpose and rotation against its provider and
// settings; hasAPIKey says whether the request carries a key (a managed credential must not). It
// returns the overlap in canonical spelling ("" when there is no managed rotation).
func ValidatePurposeAndRotation(providerID, purpose string, r *api.CredentialRotation, settings map[string]string, hasAPIKey bool) (string, []api.FieldError) {
	var fields []api.FieldError
	purpose = PurposeOrDefault(purpose)
	if !slices.Contains(api.Purposes, purpose) {
		fields = append(fields, api.FieldError{Field: "purpose", Message: fmt.Sprintf("purpose must be one of %s, not %q.", quotedList(api.Purposes), purpose)})
		return "", fields
	}
	sup, supported := managedProviders[providerID]
	if purpose == api.PurposeAdmin {
		if !supported {
			fields = append(fields, api.FieldError{Field: "purpose", Message: fmt.Sprintf("provider %q has no admin API that modelkeys uses; purpose \"admin\" is for %s.", providerID, strings.Join(ManagedRotationProviders(), ", "))})
		}
		if r != nil && r.Mode != "" {
			fields = append(fields, api.FieldError{Field: "rotation", Message: "an admin credential's own key is set by hand: remove rotation (managed rotation is for the inference credentials the admin key mints)."})
		}
		if p, ok := Provider(providerID); ok && supported && sup.adminAuth != "" && AuthMethod(p, settings) != sup.adminAuth {
			fields = append(fields, api.FieldError{Field: "settings.auth_method", Message: fmt.Sprintf("an admin credential of %s holds %s: set auth_method = %q with tenant_id and client_id.", providerID, sup.adminKey, sup.adminAuth)})
		}
		return "", fields
	}
	if r == nil || r.Mode == "" {
		return "", nil
	}
	if r.Mode != api.RotationModeManaged {
		return "", append(fields, api.FieldError{Field: "rotation.mode", Message: fmt.Sprintf("rotation.mode must be %q, not %q.", api.RotationModeManaged, r.Mode)})
	}
	switch {
	case providerID == "anthropic":
		return "", append(fields, api.FieldError{Field: "rotation.mode", Message: "Anthropic has no API that creates keys, so modelkeys cannot rotate them: use a keyless credential instead (settings.auth_method = \"workload_identity\"), whose short-lived tokens need no rotation, or set the key by hand."})
	case !supported:
		return "", append(fields, api.FieldError{Field: "rotation.mode", Message: fmt.Sprintf("provider %q has no admin API that modelkeys can mint keys with; managed rotation supports %s. Set the key by hand (api_key) and use rotation_period to be reminded.", providerID, strings.Join(ManagedRotationProviders(), ", "))})
	}
	if r.AdminCredentialID == "" {
		fields = append(fields, api.FieldError{Field: "rotation.admin_credential_id", Message: fmt.Sprintf("rotation.admin_credential_id is required: the id of a %s credential of purpose \"admin\" holding %s.", providerID, sup.adminKey)})
	}
	overlap := api.DefaultRotationOverlap
	if r.Overlap != "" {
		overlap = r.Overlap
	}
	norm, err := NormalizeDuration(overlap)
	if err != nil {
		fields = append(fields, api.FieldError{Field: "rotation.overlap", Message: "rotation.overlap: " + err.Error() + "."})
	}
	for _, s := range sup.scope {
		if strings.TrimSpace(settings[s]) == "" {
			fields = append(fields, api.FieldError{Field: "settings." + s, Message: fmt.Sprintf("settings.%s is required for managed rotation: %s mints %s there.", s, providerID, sup.mint)})
		}
	}
	if hasAPIKey {
		fields = append(fields, api.FieldError{Field: api.SecretAPIKey, Message: "a managed credential takes no api_key: modelkeys mints its key through the admin credential. Remove api_key (and api_key_wo); to bring an existing key under management, see the guide \"Keys that rotate themselves\"."})
	}
	if r.KeyID != "" || r.State != "" || r.PreviousKeyID != "" || r.PreviousKeyRevokeAt != nil || r.LastError != "" {
		fields = append(fields, api.FieldError{Field: "rotation", Message: "rotation.key_id, state, previous_key_id, previous_key_revoke_at and last_error are set by the server; send only mode, admin_credential_id and overlap."})
	}
	return norm, fields
}
