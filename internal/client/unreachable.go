package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/hashicorp/go-retryablehttp"
)

// UnreachableError is a call that got no HTTP answer at all: nothing listens at the endpoint, its name
// does not resolve, TLS failed, or the server speaks plain HTTP to an https endpoint. Hint says what to
// check. With Config.StopAfterUnreachable the client then sends nothing more (see notSentError), so a
// Terraform run against a dead server fails once instead of retrying every resource in turn.
type UnreachableError struct {
	BaseURL string
	Err     error
	Hint    string
}

func (e *UnreachableError) Error() string {
	msg := fmt.Sprintf("cannot reach the modelkeys server at %s: %v", e.BaseURL, e.Err)
	if e.Hint != "" {
		msg += ". " + e.Hint
	}
	return msg
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// AsUnreachable returns the *UnreachableError in err's chain, if any.
func AsUnreachable(err error) (*UnreachableError, bool) {
	var ue *UnreachableError
	ok := errors.As(err, &ue)
	return ue, ok
}

// notSentError is a call the client did not send because an earlier one found the server unreachable.
type notSentError struct{ first *UnreachableError }

func (e *notSentError) Error() string {
	return "not sent, an earlier request of this run found the server unreachable: " + e.first.Error()
}

func (e *notSentError) Unwrap() error { return e.first }

// unreachable classifies a transport error (an attempt that got no answer) for the user, or returns
// nil when err is not one that says the server cannot be reached (a cancelled context, a body that
// would not encode). A timeout counts only while connecting: a slow answer is one call's problem.
func (c *Client) unreachable(err error) *UnreachableError {
	if err == nil || errors.Is(err, context.Canceled) {
		return nil
	}
	var netErr net.Error
	if (errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout()) && !isDialError(err) {
		return nil // a slow answer, not a missing server
	}
	ue := &UnreachableError{BaseURL: c.baseURL, Err: err}
	msg := err.Error()
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var authErr x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var recErr tls.RecordHeaderError
	switch {
	case strings.Contains(msg, "server gave HTTP response to HTTPS client"):
		ue.Hint = "The server speaks plain HTTP but the endpoint is https: use http:// (only to this machine), or start modelkeys-server with --tls-cert and --tls-key. Check endpoint or MODELKEYS_ENDPOINT"
	case errors.As(err, &authErr), errors.As(err, &certErr) && !errors.As(err, &hostErr):
		ue.Hint = "The server's TLS certificate is not signed by a CA this machine trusts: set ca_cert_pem (or MODELKEYS_CA_CERT_PEM) to the CA that signed it"
	case errors.As(err, &hostErr):
		ue.Hint = "The server's TLS certificate is for another name than the endpoint's host: use the name the certificate gives, in endpoint or MODELKEYS_ENDPOINT"
	case errors.As(err, &recErr):
		ue.Hint = "What answered is not a TLS server: check the endpoint's scheme and port (endpoint or MODELKEYS_ENDPOINT)"
	case errors.As(err, &dnsErr):
		ue.Hint = "The endpoint's host name does not resolve: check endpoint or MODELKEYS_ENDPOINT"
	case isDialError(err):
		ue.Hint = "Nothing answers at that address: check that modelkeys-server is running there and that endpoint (or MODELKEYS_ENDPOINT) names its host and port"
	default:
		if !errors.As(err, &netErr) && !strings.Contains(msg, "EOF") && !strings.Contains(msg, "connection reset") {
			return nil
		}
		ue.Hint = "The connection failed: check endpoint (or MODELKEYS_ENDPOINT), and any proxy between (HTTPS_PROXY, NO_PROXY)"
	}
	return ue
}

// isDialError reports a failure to open the connection (refused, no route, a connect timeout).
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// retryPolicy is retryablehttp's default policy, except that a server speaking plain HTTP to an
// https endpoint is not retried (another attempt gets the same answer), and that once a call of a
// client that stops after an unreachable server has given up, the others stop retrying too.
func (c *Client) retryPolicy(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if err != nil {
		if strings.Contains(err.Error(), "server gave HTTP response to HTTPS client") {
			return false, err
		}
		if c.stopAfterUnreachable && c.down.Load() != nil {
			return false, err
		}
	}
	return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
}
