package verify

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
)

// EntraAuthority is the Microsoft Entra ID authority that Azure credentials with auth_method
// entra_id exchange their client secret at. Options.BaseURLs[EntraBaseURLKey] (the server's
// --provider-base-url azure_entra=URL) replaces it, for a sovereign cloud or a test.
const EntraAuthority = "https://login.microsoftonline.com"

// EntraBaseURLKey is the key of Options.BaseURLs (and of --provider-base-url) that overrides
// EntraAuthority. It names an endpoint, not a provider.
const EntraBaseURLKey = "azure_entra"

// cognitiveServicesScope is the OAuth scope of Azure OpenAI and Azure AI Foundry data-plane calls.
const cognitiveServicesScope = "https://cognitiveservices.azure.com/.default"

// entraTenant is the shape of a tenant id: a GUID or a domain name (contoso.onmicrosoft.com).
var entraTenant = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$`)

// azureAuthorize puts an Azure credential's authentication on the probe: the api-key header, or
// with auth_method entra_id a bearer token got from Microsoft Entra ID by the client credentials
// grant, the client secret being api_key.
func (v *Verifier) azureAuthorize(ctx context.Context, p api.Provider, settings map[string]string, key string, req *http.Request) error {
	if catalog.AuthMethod(p, settings) != "entra_id" {
		req.Header.Set("api-key", key)
		return nil
	}
	tenant, client := strings.TrimSpace(settings["tenant_id"]), strings.TrimSpace(settings["client_id"])
	if tenant == "" || client == "" {
		return refused("auth_method entra_id needs the settings tenant_id and client_id")
	}
	if !entraTenant.MatchString(tenant) {
		return refused("tenant_id %q is not a Microsoft Entra ID tenant id (a GUID, or a domain such as contoso.onmicrosoft.com)", tenant)
	}
	authority := v.baseURLs[EntraBaseURLKey]
	if authority == "" {
		authority = EntraAuthority
	}
	if err := checkURL(authority); err != nil {
		return outage("cannot check the key: %v", err)
	}
	tokenURL := strings.TrimRight(authority, "/") + "/" + url.PathEscape(tenant) + "/oauth2/v2.0/token"
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {client},
		"client_secret": {key},
		"scope":         {cognitiveServicesScope},
	}
	token, err := v.postToken(ctx, tokenURL, form, newRedactor(map[string]string{"api_key": key}), entraRefusal)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	return nil
}

// entraRefusal: Entra ID answers a wrong secret, an unknown client or tenant with 400 or 401 and an
// OAuth error code (invalid_client, unauthorized_client, invalid_request, ...), RFC 6749 5.2.
func entraRefusal(status int, body []byte) bool {
	if status == http.StatusUnauthorized || status == http.StatusForbidden {
		return true
	}
	return status == http.StatusBadRequest && oauthError(body) != ""
}

// googleRefusal: Google answers a deleted or disabled key, or a wrong signature, with invalid_grant.
func googleRefusal(status int, body []byte) bool {
	if status == http.StatusUnauthorized || status == http.StatusForbidden {
		return true
	}
	return status == http.StatusBadRequest && oauthError(body) == "invalid_grant"
}

// oauthError returns the error code of an RFC 6749 error answer, or "".
func oauthError(body []byte) string {
	var e struct {
		Error any `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	code, _ := e.Error.(string)
	if !oauthErrorCode.MatchString(code) {
		return ""
	}
	return code
}

// postToken POSTs a token request and returns the access token. An answer that refusedOn accepts is
// a refusal, summarised with the OAuth error and its description; other failures are outages.
func (v *Verifier) postToken(ctx context.Context, tokenURL string, form url.Values, red func(string) string, refusedOn func(int, []byte) bool) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", outage("cannot build the token request: %v", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	status, body, err := v.do(ctx, req)
	if err != nil {
		if e, ok := asEgress(err); ok {
			return "", &failure{blocked: true, msg: "token exchange: " + e.Error()}
		}
		return "", outage("token exchange: %s", v.transportError(err))
	}
	if status < 200 || status >= 300 {
		msg := "token exchange: " + summary(status, body, red)
		if refusedOn(status, body) {
			return "", refused("%s", msg)
		}
		return "", outage("%s", msg)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		return "", outage("token exchange: the answer has no access_token")
	}
	return tok.AccessToken, nil
}
