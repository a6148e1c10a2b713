// Package console is modelkeys-server's web console: server-rendered pages under /ui for the people
// who do not read HCL. It shows which keys exist, whether they work, which models they may use and
// who changed what, and lets editors and admins re-verify and rotate a key.
//
// It holds no rules of its own: every read and write goes through the same service.Service methods as
// the REST API, with the signed-in token's principal, so roles, validation, verification and audit are
// the API's. Sign-in goes through server.Server.SignIn, behind the API's failed-authentication limit.
//
// Sessions live in this process's memory: a restart signs everyone out, and with several replicas a
// load balancer must keep a person on one replica (sticky sessions). The sign-in form's CSRF token is
// signed with a key of this process too (signin.go), so the same stickiness covers it. A session keeps the token's
// hash, never the token, and every request checks again that the token is valid, so revoking a token
// ends its sessions (within the server's --token-cache-ttl).
package console

import (
	"bytes"
	"context"
	"crypto/subtle"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/server"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Prefix is where the console is served.
const Prefix = "/ui/"

// Options configure the console.
type Options struct {
	// SecureCookies marks the cookies Secure on plain HTTP too, for a server behind a TLS-terminating
	// proxy. Requests that arrive over TLS always get Secure cookies.
	SecureCookies bool
	// SessionTTL is how long a sign-in lasts (default 8h); IdleTimeout ends a session unused this long
	// (default 1h).
	SessionTTL  time.Duration
	IdleTimeout time.Duration
	// Now is the clock; tests replace it.
	Now func() time.Time
	// NoTokenSignIn turns off sign-in with an API token (--console-token-signin=false): people
	// sign in with their organisation's identity provider only. On by default, for break-glass.
	NoTokenSignIn bool
	// SSO configures single sign-on with the organisations' identity providers (sso.go).
	SSO SSOOptions
}

// Console serves the pages.
type Console struct {
	srv      *server.Server
	svc      *service.Service
	opts     Options
	sessions *sessionStore
	loginKey []byte // signs the sign-in form's CSRF token (signin.go); random per process, as sessions are
	origin   *http.CrossOriginProtection
	pages    map[string]*template.Template
	mux      *http.ServeMux
	sso      *sso
}

const (
	sessionCookie = "modelkeys_session"
	loginCookie   = "modelkeys_login" // the sign-in form's nonce, before there is a session
	maxFormBytes  = 64 << 10
	// hostPrefix names the cookies when they are Secure: a browser keeps a __Host- cookie only if it
	// is Secure, has Path=/ and no Domain, so a sibling subdomain or a plain-HTTP answer cannot set
	// (toss) one for this host.
	hostPrefix = "__Host-"
)

// New builds the console over srv's service. Mount it with srv.Mount(console.Prefix, c).
func New(srv *server.Server, opts Options) *Console {
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = 8 * time.Hour
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	c := &Console{srv: srv, svc: srv.Service(), opts: opts, sessions: newSessionStore(), loginKey: newLoginKey(),
		origin: http.NewCrossOriginProtection(), pages: map[string]*template.Template{}}
	for _, name := range []string{"login", "credentials", "credential", "connections", "models", "projects", "policies", "audit", "error", "sso_done", "sso_refused", "sso_confirm"} {
		c.pages[name] = template.Must(template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
	}
	c.sso = newSSO(opts.SSO, c.svc)
	static, _ := fs.Sub(staticFS, "static")
	m := http.NewServeMux()
	m.Handle("GET /ui/static/", http.StripPrefix("/ui/static/", staticHandler(http.FileServerFS(filesOnly{static}))))
	m.HandleFunc("GET /ui/{$}", c.home)
	m.HandleFunc("GET /ui/login", c.loginPage)
	m.HandleFunc("POST /ui/login", c.login)
	m.HandleFunc("GET "+callbackPath, c.ssoCallback) // before the {id} pattern: more specific
	m.HandleFunc("GET /ui/login/oidc/{id}", c.ssoStart)
	m.HandleFunc("POST /ui/logout", c.authed(c.logout, false))
	m.HandleFunc("GET /ui/credentials", c.authed(c.credentialsPage, false))
	m.HandleFunc("GET /ui/credentials/{id}", c.authed(c.credentialPage, false))
	m.HandleFunc("POST /ui/credentials/{id}/verify", c.authed(c.verify, true))
	m.HandleFunc("POST /ui/credentials/{id}/rotate", c.authed(c.rotate, true))
	m.HandleFunc("GET /ui/connections", c.authed(c.connectionsPage, false))
	m.HandleFunc("GET /ui/models", c.authed(c.modelsPage, false))
	m.HandleFunc("GET /ui/projects", c.authed(c.projectsPage, false))
	m.HandleFunc("GET /ui/policies", c.authed(c.policiesPage, false))
	m.HandleFunc("GET /ui/audit", c.authed(c.auditPage, false))
	c.routeWrites(m) // adding, editing and deleting (write_routes.go)
	m.HandleFunc("/ui/", func(w http.ResponseWriter, r *http.Request) {
		c.renderError(w, r, nil, http.StatusNotFound, "Not found", "There is no console page at this address.")
	})
	c.mux = m
	return c
}

// ServeHTTP sets the security headers every answer carries and routes the request.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	if !cleanURL(r.URL) {
		c.renderError(w, r, nil, http.StatusBadRequest, "Bad request", "The address holds bytes that are not UTF-8, or a control or invisible format character; ids and filters have none.")
		return
	}
	// A form posted from another origin is refused before its CSRF token is looked at: a browser says
	// so (Sec-Fetch-Site, Origin) even for a sibling subdomain, which SameSite counts as the same site.
	if err := c.origin.Check(r); err != nil {
		c.renderError(w, r, nil, http.StatusForbidden, "Forbidden", "The form was sent from another site; open the console at its own address and send it from there.")
		return
	}
	c.mux.ServeHTTP(w, r)
}

// cleanURL refuses in the path and query what catalog.ValidateText refuses, as the API does: bytes that
// are not UTF-8, control and format characters. Ids and filters have none, and PostgreSQL cannot take
// a NUL or invalid UTF-8 (it answered a 500 where SQLite found nothing).
func cleanURL(u *url.URL) bool {
	if catalog.ValidateText(u.Path) != nil {
		return false
	}
	for k, vs := range u.Query() {
		if catalog.ValidateText(k) != nil {
			return false
		}
		for _, v := range vs {
			if catalog.ValidateText(v) != nil {
				return false
			}
		}
	}
	return true
}

// filesOnly serves files and hides directories (a 404), so /ui/static/ lists nothing.
type filesOnly struct{ fs.FS }

func (f filesOnly) Open(name string) (fs.File, error) {
	file, err := f.FS.Open(name)
	if err != nil {
		return nil, err
	}
	if info, err := file.Stat(); err != nil || info.IsDir() {
		_ = file.Close()
		return nil, fs.ErrNotExist
	}
	return file, nil
}

// staticHandler lets the stylesheet be cached: it holds nothing private.
func staticHandler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		next.ServeHTTP(w, r)
	})
}

// request is what an authenticated handler gets.
type request struct {
	p    service.Principal
	sess *session
	id   string // the session's key in the store
}

// authed wraps a handler that needs a session. Without a valid session a GET goes to the sign-in page
// and a POST is refused (403: its CSRF token cannot be checked). Every POST must carry the session's
// CSRF token; write actions (write) also need an editor or admin token.
func (c *Console) authed(h func(http.ResponseWriter, *http.Request, *request), write bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		now := c.opts.Now()
		id, sess := c.sessionOf(r, now)
		if sess == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
				return
			}
			c.renderError(w, r, nil, http.StatusForbidden, "Forbidden", "You are not signed in, or your session has ended; sign in again.")
			return
		}
		p, err := c.svc.PrincipalOfTokenHash(r.Context(), sess.tokenHash)
		if err != nil {
			var e *service.Error
			if errors.As(err, &e) && e.Status == http.StatusUnauthorized {
				c.sessions.delete(id)
				c.clearCookie(w, r, sessionCookie)
				to := "/ui/login?ended=revoked"
				if sess.sso != "" { // its rule changed or went, or its time ran out
					to = "/ui/login?ended=sso&via=" + url.QueryEscape(sess.sso)
				}
				http.Redirect(w, r, to, http.StatusSeeOther)
				return
			}
			c.fail(w, r, nil, err)
			return
		}
		req := &request{p: p, sess: sess, id: id}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
			if err := r.ParseForm(); err != nil {
				c.renderError(w, r, req, http.StatusBadRequest, "Bad request", "The form could not be read.")
				return
			}
			if !sameToken(r.PostForm.Get("csrf"), sess.csrf) {
				c.renderError(w, r, req, http.StatusForbidden, "Forbidden", "The form's security token is missing or stale; reload the page and try again.")
				return
			}
			if write && !p.CanWrite() {
				c.renderError(w, r, req, http.StatusForbidden, "Forbidden", "Your token has the role "+p.Role+", which may only read; sign in with an editor or admin token to change things.")
				return
			}
		}
		h(w, r, req)
	}
}

func sameToken(got, want string) bool {
	return got != "" && want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func (c *Console) sessionOf(r *http.Request, now time.Time) (string, *session) {
	ck, err := r.Cookie(c.cookieName(r, sessionCookie))
	if err != nil || ck.Value == "" {
		return "", nil
	}
	return c.sessions.get(ck.Value, now, c.opts.SessionTTL, c.opts.IdleTimeout)
}

func (c *Console) secure(r *http.Request) bool { return r.TLS != nil || c.opts.SecureCookies }

// cookieName is the name a console cookie has on r: __Host- prefixed when the cookies are Secure (TLS,
// or SecureCookies behind a TLS-terminating proxy). A cookie of the bare name is then never read, so
// one tossed by a sibling subdomain or over plain HTTP does not count.
func (c *Console) cookieName(r *http.Request, name string) string {
	if c.secure(r) {
		return hostPrefix + name
	}
	return name
}

// setCookie sets a console cookie: HttpOnly, SameSite=Strict, and Secure over TLS (or with
// SecureCookies), then __Host- prefixed with Path=/ as the prefix demands. A plain-HTTP server on
// loopback, the quick start, needs it without Secure, and there it is scoped to the console.
func (c *Console) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge time.Duration) {
	http.SetCookie(w, c.cookie(r, name, value, int(maxAge/time.Second)))
}

func (c *Console) clearCookie(w http.ResponseWriter, r *http.Request, name string) {
	http.SetCookie(w, c.cookie(r, name, "", -1))
}

func (c *Console) cookie(r *http.Request, name, value string, maxAge int) *http.Cookie {
	path := Prefix
	if c.secure(r) {
		path = "/" // __Host- cookies must have Path=/
	}
	return &http.Cookie{ //nolint:gosec // G124: Secure is c.secure(r), see setCookie
		Name: c.cookieName(r, name), Value: value, Path: path, MaxAge: maxAge,
		HttpOnly: true, Secure: c.secure(r), SameSite: http.SameSiteStrictMode}
}

// page is what every template gets.
type page struct {
	Title     string
	Nav       string
	Principal *service.Principal
	CSRF      string
	CanWrite  bool
	Flash     string
	FlashErr  string
	Data      any
}

func (c *Console) newPage(req *request, title, nav string, data any) page {
	pg := page{Title: title, Nav: nav, Data: data}
	if req != nil {
		p := req.p
		pg.Principal, pg.CSRF, pg.CanWrite = &p, req.sess.csrf, p.CanWrite()
		pg.Flash, pg.FlashErr = c.sessions.takeFlash(req.id)
	}
	return pg
}

func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, pg page) {
	var buf bytes.Buffer
	if err := c.pages[name].ExecuteTemplate(&buf, "layout", pg); err != nil {
		c.svc.Logger().ErrorContext(r.Context(), "console template failed", "page", name, "error", err)
		http.Error(w, "The page could not be rendered; the server's log has the details.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	body := compress(w, r, buf.Bytes()) // gzip when accepted (compress.go)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

type errorData struct {
	Status          int
	Heading, Detail string
}

func (c *Console) renderError(w http.ResponseWriter, r *http.Request, req *request, status int, heading, detail string) {
	c.render(w, r, status, "error", c.newPage(req, heading, "", errorData{Status: status, Heading: heading, Detail: detail}))
}

// fail shows err: a service error with its status and message (which never hold secrets), anything
// else as a 500 that says nothing of its content.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, req *request, err error) {
	var e *service.Error
	switch {
	case errors.As(err, &e):
		c.renderError(w, r, req, e.Status, e.Title, errorText(e, ""))
	case errors.Is(err, context.Canceled):
		return
	default:
		c.svc.Logger().ErrorContext(r.Context(), "console request failed", "path", r.URL.Path, "error", err)
		c.renderError(w, r, req, http.StatusInternalServerError, "Internal error", "The server failed to handle this request; its log has the details.")
	}
}

// errorText is an error's message for a person, with secret (the value just submitted, if any)
// removed in case anything quoted it.
func errorText(err error, secret string) string {
	var msg string
	var e *service.Error
	if errors.As(err, &e) {
		parts := []string{}
		if e.Detail != "" {
			parts = append(parts, e.Detail)
		}
		for _, f := range e.Fields {
			parts = append(parts, f.Field+": "+f.Message)
		}
		if len(parts) == 0 {
			parts = append(parts, e.Title)
		}
		msg = strings.Join(parts, " ")
	} else {
		msg = "The server failed to handle this request; its log has the details."
	}
	if secret != "" {
		msg = strings.ReplaceAll(msg, secret, "[redacted]")
	}
	return msg
}
