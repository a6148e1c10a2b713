package sqlstore

// Identity providers, federation rules and exchanged tokens (store.Identity).

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// identityProviderColumns are a provider's columns (alias p); has_client_secret comes from the secret
// table, so it can never disagree with what is stored.
const identityProviderColumns = `p.id, p.name, p.issuer, p.audiences, p.jwks_json, p.client_id,
	EXISTS (SELECT 1 FROM identity_provider_secrets s WHERE s.provider_id = p.id),
	p.version, p.created_at, p.updated_at`

func (t *tx) InsertIdentityProvider(ctx context.Context, orgID string, p api.IdentityProvider) error {
	aud, err := marshalList(p.Audiences)
	if err != nil {
		return err
	}
	_, err = t.write(ctx, `INSERT INTO identity_providers (id, org_id, name, issuer, audiences, jwks_json, client_id,
		version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.ID, orgID, p.Name, p.Issuer, aud, p.JWKSJSON, p.ClientID, p.Version, formatTime(p.CreatedAt), formatTime(p.UpdatedAt))
	if t.d.violation(err) == violationForeignKey {
		return fmt.Errorf("organization %s: %w", orgID, store.ErrNotFound)
	}
	return t.d.mapErr(err, fmt.Sprintf("identity provider %q", p.Name))
}

func (t *tx) GetIdentityProvider(ctx context.Context, orgID, id string) (api.IdentityProvider, error) {
	rows, err := t.query(ctx, "SELECT "+identityProviderColumns+" FROM identity_providers p WHERE p.org_id = ? AND p.id = ?", orgID, id)
	if err != nil {
		return api.IdentityProvider{}, err
	}
	ps, _, err := scanIdentityProviders(rows, false)
	if err != nil {
		return api.IdentityProvider{}, err
	}
	if len(ps) == 0 {
		return api.IdentityProvider{}, fmt.Errorf("identity provider %s: %w", id, store.ErrNotFound)
	}
	return ps[0], nil
}

func (t *tx) IdentityProviderByID(ctx context.Context, id string) (string, api.IdentityProvider, error) {
	rows, err := t.query(ctx, "SELECT "+identityProviderColumns+", p.org_id FROM identity_providers p WHERE p.id = ?", id)
	if err != nil {
		return "", api.IdentityProvider{}, err
	}
	ps, orgs, err := scanIdentityProviders(rows, true)
	if err != nil {
		return "", api.IdentityProvider{}, err
	}
	if len(ps) == 0 {
		return "", api.IdentityProvider{}, fmt.Errorf("identity provider %s: %w", id, store.ErrNotFound)
	}
	return orgs[0], ps[0], nil
}

func (t *tx) ListIdentityProviders(ctx context.Context, orgID, name, afterID string, limit int) ([]api.IdentityProvider, error) {
	l := newListQuery("p", "SELECT "+identityProviderColumns+" FROM identity_providers p", []any{orgID})
	l.eq("name", name)
	q, args := l.page(afterID, limit)
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	ps, _, err := scanIdentityProviders(rows, false)
	return ps, err
}

func scanIdentityProviders(rows *sql.Rows, withOrg bool) ([]api.IdentityProvider, []string, error) {
	defer rows.Close()
	out := []api.IdentityProvider{}
	var orgs []string
	for rows.Next() {
		var p api.IdentityProvider
		var aud, created, updated, org string
		dest := []any{&p.ID, &p.Name, &p.Issuer, &aud, &p.JWKSJSON, &p.ClientID, &p.HasClientSecret, &p.Version, &created, &updated}
		if withOrg {
			dest = append(dest, &org)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, nil, err
		}
		var err error
		if p.Audiences, err = unmarshalList(aud); err != nil {
			return nil, nil, err
		}
		if p.CreatedAt, err = parseTime(created); err != nil {
			return nil, nil, err
		}
		if p.UpdatedAt, err = parseTime(updated); err != nil {
			return nil, nil, err
		}
		out = append(out, p)
		orgs = append(orgs, org)
	}
	return out, orgs, rows.Err()
}

func (t *tx) UpdateIdentityProvider(ctx context.Context, orgID string, p api.IdentityProvider, expectVersion int64) error {
	aud, err := marshalList(p.Audiences)
	if err != nil {
		return err
	}
	res, err := t.write(ctx, `UPDATE identity_providers SET name = ?, audiences = ?, jwks_json = ?, client_id = ?,
		version = ?, updated_at = ? WHERE id = ? AND org_id = ? AND version = ?`,
		p.Name, aud, p.JWKSJSON, p.ClientID, p.Version, formatTime(p.UpdatedAt), p.ID, orgID, expectVersion)
	return t.versionedResult(ctx, res, err, "identity_providers", "identity provider", p.Name, orgID, p.ID, expectVersion)
}

// DeleteIdentityProvider refuses a provider that rules still trust, naming them: the foreign key
// (RESTRICT) is the guarantee, the query before it gives the names.
func (t *tx) DeleteIdentityProvider(ctx context.Context, orgID, id string) error {
	rows, err := t.query(ctx, "SELECT id FROM federation_rules WHERE org_id = ? AND identity_provider_id = ? ORDER BY id", orgID, id)
	if err != nil {
		return err
	}
	users, err := scanIDs(rows)
	if err != nil {
		return err
	}
	if len(users) > 0 {
		return fmt.Errorf("identity provider %s is trusted by federation rules %s: %w", id, strings.Join(users, ", "), ErrInUse)
	}
	res, err := t.write(ctx, "DELETE FROM identity_providers WHERE id = ? AND org_id = ?", id, orgID)
	if t.d.violation(err) == violationForeignKey {
		return fmt.Errorf("identity provider %s is trusted by federation rules: %w", id, ErrInUse)
	}
	if err != nil {
		return err
	}
	n, err := affected(res)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("identity provider %s: %w", id, store.ErrNotFound)
	}
	return nil
}

func scanIDs(rows *sql.Rows) ([]string, error) {
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	sort.Strings(out)
	return out, rows.Err()
}

// ---- client secrets -------------------------------------------------------------------------------

func (t *tx) PutIdentityProviderSecret(ctx context.Context, s store.SealedSecret) error {
	// Check the owner first: the upsert's conflict target (provider_id) would otherwise let a caller
	// with the wrong organisation reach another organisation's row.
	var one int
	err := t.queryRow(ctx, "SELECT 1 FROM identity_providers WHERE id = ? AND org_id = ?", s.CredentialID, s.OrgID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("identity provider %s: %w", s.CredentialID, store.ErrNotFound)
	}
	if err != nil {
		return err
	}
	_, err = t.write(ctx, `INSERT INTO identity_provider_secrets (org_id, provider_id, key_id, wrapped_key, ciphertext)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (provider_id) DO UPDATE SET
			key_id = excluded.key_id, wrapped_key = excluded.wrapped_key, ciphertext = excluded.ciphertext`,
		s.OrgID, s.CredentialID, s.KeyID, nonNilBytes(s.WrappedKey), nonNilBytes(s.Ciphertext))
	if t.d.violation(err) == violationForeignKey {
		return fmt.Errorf("identity provider %s: %w", s.CredentialID, store.ErrNotFound)
	}
	return err
}

// IdentityProviderSecretField is the Field of a provider's SealedSecret as this store reads it back.
const IdentityProviderSecretField = "client_secret"

const idpSecretColumns = "org_id, provider_id, key_id, wrapped_key, ciphertext"

func scanIdentityProviderSecrets(rows *sql.Rows) ([]store.SealedSecret, error) {
	defer rows.Close()
	out := []store.SealedSecret{}
	for rows.Next() {
		s := store.SealedSecret{Field: IdentityProviderSecretField}
		if err := rows.Scan(&s.OrgID, &s.CredentialID, &s.KeyID, &s.WrappedKey, &s.Ciphertext); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func (t *tx) GetIdentityProviderSecret(ctx context.Context, orgID, providerID string) (store.SealedSecret, error) {
	rows, err := t.query(ctx, "SELECT "+idpSecretColumns+" FROM identity_provider_secrets WHERE org_id = ? AND provider_id = ?", orgID, providerID)
	if err != nil {
		return store.SealedSecret{}, err
	}
	ss, err := scanIdentityProviderSecrets(rows)
	if err != nil {
		return store.SealedSecret{}, err
	}
	if len(ss) == 0 {
		return store.SealedSecret{}, fmt.Errorf("client secret of identity provider %s: %w", providerID, store.ErrNotFound)
	}
	return ss[0], nil
}

func (t *tx) DeleteIdentityProviderSecret(ctx context.Context, orgID, providerID string) error {
	_, err := t.exec(ctx, "DELETE FROM identity_provider_secrets WHERE org_id = ? AND provider_id = ?", orgID, providerID)
	return err
}

func (t *tx) ListAllIdentityProviderSecrets(ctx context.Context) ([]store.SealedSecret, error) {
	rows, err := t.query(ctx, "SELECT "+idpSecretColumns+" FROM identity_provider_secrets ORDER BY provider_id")
	if err != nil {
		return nil, err
	}
	return scanIdentityProviderSecrets(rows)
}

func (t *tx) RewrapIdentityProviderSecret(ctx context.Context, s store.SealedSecret, oldWrappedKey []byte) (bool, error) {
	res, err := t.exec(ctx, `UPDATE identity_provider_secrets SET key_id = ?, wrapped_key = ?
		WHERE org_id = ? AND provider_id = ? AND wrapped_key = ?`,
		s.KeyID, nonNilBytes(s.WrappedKey), s.OrgID, s.CredentialID, nonNilBytes(oldWrappedKey))
	if err != nil {
		return false, err
	}
	n, err := affected(res)
	return n == 1, err
}

func (t *tx) CountIdentityProviderSecretsNotWrappedBy(ctx context.Context, keyID string) (int, error) {
	var n int
	err := t.queryRow(ctx, "SELECT COUNT(*) FROM identity_provider_secrets WHERE key_id <> ?", keyID).Scan(&n)
	return n, err
}

// ---- federation rules -----------------------------------------------------------------------------

const federationRuleColumns = `r.id, r.name, r.identity_provider_id, r.kind, r.conditions, r.role, r.project_id,
	r.token_ttl, r.credentials, r.version, r.created_at, r.updated_at`

func (t *tx) InsertFederationRule(ctx context.Context, orgID string, r api.FederationRule) error {
	cond, err := marshalMap(r.Conditions)
	if err != nil {
		return err
	}
	creds, err := marshalList(r.Credentials)
	if err != nil {
		return err
	}
	_, err = t.write(ctx, `INSERT INTO federation_rules (id, org_id, name, identity_provider_id, kind, conditions, role,
		project_id, token_ttl, credentials, version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, orgID, r.Name, r.IdentityProviderID, r.Kind, cond, r.Role, r.ProjectID, r.TokenTTL, creds, r.Version,
		formatTime(r.CreatedAt), formatTime(r.UpdatedAt))
	if t.d.violation(err) == violationForeignKey {
		return fmt.Errorf("identity provider %s: %w", r.IdentityProviderID, store.ErrNotFound)
	}
	return t.d.mapErr(err, fmt.Sprintf("federation rule %q", r.Name))
}

func (t *tx) GetFederationRule(ctx context.Context, orgID, id string) (api.FederationRule, error) {
	rows, err := t.query(ctx, "SELECT "+federationRuleColumns+" FROM federation_rules r WHERE r.org_id = ? AND r.id = ?", orgID, id)
	if err != nil {
		return api.FederationRule{}, err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return api.FederationRule{}, err
		}
		return api.FederationRule{}, fmt.Errorf("federation rule %s: %w", id, store.ErrNotFound)
	}
	return scanFederationRule(rows)
}

func (t *tx) FederationRuleByID(ctx context.Context, id string) (store.FederationRuleWithProvider, error) {
	rows, err := t.query(ctx, "SELECT "+federationRuleColumns+", r.org_id, "+identityProviderColumns+` FROM federation_rules r
		JOIN identity_providers p ON p.org_id = r.org_id AND p.id = r.identity_provider_id
		WHERE r.id = ?`, id)
	if err != nil {
		return store.FederationRuleWithProvider{}, err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return store.FederationRuleWithProvider{}, err
		}
		return store.FederationRuleWithProvider{}, fmt.Errorf("federation rule %s: %w", id, store.ErrNotFound)
	}
	var out store.FederationRuleWithProvider
	var cond, creds, rcreated, rupdated, aud, pcreated, pupdated string
	r, p := &out.Rule, &out.Provider
	if err := rows.Scan(&r.ID, &r.Name, &r.IdentityProviderID, &r.Kind, &cond, &r.Role, &r.ProjectID, &r.TokenTTL, &creds,
		&r.Version, &rcreated, &rupdated, &out.OrgID,
		&p.ID, &p.Name, &p.Issuer, &aud, &p.JWKSJSON, &p.ClientID, &p.HasClientSecret, &p.Version, &pcreated, &pupdated); err != nil {
		return out, err
	}
	if err := fillRule(r, cond, creds, rcreated, rupdated); err != nil {
		return out, err
	}
	if p.Audiences, err = unmarshalList(aud); err != nil {
		return out, err
	}
	if p.CreatedAt, err = parseTime(pcreated); err != nil {
		return out, err
	}
	if p.UpdatedAt, err = parseTime(pupdated); err != nil {
		return out, err
	}
	return out, rows.Err()
}

func (t *tx) ListFederationRules(ctx context.Context, orgID string, f store.FederationRuleFilter) ([]api.FederationRule, error) {
	l := newListQuery("r", "SELECT "+federationRuleColumns+" FROM federation_rules r", []any{orgID})
	l.eq("identity_provider_id", f.IdentityProviderID)
	l.eq("kind", f.Kind)
	l.eq("project_id", f.ProjectID)
	l.eq("name", f.Name)
	q, args := l.page(f.AfterID, f.Limit)
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []api.FederationRule{}
	for rows.Next() {
		r, err := scanFederationRule(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func scanFederationRule(rows *sql.Rows) (api.FederationRule, error) {
	var r api.FederationRule
	var cond, creds, created, updated string
	if err := rows.Scan(&r.ID, &r.Name, &r.IdentityProviderID, &r.Kind, &cond, &r.Role, &r.ProjectID, &r.TokenTTL, &creds,
		&r.Version, &created, &updated); err != nil {
		return r, err
	}
	return r, fillRule(&r, cond, creds, created, updated)
}

func fillRule(r *api.FederationRule, cond, creds, created, updated string) error {
	var err error
	if r.Conditions, err = unmarshalMap(cond); err != nil {
		return err
	}
	if r.Credentials, err = unmarshalList(creds); err != nil {
		return err
	}
	if r.CreatedAt, err = parseTime(created); err != nil {
		return err
	}
	r.UpdatedAt, err = parseTime(updated)
	return err
}

func (t *tx) UpdateFederationRule(ctx context.Context, orgID string, r api.FederationRule, expectVersion int64) error {
	cond, err := marshalMap(r.Conditions)
	if err != nil {
		return err
	}
	creds, err := marshalList(r.Credentials)
	if err != nil {
		return err
	}
	res, err := t.write(ctx, `UPDATE federation_rules SET name = ?, conditions = ?, role = ?, project_id = ?, token_ttl = ?,
		credentials = ?, version = ?, updated_at = ? WHERE id = ? AND org_id = ? AND version = ?`,
		r.Name, cond, r.Role, r.ProjectID, r.TokenTTL, creds, r.Version, formatTime(r.UpdatedAt), r.ID, orgID, expectVersion)
	return t.versionedResult(ctx, res, err, "federation_rules", "federation rule", r.Name, orgID, r.ID, expectVersion)
}

func (t *tx) DeleteFederationRule(ctx context.Context, orgID, id string) error {
	// The tokens go by the foreign key's cascade; deleting them first keeps that true on a database
	// whose foreign keys are off.
	if _, err := t.exec(ctx, "DELETE FROM exchanged_tokens WHERE org_id = ? AND rule_id = ?", orgID, id); err != nil {
		return err
	}
	res, err := t.exec(ctx, "DELETE FROM federation_rules WHERE id = ? AND org_id = ?", id, orgID)
	if err != nil {
		return err
	}
	n, err := affected(res)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("federation rule %s: %w", id, store.ErrNotFound)
	}
	return nil
}

// ---- exchanged tokens -----------------------------------------------------------------------------

func (t *tx) InsertExchangedToken(ctx context.Context, et store.ExchangedToken) error {
	claims, err := marshalMap(et.Claims)
	if err != nil {
		return err
	}
	_, err = t.write(ctx, `INSERT INTO exchanged_tokens (hash, org_id, rule_id, rule_version, provider_version, claims, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		et.Hash, et.OrgID, et.RuleID, et.RuleVersion, et.ProviderVersion, claims, formatTime(et.CreatedAt), formatTime(et.ExpiresAt))
	if t.d.violation(err) == violationForeignKey {
		return fmt.Errorf("federation rule %s: %w", et.RuleID, store.ErrNotFound)
	}
	return t.d.mapErr(err, "exchanged token")
}

func (t *tx) ExchangedTokenByHash(ctx context.Context, hash string) (store.ExchangedToken, api.FederationRule, error) {
	rows, err := t.query(ctx, `SELECT e.hash, e.org_id, e.rule_id, e.rule_version, e.provider_version, e.claims, e.created_at, e.expires_at, `+
		federationRuleColumns+` FROM exchanged_tokens e
		JOIN federation_rules r ON r.org_id = e.org_id AND r.id = e.rule_id
		JOIN identity_providers p ON p.org_id = r.org_id AND p.id = r.identity_provider_id AND p.version = e.provider_version
		WHERE e.hash = ?`, hash)
	if err != nil {
		return store.ExchangedToken{}, api.FederationRule{}, err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return store.ExchangedToken{}, api.FederationRule{}, err
		}
		return store.ExchangedToken{}, api.FederationRule{}, fmt.Errorf("exchanged token: %w", store.ErrNotFound)
	}
	var et store.ExchangedToken
	var r api.FederationRule
	var claims, created, expires, cond, creds, rcreated, rupdated string
	if err := rows.Scan(&et.Hash, &et.OrgID, &et.RuleID, &et.RuleVersion, &et.ProviderVersion, &claims, &created, &expires,
		&r.ID, &r.Name, &r.IdentityProviderID, &r.Kind, &cond, &r.Role, &r.ProjectID, &r.TokenTTL, &creds,
		&r.Version, &rcreated, &rupdated); err != nil {
		return et, r, err
	}
	if et.Claims, err = unmarshalMap(claims); err != nil {
		return et, r, err
	}
	if et.CreatedAt, err = parseTime(created); err != nil {
		return et, r, err
	}
	if et.ExpiresAt, err = parseTime(expires); err != nil {
		return et, r, err
	}
	if err := fillRule(&r, cond, creds, rcreated, rupdated); err != nil {
		return et, r, err
	}
	return et, r, rows.Err()
}

func (t *tx) DeleteExpiredExchangedTokens(ctx context.Context, orgID, ruleID string, now time.Time) (int, error) {
	res, err := t.exec(ctx, "DELETE FROM exchanged_tokens WHERE org_id = ? AND rule_id = ? AND expires_at < ?", orgID, ruleID, formatTime(now))
	if err != nil {
		return 0, err
	}
	n, err := affected(res)
	return int(n), err
}
