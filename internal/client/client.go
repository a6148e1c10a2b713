// Package client is the typed Go client of the modelkeys REST API. The Terraform provider uses it to
// talk to a remote modelkeys-server or, in embedded mode, to the same API handler served in-process; the
// server's own tests use it to drive the API the way the provider does.
//
// Every call is retried on connection errors, 429 and 5xx answers (except 501) with exponential backoff
// that honours Retry-After, because Terraform applies run unattended in CI where a rolling restart of the
// server or a burst of parallel resource operations must not fail the whole run. 4xx answers are never
// retried: they are the caller's mistake and repeating the request cannot fix it. Every POST carries an
// Idempotency-Key that stays the same across the retries of one call, so a create whose answer was lost
// on the wire is not applied twice.
//
// Errors from the API are returned as *APIError, which carries the decoded RFC 9457 problem document;
// use the Is* helpers (IsNotFound, IsConflict, ...) to branch on them. Error messages never contain
// request bodies, because credential requests carry secrets.
package client

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-cleanhttp"
	"github.com/hashicorp/go-retryablehttp"
)

// Defaults applied by New to zero-valued Config fields.
const (
	DefaultRequestTimeout = 30 * time.Second
	DefaultMaxRetries     = 4
	DefaultRetryWaitMin   = 1 * time.Second
	DefaultRetryWaitMax   = 30 * time.Second
	DefaultUserAgent      = "modelkeys-go-client"
)

// DefaultMaxIdleConnsPerHost is how many idle connections DefaultHTTPClient keeps to the server.
// Terraform runs 10 resource operations at a time (-parallelism), and a pool smaller than that (the
// pooled default keeps GOMAXPROCS+1) closes a connection after most calls and dials the next one anew:
// a TCP handshake, and with https a TLS one, on every other read of a plan.
const DefaultMaxIdleConnsPerHost = 32

// IdempotencyKeyHeader is the request header that lets the server recognise a retried POST and answer it
// with the first result instead of applying it again.
const IdempotencyKeyHeader = "Idempotency-Key"

const (
	// maxResponseBytes bounds how much of a success answer is decoded, so a misbehaving server or proxy
	// cannot make the provider allocate without limit.
	maxResponseBytes = 64 << 20
	// maxErrorBodyBytes bounds how much of an error answer is read.
	maxErrorBodyBytes = 64 << 10
	// maxErrorSnippet is how much of a non-JSON error body is quoted in an error message: enough to
	// recognise a proxy's error page, short enough to stay readable in a Terraform diagnostic.
	maxErrorSnippet = 512
)

// Logger receives the client's log lines: each request, each retry and each failure. Its method set is
// that of retryablehttp.LeveledLogger, so any leveled logger written for go-retryablehttp fits. The
// client logs methods, URLs (without user info), statuses and wait times, never headers or bodies.
type Logger interface {
	Error(msg string, keysAndValues ...any)
	Info(msg string, keysAndValues ...any)
	Debug(msg string, keysAndValues ...any)
	Warn(msg string, keysAndValues ...any)
}

// ContextLogger is a Logger that can bind itself to the context of one call. When Config.Logger
// implements it, the client calls WithContext with each call's context and logs that call's lines to the
// result; this is how the provider routes the client's lines into tflog, whose sinks and fields live in
// the request's context.
type ContextLogger interface {
	Logger
	WithContext(ctx context.Context) Logger
}

// Config configures a Client. Only BaseURL is required.
type Config struct {
	// BaseURL is the server's root URL, e.g. "https://modelkeys.example.com" or "http://127.0.0.1:8080".
	// A path prefix is kept: "https://gw.example.com/modelkeys" calls "https://gw.example.com/modelkeys/v1/...".
	// In embedded mode any http(s) URL with a host works, since HTTPClient's transport answers in-process.
	BaseURL string
	// Token is sent as "Authorization: Bearer TOKEN" when set. Embedded mode needs none.
	Token string
	// TokenSource, when set, replaces Token: the client asks it for the bearer token before every call,
	// so a short-lived token (one exchanged for a workload identity) can be renewed during a long run.
	// See TokenSource.
	TokenSource TokenSource
	// UserAgent identifies the caller, e.g. "terraform-provider-modelkeys/1.2.3". Defaults to
	// DefaultUserAgent.
	UserAgent string
	// HTTPClient is the base client whose Transport carries the requests. It is copied, never modified;
	// the copy's CheckRedirect is replaced, since the client refuses every redirect (see RedirectError).
	// Nil means a pooled client with the usual proxy environment settings. Embedded mode passes a client
	// whose Transport serves the API handler in-process, so nothing here assumes TCP.
	HTTPClient *http.Client
	// RequestTimeout limits each attempt, including reading the answer. Zero means HTTPClient's own
	// Timeout if it has one, else DefaultRequestTimeout; negative means no limit per attempt. The
	// caller's context bounds the call as a whole, retries included.
	RequestTimeout time.Duration
	// MaxRetries is how many times a failed attempt is retried. Zero means DefaultMaxRetries; negative
	// means never retry.
	MaxRetries int
	// RetryWaitMin and RetryWaitMax bound the exponential backoff between attempts. A Retry-After given
	// by the server replaces the computed wait but is capped at RetryWaitMax, so a server asking for an
	// hour fails the call instead of silently stalling a Terraform run. Zero means DefaultRetryWaitMin
	// and DefaultRetryWaitMax.
	RetryWaitMin time.Duration
	RetryWaitMax time.Duration
	// Logger receives log lines; nil means no logging. See ContextLogger to log with each call's context.
	Logger Logger
	// StopAfterUnreachable makes the first call that finds the server unreachable (an
	// *UnreachableError, after its retries) the last one sent: later calls fail at once with that
	// error, and calls retrying at the time stop. A Terraform run sets it, so a dead server costs one
	// call's retries, not every resource's.
	StopAfterUnreachable bool
}

// Client calls the modelkeys REST API. It is safe for concurrent use.
type Client struct {
	baseURL      string
	token        string
	tokenSource  TokenSource
	userAgent    string
	http         *http.Client
	maxRetries   int
	retryWaitMin time.Duration
	retryWaitMax time.Duration
	logger       Logger

	stopAfterUnreachable bool
	down                 atomic.Pointer[UnreachableError] // the first unreachable failure, with stopAfterUnreachable
}

// DefaultHTTPClient is the HTTP client New uses when Config.HTTPClient is nil: a pooled client with no
// shared global state that keeps DefaultMaxIdleConnsPerHost connections to the server idle between
// calls. Its Transport is an *http.Transport, for callers that set TLS options on it.
func DefaultHTTPClient() *http.Client {
	t := cleanhttp.DefaultPooledTransport()
	t.MaxIdleConnsPerHost = DefaultMaxIdleConnsPerHost
	return &http.Client{Transport: t}
}

// New returns a Client for cfg after checking it and applying defaults.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("modelkeys client: invalid base URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("modelkeys client: base URL %q must use http or https", cfg.BaseURL)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("modelkeys client: base URL %q has no host", cfg.BaseURL)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("modelkeys client: base URL %q must not have a query or fragment", cfg.BaseURL)
	}

	var hc http.Client
	if cfg.HTTPClient != nil {
		hc = *cfg.HTTPClient
	} else {
		hc = *DefaultHTTPClient()
	}
	switch {
	case cfg.RequestTimeout > 0:
		hc.Timeout = cfg.RequestTimeout
	case cfg.RequestTimeout < 0:
		hc.Timeout = 0
	case hc.Timeout == 0:
		hc.Timeout = DefaultRequestTimeout
	}
	// The API never redirects, and following one would re-send the Authorization header and a body
	// that may hold an API key (307/308 replay it) to wherever the Location points. The 3xx is handed
	// back unfollowed so do can refuse it; retryablehttp uses this client, so it cannot follow either.
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	c := &Client{
		baseURL:      strings.TrimRight(u.String(), "/"),
		token:        cfg.Token,
		tokenSource:  cfg.TokenSource,
		userAgent:    cfg.UserAgent,
		http:         &hc,
		maxRetries:   cfg.MaxRetries,
		retryWaitMin: cfg.RetryWaitMin,
		retryWaitMax: cfg.RetryWaitMax,
		logger:       cfg.Logger,

		stopAfterUnreachable: cfg.StopAfterUnreachable,
	}
	if c.userAgent == "" {
		c.userAgent = DefaultUserAgent
	}
	switch {
	case c.maxRetries == 0:
		c.maxRetries = DefaultMaxRetries
	case c.maxRetries < 0:
		c.maxRetries = 0
	}
	if c.retryWaitMin <= 0 {
		c.retryWaitMin = DefaultRetryWaitMin
	}
	if c.retryWaitMax <= 0 {
		c.retryWaitMax = DefaultRetryWaitMax
	}
	if c.retryWaitMax < c.retryWaitMin {
		c.retryWaitMax = c.retryWaitMin
	}
	return c, nil
}

// BaseURL returns the server root the client calls, without a trailing slash.
func (c *Client) BaseURL() string { return c.baseURL }

// request describes one logical API call.
type request struct {
	method string
	// path is the escaped path below the base URL, starting with "/".
	path  string
	query url.Values
	// body is encoded as JSON when non-nil.
	body any
	// form, when non-nil, is sent form-encoded instead of body (the OAuth token endpoint).
	form url.Values
	// anonymous calls carry no Authorization and no Idempotency-Key: the token exchange authenticates
	// with the subject token in its form, and its answer (a token) must not be kept for replay.
	anonymous bool
	// ifMatch, when positive, is sent as If-Match so the server refuses the change (412) if the object
	// moved on since the caller read it.
	ifMatch int64
	// secrets are values sent in the body that must not surface in an error, even if a server or proxy
	// echoes the request back in its error page.
	secrets []string
	// noRetry makes the call a single attempt.
	noRetry bool
}

// do performs r with retries and decodes a 2xx answer into out (when out is non-nil and the answer has
// a body). Any other outcome is an error: *APIError for an answer, *RetryError when retries ran out.
//
// With a TokenSource, a 401 makes the call once more with a token the source gets anew (when it can
// drop the refused one, see TokenInvalidator): an exchanged token ends early when its federation rule
// changes, and a long run should carry on with a fresh one if the rule still lets it.
func (c *Client) do(ctx context.Context, r request, out any) error {
	if ctx == nil {
		ctx = context.Background()
	}
	token, err := c.bearer(ctx, r)
	if err != nil {
		return err
	}
	err = c.doWith(ctx, r, out, token)
	if c.tokenSource == nil || r.anonymous || !IsUnauthorized(err) {
		return err
	}
	inv, ok := c.tokenSource.(TokenInvalidator)
	if !ok {
		return err
	}
	inv.InvalidateToken(token)
	fresh, ferr := c.bearer(ctx, r)
	if ferr != nil {
		return ferr
	}
	if fresh == token {
		return err
	}
	return c.doWith(ctx, r, out, fresh)
}

// bearer is the token r is sent with: none for an anonymous call, the source's when there is one,
// else the static one.
func (c *Client) bearer(ctx context.Context, r request) (string, error) {
	if r.anonymous {
		return "", nil
	}
	if c.tokenSource == nil {
		return c.token, nil
	}
	tok, err := c.tokenSource.Token(ctx)
	if err != nil {
		return "", &TokenSourceError{Method: r.method, Path: r.path, Err: err}
	}
	return tok, nil
}

// doWith is one call of do with token as its bearer token.
func (c *Client) doWith(ctx context.Context, r request, out any, token string) error {
	if first := c.down.Load(); first != nil {
		return &RetryError{Method: r.method, Path: r.path, Err: &notSentError{first: first}}
	}
	target := c.baseURL + r.path
	if len(r.query) > 0 {
		target += "?" + r.query.Encode()
	}

	// The body is encoded once and handed to retryablehttp as bytes, which it replays on every attempt.
	var body any
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			// json errors name types, never values, so this cannot leak a secret.
			return fmt.Errorf("modelkeys: %s %s: encoding request: %w", r.method, r.path, err)
		}
		body = b
	}
	if r.form != nil {
		body = []byte(r.form.Encode())
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, r.method, target, body)
	if err != nil {
		return fmt.Errorf("modelkeys: %s %s: %w", r.method, r.path, err)
	}
	req.Header.Set("Accept", "application/json, "+problemContentType)
	req.Header.Set("User-Agent", c.userAgent)
	switch {
	case r.form != nil:
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	case body != nil:
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if r.ifMatch > 0 {
		req.Header.Set("If-Match", ETag(r.ifMatch))
	}
	if r.method == http.MethodPost && !r.anonymous {
		// One key per logical call: retryablehttp reuses these headers for every attempt.
		req.Header.Set(IdempotencyKeyHeader, newIdempotencyKey())
	}

	retryMax := c.maxRetries
	if r.noRetry {
		retryMax = 0
	}
	rc := &retryablehttp.Client{
		HTTPClient:   c.http,
		RetryWaitMin: c.retryWaitMin,
		RetryWaitMax: c.retryWaitMax,
		RetryMax:     retryMax,
		CheckRetry:   c.retryPolicy,
		Backoff:      Backoff,
		ErrorHandler: func(resp *http.Response, err error, attempts int) (*http.Response, error) {
			return nil, c.exhausted(ctx, r, resp, err, attempts)
		},
	}
	if l := c.loggerFor(ctx); l != nil {
		rc.Logger = l
	}

	resp, err := rc.Do(req)
	if err != nil {
		var re *RetryError
		if errors.As(err, &re) {
			return err
		}
		// Only a cancellation during the backoff wait gets here without passing ErrorHandler.
		return fmt.Errorf("modelkeys: %s %s: %w", r.method, r.path, err)
	}
	defer func() {
		// Drain a little so the connection can be reused, then close.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
	}()

	if resp.StatusCode >= 300 && resp.StatusCode <= 399 && resp.Header.Get("Location") != "" {
		return newRedirectError(r, c.baseURL, resp)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return newAPIError(r, resp, r.secrets)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	dec := json.NewDecoder(io.LimitReader(resp.Body, maxResponseBytes))
	if err := dec.Decode(out); err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("modelkeys: %s %s: HTTP %d with an empty body where an object was expected", r.method, r.path, resp.StatusCode)
		}
		return fmt.Errorf("modelkeys: %s %s: decoding HTTP %d answer: %w", r.method, r.path, resp.StatusCode, err)
	}
	return nil
}

// exhausted builds the error for a call retryablehttp gave up on: retries ran out, the error was not
// retryable, or the context ended. It closes resp.
func (c *Client) exhausted(ctx context.Context, r request, resp *http.Response, err error, attempts int) error {
	var last error
	switch {
	case ctx.Err() != nil:
		last = ctx.Err()
		if resp != nil {
			resp.Body.Close()
		}
	case resp != nil:
		last = newAPIError(r, resp, r.secrets)
		resp.Body.Close()
	case err != nil:
		last = err
		if ue := c.unreachable(err); ue != nil {
			last = ue
			if c.stopAfterUnreachable {
				c.down.CompareAndSwap(nil, ue)
			}
		}
	default:
		last = errors.New("no answer")
	}
	return &RetryError{Method: r.method, Path: r.path, Attempts: attempts, Err: last}
}

func (c *Client) loggerFor(ctx context.Context) Logger {
	if c.logger == nil {
		return nil
	}
	if cl, ok := c.logger.(ContextLogger); ok {
		if l := cl.WithContext(ctx); l != nil {
			return l
		}
	}
	return c.logger
}

// Backoff is the wait between attempts: exponential from waitMin, doubling per attempt, capped at waitMax, with
// random jitter over the upper half (never below waitMin) so that parallel Terraform operations throttled together do not
// retry together. When a 429 or 503 answer carries Retry-After (seconds or an HTTP date), that wait is
// used instead, capped at waitMax. It has the signature of retryablehttp.Backoff.
func Backoff(waitMin, waitMax time.Duration, attemptNum int, resp *http.Response) time.Duration {
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			return min(d, waitMax)
		}
	}
	wait := waitMax
	if attemptNum < 30 {
		if w := waitMin << uint(attemptNum); w > 0 && w < waitMax {
			wait = w
		}
	}
	half := wait / 2
	if half <= 0 {
		return wait
	}
	n, err := rand.Int(rand.Reader, big.NewInt(int64(half)+1))
	if err != nil {
		return wait
	}
	return max(waitMin, half+time.Duration(n.Int64()))
}

// parseRetryAfter reads a Retry-After value, either delay seconds or an HTTP date (RFC 9110 §10.2.3).
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s < 0 {
			return 0, false
		}
		if s > int64(24*time.Hour/time.Second) {
			s = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(s) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	if d := t.Sub(now); d > 0 {
		return d, true
	}
	return 0, true
}

// ETag formats a version the way the server's ETag and the client's If-Match headers carry it: the
// decimal version in double quotes, e.g. "3".
func ETag(version int64) string {
	return `"` + strconv.FormatInt(version, 10) + `"`
}

// newIdempotencyKey returns a random key with 130 bits of entropy, so keys of different calls never
// collide, even across the replicas of a server sharing one database.
func newIdempotencyKey() string {
	return rand.Text()
}

// escapeID path-escapes an object id for use as one path segment, and refuses an empty one, which would
// otherwise silently address the collection instead of an object.
func escapeID(kind, id string) (string, error) {
	if id == "" {
		return "", fmt.Errorf("modelkeys: %s id must not be empty", kind)
	}
	return url.PathEscape(id), nil
}
