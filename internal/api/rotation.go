package api

import "time"

// Managed rotation (issue 35): a credential of purpose "admin" holds a vendor's admin key (OpenAI's
// admin key, OpenRouter's provisioning key, LiteLLM's master key); a credential whose rotation mode is
// "managed" has its inference key minted, verified, switched and revoked by the server through that
// admin credential, with an overlap during which the old key still works.

// Credential purposes.
const (
	PurposeInference = "inference"
	PurposeAdmin     = "admin"
)

// Purposes lists the credential purposes, the default first.
var Purposes = []string{PurposeInference, PurposeAdmin}

// RotationModeManaged is the rotation mode in which the server makes and retires the keys itself.
const RotationModeManaged = "managed"

// DefaultRotationOverlap is how long the old key of a managed rotation stays live after the switch
// when the credential sets no overlap.
const DefaultRotationOverlap = "1h"

// CredentialRotation is a credential's managed rotation (the object "rotation" on the wire).
type CredentialRotation struct {
	// Mode is "managed".
	Mode string `json:"mode"`
	// AdminCredentialID is the credential of purpose "admin" (same provider, same destination) whose
	// key mints and revokes this credential's keys.
	AdminCredentialID string `json:"admin_credential_id"`
	// Overlap is how long the previous key stays live after a switch ("1h", "30m", "1d"); the server's
	// canonical spelling on the way out. Default DefaultRotationOverlap.
	Overlap string `json:"overlap,omitempty"`

	// Read-only, set by the server:
	// KeyID is the vendor's id of the current key (an OpenAI service account, an OpenRouter key hash,
	// a LiteLLM token id): never the key.
	KeyID string `json:"key_id,omitempty"`
	// State is idle, or the step of the rotation under way (minting, minted, verified, switched: the
	// previous key is live until PreviousKeyRevokeAt).
	State string `json:"state,omitempty"`
	// PreviousKeyID and PreviousKeyRevokeAt name the previous key while it is still live.
	PreviousKeyID       string  `json:"previous_key_id,omitempty"`
	PreviousKeyRevokeAt *string `json:"previous_key_revoke_at,omitempty"`
	// LastError is why the last rotation failed ("" after a success).
	LastError string `json:"last_error,omitempty"`
}

// Rotation states (CredentialRotation.State).
const (
	RotationIdle     = "idle"
	RotationMinting  = "minting"
	RotationMinted   = "minted"
	RotationVerified = "verified"
	RotationSwitched = "switched"
	RotationFailed   = "failed"
)

// AdminKeyRequest is what a vendor's admin API needs to mint, find or revoke one inference key: the
// managed credential's provider and settings (the scope: OpenAI's project, the proxy's base_url) and
// the admin credential's settings and secrets.
type AdminKeyRequest struct {
	Provider      Provider
	Settings      map[string]string
	AdminSettings map[string]string
	AdminSecrets  map[string]string
	// Name is the name the new key gets at the vendor (Mint) or is looked up by (FindKey): it names the
	// rotation, so a key minted by a process that died before recording it can be found and revoked.
	Name string
	// KeyID is the vendor's id of the key to revoke (Revoke).
	KeyID string
	// CurrentKeyID is the vendor's id of the credential's current key, for vendors whose keys are
	// fixed slots (Azure's key1 and key2: Mint regenerates the other one).
	CurrentKeyID string
	// Since is when the rotation began: a vendor whose keys have no name (Bedrock) finds a lost key
	// among those made since then that are not the current one.
	Since time.Time
}

// MintedKey is a key the vendor made: its id at the vendor and the secret (shown once).
type MintedKey struct {
	KeyID  string
	Secret string
}
