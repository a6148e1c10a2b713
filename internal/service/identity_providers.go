package service

// Identity providers: the OpenID issuers an organisation trusts (issue 33). Admin-only, organisation
// scope; the OAuth client secret (console sign-in) is sealed like a credential's secret and never
// returned, logged or audited.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"unicode"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/federation"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/idgen"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/jwkset"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/secrets"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// EgressChecker is what the service needs of the server's egress policy (*verify.EgressPolicy).
type EgressChecker interface {
	Check(ip netip.Addr) error
}

// Limits of an identity provider's fields.
const (
	maxAudiences     = 16
	maxAudienceLen   = 256
	maxIssuerLen     = 512
	maxClientIDLen   = 256
	maxClientSecret  = 4096
	maxJWKSJSONBytes = 64 << 10
	maxJWKSKeys      = 32
)

// idpSecretField is the Field of the binding an identity provider's client secret is sealed under.
// No credential has a field of that name, so a client secret's ciphertext never opens as a
// credential's, nor the other way round.
const idpSecretField = "identity_provider.client_secret"

func idpBinding(orgID, providerID string) secrets.Binding {
	return secrets.Binding{OrgID: orgID, CredentialID: providerID, Field: idpSecretField}
}

// CreateIdentityProvider stores a new identity provider (admin only).
func (s *Service) CreateIdentityProvider(ctx context.Context, p Principal, in api.IdentityProviderCreate, idem *IdempotencyKey) (api.IdentityProvider, bool, error) {
	if err := requireOrgAdmin(p); err != nil {
		return api.IdentityProvider{}, false, err
	}
	secret := ""
	if in.ClientSecret != nil {
		secret = *in.ClientSecret
	}
	var fields []api.FieldError
	fields = append(fields, checkName(in.Name)...)
	fields = append(fields, s.checkIssuer(in.Issuer)...)
	fields = append(fields, checkAudiences(in.Audiences)...)
	fields = append(fields, checkJWKSJSON(in.JWKSJSON)...)
	fields = append(fields, checkClientID(in.ClientID)...)
	fields = append(fields, checkClientSecret(secret, in.ClientID)...)
	fields = append(fields, checkAudiencesAreNotClientID(in.Audiences, in.ClientID)...)
	if len(fields) > 0 {
		return api.IdentityProvider{}, false, invalid(fields...)
	}
	jwks, err := storedJWKS(in.JWKSJSON)
	if err != nil {
		return api.IdentityProvider{}, false, err
	}
	now := s.now()
	ip := api.IdentityProvider{ID: idgen.New("idp"), Name: in.Name, Issuer: in.Issuer, Audiences: nonNilList(in.Audiences),
		JWKSJSON: jwks, ClientID: in.ClientID, HasClientSecret: secret != "", Version: 1, CreatedAt: now, UpdatedAt: now}
	id, replayed, err := s.createOnce(ctx, p, idem, "identity_provider", func(tx store.Tx) (string, error) {
		if err := tx.InsertIdentityProvider(ctx, p.OrgID, ip); err != nil {
			if errors.Is(err, store.ErrDuplicate) {
				return "", conflict(fmt.Sprintf("An identity provider named %q already exists; names are unique in an organisation.", in.Name))
			}
			return "", err
		}
		if secret != "" {
			if err := s.putIdentityProviderSecret(ctx, tx, p.OrgID, ip.ID, secret); err != nil {
				return "", err
			}
		}
		return ip.ID, s.audit(ctx, tx, p, "create", "identity_provider", ip.ID, identityProviderFields(ip))
	})
	if err != nil {
		return api.IdentityProvider{}, false, err
	}
	if replayed {
		ip, err = s.GetIdentityProvider(ctx, p, id)
	}
	return ip, replayed, err
}

// identityProviderFields names the fields a new provider has set (audit: names, never values).
func identityProviderFields(ip api.IdentityProvider) []string {
	f := []string{"name", "issuer"}
	if len(ip.Audiences) > 0 {
		f = append(f, "audiences")
	}
	if ip.JWKSJSON != "" {
		f = append(f, "jwks_json")
	}
	if ip.ClientID != "" {
		f = append(f, "client_id")
	}
	if ip.HasClientSecret {
		f = append(f, "client_secret")
	}
	return f
}

// GetIdentityProvider reads one provider (admin only: its configuration is the organisation's trust).
func (s *Service) GetIdentityProvider(ctx context.Context, p Principal, id string) (api.IdentityProvider, error) {
	if err := requireOrgAdmin(p); err != nil {
		return api.IdentityProvider{}, err
	}
	var ip api.IdentityProvider
	err := s.readOne(ctx, func(tx store.Tx) error {
		var err error
		ip, err = tx.GetIdentityProvider(ctx, p.OrgID, id)
		return storeErr(err, "identity provider", id)
	})
	return ip, err
}

// ListIdentityProviders pages the organisation's providers, optionally by exact name.
func (s *Service) ListIdentityProviders(ctx context.Context, p Principal, name, after string, limit int) (api.List[api.IdentityProvider], error) {
	if err := requireOrgAdmin(p); err != nil {
		return api.List[api.IdentityProvider]{}, err
	}
	limit = clampLimit(limit)
	out := api.List[api.IdentityProvider]{Items: []api.IdentityProvider{}}
	err := s.readOne(ctx, func(tx store.Tx) error {
		items, err := tx.ListIdentityProviders(ctx, p.OrgID, name, after, limit+1)
		if err != nil {
			return err
		}
		items, out.NextPageToken = pageOf(items, limit, func(x api.IdentityProvider) string { return x.ID })
		out.Items = append(out.Items, items...)
		return nil
	})
	return out, err
}

// UpdateIdentityProvider patches a provider. ifMatch, when not zero, is the version the caller read.
// The issuer never changes. Audiences cannot be emptied while workload rules trust the provider, nor
// client_id removed while people rules do.
func (s *Service) UpdateIdentityProvider(ctx context.Context, p Principal, id string, in api.IdentityProviderPatch, ifMatch int64) (api.IdentityProvider, error) {
	if err := requireOrgAdmin(p); err != nil {
		return api.IdentityProvider{}, err
	}
	var out api.IdentityProvider
	err := s.tx(ctx, func(tx store.Tx) error {
		cur, err := tx.GetIdentityProvider(ctx, p.OrgID, id)
		if err != nil {
			return storeErr(err, "identity provider", id)
		}
		if ifMatch != 0 && ifMatch != cur.Version {
			return preconditionFailed("identity provider", id, ifMatch, cur.Version)
		}
		next := cur
		var changed []string
		var fields []api.FieldError
		if in.Name != nil && *in.Name != cur.Name {
			fields = append(fields, checkName(*in.Name)...)
			next.Name, changed = *in.Name, append(changed, "name")
		}
		if in.Audiences != nil && !slices.Equal(*in.Audiences, cur.Audiences) {
			fields = append(fields, checkAudiences(*in.Audiences)...)
			next.Audiences, changed = nonNilList(*in.Audiences), append(changed, "audiences")
		}
		if in.JWKSJSON != nil && *in.JWKSJSON != cur.JWKSJSON {
			// Compared in the stored form: a set that differs only in members that are not stored
			// is no change (Terraform sends the configuration's spelling every time).
			if f := checkJWKSJSON(*in.JWKSJSON); len(f) > 0 {
				fields = append(fields, f...)
			} else if jwks, err := storedJWKS(*in.JWKSJSON); err != nil {
				return err
			} else if jwks != cur.JWKSJSON {
				next.JWKSJSON, changed = jwks, append(changed, "jwks_json")
			}
		}
		if in.ClientID != nil && *in.ClientID != cur.ClientID {
			fields = append(fields, checkClientID(*in.ClientID)...)
			next.ClientID, changed = *in.ClientID, append(changed, "client_id")
		}
		if slices.Contains(changed, "audiences") || slices.Contains(changed, "client_id") {
			fields = append(fields, checkAudiencesAreNotClientID(next.Audiences, next.ClientID)...)
		}
		secretChange := in.ClientSecret != nil
		if secretChange {
			if *in.ClientSecret != "" {
				fields = append(fields, checkClientSecret(*in.ClientSecret, next.ClientID)...)
			}
			if *in.ClientSecret != "" || cur.HasClientSecret {
				changed = append(changed, "client_secret")
			}
			next.HasClientSecret = *in.ClientSecret != ""
		} else if next.ClientID == "" && cur.HasClientSecret {
			fields = append(fields, api.FieldError{Field: "client_id", Message: "client_id cannot be removed while a client_secret is stored; send client_secret \"\" to remove both."})
		}
		if len(fields) > 0 {
			return invalid(fields...)
		}
		if err := refuseLosingRuleNeeds(ctx, tx, p, cur, next); err != nil {
			return err
		}
		out = next
		if len(changed) == 0 {
			return nil
		}
		next.Version, next.UpdatedAt = cur.Version+1, s.now()
		if err := tx.UpdateIdentityProvider(ctx, p.OrgID, next, cur.Version); err != nil {
			if errors.Is(err, store.ErrDuplicate) {
				return conflict(fmt.Sprintf("An identity provider named %q already exists.", next.Name))
			}
			return storeErr(err, "identity provider", id)
		}
		if secretChange {
			if *in.ClientSecret == "" {
				if err := tx.DeleteIdentityProviderSecret(ctx, p.OrgID, id); err != nil {
					return err
				}
			} else if err := s.putIdentityProviderSecret(ctx, tx, p.OrgID, id, *in.ClientSecret); err != nil {
				return err
			}
		}
		out = next
		return s.audit(ctx, tx, p, "update", "identity_provider", id, changed)
	})
	if errors.Is(err, store.ErrVersionMismatch) {
		return api.IdentityProvider{}, lostRace("identity provider", id)
	}
	if err == nil {
		s.forgetProviderTokens(id) // a new version ends the tokens verified with the old one
	}
	return out, err
}

// refuseLosingRuleNeeds keeps a provider what its rules need: audiences for workload rules (the
// `aud` a workload token must carry) and client_id for people rules (the audience of an ID token).
func refuseLosingRuleNeeds(ctx context.Context, tx store.Tx, p Principal, cur, next api.IdentityProvider) error {
	check := func(kind, what string) error {
		rules, err := tx.ListFederationRules(ctx, p.OrgID, store.FederationRuleFilter{IdentityProviderID: cur.ID, Kind: kind, Limit: 500})
		if err != nil || len(rules) == 0 {
			return err
		}
		ids := make([]string, len(rules))
		for i, r := range rules {
			ids[i] = r.ID
		}
		return conflict(fmt.Sprintf("Identity provider %q is trusted by %s rules %s, which need its %s; change or delete them first.",
			cur.Name, kind, strings.Join(ids, ", "), what), ids...)
	}
	if len(next.Audiences) == 0 && len(cur.Audiences) > 0 {
		if err := check(api.FederationWorkload, "audiences"); err != nil {
			return err
		}
	}
	if next.ClientID == "" && cur.ClientID != "" {
		return check(api.FederationPeople, "client_id")
	}
	return nil
}

// DeleteIdentityProvider deletes a provider and its client secret. A provider that federation rules
// trust is refused with a 409 naming them rather than deleting them with it: a rule is trust an
// admin wrote down on purpose (often in another Terraform configuration), and taking it away as a
// side effect would end CI runs and sessions nobody chose to end. Terraform deletes the rules first,
// as they depend on the provider.
func (s *Service) DeleteIdentityProvider(ctx context.Context, p Principal, id string, ifMatch int64) error {
	if err := requireOrgAdmin(p); err != nil {
		return err
	}
	return s.tx(ctx, func(tx store.Tx) error {
		cur, err := tx.GetIdentityProvider(ctx, p.OrgID, id)
		if err != nil {
			return storeErr(err, "identity provider", id)
		}
		if ifMatch != 0 && ifMatch != cur.Version {
			return preconditionFailed("identity provider", id, ifMatch, cur.Version)
		}
		rules, err := tx.ListFederationRules(ctx, p.OrgID, store.FederationRuleFilter{IdentityProviderID: id, Limit: 500})
		if err != nil {
			return err
		}
		if len(rules) > 0 {
			ids := make([]string, len(rules))
			for i, r := range rules {
				ids[i] = r.ID
			}
			return conflict(fmt.Sprintf("Identity provider %q is trusted by federation rules %s; delete them first (that also ends the tokens they issued).",
				cur.Name, strings.Join(ids, ", ")), ids...)
		}
		if err := tx.DeleteIdentityProvider(ctx, p.OrgID, id); err != nil {
			return storeErr(err, "identity provider", id)
		}
		return s.audit(ctx, tx, p, "delete", "identity_provider", id, nil)
	})
}

// IdentityProviderByID finds a provider of any organisation by id, with its organisation: the
// console's sign-in link (/ui/login/oidc/{id}) carries only the id. Unknown: a 404.
func (s *Service) IdentityProviderByID(ctx context.Context, id string) (orgID string, ip api.IdentityProvider, err error) {
	if f := checkID("identity_provider_id", id); len(f) > 0 {
		return "", api.IdentityProvider{}, notFound("identity provider", "")
	}
	err = s.readOne(ctx, func(tx store.Tx) error {
		var err error
		orgID, ip, err = tx.IdentityProviderByID(ctx, id)
		return storeErr(err, "identity provider", id)
	})
	return orgID, ip, err
}

// IdentityProviderClientSecret opens a provider's client secret, for the console's authorization
// code exchange (SignInIdentityProvider); "" when it has none. The caller must send it only to the
// provider's token endpoint.
func (s *Service) IdentityProviderClientSecret(ctx context.Context, orgID, providerID string) (string, error) {
	var ss store.SealedSecret
	err := s.readOne(ctx, func(tx store.Tx) error {
		var err error
		ss, err = tx.GetIdentityProviderSecret(ctx, orgID, providerID)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	pt, err := s.keys.Open(secrets.Sealed{KeyID: ss.KeyID, WrappedKey: ss.WrappedKey, Ciphertext: ss.Ciphertext}, idpBinding(orgID, providerID))
	if err != nil {
		s.log.ErrorContext(ctx, "client secret does not decrypt", "identity_provider_id", providerID, "key_id", ss.KeyID, "error", err)
		return "", &Error{Status: StatusInternal, Title: "Secret cannot be decrypted",
			Detail: fmt.Sprintf("The client secret of identity provider %s does not decrypt with this server's master key: start the server with the right master key, or finish rotate-master-key.", providerID)}
	}
	return string(pt), nil
}

func (s *Service) putIdentityProviderSecret(ctx context.Context, tx store.Tx, orgID, providerID, secret string) error {
	if err := s.checkMasterKeyCurrent(ctx, tx); err != nil {
		return err
	}
	sealed, err := s.keys.Seal([]byte(secret), idpBinding(orgID, providerID))
	if err != nil {
		return err
	}
	return tx.PutIdentityProviderSecret(ctx, store.SealedSecret{OrgID: orgID, CredentialID: providerID, Field: idpSecretField,
		KeyID: sealed.KeyID, WrappedKey: sealed.WrappedKey, Ciphertext: sealed.Ciphertext})
}

// rewrapIdentityProviderSecrets is master-key rotation's pass over the client secrets, in the
// rotation's transaction (see rotateMasterKey): each a compare-and-swap, and none left behind.
func rewrapIdentityProviderSecrets(ctx context.Context, tx store.Tx, ring *secrets.Keyring) (int, error) {
	all, err := tx.ListAllIdentityProviderSecrets(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, ss := range all {
		re, err := ring.Rewrap(secrets.Sealed{KeyID: ss.KeyID, WrappedKey: ss.WrappedKey, Ciphertext: ss.Ciphertext}, idpBinding(ss.OrgID, ss.CredentialID))
		if err != nil {
			return n, fmt.Errorf("client secret of identity provider %s: %w", ss.CredentialID, err)
		}
		old := bytes.Clone(ss.WrappedKey)
		ss.KeyID, ss.WrappedKey = re.KeyID, re.WrappedKey
		swapped, err := tx.RewrapIdentityProviderSecret(ctx, ss, old)
		if err != nil {
			return n, err
		}
		if swapped {
			n++
		}
	}
	left, err := tx.CountIdentityProviderSecretsNotWrappedBy(ctx, ring.PrimaryKeyID())
	if err != nil {
		return n, err
	}
	if left > 0 {
		return n, fmt.Errorf("%d client secret(s) were written with another master key while the rotation ran, so nothing was rotated; run rotate-master-key again", left)
	}
	return n, nil
}

// ---- checks ---------------------------------------------------------------------------------------

// checkIssuer: an https URL without user-info, query or fragment; plain http only to a loopback
// address the egress policy allows (a test issuer, a local development IdP). An issuer whose host is
// an address the egress policy refuses is refused now rather than at the first token.
func (s *Service) checkIssuer(issuer string) []api.FieldError {
	bad := func(msg string, args ...any) []api.FieldError {
		return []api.FieldError{{Field: "issuer", Message: fmt.Sprintf(msg, args...)}}
	}
	if issuer == "" {
		return bad("issuer is required: the exact `iss` of the tokens, such as https://token.actions.githubusercontent.com.")
	}
	if len(issuer) > maxIssuerLen || catalog.ValidateText(issuer) != nil || strings.ContainsFunc(issuer, unicode.IsSpace) {
		return bad("issuer must be a URL of at most %d characters, without spaces or control characters.", maxIssuerLen)
	}
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return bad("issuer %q is not an absolute URL; write the exact `iss` of the tokens, such as https://gitlab.example.com.", issuer)
	}
	if u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(issuer, "#") {
		return bad("issuer must not carry user-info, a query or a fragment (OpenID Connect Discovery 1.0 §4).")
	}
	host := u.Hostname()
	ip, ipErr := netip.ParseAddr(host)
	switch u.Scheme {
	case "https":
	case "http":
		loopback := ipErr == nil && ip.IsLoopback()
		if !loopback && !strings.EqualFold(host, "localhost") {
			return bad("issuer must be https:// (plain http is accepted only on a loopback address the server's egress policy allows).")
		}
		if !s.egressAllows(ip, ipErr == nil) {
			return bad("issuer %q is on loopback, which this server's egress policy refuses; the operator opens it with --egress-allow 127.0.0.0/8 (or ::1/128).", issuer)
		}
		return nil
	default:
		return bad("issuer must be an https:// URL, not %q.", u.Scheme)
	}
	if ipErr == nil && s.cfg.Egress != nil {
		if err := s.cfg.Egress.Check(ip); err != nil {
			return bad("issuer %q is at an address this server's egress policy refuses: %s.", issuer, err.Error())
		}
	}
	return nil
}

// egressAllows reports whether the egress policy allows the loopback host (an address, or
// "localhost", whose addresses 127.0.0.1 and ::1 must then both be allowed).
func (s *Service) egressAllows(ip netip.Addr, isIP bool) bool {
	if s.cfg.Egress == nil {
		return false
	}
	if isIP {
		return s.cfg.Egress.Check(ip) == nil
	}
	return s.cfg.Egress.Check(netip.MustParseAddr("127.0.0.1")) == nil && s.cfg.Egress.Check(netip.IPv6Loopback()) == nil
}

func checkAudiences(aud []string) []api.FieldError {
	if len(aud) > maxAudiences {
		return []api.FieldError{{Field: "audiences", Message: fmt.Sprintf("at most %d audiences, not %d.", maxAudiences, len(aud))}}
	}
	var out []api.FieldError
	seen := map[string]bool{}
	for i, a := range aud {
		field := fmt.Sprintf("audiences[%d]", i)
		switch {
		case a == "" || strings.TrimSpace(a) != a:
			out = append(out, api.FieldError{Field: field, Message: "an audience is a non-empty value without surrounding spaces (the `aud` the tokens carry)."})
		case len(a) > maxAudienceLen || catalog.ValidateText(a) != nil:
			out = append(out, api.FieldError{Field: field, Message: fmt.Sprintf("an audience is at most %d characters, without control or format characters.", maxAudienceLen)})
		case seen[a]:
			out = append(out, api.FieldError{Field: field, Message: fmt.Sprintf("audience %q is listed twice.", a)})
		}
		seen[a] = true
	}
	return out
}

// checkJWKSJSON: "" (discovery), or a JSON Web Key Set of public signature keys only. A private or
// symmetric key is refused outright, so that no secret key is ever stored in a field that is shown.
func checkJWKSJSON(doc string) []api.FieldError {
	if doc == "" {
		return nil
	}
	bad := func(msg string, args ...any) []api.FieldError {
		return []api.FieldError{{Field: "jwks_json", Message: fmt.Sprintf(msg, args...)}}
	}
	if len(doc) > maxJWKSJSONBytes {
		return bad("jwks_json is %d bytes, more than %d.", len(doc), maxJWKSJSONBytes)
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	dec := json.NewDecoder(strings.NewReader(doc))
	if err := dec.Decode(&set); err != nil || dec.More() {
		return bad(`jwks_json is not a JSON Web Key Set: a JSON object {"keys": [...]} as the issuer's jwks_uri serves it.`)
	}
	if len(set.Keys) == 0 || len(set.Keys) > maxJWKSKeys {
		return bad("jwks_json must hold 1 to %d keys, not %d.", maxJWKSKeys, len(set.Keys))
	}
	for i, raw := range set.Keys {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(raw); err != nil {
			return bad("key %d of jwks_json is not a JSON Web Key: %s.", i, jwkError(err))
		}
		if !k.IsPublic() || hasPrivateMember(raw) {
			return bad("key %d of jwks_json (kid %q) is a private or symmetric key; upload only the issuer's public keys.", i, k.KeyID)
		}
		if !k.Valid() {
			return bad("key %d of jwks_json (kid %q) is not a valid public key.", i, k.KeyID)
		}
		if k.Use != "" && k.Use != "sig" {
			return bad("key %d of jwks_json (kid %q) is for %q, not signatures (use \"sig\").", i, k.KeyID, k.Use)
		}
	}
	return nil
}

// privateJWKMembers are the members of private and symmetric keys (RFC 7518 §6.2.2, §6.3.2, §6.4.1).
// go-jose reads an RSA key with p and q but no d as a public key; such a key is refused all the same,
// since whoever sent it holds (and was about to store) private material.
var privateJWKMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

func hasPrivateMember(raw json.RawMessage) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return false
	}
	for _, name := range privateJWKMembers {
		if _, ok := m[name]; ok {
			return true
		}
	}
	return false
}

// storedJWKS is the form of a checked jwks_json the server stores and shows: the public keys
// re-serialised, nothing else of what was sent ("" stays "").
func storedJWKS(doc string) (string, error) {
	if doc == "" {
		return "", nil
	}
	out, err := jwkset.Normalize(doc)
	if err != nil {
		// checkJWKSJSON accepted it, so this is a disagreement between the two, not the caller's fault.
		return "", fmt.Errorf("normalising a checked jwks_json: %w", err)
	}
	return out, nil
}

// jwkError is go-jose's reason, without the key material it may quote.
func jwkError(err error) string {
	msg := err.Error()
	if len(msg) > 120 {
		msg = msg[:120]
	}
	return strings.ToValidUTF8(msg, "")
}

func checkClientID(id string) []api.FieldError {
	if id != "" && (len(id) > maxClientIDLen || catalog.ValidateText(id) != nil || strings.TrimSpace(id) != id) {
		return []api.FieldError{{Field: "client_id", Message: fmt.Sprintf("client_id is the console's OAuth client id at the issuer: at most %d characters, no spaces around it, no control characters.", maxClientIDLen)}}
	}
	return nil
}

// checkAudiencesAreNotClientID is federation.CheckAudiencesNotClientID as field errors.
func checkAudiencesAreNotClientID(aud []string, clientID string) []api.FieldError {
	var out []api.FieldError
	for _, pr := range federation.CheckAudiencesNotClientID(aud, clientID) {
		out = append(out, api.FieldError{Field: fmt.Sprintf("audiences[%d]", pr.Index), Message: pr.Message})
	}
	return out
}

func checkClientSecret(secret, clientID string) []api.FieldError {
	if secret == "" {
		return nil
	}
	if clientID == "" {
		return []api.FieldError{{Field: "client_secret", Message: "client_secret needs a client_id: it is the secret of that OAuth client."}}
	}
	if len(secret) > maxClientSecret || strings.TrimSpace(secret) != secret || strings.ContainsFunc(secret, unicode.IsControl) {
		return []api.FieldError{{Field: "client_secret", Message: fmt.Sprintf("client_secret must be at most %d characters, without surrounding whitespace or control characters (often a trailing newline from a file).", maxClientSecret)}}
	}
	return nil
}

func nonNilList(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}
