package verify

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"unicode"
	"unicode/utf8"
)

// summary words a provider's non-2xx answer: "HTTP 401: <its message>" when the body has a provider's
// documented error shape, otherwise "HTTP 401: Unauthorized". The message is redacted and trimmed.
func summary(status int, body []byte, red func(string) string) string {
	msg := trim(redactTokens(red(errorMessage(body))), maxSummary)
	if msg == "" {
		msg = http.StatusText(status)
	}
	if msg == "" {
		return fmt.Sprintf("HTTP %d", status)
	}
	return fmt.Sprintf("HTTP %d: %s", status, msg)
}

// errorMessage finds the human message in the documented error shapes of providers, and returns ""
// for anything else (HTML, text, other JSON), so that no body of an unknown service is ever echoed:
//
//   - {"error":{"message":...}}: OpenAI, Mistral, xAI, DeepSeek and OpenAI-compatible servers; Azure
//     ({"error":{"code":...,"message":...}}, the code when there is no message); Gemini and Google
//     ({"error":{"code":400,"message":...,"status":...}}, also as a one-element array behind proxies).
//   - {"type":"error","error":{"type":...,"message":...}}: Anthropic.
//   - {"message":...} or {"Message":...}: Bedrock and AWS, Databricks, Portkey.
//   - {"error":"invalid_grant","error_description":...}: OAuth 2.0 token endpoints (RFC 6749 5.2),
//     the Vertex token exchange; error must be an OAuth error code.
func errorMessage(body []byte) string {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(body, &doc); err == nil {
		return messageOf(doc)
	}
	var arr []map[string]json.RawMessage
	if err := json.Unmarshal(body, &arr); err == nil && len(arr) == 1 {
		return messageOf(arr[0])
	}
	return ""
}

var (
	oauthErrorCode = regexp.MustCompile(`^[a-z_]{1,64}$`)
	errorCode      = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)
)

func messageOf(doc map[string]json.RawMessage) string {
	if raw, ok := doc["error"]; ok {
		var e struct {
			Message *string `json:"message"`
			Code    any     `json:"code"`
		}
		if json.Unmarshal(raw, &e) == nil && (e.Message != nil || e.Code != nil) {
			if e.Message != nil && strings.TrimSpace(*e.Message) != "" {
				return *e.Message
			}
			if c, ok := e.Code.(string); ok && errorCode.MatchString(c) {
				return c
			}
			return ""
		}
		var code string
		if json.Unmarshal(raw, &code) == nil && oauthErrorCode.MatchString(code) {
			var desc string
			if d, ok := doc["error_description"]; ok && json.Unmarshal(d, &desc) == nil && strings.TrimSpace(desc) != "" {
				return code + ": " + desc
			}
			return code
		}
		return ""
	}
	for _, k := range []string{"message", "Message"} {
		var m string
		if raw, ok := doc[k]; ok && json.Unmarshal(raw, &m) == nil && strings.TrimSpace(m) != "" {
			return m
		}
	}
	return ""
}

// trim collapses white space, drops control characters and cuts s to n characters.
func trim(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n])) + "…"
}

// tokenRun is anything key-shaped: a run of 20 or more characters of the alphabets keys and tokens
// are written in (sk-proj-..., ya29...., AKIA...). Provider messages are prose, which has none.
var tokenRun = regexp.MustCompile(`[A-Za-z0-9_-]{20,}`)

// redactTokens replaces key-shaped runs with "[redacted]", whether or not they are this credential's.
func redactTokens(s string) string { return tokenRun.ReplaceAllString(s, "[redacted]") }

// newRedactor replaces every secret (and, for a service-account file, its private key and the lines
// of it) with "[redacted]". Longest first, so that one secret containing another is wholly removed.
func newRedactor(secrets map[string]string) func(string) string {
	var values []string
	for _, v := range secrets {
		v = strings.TrimSpace(v)
		if len(v) >= 4 {
			values = append(values, v)
		}
		if sa, err := parseServiceAccount(v); err == nil {
			for _, line := range strings.Split(sa.PrivateKey, "\n") {
				if len(line) >= 16 {
					values = append(values, line)
				}
			}
		}
	}
	sort.Slice(values, func(i, j int) bool { return len(values[i]) > len(values[j]) })
	return func(s string) string {
		for _, v := range values {
			s = strings.ReplaceAll(s, v, "[redacted]")
		}
		return s
	}
}

// connectionProblem words why a request got no answer, from a fixed list: nothing of the error's own
// text, which can quote the other end, is used.
func connectionProblem(err error) string {
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalidCert x509.CertificateInvalidError
	var recordErr tls.RecordHeaderError
	var alert tls.AlertError
	switch {
	case errors.As(err, &dnsErr):
		if dnsErr.IsNotFound {
			return fmt.Sprintf("the host name %s does not resolve", dnsErr.Name)
		}
		return fmt.Sprintf("the host name %s could not be resolved", dnsErr.Name)
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused (nothing listens at that address and port)"
	case errors.Is(err, syscall.ECONNRESET):
		return "the connection was reset"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "no route to the host"
	case errors.As(err, &unknownCA):
		return "TLS error: the certificate is signed by an unknown authority"
	case errors.As(err, &hostErr):
		return "TLS error: the certificate is not valid for this host name"
	case errors.As(err, &invalidCert):
		if invalidCert.Reason == x509.Expired {
			return "TLS error: the certificate has expired or is not yet valid"
		}
		return "TLS error: the certificate is not valid"
	case errors.As(err, &certErr):
		return "TLS error: the certificate could not be verified"
	case errors.As(err, &recordErr):
		return "TLS error: the server did not answer with TLS (is it plain http?)"
	case errors.As(err, &alert):
		return "TLS error: the server ended the handshake"
	case strings.Contains(err.Error(), "tls:"):
		return "TLS error: the handshake failed"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the connection closed before an answer"
	case strings.Contains(err.Error(), "malformed HTTP"):
		return "the answer is not HTTP"
	}
	return "the connection failed"
}
