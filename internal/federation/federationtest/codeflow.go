package federationtest

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// The issuer also runs a minimal OpenID Connect authorization-code flow with PKCE, for tests of a
// relying party (the console's sign-in): /authorize signs in at once as the user set by SignInAs and
// sends the browser back with a code; /token checks the client, the redirect URI and the PKCE
// verifier (S256 only), and answers with an ID token carrying the nonce.

type codeFlow struct {
	mu      sync.Mutex
	clients map[string]string // client id -> secret ("" for a public client)
	user    map[string]any
	codes   map[string]grant
	hook    func(claims map[string]any)
	tokenN  int
	// authMethods, when set, are the only client authentications /token accepts (and discovery
	// lists): "client_secret_basic", "client_secret_post", "none".
	authMethods []string
}

// TokenAuthMethods limits how clients may authenticate at /token, and says so in discovery.
func (i *Issuer) TokenAuthMethods(methods ...string) {
	i.flow.mu.Lock()
	defer i.flow.mu.Unlock()
	i.flow.authMethods = methods
}

func (i *Issuer) tokenAuthMethods() []string {
	i.flow.mu.Lock()
	defer i.flow.mu.Unlock()
	return i.flow.authMethods
}

type grant struct {
	clientID, redirect, nonce, challenge string
	claims                               map[string]any
	expires                              time.Time
}

// RegisterClient registers an OAuth client; secret "" makes it a public client (PKCE only).
func (i *Issuer) RegisterClient(id, secret string) {
	i.flow.mu.Lock()
	defer i.flow.mu.Unlock()
	i.flow.clients[id] = secret
}

// SignInAs sets the claims (sub, email, groups, ...) of the person /authorize signs in.
func (i *Issuer) SignInAs(claims map[string]any) {
	i.flow.mu.Lock()
	defer i.flow.mu.Unlock()
	i.flow.user = claims
}

// OnIDToken lets a test change the claims of the ID tokens /token issues (a wrong nonce, say).
func (i *Issuer) OnIDToken(hook func(claims map[string]any)) {
	i.flow.mu.Lock()
	defer i.flow.mu.Unlock()
	i.flow.hook = hook
}

// TokenRequests counts the requests to /token.
func (i *Issuer) TokenRequests() int {
	i.flow.mu.Lock()
	defer i.flow.mu.Unlock()
	return i.flow.tokenN
}

func (i *Issuer) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	i.flow.mu.Lock()
	_, known := i.flow.clients[q.Get("client_id")]
	user := i.flow.user
	i.flow.mu.Unlock()
	redirect, err := url.Parse(q.Get("redirect_uri"))
	switch {
	case !known:
		http.Error(w, "unknown client_id", http.StatusBadRequest)
		return
	case err != nil || redirect.Scheme == "" || q.Get("redirect_uri") == "":
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	case q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "":
		http.Error(w, "want response_type=code with an S256 code_challenge", http.StatusBadRequest)
		return
	}
	back := redirect.Query()
	back.Set("state", q.Get("state"))
	if user == nil {
		back.Set("error", "access_denied")
	} else {
		code := randomID()
		i.flow.mu.Lock()
		i.flow.codes[code] = grant{clientID: q.Get("client_id"), redirect: q.Get("redirect_uri"), nonce: q.Get("nonce"),
			challenge: q.Get("code_challenge"), claims: user, expires: time.Now().Add(time.Minute)}
		i.flow.mu.Unlock()
		back.Set("code", code)
	}
	redirect.RawQuery = back.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound) //nolint:gosec // G710: a test issuer sends the browser back to the redirect_uri, as an issuer does
}

func (i *Issuer) token(w http.ResponseWriter, r *http.Request) {
	i.flow.mu.Lock()
	i.flow.tokenN++
	i.flow.mu.Unlock()
	if err := r.ParseForm(); err != nil {
		tokenError(w, "invalid_request")
		return
	}
	clientID, secret, basic := r.BasicAuth()
	method := "client_secret_basic"
	if basic {
		clientID, _ = url.QueryUnescape(clientID)
		secret, _ = url.QueryUnescape(secret)
	} else {
		clientID, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		method = "client_secret_post"
		if secret == "" {
			method = "none"
		}
	}
	if allowed := i.tokenAuthMethods(); len(allowed) > 0 && !slices.Contains(allowed, method) {
		writeJSONStatus(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	code := r.PostForm.Get("code")
	i.flow.mu.Lock()
	want, known := i.flow.clients[clientID]
	g, ok := i.flow.codes[code]
	delete(i.flow.codes, code) // one use
	hook := i.flow.hook
	i.flow.mu.Unlock()
	if !known || subtle.ConstantTimeCompare([]byte(want), []byte(secret)) != 1 {
		writeJSONStatus(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	switch {
	case r.PostForm.Get("grant_type") != "authorization_code", !ok, time.Now().After(g.expires), g.clientID != clientID,
		g.redirect != r.PostForm.Get("redirect_uri"), base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge:
		tokenError(w, "invalid_grant")
		return
	}
	claims := map[string]any{"aud": clientID}
	if g.nonce != "" {
		claims["nonce"] = g.nonce
	}
	for k, v := range g.claims {
		claims[k] = v
	}
	claims = i.Claims(claims)
	if hook != nil {
		hook(claims)
	}
	i.mu.Lock()
	k := i.current
	i.mu.Unlock()
	idToken := i.sign(jose.SigningKey{Algorithm: jose.RS256, Key: k.key}, k.kid, claims)
	writeJSON(w, map[string]any{"access_token": randomID(), "token_type": "Bearer", "expires_in": 300, "id_token": idToken})
}

func tokenError(w http.ResponseWriter, code string) {
	writeJSONStatus(w, http.StatusBadRequest, map[string]string{"error": code})
}
