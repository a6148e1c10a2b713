package client

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// TokenSource gives the client the bearer token of each call (Config.TokenSource). Token is called
// before every call, concurrently, so it must be cheap when it has a token at hand and safe for
// concurrent use. Its errors must never contain a token.
type TokenSource interface {
	Token(ctx context.Context) (string, error)
}

// TokenInvalidator is a TokenSource that can drop a token the server refused (401), so that the next
// Token gets a new one instead of handing out the refused one until it expires.
type TokenInvalidator interface {
	InvalidateToken(token string)
}

// TokenSourceError is a call that was not sent because the TokenSource had no token for it. Err is
// the source's error.
type TokenSourceError struct {
	Method string
	Path   string
	Err    error
}

func (e *TokenSourceError) Error() string {
	return fmt.Sprintf("modelkeys: %s %s: no token to send: %v", e.Method, e.Path, e.Err)
}

func (e *TokenSourceError) Unwrap() error { return e.Err }

// ExpiringToken is a token and when it stops working.
type ExpiringToken struct {
	Token  string
	Expiry time.Time
}

// RefreshMargin is how long before its expiry a cached token is renewed: a minute, or half its
// lifetime when it lives a minute or less, so that a call never starts with a token that may die
// on the way and a short-lived token is not fetched anew for every call.
const RefreshMargin = time.Minute

// CachingTokenSource keeps the token that fetch returns and asks fetch again only when it comes
// within RefreshMargin of its expiry (or was refused): one fetch at a time, which every concurrent
// caller waits for (single flight), so Terraform's parallel operations trigger one exchange, not ten.
type CachingTokenSource struct {
	fetch func(ctx context.Context) (ExpiringToken, error)
	now   func() time.Time

	mu       sync.Mutex
	cur      ExpiringToken
	lifetime time.Duration // of cur, from when its fetch started
	inflight chan struct{} // closed when the running fetch ends; nil when none runs
	lastErr  error         // of the fetch that ended last, for its waiters
}

// NewCachingTokenSource returns a CachingTokenSource over fetch. fetch's errors reach the callers
// of Token as they are, so they must never contain a token.
func NewCachingTokenSource(fetch func(ctx context.Context) (ExpiringToken, error)) *CachingTokenSource {
	return &CachingTokenSource{fetch: fetch, now: time.Now}
}

// fresh reports whether cur can still be handed out without a refresh.
func (s *CachingTokenSource) fresh(now time.Time) bool {
	if s.cur.Token == "" {
		return false
	}
	margin := min(RefreshMargin, s.lifetime/2)
	return s.cur.Expiry.Sub(now) > margin
}

// usable reports whether cur, though due for renewal, still lives long enough for one more call.
func (s *CachingTokenSource) usable(now time.Time) bool {
	return s.cur.Token != "" && s.cur.Expiry.Sub(now) > 5*time.Second
}

// Token returns the cached token or, when it is near its expiry, a new one from fetch. When the
// refresh fails while the cached token still has a few seconds to live, that token is returned, so
// that a hiccup of the token endpoint does not fail a call that would have worked.
func (s *CachingTokenSource) Token(ctx context.Context) (string, error) {
	for {
		s.mu.Lock()
		now := s.now()
		if s.fresh(now) {
			tok := s.cur.Token
			s.mu.Unlock()
			return tok, nil
		}
		if s.inflight == nil {
			done := make(chan struct{})
			s.inflight = done
			s.mu.Unlock()
			tok, err := s.refresh(ctx, now, done)
			return tok, err
		}
		wait := s.inflight
		s.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return "", ctx.Err()
		}
		s.mu.Lock()
		if now := s.now(); s.fresh(now) || (s.lastErr != nil && s.usable(now)) {
			tok := s.cur.Token
			s.mu.Unlock()
			return tok, nil
		}
		err := s.lastErr
		s.mu.Unlock()
		if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			return "", err
		}
		// The fetch we waited for was cancelled by its own caller's context, not ours: try again.
	}
}

// refresh runs fetch as the one in flight and publishes its outcome.
func (s *CachingTokenSource) refresh(ctx context.Context, started time.Time, done chan struct{}) (string, error) {
	et, err := s.fetch(ctx)
	s.mu.Lock()
	defer func() {
		s.inflight = nil
		close(done)
		s.mu.Unlock()
	}()
	s.lastErr = err
	if err != nil {
		// Still good for a few seconds: use it rather than fail this call.
		if s.usable(s.now()) {
			return s.cur.Token, nil
		}
		return "", err
	}
	if et.Token == "" {
		s.lastErr = errors.New("the token endpoint answered without a token")
		return "", s.lastErr
	}
	s.cur = et
	s.lifetime = et.Expiry.Sub(started)
	return et.Token, nil
}

// InvalidateToken drops token if it is the cached one, so the next Token fetches anew.
func (s *CachingTokenSource) InvalidateToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur.Token == token {
		s.cur = ExpiringToken{}
	}
}
