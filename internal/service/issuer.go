package service

import (
	"context"
	"errors"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/issuer"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/secrets"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// ErrNoIssuer is the refusal of MintAssertion (and of everything that needs an assertion) on a server
// started without --issuer-url. Callers test it with errors.Is.
var ErrNoIssuer = &Error{
	Status: StatusConflict,
	Title:  "No issuer",
	Detail: "This modelkeys-server has no --issuer-url, so it cannot mint the assertions that keyless credentials exchange at their vendor. Start `modelkeys-server serve` with --issuer-url set to its public https base URL, and make the vendor trust that issuer.",
}

// errIssuerDocuments is the 404 of the discovery document and JWKS on a server that is no issuer.
var errIssuerDocuments = &Error{
	Status: StatusNotFound,
	Title:  "Not an issuer",
	Detail: "This modelkeys-server publishes no OpenID discovery document or keys: it was started without --issuer-url. Start `modelkeys-server serve` with --issuer-url set to its public https base URL (env MODELKEYS_ISSUER_URL) to make it an issuer that vendors can trust for keyless credentials.",
}

// CredentialSubject is the `sub` of every assertion minted for a credential: stable for the life of
// the credential, naming its organisation and its id, so a vendor's federation rule can match it
// exactly. Its format is documented and must never change:
//
//	modelkeys:org:<organisation id>:credential:<credential id>
func CredentialSubject(orgID, credentialID string) string {
	return "modelkeys:org:" + orgID + ":credential:" + credentialID
}

// openIssuer makes the service an issuer when Config.IssuerURL is set; New calls it.
func (s *Service) openIssuer(ctx context.Context) error {
	if s.cfg.IssuerURL == "" {
		return nil
	}
	u, err := issuer.ValidateURL(s.cfg.IssuerURL)
	if err != nil {
		return &Error{Status: StatusBadRequest, Title: "Invalid issuer URL", Detail: "--issuer-url: " + err.Error()}
	}
	s.cfg.IssuerURL = u
	s.issuer, err = issuer.New(ctx, issuer.Config{URL: u, Store: s.store, Keyring: s.keys, Logger: s.log, Now: s.cfg.Now, Guard: s.checkMasterKeyCurrent})
	return err
}

// IssuerURL is the issuer (`iss`) this server mints assertions as, "" when it is not an issuer.
func (s *Service) IssuerURL() string { return s.cfg.IssuerURL }

// MintAssertion signs a fresh JWT assertion for credential credentialID of organisation orgID, for
// the vendor audience: iss = IssuerURL, sub = CredentialSubject, aud = audience, iat = nbf = now,
// exp five minutes ahead, a fresh jti, and the signing key's kid in its header (ES256; RS256 for
// Microsoft Entra ID's audiences). It checks nothing about the caller: the caller (the credential's
// exchange) decides who may cause one to be minted. The assertion is a bearer secret for its five
// minutes: it goes only to the vendor's token endpoint, never into a log, an error or a response.
func (s *Service) MintAssertion(ctx context.Context, orgID, credentialID, audience string) (string, error) {
	if s.issuer == nil {
		return "", ErrNoIssuer
	}
	if orgID == "" || credentialID == "" {
		return "", errors.New("MintAssertion needs an organisation and a credential id")
	}
	if audience == "" {
		return "", InvalidField("settings.audience", "a keyless credential needs the audience its vendor expects in the assertion's aud")
	}
	return s.issuer.Mint(ctx, CredentialSubject(orgID, credentialID), audience, issuer.MaxLifetime)
}

// IssuerDiscovery is the OpenID discovery document (/.well-known/openid-configuration), or a 404
// *Error saying how to enable it.
func (s *Service) IssuerDiscovery() ([]byte, error) {
	if s.issuer == nil {
		return nil, errIssuerDocuments
	}
	return s.issuer.Discovery(), nil
}

// IssuerJWKS is the public key set (/.well-known/jwks.json), or a 404 *Error saying how to enable it.
func (s *Service) IssuerJWKS(ctx context.Context) ([]byte, error) {
	if s.issuer == nil {
		return nil, errIssuerDocuments
	}
	return s.issuer.JWKS(ctx)
}

// Issuer answers GET /v1/issuer: the issuer URL and JWKS URL, and with credentialID the subject
// its assertions carry (the credential must exist in the principal's scope). Any role may read it.
func (s *Service) Issuer(ctx context.Context, p Principal, credentialID string) (api.Issuer, error) {
	if s.issuer == nil {
		return api.Issuer{}, ErrNoIssuer
	}
	out := api.Issuer{Issuer: s.issuer.URL(), JWKSURI: s.issuer.JWKSURL(), DiscoveryURL: s.issuer.DiscoveryURL(), SubjectFormat: CredentialSubject("<organisation id>", "<credential id>"),
		SubjectPrefix: CredentialSubject(p.OrgID, "")}
	if credentialID == "" {
		return out, nil
	}
	c, err := s.GetCredential(ctx, p, credentialID)
	if err != nil {
		return api.Issuer{}, err
	}
	out.CredentialID, out.Subject = c.ID, CredentialSubject(p.OrgID, c.ID)
	return out, nil
}

// RotateSigningKey adds a generation of issuer signing keys that signs from now+activateIn on and
// retires the ones it replaces once every token they signed has expired (issuer.Rotate). It refuses,
// like every write of a sealed value, when ring's master key is not the database's current one.
func RotateSigningKey(ctx context.Context, st store.Store, ring *secrets.Keyring, now time.Time, activateIn time.Duration) ([]store.SigningKey, error) {
	// A Service only for its master-key check: the command runs beside the servers, not as one.
	s := &Service{store: st, keys: ring}
	return issuer.Rotate(ctx, st, ring, now, activateIn, s.checkMasterKeyCurrent)
}
