package provider

import (
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/types"
)

// fingerprintOrNone names a fingerprint in a drift message; a credential without a secret has none.
func fingerprintOrNone(fp string) string {
	if fp == "" {
		return "(no secret)"
	}
	return fp
}

// secretDrifted reports whether the server's fingerprint of a credential's secret means the secret is
// no longer the one Terraform last wrote. A server that changes how it fingerprints (from one key for
// the database, "hmac-sha256:", to one per organisation, "hmac-sha256-org:") changes every fingerprint
// without changing any secret; when only the scheme differs and secret_version, which goes up with
// every change of secret, is the one in state, the secret is the same and the new fingerprint is
// simply taken. The same scheme with another value, or another version, is drift.
func secretDrifted(stateFP string, stateVersion types.Int64, serverFP string, serverVersion int64) bool {
	if stateFP == serverFP {
		return false
	}
	from, to := fingerprintScheme(stateFP), fingerprintScheme(serverFP)
	schemeChanged := from != "" && to != "" && from != to
	sameVersion := !stateVersion.IsNull() && !stateVersion.IsUnknown() && stateVersion.ValueInt64() == serverVersion
	return !(schemeChanged && sameVersion)
}

// fingerprintScheme is the part of a fingerprint before its last ':' ("hmac-sha256" of
// "hmac-sha256:0123..."), or "" when it has none (no secret).
func fingerprintScheme(fp string) string {
	i := strings.LastIndexByte(fp, ':')
	if i <= 0 {
		return ""
	}
	return fp[:i]
}
