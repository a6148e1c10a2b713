package service

import (
	"sync"
	"time"
)

// tokenCache remembers, for Config.TokenCacheTTL, which principal a valid token hash belongs to, so
// that a request costs no database transaction for authentication. Only valid tokens are cached
// (an unknown or revoked token always goes to the database), and an entry is used for at most the
// TTL after it was read: a token revoked with `modelkeys-server token revoke` (another process,
// writing the database directly) stops working within the TTL. TTL zero turns the cache off.
type tokenCache struct {
	mu sync.Mutex
	m  map[string]tokenEntry
	// ruleGen counts the changes of federation rules on this process (token_exchange.go).
	ruleGen uint64
}

type tokenEntry struct {
	p       Principal
	expires time.Time
}

// tokenCacheMax bounds the cache; when full it starts again empty (tokens are few in practice).
const tokenCacheMax = 10000

func (c *tokenCache) get(hash string, now time.Time) (Principal, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[hash]
	if !ok || !now.Before(e.expires) {
		return Principal{}, false
	}
	return e.p, true
}

func (c *tokenCache) put(hash string, p Principal, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= tokenCacheMax {
		c.m = map[string]tokenEntry{}
	}
	c.m[hash] = tokenEntry{p: p, expires: expires}
}
