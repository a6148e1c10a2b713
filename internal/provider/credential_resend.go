package provider

import (
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
)

// Resending secrets. The server sends a stored key to a new destination, or turns verification on,
// only when the key comes with the change (catalog.SecretsNeeded, the server's own rule). Then, and
// only then, Update sends the keys it holds again, named in secrets_resent: the server refuses one
// that is not the stored key instead of rotating it, so a write-only key changes only when its
// version does, even when its variable already holds the next key.

// secretsNeeded reports whether the change from state to plan needs the stored secrets; true when the
// planned settings are not known yet (the server decides at apply).
func secretsNeeded(plan, state *credentialModel) bool {
	before, _ := knownSettings(state.Settings)
	after, ok := knownSettings(plan.Settings)
	if !ok {
		return true
	}
	return catalog.SecretsNeeded(plan.ModelProvider.ValueString(), before, after, state.Verify.ValueBool(), plan.Verify.ValueBool())
}

// resend returns the secret to send for field: sent when the update already sends it (a change of
// it); otherwise the write-only value of the configuration or the value in state, named in resent.
func resend(sent *string, writeOnly, inState types.String, field string, resent []string) (*string, []string) {
	switch {
	case sent != nil:
		return sent, resent
	case !writeOnly.IsNull() && writeOnly.ValueString() != "":
		return writeOnly.ValueStringPointer(), append(resent, field)
	case !inState.IsNull() && !inState.IsUnknown() && inState.ValueString() != "":
		return inState.ValueStringPointer(), append(resent, field)
	}
	return nil, resent
}

// warnResend says, at plan time, when an update will send a write-only secret whose version did not
// change, why, and what happens if it is not the stored key.
func warnResend(plan, state, cfg *credentialModel, diags *diag.Diagnostics) {
	var resent []string
	if !cfg.APIKeyWO.IsNull() && plan.APIKeyWOVersion.Equal(state.APIKeyWOVersion) {
		resent = append(resent, "api_key_wo")
	}
	if !cfg.AuthTokenWO.IsNull() && plan.AuthTokenWOVersion.Equal(state.AuthTokenWOVersion) {
		resent = append(resent, "auth_token_wo")
	}
	if len(resent) == 0 || !secretsNeeded(plan, state) {
		return
	}
	diags.AddWarning("This change sends the write-only key again",
		fmt.Sprintf("%s needs the key itself, so this apply sends %s again, with its version unchanged. "+
			"The server accepts it only if it is the key it holds; if the configuration now holds a new key, bump %s_version to rotate instead.",
			whyResend(plan, state), strings.Join(resent, " and "), resent[0]))
}

// whyResend names what makes a change need the secrets, for the warning.
func whyResend(plan, state *credentialModel) string {
	before, _ := knownSettings(state.Settings)
	after, ok := knownSettings(plan.Settings)
	if !ok {
		return "A change of settings not known until apply may move where the key is sent, which"
	}
	var moved []string
	for _, m := range catalog.DestinationMoves(plan.ModelProvider.ValueString(), before, after) {
		moved = append(moved, m.Field)
	}
	if len(moved) > 0 {
		return "Changing " + strings.Join(moved, ", ") + " moves where the key is sent, which"
	}
	return "Turning verify on sends the stored key to " + plan.ModelProvider.ValueString() + ", which"
}

// knownSettings is a settings map as Go values; ok is false when it, or a value in it, is unknown.
func knownSettings(m types.Map) (map[string]string, bool) {
	if m.IsUnknown() {
		return nil, false
	}
	out := map[string]string{}
	for k, v := range m.Elements() {
		s, isString := v.(types.String)
		if !isString || s.IsUnknown() {
			return nil, false
		}
		if !s.IsNull() {
			out[k] = s.ValueString()
		}
	}
	return out, true
}
