package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
)

// home sends a signed-in person to the credentials and anyone else to the sign-in page.
func (c *Console) home(w http.ResponseWriter, r *http.Request) {
	if _, sess := c.sessionOf(r, c.opts.Now()); sess != nil {
		http.Redirect(w, r, "/ui/credentials", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
}

type loginData struct {
	Error  string
	Notice string
	// TokenSignIn shows the token form (unless the operator turned it off); Providers are the
	// "Sign in with ..." links (sso.go).
	TokenSignIn bool
	Providers   []ssoLink
	// Again is the sign-in link of the identity provider whose session just ended.
	Again string
}

// loginPage shows the sign-in form. There is no session yet to tie its CSRF token to, so the cookie
// holds a random nonce and the time it was made, and the form an HMAC of both under a key only this
// process knows (a signed double submit): a value an attacker plants in both the cookie and the form
// does not match, and a pair fetched from this server lasts loginFormTTL. Under TLS the cookie is
// __Host- prefixed, so a sibling subdomain cannot plant one it fetched; SameSite=Strict and the
// cross-origin check keep other sites from posting the form.
func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	var d loginData
	switch r.URL.Query().Get("ended") {
	case "revoked":
		d.Notice = "Your session ended: the token it was opened with is no longer valid."
	case "out":
		d.Notice = "You are signed out."
	case "sso":
		d.Notice = "Your single sign-on session ended: its federation rule changed or was deleted, or its time ran out. Sign in again."
		if via := r.URL.Query().Get("via"); via != "" {
			d.Again = "/ui/login/oidc/" + url.PathEscape(via)
		}
	}
	c.showLogin(w, r, http.StatusOK, d)
}

func (c *Console) showLogin(w http.ResponseWriter, r *http.Request, status int, d loginData) {
	d.TokenSignIn = !c.opts.NoTokenSignIn
	d.Providers = c.signInLinks(r.Context())
	nonce := randomToken() + "." + strconv.FormatInt(c.opts.Now().Unix(), 10)
	c.setCookie(w, r, loginCookie, nonce, loginFormTTL)
	pg := c.newPage(nil, "Sign in", "login", d)
	pg.CSRF = c.loginMAC(nonce)
	c.render(w, r, status, "login", pg)
}

// loginFormTTL is how long a sign-in form can be sent after it was shown.
const loginFormTTL = time.Hour

func newLoginKey() []byte {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return k
}

// loginMAC is the form's CSRF token for the cookie's nonce.
func (c *Console) loginMAC(nonce string) string {
	m := hmac.New(sha256.New, c.loginKey)
	m.Write([]byte("modelkeys console sign-in\x00" + nonce))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// loginFormValid says whether the form's token is this process's HMAC of the cookie's nonce, made at
// most loginFormTTL ago.
func (c *Console) loginFormValid(r *http.Request) bool {
	ck, err := r.Cookie(c.cookieName(r, loginCookie))
	if err != nil {
		return false
	}
	_, issued, ok := strings.Cut(ck.Value, ".")
	if !ok {
		return false
	}
	at, err := strconv.ParseInt(issued, 10, 64)
	if err != nil {
		return false
	}
	if age := c.opts.Now().Sub(time.Unix(at, 0)); age > loginFormTTL || age < -time.Minute {
		return false
	}
	return sameToken(r.PostForm.Get("csrf"), c.loginMAC(ck.Value))
}

// login exchanges a token for a session. A wrong token counts against the client address's
// failed-authentication limit, as an API request with it would.
func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		c.renderError(w, r, nil, http.StatusBadRequest, "Bad request", "The form could not be read.")
		return
	}
	if c.opts.NoTokenSignIn {
		c.renderError(w, r, nil, http.StatusForbidden, "Forbidden", "Sign-in with an API token is turned off on this server; sign in with your organisation's identity provider.")
		return
	}
	if !c.loginFormValid(r) {
		c.renderError(w, r, nil, http.StatusForbidden, "Forbidden", "The sign-in form's security token is missing or stale; open the sign-in page again.")
		return
	}
	token := trimToken(r.PostForm.Get("token"))
	_, err := c.srv.SignIn(w, r, token)
	if err != nil {
		var e *service.Error
		status, msg := http.StatusInternalServerError, "The server could not check the token; its log has the details."
		if errors.As(err, &e) {
			switch e.Status {
			case http.StatusUnauthorized:
				status, msg = http.StatusUnauthorized, "That token is not valid: it is unknown or revoked."
			case http.StatusTooManyRequests:
				status, msg = http.StatusTooManyRequests, "Too many failed sign-ins from your address; wait a little (Retry-After says how long) and try again."
			}
		} else {
			c.svc.Logger().ErrorContext(r.Context(), "console sign-in failed", "error", err)
		}
		c.showLogin(w, r, status, loginData{Error: msg})
		return
	}
	cookie := c.sessions.create(service.HashToken(token), c.opts.Now(), c.opts.SessionTTL, c.opts.IdleTimeout)
	c.clearCookie(w, r, loginCookie)
	c.setCookie(w, r, sessionCookie, cookie, c.opts.SessionTTL)
	http.Redirect(w, r, "/ui/credentials", http.StatusSeeOther)
}

// logout ends the session (the token stays valid).
func (c *Console) logout(w http.ResponseWriter, r *http.Request, req *request) {
	c.sessions.delete(req.id)
	c.clearCookie(w, r, sessionCookie)
	http.Redirect(w, r, "/ui/login?ended=out", http.StatusSeeOther)
}

// trimToken drops the whitespace a paste brings along; tokens have none.
func trimToken(t string) string { return strings.TrimSpace(t) }
