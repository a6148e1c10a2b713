package provider

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

// Adopting a credential: after an import (or terraform query -generate-config-out), state holds no key
// and the configuration gains one (api_key, or api_key_wo with its version). Terraform cannot tell
// whether that key is the one the server already holds, so without help the plan would be a rotation:
// secret_version, fingerprint and hint known only after apply. ModifyPlan asks the server instead
// (POST /v1/credentials/{id}/secret-matches, which compares without writing). On a match it plans the
// computed values as they are and records in the plan's private state that the key is already there,
// and Update sends no secret: the update only puts the key into state.

// privateAdoptedKey is the private-state key of adoptedSecrets.
const privateAdoptedKey = "adopted_secrets"

// adoptedSecrets names the secrets that ModifyPlan found already on the server.
type adoptedSecrets struct {
	APIKey    bool `json:"api_key,omitempty"`
	AuthToken bool `json:"auth_token,omitempty"`
}

func (a adoptedSecrets) any() bool { return a.APIKey || a.AuthToken }

// secretsNewToState works out whether the only change of secret in this plan is secrets that the
// configuration holds and state does not (as after an import), and which; ok is false when any other
// change of secret is planned, or when a value is not known yet.
func secretsNewToState(plan, state, cfg *credentialModel) (in api.SecretMatch, which adoptedSecrets, ok bool) {
	// api_key / api_key_wo
	switch {
	case plan.APIKey.Equal(state.APIKey) && plan.APIKeyWOVersion.Equal(state.APIKeyWOVersion):
		// no change of the key
	case state.APIKey.IsNull() && state.APIKeyWOVersion.IsNull() && known(plan.APIKey) && plan.APIKeyWOVersion.IsNull():
		v := plan.APIKey.ValueString()
		in.APIKey, which.APIKey = &v, true
	case state.APIKey.IsNull() && state.APIKeyWOVersion.IsNull() && plan.APIKey.IsNull() && !plan.APIKeyWOVersion.IsNull() &&
		!plan.APIKeyWOVersion.IsUnknown() && known(cfg.APIKeyWO):
		v := cfg.APIKeyWO.ValueString()
		in.APIKey, which.APIKey = &v, true
	default:
		return api.SecretMatch{}, adoptedSecrets{}, false
	}
	// auth_token / auth_token_wo
	switch {
	case plan.AuthToken.Equal(state.AuthToken) && plan.AuthTokenWOVersion.Equal(state.AuthTokenWOVersion):
	case state.AuthToken.IsNull() && state.AuthTokenWOVersion.IsNull() && known(plan.AuthToken) && plan.AuthTokenWOVersion.IsNull():
		v := plan.AuthToken.ValueString()
		in.AuthToken, which.AuthToken = &v, true
	case state.AuthToken.IsNull() && state.AuthTokenWOVersion.IsNull() && plan.AuthToken.IsNull() && !plan.AuthTokenWOVersion.IsNull() &&
		!plan.AuthTokenWOVersion.IsUnknown() && known(cfg.AuthTokenWO):
		v := cfg.AuthTokenWO.ValueString()
		in.AuthToken, which.AuthToken = &v, true
	default:
		return api.SecretMatch{}, adoptedSecrets{}, false
	}
	return in, which, which.any()
}

// adoptIfSecretsMatch asks the server whether the secrets new to state are the ones it holds, and on
// a yes records that in the plan's private state. Any failure to ask (a viewer token, an older server
// without the endpoint, a 429) is the same as a no: the plan stays a rotation, which is always safe.
func (r *credentialResource) adoptIfSecretsMatch(ctx context.Context, plan, state, cfg *credentialModel, resp *resource.ModifyPlanResponse) bool {
	if r.data == nil || r.data.client == nil || !known(state.ID) {
		return false
	}
	in, which, ok := secretsNewToState(plan, state, cfg)
	if !ok {
		return false
	}
	ctx = r.data.requestContext(ctx, deref(in.APIKey), deref(in.AuthToken))
	matches, err := r.data.client.CredentialSecretMatches(ctx, state.ID.ValueString(), in)
	if err != nil {
		tflog.Debug(ctx, "cannot compare the configured secrets with the server's; planning a rotation", map[string]any{"id": state.ID.ValueString(), "error": err.Error()})
		return false
	}
	tflog.Debug(ctx, "compared the configured secrets with the server's", map[string]any{"id": state.ID.ValueString(), "matches": matches, "api_key": which.APIKey, "auth_token": which.AuthToken})
	if !matches {
		resp.Diagnostics.AddWarning("The configured key is not the stored key",
			fmt.Sprintf("Credential %s holds another %s than the configuration (it was imported with another key, or rotated outside Terraform), "+
				"so this plan rotates it to the configured one (secret_version %d -> %d). To keep the credential's current key instead, put it in the configuration.",
				state.ID.ValueString(), adoptedNames(which), state.SecretVersion.ValueInt64(), state.SecretVersion.ValueInt64()+1))
		return false
	}
	raw, _ := json.Marshal(which)
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateAdoptedKey, raw)...)
	return !resp.Diagnostics.HasError()
}

// adoptedInPlan reads what ModifyPlan recorded; nothing when it recorded nothing.
func adoptedInPlan(ctx context.Context, p privateState) (adoptedSecrets, diag.Diagnostics) {
	raw, diags := p.GetKey(ctx, privateAdoptedKey)
	var a adoptedSecrets
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &a)
	}
	return a, diags
}

// adoptedNames names the secrets in which, for messages.
func adoptedNames(which adoptedSecrets) string {
	switch {
	case which.APIKey && which.AuthToken:
		return "api_key and auth_token"
	case which.AuthToken:
		return "auth_token"
	}
	return "api_key"
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
