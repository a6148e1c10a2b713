package service

import (
	"context"
)

// ErrNoIssuer is the refusal of MintAssertion (and of everything that needs an assertion) on a server
// started without --issuer-url. Callers test it with errors.Is.
var ErrNoIssuer = &Error{
	Status: StatusConflict,
	Title:  "No issuer",
	Detail: "This modelkeys-server has no --issuer-url, so it cannot mint the assertions that keyless credentials exchange at their vendor. Start `modelkeys-server serve` with --issuer-url set to its public https base URL, and make the vendor trust that issuer.",
}

// CredentialSubject is the `sub` of every assertion minted for a credential: stable for the life of
// the credential, naming its organisation and its id, so a vendor's federation rule can match it
// exactly. Its format is documented and must never change:
//
//	modelkeys:org:<organisation id>:credential:<credential id>
func CredentialSubject(orgID, credentialID string) string {
	return "modelkeys:org:" + orgID + ":credential:" + credentialID
}

// IssuerURL is the issuer (`iss`) this server mints assertions as, "" when it is not an issuer.
func (s *Service) IssuerURL() string { return s.cfg.IssuerURL }

// MintAssertion signs a fresh JWT assertion for credential credentialID of organisation orgID, for
// the vendor audience: iss = IssuerURL, sub = CredentialSubject, aud = audience, exp at most five
// minutes ahead, a fresh jti, and the signing key's kid in its header. It checks nothing about the
// caller: the caller (the credential's exchange) decides who may cause one to be minted.
func (s *Service) MintAssertion(ctx context.Context, orgID, credentialID, audience string) (string, error) {
	if s.cfg.IssuerURL == "" {
		return "", ErrNoIssuer
	}
	return "", &Error{Status: StatusUnavailable, Title: "Issuer not ready", Detail: "Minting assertions is not built yet."}
}
