package api

import "time"

// Lifecycle statuses of a credential, from the least urgent to the most. A credential has the most
// urgent that applies.
const (
	LifecycleOK          = "ok"
	LifecycleRotationDue = "rotation_due"
	LifecycleExpiring    = "expiring"
	LifecycleExpired     = "expired"
)

// LifecycleStatuses lists the lifecycle statuses from the least urgent to the most.
var LifecycleStatuses = []string{LifecycleOK, LifecycleRotationDue, LifecycleExpiring, LifecycleExpired}

// CredentialPolicy rules the credentials of a scope. ProjectID is empty for the organisation's
// policy. A project's effective policy is the organisation's and its own, the stricter of each.
type CredentialPolicy struct {
	ProjectID string `json:"project_id,omitempty"`
	// AllowedProviders lists the catalog providers credentials of the scope may be for; empty allows
	// every provider.
	AllowedProviders []string `json:"allowed_providers"`
	// MaxRotationPeriod caps rotation_period and is the rotation period of credentials without one;
	// "" for no cap.
	MaxRotationPeriod string `json:"max_rotation_period,omitempty"`
	// ExpiryWarning is how long before expires_at a credential turns "expiring" (default 14d).
	ExpiryWarning string `json:"expiry_warning"`
	// RequireVerification refuses verify = false.
	RequireVerification bool      `json:"require_verification"`
	Version             int64     `json:"version"`
	UpdatedAt           time.Time `json:"updated_at"`
}

// CredentialPolicyPut is the body of PUT /v1/credential-policy. ExpiryWarning "" is the default.
type CredentialPolicyPut struct {
	AllowedProviders    []string `json:"allowed_providers,omitempty"`
	MaxRotationPeriod   string   `json:"max_rotation_period,omitempty"`
	ExpiryWarning       string   `json:"expiry_warning,omitempty"`
	RequireVerification bool     `json:"require_verification,omitempty"`
}
