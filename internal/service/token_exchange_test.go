package service

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/federation"
)

// TestAuditClaimsAreTamed: the claims kept as an exchanged token's actor are the documented ones,
// as text (numbers keep every digit), cut short, and without control or invisible format characters,
// so an issuer's claim cannot forge a line of the audit log or the console.
func TestAuditClaimsAreTamed(t *testing.T) {
	got := auditClaims(federation.Claims{
		"sub":         "repo:acme/infra:ref:refs/heads/main",
		"run_id":      json.Number("98765432101234567"),
		"repository":  "acme/infra\nactor: admin",
		"ref":         "refs/heads/\u202emain",
		"workflow":    strings.Repeat("w", 1000),
		"environment": []any{"prod"}, // not a scalar: left out
		"groups":      "admins",      // not a kept claim
		"email":       "dev@example.com",
	})
	want := map[string]string{
		"sub": "repo:acme/infra:ref:refs/heads/main", "run_id": "98765432101234567",
		"repository": "acme/infra?actor: admin", "ref": "refs/heads/?main", "email": "dev@example.com",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if len(got["workflow"]) != maxAuditClaimLen {
		t.Errorf("workflow kept %d bytes, want %d", len(got["workflow"]), maxAuditClaimLen)
	}
	for _, k := range []string{"environment", "groups"} {
		if _, ok := got[k]; ok {
			t.Errorf("%s kept: %q", k, got[k])
		}
	}
}

// TestParseTokenTTL: above zero, at most an hour, a Go duration.
func TestParseTokenTTL(t *testing.T) {
	for in, ok := range map[string]bool{"15m": true, "1h": true, "30s": true, "61m": false, "0s": false, "-5m": false, "15": false, "": false} {
		if _, err := parseTokenTTL(in); (err == nil) != ok {
			t.Errorf("parseTokenTTL(%q) = %v, want ok %v", in, err, ok)
		}
	}
}
