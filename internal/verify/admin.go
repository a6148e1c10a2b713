package verify

// The vendors' admin APIs, for managed rotation: a cheap read that proves an admin key works, and
// mint, find and revoke of inference keys. The service calls them through its AdminAPI interface
// (service.AdminAPI), outside any transaction; every request goes through the same egress policy,
// redirect rule and bounded reads as the probes. No answer's body is echoed beyond a provider's
// documented error message, redacted; a minted key appears only in the MintedKey returned.
//
// By provider (following the vendors' documentation):
//
//   - openai: admin key as "Authorization: Bearer". Check: GET {base}/organization/projects?limit=1.
//     Mint: POST {base}/organization/projects/{project}/service_accounts {"name": NAME}, whose answer
//     carries the new service account's id and its key (api_key.value): the key id is the service
//     account's id. Find: GET .../service_accounts?limit=100 (paged with after) by name. Revoke:
//     DELETE .../service_accounts/{id}, which deletes the account and its key.
//   - openrouter: management (provisioning) key as bearer. Check: GET {base}/keys. Mint: POST
//     {base}/keys {"name": NAME}, answer {"data": {"hash": ...}, "key": "sk-or-v1-..."}: the key id is
//     the hash. Find: GET {base}/keys?include_disabled=true&offset=N by name. Revoke: DELETE
//     {base}/keys/{hash}.
//   - litellm: master key as bearer. Check: GET {base}/key/list?page=1&size=1 (an admin-only list).
//     Mint: POST {base}/key/generate {"key_alias": NAME}, answer {"key": "sk-...", "token": HASH}: the
//     key id is the token (the key's hash), never the key. Find: GET
//     {base}/key/list?key_alias=NAME&return_full_object=true. Revoke: POST {base}/key/delete
//     {"keys": [TOKEN]}. LiteLLM's /key/regenerate is not used: it invalidates the old key at once,
//     which leaves no overlap.
//
// A revoke of a key the vendor no longer has (404) succeeds: the key is gone either way.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

// adminDefaultBases are the base URLs of admin APIs whose provider the catalog may not give one for.
var adminDefaultBases = map[string]string{
	"openai":     "https://api.openai.com/v1",
	"openrouter": "https://openrouter.ai/api/v1",
}

// AdminError is a failure of an admin API call. Refused is true when the vendor refused the admin key
// (401 or 403): the admin credential needs a new key.
type AdminError struct {
	Refused bool
	Blocked bool
	Msg     string
}

func (e *AdminError) Error() string { return e.Msg }

// Is lets callers recognise an egress refusal.
func (e *AdminError) Is(target error) bool { return e.Blocked && target == api.ErrEgressRefused }

func (v *Verifier) adminBase(p api.Provider, adminSettings map[string]string) (string, error) {
	fallback := p.DefaultBaseURL
	if fallback == "" {
		fallback = adminDefaultBases[p.ID]
	}
	b, err := v.base(p, adminSettings, "base_url", fallback)
	if err != nil {
		return "", &AdminError{Msg: err.Error()}
	}
	return b, nil
}

// adminCall sends one admin request and decodes a 2xx JSON answer into out (when not nil).
func (v *Verifier) adminCall(ctx context.Context, method, rawURL string, key string, body any, out any, red func(string) string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, v.timeout)
	defer cancel()
	var rd *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	var req *http.Request
	var err error
	if rd != nil {
		req, err = http.NewRequestWithContext(ctx, method, rawURL, rd)
	} else {
		req, err = http.NewRequestWithContext(ctx, method, rawURL, nil)
	}
	if err != nil {
		return 0, &AdminError{Msg: "cannot build the request: " + red(err.Error())}
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", "modelkeys-rotate")
	status, respBody, err := v.do(ctx, req)
	if err != nil {
		if e, ok := asEgress(err); ok {
			return 0, &AdminError{Blocked: true, Msg: e.Error()}
		}
		return 0, &AdminError{Msg: red(v.transportError(err))}
	}
	switch {
	case status >= 200 && status < 300:
		if out != nil {
			if err := json.Unmarshal(respBody, out); err != nil {
				return status, &AdminError{Msg: fmt.Sprintf("%s %s: HTTP %d, but the answer is not the documented JSON", method, redactURL(rawURL), status)}
			}
		}
		return status, nil
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return status, &AdminError{Refused: true, Msg: summary(status, respBody, red)}
	}
	return status, &AdminError{Msg: summary(status, respBody, red)}
}

// VerifyAdmin checks an admin key with the vendor's cheapest admin read.
func (v *Verifier) VerifyAdmin(ctx context.Context, p api.Provider, settings, secrets map[string]string) api.VerifyResult {
	red := newRedactor(secrets)
	key := secrets[api.SecretAPIKey]
	if key == "" {
		return api.VerifyResult{Refused: true, Message: "no api_key to check"}
	}
	if p.ID == "bedrock" {
		if err := v.bedrockVerifyAdmin(ctx, settings, secrets); err != nil {
			var ae *AdminError
			if errors.As(err, &ae) {
				return api.VerifyResult{Refused: ae.Refused, Blocked: ae.Blocked, Message: ae.Msg}
			}
			return api.VerifyResult{Message: red(err.Error())}
		}
		return api.VerifyResult{OK: true, Message: "IAM accepted the access key."}
	}
	if p.ID == "azure_openai" || p.ID == "azure_ai_foundry" {
		if err := v.azureVerifyAdmin(ctx, settings, secrets); err != nil {
			var ae *AdminError
			if errors.As(err, &ae) {
				return api.VerifyResult{Refused: ae.Refused, Blocked: ae.Blocked, Message: ae.Msg}
			}
			return api.VerifyResult{Message: red(err.Error())}
		}
		return api.VerifyResult{OK: true, Message: "Azure Resource Manager accepted the service principal."}
	}
	base, err := v.adminBase(p, settings)
	if err != nil {
		return api.VerifyResult{Message: err.Error()}
	}
	var u string
	switch p.ID {
	case "openai":
		u = base + "/organization/projects?limit=1"
	case "openrouter":
		u = base + "/keys"
	case "litellm":
		u = base + "/key/list?page=1&size=1"
	default:
		return api.VerifyResult{Refused: true, Message: fmt.Sprintf("provider %q has no admin API modelkeys uses", p.ID)}
	}
	if _, err := v.adminCall(ctx, http.MethodGet, u, key, nil, nil, red); err != nil {
		var ae *AdminError
		if errors.As(err, &ae) {
			return api.VerifyResult{Refused: ae.Refused, Blocked: ae.Blocked, Message: ae.Msg}
		}
		return api.VerifyResult{Message: red(err.Error())}
	}
	return api.VerifyResult{OK: true, Message: "The provider accepted the admin key."}
}

// MintKey makes a new inference key at the vendor, named r.Name.
func (v *Verifier) MintKey(ctx context.Context, r api.AdminKeyRequest) (api.MintedKey, error) {
	if r.Provider.ID == "azure_openai" || r.Provider.ID == "azure_ai_foundry" {
		return v.azureMint(ctx, r)
	}
	if r.Provider.ID == "bedrock" {
		return v.bedrockMint(ctx, r)
	}
	red := newRedactor(r.AdminSecrets)
	base, err := v.adminBase(r.Provider, r.AdminSettings)
	if err != nil {
		return api.MintedKey{}, err
	}
	key := r.AdminSecrets[api.SecretAPIKey]
	var out api.MintedKey
	switch r.Provider.ID {
	case "openai":
		var ans struct {
			ID     string `json:"id"`
			APIKey *struct {
				Value string `json:"value"`
				ID    string `json:"id"`
			} `json:"api_key"`
		}
		if _, err := v.adminCall(ctx, http.MethodPost, base+"/organization/projects/"+url.PathEscape(r.Settings["project"])+"/service_accounts",
			key, map[string]any{"name": r.Name}, &ans, red); err != nil {
			return out, err
		}
		out.KeyID = ans.ID
		if ans.APIKey != nil {
			out.Secret = ans.APIKey.Value
		}
	case "openrouter":
		var ans struct {
			Data struct {
				Hash string `json:"hash"`
			} `json:"data"`
			Key string `json:"key"`
		}
		if _, err := v.adminCall(ctx, http.MethodPost, base+"/keys", key, map[string]any{"name": r.Name}, &ans, red); err != nil {
			return out, err
		}
		out.KeyID, out.Secret = ans.Data.Hash, ans.Key
	case "litellm":
		var ans struct {
			Key     string `json:"key"`
			Token   string `json:"token"`
			TokenID string `json:"token_id"`
		}
		if _, err := v.adminCall(ctx, http.MethodPost, base+"/key/generate", key,
			map[string]any{"key_alias": r.Name, "metadata": map[string]string{"managed_by": "modelkeys"}}, &ans, red); err != nil {
			return out, err
		}
		out.KeyID, out.Secret = ans.Token, ans.Key
		if out.KeyID == "" {
			out.KeyID = ans.TokenID
		}
	default:
		return out, &AdminError{Msg: fmt.Sprintf("provider %q has no admin API modelkeys uses", r.Provider.ID)}
	}
	if out.KeyID == "" || out.Secret == "" {
		// The vendor made something we cannot use or name; FindKey by name cleans it up.
		return api.MintedKey{}, &AdminError{Msg: fmt.Sprintf("%s answered the key creation without the documented key and key id", r.Provider.DisplayName)}
	}
	return out, nil
}

// FindKey looks for the key named r.Name (a mint whose answer was lost) and returns its id.
func (v *Verifier) FindKey(ctx context.Context, r api.AdminKeyRequest) (string, bool, error) {
	if r.Provider.ID == "azure_openai" || r.Provider.ID == "azure_ai_foundry" {
		return "", false, nil // slots, not named keys: see admin_azure.go
	}
	if r.Provider.ID == "bedrock" {
		return v.bedrockFind(ctx, r)
	}
	red := newRedactor(r.AdminSecrets)
	base, err := v.adminBase(r.Provider, r.AdminSettings)
	if err != nil {
		return "", false, err
	}
	key := r.AdminSecrets[api.SecretAPIKey]
	const maxPages = 100
	switch r.Provider.ID {
	case "openai":
		after := ""
		for range maxPages {
			u := base + "/organization/projects/" + url.PathEscape(r.Settings["project"]) + "/service_accounts?limit=100"
			if after != "" {
				u += "&after=" + url.QueryEscape(after)
			}
			var ans struct {
				Data []struct {
					ID   string `json:"id"`
					Name string `json:"name"`
				} `json:"data"`
				HasMore bool   `json:"has_more"`
				LastID  string `json:"last_id"`
			}
			if _, err := v.adminCall(ctx, http.MethodGet, u, key, nil, &ans, red); err != nil {
				return "", false, err
			}
			for _, d := range ans.Data {
				if d.Name == r.Name {
					return d.ID, true, nil
				}
			}
			if !ans.HasMore || ans.LastID == "" {
				return "", false, nil
			}
			after = ans.LastID
		}
	case "openrouter":
		offset := 0
		for range maxPages {
			var ans struct {
				Data []struct {
					Hash string `json:"hash"`
					Name string `json:"name"`
				} `json:"data"`
			}
			if _, err := v.adminCall(ctx, http.MethodGet, base+"/keys?include_disabled=true&offset="+strconv.Itoa(offset), key, nil, &ans, red); err != nil {
				return "", false, err
			}
			for _, d := range ans.Data {
				if d.Name == r.Name {
					return d.Hash, true, nil
				}
			}
			if len(ans.Data) == 0 {
				return "", false, nil
			}
			offset += len(ans.Data)
		}
	case "litellm":
		var ans struct {
			Keys []json.RawMessage `json:"keys"`
		}
		if _, err := v.adminCall(ctx, http.MethodGet, base+"/key/list?return_full_object=true&key_alias="+url.QueryEscape(r.Name), key, nil, &ans, red); err != nil {
			return "", false, err
		}
		for _, raw := range ans.Keys {
			var k struct {
				Token    string `json:"token"`
				KeyAlias string `json:"key_alias"`
			}
			if json.Unmarshal(raw, &k) == nil && k.KeyAlias == r.Name && k.Token != "" {
				return k.Token, true, nil
			}
		}
		return "", false, nil
	default:
		return "", false, &AdminError{Msg: fmt.Sprintf("provider %q has no admin API modelkeys uses", r.Provider.ID)}
	}
	return "", false, &AdminError{Msg: "the vendor's key list did not end after 100 pages"}
}

// RevokeKey deletes the key r.KeyID at the vendor; a key already gone is not an error.
func (v *Verifier) RevokeKey(ctx context.Context, r api.AdminKeyRequest) error {
	if r.Provider.ID == "azure_openai" || r.Provider.ID == "azure_ai_foundry" {
		if r.KeyID == "" {
			return nil
		}
		_, err := v.azureRegenerate(ctx, r, r.KeyID) // its old value stops working
		return err
	}
	if r.Provider.ID == "bedrock" {
		if r.KeyID == "" {
			return nil
		}
		return v.bedrockRevoke(ctx, r)
	}
	red := newRedactor(r.AdminSecrets)
	base, err := v.adminBase(r.Provider, r.AdminSettings)
	if err != nil {
		return err
	}
	if r.KeyID == "" {
		return nil
	}
	key := r.AdminSecrets[api.SecretAPIKey]
	var status int
	switch r.Provider.ID {
	case "openai":
		status, err = v.adminCall(ctx, http.MethodDelete, base+"/organization/projects/"+url.PathEscape(r.Settings["project"])+"/service_accounts/"+url.PathEscape(r.KeyID), key, nil, nil, red)
	case "openrouter":
		status, err = v.adminCall(ctx, http.MethodDelete, base+"/keys/"+url.PathEscape(r.KeyID), key, nil, nil, red)
	case "litellm":
		status, err = v.adminCall(ctx, http.MethodPost, base+"/key/delete", key, map[string]any{"keys": []string{r.KeyID}}, nil, red)
	default:
		return &AdminError{Msg: fmt.Sprintf("provider %q has no admin API modelkeys uses", r.Provider.ID)}
	}
	if status == http.StatusNotFound {
		return nil
	}
	return err
}
