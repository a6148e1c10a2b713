// Package federation verifies the OpenID tokens of trusted identity providers (a CI job's identity
// token, a person's ID token) and matches their claims against federation rules.
//
// The JOSE work (parsing, signature checks, keys) is go-jose's; this package decides which
// algorithms and keys are acceptable, checks the registered claims strictly, and keeps each issuer's
// keys, fetched through the caller's HTTP client (the server's egress policy), refetched at a
// bounded rate when a token names a key the cache does not hold.
package federation

import (
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Issuer is a trusted OpenID issuer as the verifier needs it.
type Issuer struct {
	// URL is the exact `iss` of the tokens and, unless JWKSJSON is set, where discovery starts.
	URL string
	// JWKSJSON, when not empty, holds the issuer's public keys (uploaded): no discovery, no fetch.
	JWKSJSON string
}

// Claims are the claims of a verified token, numbers kept as json.Number so that large ids (a
// GitHub run_id) keep every digit.
type Claims map[string]any

// Subject is the `sub` claim, or "" when it is absent or not a string.
func (c Claims) Subject() string { return c.String("sub") }

// String is the claim as text: a string as it is, a number or a boolean as its JSON text; "" when
// the claim is absent or is a list or an object.
func (c Claims) String(name string) string {
	s, _ := scalarText(c[name])
	return s
}

// scalarText is the JSON text of a scalar claim value (strings unquoted).
func scalarText(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		return strconv.FormatBool(x), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	default:
		return "", false
	}
}

// Error is a refusal of a token or of an issuer's keys. Reason says which check failed and is safe
// to log: it never holds the token, only short, quoted claim values.
type Error struct {
	Reason string
	// Fetch marks a failure to reach the issuer (a refused or unreachable address, an HTTP error):
	// its reason names URLs and network details for the operator's log, not for a sign-in page
	// anyone can open.
	Fetch bool
}

func (e *Error) Error() string { return "federation: " + e.Reason }

func refuse(format string, args ...any) *Error {
	return &Error{Reason: fmt.Sprintf(format, args...)}
}

func refuseFetch(format string, args ...any) *Error {
	return &Error{Reason: fmt.Sprintf(format, args...), Fetch: true}
}

// quote renders a value from a token for a log line: quoted, and cut short so a hostile token
// cannot fill the log.
func quote(s string) string {
	const maxLen = 80
	if len(s) > maxLen {
		cut := maxLen
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "…"
	}
	return strconv.Quote(s)
}
