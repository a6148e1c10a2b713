package api

import "time"

// CredentialAccessToken is the answer of POST /v1/credentials/{id}/access-token: a vendor access
// token of a keyless credential (auth_method workload_identity), got by an exchange at the vendor and
// valid for minutes. A credential that stores a key has none: keys never leave modelkeys.
type CredentialAccessToken struct {
	// AccessToken is the vendor's token, sent as Authorization: Bearer ACCESS_TOKEN to the vendor.
	AccessToken string `json:"access_token"`
	// TokenType is always "Bearer".
	TokenType string `json:"token_type"`
	// ExpiresAt is when the vendor stops accepting the token; fetch a new one before then.
	ExpiresAt time.Time `json:"expires_at"`
}
