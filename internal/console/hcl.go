package console

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

// credentialHCL writes a credential as a modelkeys_credential block and the import block that adopts
// it, so a key added by hand can be brought into configuration (or one Terraform manages copied).
// Secrets are never known here: they become write-only variables.
func credentialHCL(cr api.Credential) (resource, importBlock string) {
	label := hclLabel(cr.Name)
	var b strings.Builder
	fmt.Fprintf(&b, "resource \"modelkeys_credential\" %q {\n", label)
	attr := func(k, v string) { fmt.Fprintf(&b, "  %-18s = %s\n", k, hclString(v)) }
	attr("name", cr.Name)
	if cr.Description != "" {
		attr("description", cr.Description)
	}
	attr("model_provider", cr.Provider)
	if cr.ProjectID != "" {
		attr("project_id", cr.ProjectID)
	}
	if cr.HasAPIKey {
		fmt.Fprintf(&b, "  %-18s = var.%s_api_key\n  %-18s = 1\n", "api_key_wo", label, "api_key_wo_version")
	}
	if cr.HasAuthToken {
		fmt.Fprintf(&b, "  %-18s = var.%s_auth_token\n  %-18s = 1\n", "auth_token_wo", label, "auth_token_wo_version")
	}
	if !cr.Verify {
		fmt.Fprintf(&b, "  %-18s = false\n", "verify")
	}
	if cr.RotationPeriod != "" {
		attr("rotation_period", cr.RotationPeriod)
	}
	if cr.ExpiresAt != nil {
		attr("expires_at", cr.ExpiresAt.UTC().Format("2006-01-02T15:04:05Z"))
	}
	for _, m := range []struct {
		name string
		kv   map[string]string
	}{{"settings", cr.Settings}, {"labels", cr.Labels}} {
		if len(m.kv) == 0 {
			continue
		}
		fmt.Fprintf(&b, "  %s = {\n", m.name)
		for _, k := range slices.Sorted(maps.Keys(m.kv)) {
			fmt.Fprintf(&b, "    %s = %s\n", hclKey(k), hclString(m.kv[k]))
		}
		b.WriteString("  }\n")
	}
	b.WriteString("}\n")
	importBlock = fmt.Sprintf("import {\n  to = modelkeys_credential.%s\n  id = %s\n}\n", label, hclString(cr.ID))
	return b.String(), importBlock
}

// hclLabel makes a resource name of a credential name: lower case letters, digits and underscores,
// not starting with a digit.
func hclLabel(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	s := b.String()
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		s = "credential_" + s
	}
	return s
}

// hclString quotes s for HCL: the JSON-like escapes, and template sequences doubled so that "${" and
// "%{" stay literal.
func hclString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '$', '%':
			b.WriteRune(r)
			if i+1 < len(s) && s[i+1] == '{' {
				b.WriteRune(r)
			}
		default:
			if r < 0x20 {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// hclKey writes a map key bare when it is an identifier, quoted otherwise.
func hclKey(k string) string {
	if k != "" && hclLabel(k) == k && !strings.HasPrefix(k, "credential_") {
		return k
	}
	return hclString(k)
}
