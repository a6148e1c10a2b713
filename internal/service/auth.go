package service

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/idgen"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// TokenPrefix starts every token so that secret scanners and people can recognise one.
const TokenPrefix = "mkt_"

// HashToken is how tokens are stored. Tokens are 256-bit random values, so a plain SHA-256 cannot be
// reversed by guessing, and a fast hash keeps authentication cheap.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// ValidRole reports whether role is one a token may carry.
func ValidRole(role string) bool {
	return role == api.RoleAdmin || role == api.RoleEditor || role == api.RoleViewer
}

// CreateToken makes a token for organisation orgName (created if new) and returns its value, which is
// shown once and never stored.
func CreateToken(ctx context.Context, st store.Store, orgName, role, name string, now time.Time) (string, store.Token, error) {
	if !ValidRole(role) {
		return "", store.Token{}, fmt.Errorf("role must be admin, editor or viewer, not %q", role)
	}
	if name == "" {
		return "", store.Token{}, errors.New("a token needs a --name, which audit events show")
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", store.Token{}, err
	}
	value := TokenPrefix + base64.RawURLEncoding.EncodeToString(raw)
	tok, err := insertToken(ctx, st, orgName, role, name, HashToken(value), now)
	return value, tok, err
}

// EnsureToken makes sure a token with this value exists (the bootstrap token of CI and quick starts).
func EnsureToken(ctx context.Context, st store.Store, orgName, role, name, value string, now time.Time) error {
	if len(value) < 16 {
		return errors.New("MODELKEYS_BOOTSTRAP_TOKEN must be at least 16 characters")
	}
	hash := HashToken(value)
	found := false
	err := st.Tx(ctx, func(tx store.Tx) error {
		_, err := tx.TokenByHash(ctx, hash)
		if err == nil {
			found = true
			return nil
		}
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	})
	if err != nil || found {
		return err
	}
	_, err = insertToken(ctx, st, orgName, role, name, hash, now)
	if errors.Is(err, store.ErrDuplicate) { // another replica made it first
		return nil
	}
	return err
}

func insertToken(ctx context.Context, st store.Store, orgName, role, name, hash string, now time.Time) (store.Token, error) {
	var tok store.Token
	err := st.Tx(ctx, func(tx store.Tx) error {
		org, err := tx.EnsureOrganization(ctx, orgName)
		if err != nil {
			return err
		}
		tok = store.Token{ID: idgen.New("tok"), OrgID: org.ID, Name: name, Role: role, Hash: hash, CreatedAt: now.UTC()}
		return tx.InsertToken(ctx, tok)
	})
	return tok, err
}

// PrincipalOfBearer finds the principal of a request's bearer token ("" when it sent none). In
// embedded mode every caller is the admin of organisation "default".
func (s *Service) PrincipalOfBearer(ctx context.Context, token string) (Principal, error) {
	if s.cfg.Embedded {
		return s.embeddedPrincipal(ctx)
	}
	if token == "" {
		return Principal{}, unauthorized("Send an API token as `Authorization: Bearer TOKEN`; make one with `modelkeys-server token create`.")
	}
	if strings.HasPrefix(token, ExchangedTokenPrefix) {
		return s.principalOfExchangedHash(ctx, HashToken(token))
	}
	return s.PrincipalOfTokenHash(ctx, HashToken(token))
}

// PrincipalOfTokenHash finds the principal of the token whose HashToken is hash: the API's bearer
// tokens and the console's sessions (which keep the hash, never the token) check a token the same way.
// An unknown or revoked token is a 401. A hash that is no API token's is looked up among the tokens
// issued under federation rules.
func (s *Service) PrincipalOfTokenHash(ctx context.Context, hash string) (Principal, error) {
	ttl := s.cfg.TokenCacheTTL
	if ttl > 0 {
		if p, ok := s.tokens.get(hash, time.Now()); ok {
			return p, nil
		}
	}
	read := time.Now()
	var tok store.Token
	err := s.readOne(ctx, func(tx store.Tx) error {
		var err error
		tok, err = tx.TokenByHash(ctx, hash)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		// The console keeps a session's hash, not its token, so it cannot tell an exchanged token
		// (a sign-in through a people rule) by its prefix: look there too.
		return s.principalOfExchanged(ctx, hash, "The token is not valid: it is unknown, revoked or expired.")
	}
	if err == nil && tok.RevokedAt != nil {
		return Principal{}, unauthorized("The API token is not valid: it is unknown or revoked.")
	}
	if err != nil {
		return Principal{}, err
	}
	p := Principal{OrgID: tok.OrgID, Actor: tok.Name, Role: tok.Role, TokenID: tok.ID}
	if ttl > 0 {
		s.tokens.put(hash, p, read.Add(ttl))
	}
	return p, nil
}

// CachedPrincipal is the principal of the token whose HashToken is hash when the token cache holds it
// (a valid token, checked within the cache's TTL); false otherwise, and always with the cache off.
func (s *Service) CachedPrincipal(hash string) (Principal, bool) {
	if s.cfg.Embedded || s.cfg.TokenCacheTTL <= 0 {
		return Principal{}, false
	}
	return s.tokens.get(hash, time.Now())
}

// embeddedPrincipal is the admin of organisation "default": in embedded mode the caller holds the
// database file and the master key, so a token would protect nothing.
func (s *Service) embeddedPrincipal(ctx context.Context) (Principal, error) {
	s.embeddedMu.Lock()
	defer s.embeddedMu.Unlock()
	if s.embeddedOrg == "" { // not sync.Once: a failure (a cancelled first request) must not stick
		err := s.tx(ctx, func(tx store.Tx) error {
			org, err := tx.EnsureOrganization(ctx, "default")
			s.embeddedOrg = org.ID
			return err
		})
		if err != nil {
			s.embeddedOrg = ""
			return Principal{}, err
		}
	}
	return Principal{OrgID: s.embeddedOrg, Actor: "terraform (embedded)", Role: api.RoleAdmin, TokenID: "embedded"}, nil
}
