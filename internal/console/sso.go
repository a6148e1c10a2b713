package console

// Single sign-on to the console with an organisation's identity provider (issue 33 §4): an OpenID
// Connect authorization-code flow with PKCE (S256), state and nonce. The ID token is verified by
// internal/federation exactly as the token exchange verifies a workload's token (audience: the
// provider's client_id), the first matching `kind = "people"` rule gives the role, and the session
// keeps the hash of a token issued under that rule, so deleting or changing the rule (or its
// provider) ends the session at its next request.

import (
	"context"
	"crypto/subtle"
	"errors"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/oauth2"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/federation"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/verify"
)

// SSOOptions configure single sign-on with identity providers.
type SSOOptions struct {
	// HideProviders keeps the "Sign in with ..." list off the sign-in page, for a server shared by
	// organisations that must not see each other's identity providers; the direct link
	// /ui/login/oidc/{identity_provider_id} still works.
	HideProviders bool
	// PublicURL is the console's external address (https://modelkeys.example.com), from which the
	// callback URL registered at the identity provider is made. Empty: the request's own scheme and
	// host.
	PublicURL string
	// HTTPClient reaches the identity providers (discovery, keys, the token endpoint). Nil: a client
	// through the server's egress policy with no range opened.
	HTTPClient *http.Client
	// Verifier verifies ID tokens; nil: the service's (the token exchange's, so both share the
	// issuers' cached keys), or else one over HTTPClient.
	Verifier *federation.Verifier
}

type sso struct {
	client   *http.Client
	verifier *federation.Verifier
	flows    flowSealer
	used     usedStates
}

func newSSO(o SSOOptions, svc *service.Service) *sso {
	s := &sso{client: o.HTTPClient, verifier: o.Verifier, flows: newFlowSealer()}
	if s.client == nil {
		s.client = verify.ServerEgress(nil).HTTPClient(15 * time.Second)
	}
	if s.verifier == nil {
		s.verifier = svc.FederationVerifier()
	}
	if s.verifier == nil {
		s.verifier = federation.NewVerifier(s.client)
	}
	return s
}

const callbackPath = "/ui/login/oidc/callback"

// ssoLink is one "Sign in with ..." link of the sign-in page.
type ssoLink struct {
	Name, Org, Href string
}

// signInLinks lists the identity providers people may sign in with, unless the operator hid them.
// The organisation is named only when the list spans several.
func (c *Console) signInLinks(ctx context.Context) []ssoLink {
	if c.opts.SSO.HideProviders {
		return nil
	}
	ps, err := c.svc.SignInIdentityProviders(ctx)
	if err != nil {
		c.svc.Logger().ErrorContext(ctx, "console: listing the identity providers for sign-in failed", "error", err)
		return nil
	}
	orgs := map[string]bool{}
	for _, p := range ps {
		orgs[p.OrgName] = true
	}
	links := make([]ssoLink, 0, len(ps))
	for _, p := range ps {
		l := ssoLink{Name: p.Name, Href: "/ui/login/oidc/" + url.PathEscape(p.ID)}
		if len(orgs) > 1 {
			l.Org = p.OrgName
		}
		links = append(links, l)
	}
	return links
}

// ssoStart sends the browser to the identity provider's authorization endpoint.
func (c *Console) ssoStart(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sp, err := c.svc.SignInIdentityProvider(ctx, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, nil, err)
		return
	}
	if crossSite(r) {
		// A link on another site would otherwise sign this browser in, without a click here, as
		// whoever the provider's (perhaps another organisation's, perhaps hostile) identity
		// provider says: login CSRF into someone else's organisation. Ask first; the link on this
		// page is same-origin, so the flow starts from there.
		c.render(w, r, http.StatusOK, "sso_confirm", c.newPage(nil, "Sign in with "+sp.Provider.Name, "login",
			ssoConfirm{Provider: sp.Provider.Name, Issuer: sp.Provider.Issuer, Href: "/ui/login/oidc/" + url.PathEscape(sp.Provider.ID)}))
		return
	}
	disc, ok := c.discover(w, r, sp)
	if !ok {
		return
	}
	redirect, ok := c.callbackURL(r)
	if !ok {
		c.renderError(w, r, nil, http.StatusBadRequest, "Bad request", "The request's Host header is not a host name; open the console at its own address, or have the operator set --console-public-url.")
		return
	}
	f := flow{ProviderID: sp.Provider.ID, Issuer: sp.Provider.Issuer, State: randomToken(), Nonce: randomToken(), Verifier: oauth2.GenerateVerifier(),
		Redirect: redirect, Created: c.opts.Now().Unix()}
	http.SetCookie(w, c.flowCookieOf(r, c.sso.flows.seal(f), int(flowTTL/time.Second)))
	to := oauthConfig(sp, disc, redirect).AuthCodeURL(f.State, oauth2.S256ChallengeOption(f.Verifier), oauth2.SetAuthURLParam("nonce", f.Nonce))
	http.Redirect(w, r, to, http.StatusSeeOther) //nolint:gosec // G710: the provider's authorization endpoint, from its discovery document, checked https
}

type ssoConfirm struct{ Provider, Issuer, Href string }

// crossSite tells whether the browser says the request comes from another site (a link or a
// redirect elsewhere). A typed or bookmarked address ("none") and the console's own links
// ("same-origin") are not; a browser that sends no Sec-Fetch-Site is let through.
func crossSite(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "cross-site", "same-site":
		return true
	}
	return false
}

// discover reads the provider's discovery document, or shows why it cannot.
func (c *Console) discover(w http.ResponseWriter, r *http.Request, sp service.SignInProvider) (federation.Discovery, bool) {
	disc, err := c.sso.verifier.Discover(r.Context(), sp.Provider.Issuer)
	if err == nil && (disc.AuthorizationEndpoint == "" || disc.TokenEndpoint == "") {
		err = &federation.Error{Reason: "the discovery document names no authorization_endpoint or token_endpoint"}
	}
	if err != nil {
		c.svc.Logger().WarnContext(r.Context(), "console sign-in: identity provider discovery failed",
			"identity_provider_id", sp.Provider.ID, "issuer", sp.Provider.Issuer, "error", err)
		c.renderError(w, r, nil, http.StatusBadGateway, "Identity provider unavailable",
			"The identity provider "+sp.Provider.Name+" could not be used for sign-in: "+publicReason(err)+". Try again later, or tell an admin of your organisation.")
		return federation.Discovery{}, false
	}
	return disc, true
}

func oauthConfig(sp service.SignInProvider, disc federation.Discovery, redirect string) *oauth2.Config {
	style := oauth2.AuthStyleInHeader // client_secret_basic, OpenID Connect's default
	m := disc.TokenEndpointAuthMethodsSupported
	if sp.ClientSecret == "" || (len(m) > 0 && !slices.Contains(m, "client_secret_basic") && slices.Contains(m, "client_secret_post")) {
		// A public client (client_id in the body, PKCE proves the rest), or a provider that takes
		// the secret only in the body.
		style = oauth2.AuthStyleInParams
	}
	return &oauth2.Config{
		ClientID:     sp.Provider.ClientID,
		ClientSecret: sp.ClientSecret,
		Endpoint:     oauth2.Endpoint{AuthURL: disc.AuthorizationEndpoint, TokenURL: disc.TokenEndpoint, AuthStyle: style},
		RedirectURL:  redirect,
		Scopes:       []string{"openid", "profile", "email"},
	}
}

// callbackURL is where the identity provider sends the browser back: under the operator's public
// URL, or the request's own scheme and host.
func (c *Console) callbackURL(r *http.Request) (string, bool) {
	if pub := strings.TrimRight(c.opts.SSO.PublicURL, "/"); pub != "" {
		return pub + callbackPath, true
	}
	if !validHost(r.Host) {
		return "", false
	}
	scheme := "http"
	if c.secure(r) {
		scheme = "https"
	}
	return scheme + "://" + r.Host + callbackPath, true
}

// validHost accepts host[:port] as a browser sends it: a name, an IPv4 or a bracketed IPv6 address.
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	host := h
	if hh, port, err := net.SplitHostPort(h); err == nil {
		host = hh
		for _, ch := range port {
			if ch < '0' || ch > '9' {
				return false
			}
		}
	}
	if strings.HasPrefix(h, "[") {
		return net.ParseIP(host) != nil
	}
	for _, ch := range host {
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '.' || ch == '-') {
			return false
		}
	}
	return true
}

// ssoCallback finishes the flow: it checks the state against the browser's flow cookie (once),
// exchanges the code with the PKCE verifier, verifies the ID token and its nonce, and opens a
// session under the first people rule the claims match.
func (c *Console) ssoCallback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	now := c.opts.Now()
	q := r.URL.Query()
	var f flow
	err := errNoFlow
	if ck, cerr := r.Cookie(c.cookieName(r, flowCookie)); cerr == nil {
		f, err = c.sso.flows.open(ck.Value, now)
	}
	http.SetCookie(w, c.flowCookieOf(r, "", -1)) // one use, whatever happens next
	if err != nil {
		c.ssoRefuse(w, r, http.StatusBadRequest, "Sign-in not started here",
			"This sign-in has no matching start in this browser: it took longer than 10 minutes, was finished already, or was started in another browser or tab. Start again from the sign-in page.")
		return
	}
	if !sameToken(q.Get("state"), f.State) {
		c.ssoRefuse(w, r, http.StatusForbidden, "Sign-in refused",
			"The answer of the identity provider does not belong to the sign-in this browser started (its state differs). Start again from the sign-in page.")
		return
	}
	if !c.sso.used.consume(f.State, now) {
		c.ssoRefuse(w, r, http.StatusForbidden, "Sign-in refused", "This sign-in was finished already; an answer of the identity provider is good for one sign-in. Start again from the sign-in page.")
		return
	}
	if iss := q.Get("iss"); iss != "" && iss != f.Issuer {
		// RFC 9207: the authorization server names itself. An answer naming another issuer than
		// the one this flow went to is a mix-up (a hostile provider relaying another's code).
		c.ssoRefuse(w, r, http.StatusForbidden, "Sign-in refused",
			"The answer names another identity provider than the one this sign-in went to (its iss differs). Start again from the sign-in page.")
		return
	}
	if e := q.Get("error"); e != "" {
		c.ssoRefuse(w, r, http.StatusUnauthorized, "Sign-in refused by the identity provider",
			"The identity provider answered "+short(e)+describe(q.Get("error_description"))+". Start again, or ask an admin of your organisation.")
		return
	}
	code := q.Get("code")
	if code == "" {
		c.ssoRefuse(w, r, http.StatusBadRequest, "Bad request", "The identity provider sent no authorization code. Start again from the sign-in page.")
		return
	}
	sp, err := c.svc.SignInIdentityProvider(ctx, f.ProviderID)
	if err != nil {
		c.fail(w, r, nil, err)
		return
	}
	if sp.Provider.Issuer != f.Issuer {
		c.ssoRefuse(w, r, http.StatusConflict, "Sign-in refused",
			"The identity provider's issuer changed during this sign-in. Start again from the sign-in page.")
		return
	}
	disc, ok := c.discover(w, r, sp)
	if !ok {
		return
	}
	tok, err := oauthConfig(sp, disc, f.Redirect).Exchange(context.WithValue(ctx, oauth2.HTTPClient, c.sso.client), code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		reason := "its token endpoint could not be reached"
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil {
			reason = "its token endpoint answered HTTP " + strconv.Itoa(re.Response.StatusCode)
			if re.ErrorCode != "" {
				reason += " " + short(re.ErrorCode)
			}
		}
		// The error's text can hold the provider's answer; only the status and the error code are logged.
		c.svc.Logger().WarnContext(ctx, "console sign-in: code exchange failed", "identity_provider_id", sp.Provider.ID, "reason", reason)
		c.ssoRefuse(w, r, http.StatusBadGateway, "Sign-in failed", "The identity provider "+sp.Provider.Name+" did not complete the sign-in: "+reason+". Start again, or tell an admin of your organisation.")
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		c.ssoRefuse(w, r, http.StatusBadGateway, "Sign-in failed", "The identity provider "+sp.Provider.Name+" returned no ID token: the client must be allowed the openid scope.")
		return
	}
	claims, err := c.sso.verifier.Verify(ctx, federation.Issuer{URL: sp.Provider.Issuer, JWKSJSON: sp.Provider.JWKSJSON}, []string{sp.Provider.ClientID}, raw)
	if err == nil {
		err = checkIDTokenBinding(claims, f.Nonce, sp.Provider.ClientID)
	}
	if err != nil {
		c.svc.Logger().WarnContext(ctx, "console sign-in: ID token refused", "identity_provider_id", sp.Provider.ID, "reason", reasonOf(err))
		c.ssoRefuse(w, r, http.StatusUnauthorized, "Sign-in refused", "The ID token of "+sp.Provider.Name+" was refused: "+publicReason(err)+".")
		return
	}
	rule, ok, err := c.svc.PeopleRule(ctx, sp.OrgID, sp.Provider.ID, claims)
	if err != nil {
		c.fail(w, r, nil, err)
		return
	}
	if !ok {
		c.svc.Logger().InfoContext(ctx, "console sign-in: no people rule matches", "identity_provider_id", sp.Provider.ID, "sub", claims.Subject())
		c.ssoRefuse(w, r, http.StatusForbidden, "No access",
			"You signed in at "+sp.Provider.Name+" as "+quoteSubject(claims.Subject())+", but no federation rule of kind \"people\" of this identity provider admits that account, so the console does not open. Ask an admin of your organisation to add or widen one.")
		return
	}
	value, _, expiresAt, err := c.svc.IssueFederatedToken(ctx, sp.OrgID, rule, sp.Provider.Version, claims)
	if err != nil {
		c.fail(w, r, nil, err)
		return
	}
	ttl := min(c.opts.SessionTTL, expiresAt.Sub(now))
	cookie := c.sessions.createSSO(service.HashToken(value), sp.Provider.ID, now, c.opts.SessionTTL, c.opts.IdleTimeout)
	c.setCookie(w, r, sessionCookie, cookie, ttl)
	// A page, not a redirect: the session cookie is SameSite=Strict, and a browser does not send it
	// on a redirect chain that began at the identity provider's site. The page's own navigation is
	// same-site, so the next request carries it.
	c.render(w, r, http.StatusOK, "sso_done", c.newPage(nil, "Signed in", "login", ssoDone{Provider: sp.Provider.Name, Next: "/ui/credentials"}))
}

type ssoDone struct{ Provider, Next string }

// checkIDTokenBinding checks what ties the ID token to this sign-in: the nonce sent with the
// authorization request, and (OpenID Connect Core §3.1.3.7) an azp, when present, that is our client.
func checkIDTokenBinding(c federation.Claims, nonce, clientID string) error {
	got, _ := c["nonce"].(string)
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(nonce)) != 1 {
		return &federation.Error{Reason: "its nonce is not the one this sign-in sent"}
	}
	if azp, ok := c["azp"]; ok && azp != clientID {
		return &federation.Error{Reason: "it was issued to another client (azp)"}
	}
	return nil
}

func (c *Console) ssoRefuse(w http.ResponseWriter, r *http.Request, status int, heading, detail string) {
	c.render(w, r, status, "sso_refused", c.newPage(nil, heading, "login", errorData{Status: status, Heading: heading, Detail: detail}))
}

// reasonOf is a federation refusal's reason (safe to show: never a token), or a generic phrase.
func reasonOf(err error) string {
	var fe *federation.Error
	if errors.As(err, &fe) {
		return fe.Reason
	}
	return "an unexpected error (the server's log has it)"
}

// publicReason is reasonOf for a page anyone may open: a failure to reach the identity provider is
// told without its URLs and network details (which address a name resolves to, what the egress
// policy refused); the server's log has them.
func publicReason(err error) string {
	var fe *federation.Error
	if errors.As(err, &fe) && fe.Fetch {
		return "the server could not read its discovery document or keys (the server's log says why)"
	}
	return reasonOf(err)
}

// short quotes a value an identity provider sent, cut to a readable length.
func short(s string) string { return `"` + truncate(s, 60) + `"` }

func describe(d string) string {
	if d == "" {
		return ""
	}
	return " (" + truncate(d, 200) + ")"
}

func truncate(s string, n int) string {
	if !utf8.ValidString(s) {
		return "?"
	}
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func quoteSubject(sub string) string {
	if sub == "" {
		return "an account without a subject"
	}
	return short(sub)
}

// CheckPublicURL checks the operator's --console-public-url: empty, or an absolute https URL (http
// only for a loopback host) without a path beyond "/", a query or a fragment.
func CheckPublicURL(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.Trim(u.Path, "/") != "" {
		return errors.New("want the console's external base URL, such as https://keys.example.com (no path, query or fragment)")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if ip := net.ParseIP(u.Hostname()); u.Hostname() == "localhost" || (ip != nil && ip.IsLoopback()) {
			return nil
		}
	}
	return errors.New("must be https:// (plain http only for a loopback host): identity providers send the authorization code there")
}
