package verify

// Azure OpenAI and Azure AI Foundry managed rotation, through Azure Resource Manager (the
// Microsoft.CognitiveServices/accounts operations listKeys and regenerateKey, api-version
// AzureCognitiveServicesAPIVersion). The admin credential is a Microsoft Entra ID service principal
// (auth_method entra_id: tenant_id, client_id, and its client secret as api_key); its token, of scope
// https://management.azure.com/.default, comes from the same Entra authority as the probes'.
//
// A resource has two keys, key1 and key2, always both valid: a rotation regenerates the one the
// credential does not use (the first one, key1, for a new credential), verifies it and switches to
// it; after the overlap it regenerates the one that was in use, so its old value stops working. The
// key id is the slot's name ("key1", "key2"). FindKey finds nothing: a regenerated value whose answer
// was lost is not usable by anyone, and the next regeneration of its slot replaces it.

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

// AzureManagement is Azure Resource Manager's endpoint; Options.BaseURLs[AzureManagementBaseURLKey]
// replaces it (a sovereign cloud, or a test).
const AzureManagement = "https://management.azure.com"

// AzureManagementBaseURLKey is the key of Options.BaseURLs that overrides AzureManagement.
const AzureManagementBaseURLKey = "azure_management"

// AzureCognitiveServicesAPIVersion is the api-version of the Resource Manager calls.
const AzureCognitiveServicesAPIVersion = "2023-05-01"

const azureManagementScope = "https://management.azure.com/.default"

// armToken gets a Resource Manager token for the admin credential's service principal.
func (v *Verifier) armToken(ctx context.Context, adminSettings map[string]string, secret string) (string, error) {
	tenant, client := strings.TrimSpace(adminSettings["tenant_id"]), strings.TrimSpace(adminSettings["client_id"])
	if tenant == "" || client == "" || !entraTenant.MatchString(tenant) {
		return "", &AdminError{Refused: true, Msg: "the admin credential needs auth_method entra_id with tenant_id and client_id"}
	}
	authority := v.baseURLs[EntraBaseURLKey]
	if authority == "" {
		authority = EntraAuthority
	}
	if err := checkURL(authority); err != nil {
		return "", &AdminError{Msg: err.Error()}
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {client}, "client_secret": {secret}, "scope": {azureManagementScope}}
	tok, err := v.postToken(ctx, strings.TrimRight(authority, "/")+"/"+url.PathEscape(tenant)+"/oauth2/v2.0/token", form,
		newRedactor(map[string]string{"api_key": secret}), entraRefusal)
	if err != nil {
		var f *failure
		if asFailure(err, &f) {
			return "", &AdminError{Refused: f.refused, Blocked: f.blocked, Msg: f.msg}
		}
		return "", &AdminError{Msg: err.Error()}
	}
	return tok, nil
}

func asFailure(err error, f **failure) bool {
	ff, ok := err.(*failure)
	if ok {
		*f = ff
	}
	return ok
}

func (v *Verifier) armBase() (string, error) {
	b := v.baseURLs[AzureManagementBaseURLKey]
	if b == "" {
		b = AzureManagement
	}
	if err := checkURL(b); err != nil {
		return "", &AdminError{Msg: err.Error()}
	}
	return strings.TrimRight(b, "/"), nil
}

func azureAccountPath(settings map[string]string) (string, error) {
	sub, rg, acct := strings.TrimSpace(settings["subscription_id"]), strings.TrimSpace(settings["resource_group"]), strings.TrimSpace(settings["account_name"])
	if sub == "" || rg == "" || acct == "" {
		return "", &AdminError{Msg: "managed rotation needs the settings subscription_id, resource_group and account_name"}
	}
	return "/subscriptions/" + url.PathEscape(sub) + "/resourceGroups/" + url.PathEscape(rg) +
		"/providers/Microsoft.CognitiveServices/accounts/" + url.PathEscape(acct), nil
}

func (v *Verifier) azureVerifyAdmin(ctx context.Context, settings, secrets map[string]string) error {
	red := newRedactor(secrets)
	tok, err := v.armToken(ctx, settings, secrets[api.SecretAPIKey])
	if err != nil {
		return err
	}
	red = redactorWith(red, tok)
	base, err := v.armBase()
	if err != nil {
		return err
	}
	_, err = v.adminCall(ctx, http.MethodGet, base+"/subscriptions?api-version=2022-12-01", tok, nil, nil, red)
	return err
}

// azureRegenerate regenerates slot ("key1" or "key2") and returns its new value.
func (v *Verifier) azureRegenerate(ctx context.Context, r api.AdminKeyRequest, slot string) (string, error) {
	red := newRedactor(r.AdminSecrets)
	tok, err := v.armToken(ctx, r.AdminSettings, r.AdminSecrets[api.SecretAPIKey])
	if err != nil {
		return "", err
	}
	red = redactorWith(red, tok) // the management token, too, never in a message
	base, err := v.armBase()
	if err != nil {
		return "", err
	}
	path, err := azureAccountPath(r.Settings)
	if err != nil {
		return "", err
	}
	var keys struct {
		Key1 string `json:"key1"`
		Key2 string `json:"key2"`
	}
	keyName := map[string]string{"key1": "Key1", "key2": "Key2"}[slot]
	if keyName == "" {
		return "", &AdminError{Msg: fmt.Sprintf("%q is not an Azure key slot (key1, key2)", slot)}
	}
	if _, err := v.adminCall(ctx, http.MethodPost, base+path+"/regenerateKey?api-version="+AzureCognitiveServicesAPIVersion, tok,
		map[string]string{"keyName": keyName}, &keys, red); err != nil {
		return "", err
	}
	if slot == "key1" {
		return keys.Key1, nil
	}
	return keys.Key2, nil
}

// azureMint regenerates the slot the credential does not use.
func (v *Verifier) azureMint(ctx context.Context, r api.AdminKeyRequest) (api.MintedKey, error) {
	slot := "key1"
	if r.CurrentKeyID == "key1" {
		slot = "key2"
	}
	secret, err := v.azureRegenerate(ctx, r, slot)
	if err != nil {
		return api.MintedKey{}, err
	}
	return api.MintedKey{KeyID: slot, Secret: secret}, nil
}
