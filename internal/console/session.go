package console

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"sync"
	"time"
)

// session is one sign-in. It keeps the token's hash (to check on every request that the token is
// still valid), never the token.
type session struct {
	tokenHash     string
	csrf          string
	created, seen time.Time
	flash, errMsg string // one-shot messages for the next page
	// sso is the identity provider id of a single sign-on session ("" for token sign-in); its token
	// was issued under a federation rule and ends with it.
	sso string
}

// sessionStore keeps sessions in memory, keyed by the SHA-256 of the cookie value, so the map holds
// nothing a cookie could be rebuilt from.
type sessionStore struct {
	mu    sync.Mutex
	m     map[string]*session
	swept time.Time
}

// maxSessions bounds the memory sessions take; past it the oldest are dropped.
const maxSessions = 10_000

func newSessionStore() *sessionStore { return &sessionStore{m: map[string]*session{}} }

func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func storeKey(cookie string) string {
	sum := sha256.Sum256([]byte(cookie))
	return hex.EncodeToString(sum[:])
}

// create starts a session and returns the cookie value.
func (s *sessionStore) create(tokenHash string, now time.Time, ttl, idle time.Duration) string {
	return s.createSSO(tokenHash, "", now, ttl, idle)
}

// createSSO starts a session opened by single sign-on with the identity provider of id provider.
func (s *sessionStore) createSSO(tokenHash, provider string, now time.Time, ttl, idle time.Duration) string {
	cookie := randomToken()
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Sub(s.swept) > time.Minute || len(s.m) >= maxSessions {
		s.sweepLocked(now, ttl, idle)
	}
	for len(s.m) >= maxSessions { // still full: drop the oldest
		var oldest string
		var at time.Time
		for k, v := range s.m {
			if oldest == "" || v.created.Before(at) {
				oldest, at = k, v.created
			}
		}
		delete(s.m, oldest)
	}
	s.m[storeKey(cookie)] = &session{tokenHash: tokenHash, csrf: randomToken(), created: now, seen: now, sso: provider}
	return cookie
}

// get finds a live session by cookie value and marks it used. It returns the store key and a copy.
func (s *sessionStore) get(cookie string, now time.Time, ttl, idle time.Duration) (string, *session) {
	key := storeKey(cookie)
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.m[key]
	if sess == nil {
		return "", nil
	}
	if now.Sub(sess.created) > ttl || now.Sub(sess.seen) > idle {
		delete(s.m, key)
		return "", nil
	}
	sess.seen = now
	cp := *sess
	return key, &cp
}

func (s *sessionStore) delete(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
}

// setFlash leaves a message for the session's next page: ok is shown as a success, bad as an error.
func (s *sessionStore) setFlash(key, ok, bad string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sess := s.m[key]; sess != nil {
		sess.flash, sess.errMsg = ok, bad
	}
}

func (s *sessionStore) takeFlash(key string) (ok, bad string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sess := s.m[key]; sess != nil {
		ok, bad = sess.flash, sess.errMsg
		sess.flash, sess.errMsg = "", ""
	}
	return ok, bad
}

func (s *sessionStore) sweepLocked(now time.Time, ttl, idle time.Duration) {
	for k, v := range s.m {
		if now.Sub(v.created) > ttl || now.Sub(v.seen) > idle {
			delete(s.m, k)
		}
	}
	s.swept = now
}
