package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

const problemContentType = api.ProblemContentType

// redacted replaces a secret that a server or proxy echoed back in an error answer.
const redacted = "[REDACTED]"

// APIError is an answer of the API outside 2xx. Problem is the server's RFC 9457 problem document; when
// the body was not one (a proxy's HTML page, a bare text line), Problem is synthesised from the status
// and the start of the body so the message still says what happened.
type APIError struct {
	// Status is the HTTP status code of the answer.
	Status int
	// Problem is the decoded problem document. Problem.Errors lists invalid fields of a 422 and
	// Problem.Conflicts the ids standing in the way of a 409.
	Problem api.Problem
	// Method and Path name the call that failed (Path without the base URL or query).
	Method string
	Path   string
	// OAuthCode is the RFC 6749 §5.2 error code ("invalid_grant", ...) when the answer was an OAuth
	// error body (the token endpoint's) rather than a problem document; Problem.Detail then holds its
	// error_description.
	OAuthCode string
}

// Error reads like "modelkeys: DELETE /v1/credentials/cred_1: HTTP 409 Conflict: credential in use:
// 2 connections use it (conflicts: conn_a, conn_b)", and for a 422 lists the invalid fields as
// "settings.endpoint: is required".
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("modelkeys: ")
	if e.Method != "" {
		b.WriteString(e.Method + " " + e.Path + ": ")
	}
	b.WriteString("HTTP " + strconv.Itoa(e.Status))
	if st := http.StatusText(e.Status); st != "" {
		b.WriteString(" " + st)
	}
	if t := e.Problem.Title; t != "" && !strings.EqualFold(t, http.StatusText(e.Status)) {
		b.WriteString(": " + t)
	}
	if d := e.Problem.Detail; d != "" {
		b.WriteString(": " + d)
	}
	if len(e.Problem.Errors) > 0 {
		parts := make([]string, 0, len(e.Problem.Errors))
		for _, fe := range e.Problem.Errors {
			if fe.Message != "" && strings.Contains(e.Problem.Detail, fe.Message) {
				continue // the detail already says it (a single-field problem)
			}
			switch {
			case fe.Field != "" && fe.Message != "":
				parts = append(parts, fe.Field+": "+fe.Message)
			case fe.Field != "":
				parts = append(parts, fe.Field+": invalid")
			default:
				parts = append(parts, fe.Message)
			}
		}
		if len(parts) > 0 {
			b.WriteString(" [" + strings.Join(parts, "; ") + "]")
		}
	}
	if len(e.Problem.Conflicts) > 0 {
		b.WriteString(" (conflicts: " + strings.Join(e.Problem.Conflicts, ", ") + ")")
	}
	return b.String()
}

// RetryError is returned when a call did not get a usable answer: retries ran out on a retryable status
// or connection error, the error could not be retried (a TLS failure, say), or the context ended. Err
// is the last outcome, an *APIError for a status, so IsNotFound and friends and errors.Is(err,
// context.Canceled) see through it.
type RetryError struct {
	Method   string
	Path     string
	Attempts int
	Err      error
}

func (e *RetryError) Error() string {
	if e.Attempts <= 1 {
		return fmt.Sprintf("modelkeys: %s %s: %v", e.Method, e.Path, stripPrefix(e.Err))
	}
	return fmt.Sprintf("modelkeys: %s %s: giving up after %d attempts, last error: %v",
		e.Method, e.Path, e.Attempts, stripPrefix(e.Err))
}

func (e *RetryError) Unwrap() error { return e.Err }

// stripPrefix avoids repeating "modelkeys: METHOD PATH:" when an APIError is wrapped by a RetryError.
func stripPrefix(err error) string {
	var ae *APIError
	if errors.As(err, &ae) {
		c := *ae
		c.Method = ""
		return strings.TrimPrefix(c.Error(), "modelkeys: ")
	}
	return err.Error()
}

// AsAPIError returns the *APIError in err's chain, if any.
func AsAPIError(err error) (*APIError, bool) {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae, true
	}
	return nil, false
}

func hasStatus(err error, status int) bool {
	ae, ok := AsAPIError(err)
	return ok && ae.Status == status
}

// IsNotFound reports a 404: the object does not exist or belongs to another organisation. The provider
// removes such a resource from state.
func IsNotFound(err error) bool { return hasStatus(err, http.StatusNotFound) }

// IsConflict reports a 409, such as deleting a credential that connections use or creating a duplicate
// name; AsAPIError(err).Problem.Conflicts lists the ids in the way.
func IsConflict(err error) bool { return hasStatus(err, http.StatusConflict) }

// IsValidation reports a 422; AsAPIError(err).Problem.Errors lists the invalid fields.
func IsValidation(err error) bool { return hasStatus(err, http.StatusUnprocessableEntity) }

// IsPreconditionFailed reports a 412: the If-Match version no longer matches because someone else
// changed the object since it was read.
func IsPreconditionFailed(err error) bool { return hasStatus(err, http.StatusPreconditionFailed) }

// IsForbidden reports a 403: the token's role may not do this (or reveal is disabled on the server).
func IsForbidden(err error) bool { return hasStatus(err, http.StatusForbidden) }

// IsUnauthorized reports a 401: the token is missing, unknown or revoked.
func IsUnauthorized(err error) bool { return hasStatus(err, http.StatusUnauthorized) }

// IsPlainHTTPToTLSServer reports the 400 a TLS server (Go's, and most others) answers to a plain-HTTP
// request: the endpoint should be https://.
func IsPlainHTTPToTLSServer(err error) bool {
	ae, ok := AsAPIError(err)
	return ok && ae.Status == http.StatusBadRequest && strings.Contains(strings.ToLower(ae.Problem.Detail), "https server")
}

// newAPIError reads resp's body (bounded) and builds the error. Any value in secrets is redacted from
// everything the error shows, raw and JSON-escaped, in case the server or a proxy echoed the request.
func newAPIError(r request, resp *http.Response, secrets []string) *APIError {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBodyBytes))
	e := &APIError{Status: resp.StatusCode, Method: r.method, Path: r.path}

	red := newRedactor(secrets)
	if isJSONMediaType(resp.Header.Get("Content-Type")) {
		var p api.Problem
		if json.Unmarshal(raw, &p) == nil && (p.Title != "" || p.Detail != "" || p.Type != "" || len(p.Errors) > 0) {
			if p.Status == 0 {
				p.Status = resp.StatusCode
			}
			p.Type = red(p.Type)
			p.Title = red(p.Title)
			p.Detail = red(p.Detail)
			for i := range p.Errors {
				p.Errors[i].Field = red(p.Errors[i].Field)
				p.Errors[i].Message = red(p.Errors[i].Message)
			}
			for i := range p.Conflicts {
				p.Conflicts[i] = red(p.Conflicts[i])
			}
			e.Problem = p
			return e
		}
		var oe api.OAuthError
		if json.Unmarshal(raw, &oe) == nil && oe.Error != "" {
			e.OAuthCode = snippet(red(oe.Error))
			e.Problem = api.Problem{Type: "about:blank", Title: http.StatusText(resp.StatusCode), Status: resp.StatusCode,
				Detail: snippet(red(oe.Error + ": " + oe.ErrorDescription))}
			if oe.ErrorDescription == "" {
				e.Problem.Detail = e.OAuthCode
			}
			return e
		}
	}
	e.Problem = api.Problem{
		Type:   "about:blank",
		Title:  http.StatusText(resp.StatusCode),
		Status: resp.StatusCode,
		Detail: snippet(red(string(raw))),
	}
	return e
}

func isJSONMediaType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == "application/json" || mt == problemContentType || strings.HasSuffix(mt, "+json")
}

// newRedactor returns a function that replaces every secret, as sent and as JSON would escape it.
func newRedactor(secrets []string) func(string) string {
	var pairs []string
	for _, s := range secrets {
		if s == "" {
			continue
		}
		pairs = append(pairs, s, redacted)
		if q, err := json.Marshal(s); err == nil {
			if esc := string(q[1 : len(q)-1]); esc != s {
				pairs = append(pairs, esc, redacted)
			}
		}
	}
	if len(pairs) == 0 {
		return func(s string) string { return s }
	}
	rep := strings.NewReplacer(pairs...)
	return rep.Replace
}

// snippet makes the start of a non-JSON error body fit for a one-line message: whitespace collapsed,
// control characters dropped, cut at maxErrorSnippet bytes on a rune boundary.
func snippet(s string) string {
	s = strings.ToValidUTF8(s, "?")
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return ' '
		}
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= maxErrorSnippet {
		return s
	}
	cut := maxErrorSnippet
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// RedirectError is a 3xx answer with a Location. The API never redirects, so the client never follows
// one: a redirect means the endpoint points at something other than the server (a load balancer
// upgrading http to https, a moved host, an attacker), and following it would hand the token and the
// request body, which may hold an API key, to the redirect's target.
type RedirectError struct {
	// Status is the HTTP status code of the answer.
	Status int
	// Server is the base URL the client was configured with; Location is where the answer pointed,
	// resolved against the request URL and without user info.
	Server   string
	Location string
	// Method and Path name the call that was refused (Path without the base URL or query).
	Method string
	Path   string
}

func (e *RedirectError) Error() string {
	return fmt.Sprintf("modelkeys: %s %s: the modelkeys server at %s answered with a redirect (HTTP %d) to %s; "+
		"the API never redirects, so nothing was sent there: point endpoint at the server itself",
		e.Method, e.Path, e.Server, e.Status, e.Location)
}

func newRedirectError(r request, server string, resp *http.Response) *RedirectError {
	loc := resp.Header.Get("Location")
	if u, err := resp.Location(); err == nil {
		u.User = nil // user info may be a credential; the host and path are what the reader needs
		loc = u.String()
	} else {
		loc = strconv.Quote(loc)
	}
	return &RedirectError{Status: resp.StatusCode, Server: server, Location: loc, Method: r.method, Path: r.path}
}
