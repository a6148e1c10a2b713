package service

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// Limits of POST /v1/credentials/{id}/secret-matches per token: a burst that covers a plan of many
// imported credentials, then a steady rate far below what guessing a key would need.
const (
	compareBurst     = 200
	comparePerSecond = 10
	compareMaxTokens = 10_000
)

// compareLimiter is a token bucket per (organisation, token) for secret comparisons, which answer a
// yes or no about a secret and so must not be asked at any rate a client likes.
type compareLimiter struct {
	mu       sync.Mutex
	limiters map[string]*rate.Limiter
	swept    time.Time
}

func (l *compareLimiter) allow(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	if l.limiters == nil {
		l.limiters = map[string]*rate.Limiter{}
	}
	if now.Sub(l.swept) > time.Minute || len(l.limiters) >= compareMaxTokens {
		for k, lim := range l.limiters {
			if lim.TokensAt(now) >= compareBurst {
				delete(l.limiters, k) // full again: the same as a new one
			}
		}
		l.swept = now
	}
	lim, ok := l.limiters[key]
	if !ok {
		lim = rate.NewLimiter(comparePerSecond, compareBurst)
		l.limiters[key] = lim
	}
	l.mu.Unlock()
	res := lim.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}

// SecretMatches says whether the secrets sent equal the credential's stored ones, so that a client
// holding a key (Terraform after an import) can tell whether writing it would change anything without
// writing it. Editors and admins only, as for a write; rate-limited per token; audited with the
// fields compared, never their values. The comparison runs in constant time on the decrypted value.
// Another organisation's credential is a 404, as for every read.
func (s *Service) SecretMatches(ctx context.Context, p Principal, id string, in api.SecretMatch) (api.SecretMatchResult, error) {
	if err := requireWrite(p); err != nil {
		return api.SecretMatchResult{}, err
	}
	if in.APIKey == nil && in.AuthToken == nil {
		return api.SecretMatchResult{}, InvalidField(api.SecretAPIKey, "Send api_key, auth_token or both to compare.")
	}
	if err := s.allowCompare(p); err != nil {
		return api.SecretMatchResult{}, err
	}
	_, plain, err := s.readCredentialWithSecrets(ctx, p, id)
	if err != nil {
		return api.SecretMatchResult{}, err
	}
	matches := 1
	var fields []string
	for field, sent := range map[string]*string{api.SecretAPIKey: in.APIKey, api.SecretAuthToken: in.AuthToken} {
		if sent == nil {
			continue
		}
		fields = append(fields, field)
		matches &= equalSecret(*sent, plain[field])
	}
	if len(fields) == 2 && fields[0] > fields[1] {
		fields[0], fields[1] = fields[1], fields[0]
	}
	if err := s.tx(ctx, func(tx store.Tx) error {
		return s.audit(ctx, tx, p, "compare", "credential", id, fields)
	}); err != nil {
		return api.SecretMatchResult{}, err
	}
	return api.SecretMatchResult{Matches: matches == 1}, nil
}

// allowCompare takes one of the token's secret comparisons: every answer that says whether a sent
// secret is the stored one (secret-matches, a patch with secrets_resent) counts.
func (s *Service) allowCompare(p Principal) error {
	if ok, _ := s.compares.allow(p.OrgID+"\x00"+p.TokenID, s.now()); !ok {
		return &Error{Status: StatusTooManyRequests, Title: "Too many requests",
			Detail: fmt.Sprintf("Token %q may compare secrets at most %d times per second (bursts of %d); retry after the Retry-After delay.", p.Actor, comparePerSecond, compareBurst)}
	}
	return nil
}

// equalSecret is 1 when a and b are equal, in time that depends on neither's content nor length
// (both are hashed first, so the lengths compared are always the same).
func equalSecret(a, b string) int {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:])
}
