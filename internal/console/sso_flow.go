package console

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"
)

// An authorization-code flow in progress lives in the browser, in one cookie sealed (AES-256-GCM)
// under a key of this process: the provider, state, nonce, PKCE verifier and callback URL. Nothing
// is kept on the server until the callback, which then remembers the state as used until the flow
// would have expired, so a callback replayed (with the old cookie) is refused. Like sessions, a flow
// is bound to this process (sticky sessions with several replicas).

const (
	flowCookie = "modelkeys_oidc"
	// flowTTL is how long a person has at the identity provider's login page.
	flowTTL = 10 * time.Minute
)

type flow struct {
	ProviderID string `json:"p"`
	Issuer     string `json:"i"`
	State      string `json:"s"`
	Nonce      string `json:"n"`
	Verifier   string `json:"v"`
	Redirect   string `json:"r"`
	Created    int64  `json:"t"`
}

// flowAAD binds the sealed cookie to its purpose.
var flowAAD = []byte("modelkeys console oidc flow v1")

type flowSealer struct{ aead cipher.AEAD }

func newFlowSealer() flowSealer {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return flowSealer{aead: aead}
}

func (s flowSealer) seal(f flow) string {
	plain, _ := json.Marshal(f)
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(s.aead.Seal(nonce, nonce, plain, flowAAD))
}

var errNoFlow = errors.New("no sign-in in progress")

// open reads a flow cookie's value: sealed by this process and at most flowTTL old.
func (s flowSealer) open(value string, now time.Time) (flow, error) {
	b, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil || len(b) < s.aead.NonceSize() {
		return flow{}, errNoFlow
	}
	plain, err := s.aead.Open(nil, b[:s.aead.NonceSize()], b[s.aead.NonceSize():], flowAAD)
	if err != nil {
		return flow{}, errNoFlow
	}
	var f flow
	if json.Unmarshal(plain, &f) != nil || f.State == "" || f.Nonce == "" || f.Verifier == "" {
		return flow{}, errNoFlow
	}
	if age := now.Sub(time.Unix(f.Created, 0)); age > flowTTL || age < -time.Minute {
		return flow{}, errNoFlow
	}
	return f, nil
}

// usedStates remembers the states of finished callbacks until their flows would have expired.
type usedStates struct {
	mu sync.Mutex
	m  map[[32]byte]time.Time // SHA-256 of the state -> when it may be forgotten
}

// maxUsedStates bounds the memory; a flood of callbacks beyond it forgets the oldest entries, which
// have the least life left.
const maxUsedStates = 100_000

// consume marks state used; false when it was used already.
func (u *usedStates) consume(state string, now time.Time) bool {
	key := sha256.Sum256([]byte(state))
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.m == nil {
		u.m = map[[32]byte]time.Time{}
	}
	if until, ok := u.m[key]; ok && now.Before(until) {
		return false
	}
	if len(u.m) >= maxUsedStates {
		for k, until := range u.m {
			if !now.Before(until) {
				delete(u.m, k)
			}
		}
		for k := range u.m { // still full: forget arbitrary ones
			if len(u.m) < maxUsedStates {
				break
			}
			delete(u.m, k)
		}
	}
	u.m[key] = now.Add(flowTTL + time.Minute)
	return true
}

// flowCookieOf builds the flow cookie. It is SameSite=Lax, unlike the console's other cookies: the
// identity provider sends the browser back with a top-level GET from its own site, on which a Strict
// cookie would not be sent. It carries no authority of its own (it only ties the callback to the
// browser that started the flow), and it is HttpOnly, __Host- prefixed under TLS, and one use.
func (c *Console) flowCookieOf(r *http.Request, value string, maxAge int) *http.Cookie {
	ck := c.cookie(r, flowCookie, value, maxAge) //nolint:gosec // G124: Secure and HttpOnly as every console cookie (c.cookie); Lax on purpose, see above
	ck.SameSite = http.SameSiteLaxMode
	return ck
}
