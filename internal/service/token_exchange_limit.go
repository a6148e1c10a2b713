package service

// A subject token that verifies can be exchanged again and again until it expires (an identity
// token is a bearer token for its lifetime), and each exchange stores a token, writes an audit event
// and starts a fresh per-token rate limit. replayLimiter bounds that: at most ExchangesPerSubjectToken
// exchanges of one subject token under one rule per ExchangeReplayWindow. It is kept in memory, per
// process: behind N replicas a token can be exchanged up to N times as often, which still bounds it.

import (
	"crypto/sha256"
	"sync"
	"time"
)

const (
	// ExchangesPerSubjectToken is how many times one subject token may be exchanged under one rule
	// in ExchangeReplayWindow; a CI job exchanges its token once, or a few times on retries.
	ExchangesPerSubjectToken = 10
	ExchangeReplayWindow     = time.Minute
	// maxReplayKeys bounds the table: past it (after dropping ended windows) exchanges are refused
	// rather than let through uncounted.
	maxReplayKeys = 100_000
)

type replayKey struct {
	rule string
	hash [sha256.Size]byte
}

type replayWindow struct {
	start time.Time
	n     int
}

type replayLimiter struct {
	mu sync.Mutex
	m  map[replayKey]*replayWindow
}

// take counts one exchange of subjectToken under rule at now; when the limit is reached it returns
// false and how long until the window ends.
func (l *replayLimiter) take(rule, subjectToken string, now time.Time) (bool, time.Duration) {
	k := replayKey{rule: rule, hash: sha256.Sum256([]byte(subjectToken))}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[replayKey]*replayWindow{}
	}
	w := l.m[k]
	if w != nil && now.Sub(w.start) >= ExchangeReplayWindow {
		w = nil
	}
	if w == nil {
		if len(l.m) >= maxReplayKeys {
			for key, old := range l.m {
				if now.Sub(old.start) >= ExchangeReplayWindow {
					delete(l.m, key)
				}
			}
			if len(l.m) >= maxReplayKeys {
				return false, ExchangeReplayWindow
			}
		}
		w = &replayWindow{start: now}
		l.m[k] = w
	}
	if w.n >= ExchangesPerSubjectToken {
		return false, w.start.Add(ExchangeReplayWindow).Sub(now)
	}
	w.n++
	return true, 0
}

// errTooManyExchanges is the 429 of a subject token exchanged too often (RFC 6749 §5.2 error shape);
// like every refusal it does not say which check it was.
func errTooManyExchanges(wait time.Duration) *OAuthError {
	return &OAuthError{Status: StatusTooManyRequests, Code: "invalid_request", RetryAfter: wait,
		Description: "Too many token exchanges; retry after Retry-After seconds."}
}
