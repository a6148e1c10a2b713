package console

import (
	"errors"
	"net/http"
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
}

// loginPage shows the sign-in form. Its CSRF token is a random value in a cookie and in the form (a
// double submit): there is no session yet to tie it to, and SameSite=Strict keeps other sites from
// sending the cookie.
func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	var d loginData
	switch r.URL.Query().Get("ended") {
	case "revoked":
		d.Notice = "Your session ended: the token it was opened with is no longer valid."
	case "out":
		d.Notice = "You are signed out."
	}
	c.showLogin(w, r, http.StatusOK, d)
}

func (c *Console) showLogin(w http.ResponseWriter, r *http.Request, status int, d loginData) {
	csrf := randomToken()
	c.setCookie(w, r, loginCookie, csrf, time.Hour)
	pg := c.newPage(nil, "Sign in", "login", d)
	pg.CSRF = csrf
	c.render(w, r, status, "login", pg)
}

// login exchanges a token for a session. A wrong token counts against the client address's
// failed-authentication limit, as an API request with it would.
func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		c.renderError(w, r, nil, http.StatusBadRequest, "Bad request", "The form could not be read.")
		return
	}
	ck, err := r.Cookie(loginCookie)
	if err != nil || !sameToken(r.PostForm.Get("csrf"), ck.Value) {
		c.renderError(w, r, nil, http.StatusForbidden, "Forbidden", "The sign-in form's security token is missing or stale; open the sign-in page again.")
		return
	}
	token := trimToken(r.PostForm.Get("token"))
	_, err = c.srv.SignIn(w, r, token)
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
