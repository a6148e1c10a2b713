package federation

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/sync/singleflight"
)

// maxDocBytes bounds a discovery document and a key set: real ones are a few kilobytes.
const maxDocBytes = 256 << 10

// keyCache keeps each issuer's keys. A fetch happens when an issuer has no keys yet, when its keys
// are older than maxKeyAge, or when a token names an unknown kid; never more than once per
// refetchEvery per issuer, and concurrent callers share one fetch.
type keyCache struct {
	v      *Verifier
	mu     sync.Mutex
	byURL  map[string]*issuerKeys
	flight singleflight.Group
}

type issuerKeys struct {
	keys      []jose.JSONWebKey
	fetchedAt time.Time // when keys were fetched (zero: never)
	triedAt   time.Time // last fetch attempt, successful or not
	lastErr   error
}

// maxIssuers bounds the cache: issuers come from the operator's and admins' configuration, so the
// bound is only a backstop.
const maxIssuers = 4096

func newKeyCache(v *Verifier) *keyCache {
	return &keyCache{v: v, byURL: map[string]*issuerKeys{}}
}

// get returns the issuer's keys; force asks for a fresh fetch (an unknown kid), which still
// happens at most once per refetch interval.
func (c *keyCache) get(ctx context.Context, issuer string, force bool) ([]jose.JSONWebKey, error) {
	c.mu.Lock()
	e := c.byURL[issuer]
	now := c.v.now()
	fresh := e != nil && e.keys != nil && now.Sub(e.fetchedAt) < c.v.maxKeyAge
	mayFetch := e == nil || now.Sub(e.triedAt) >= c.v.refetchEvery
	c.mu.Unlock()

	if fresh && !force {
		return e.keys, nil
	}
	if !mayFetch {
		if e.keys != nil {
			return e.keys, nil // rate-bounded: answer with what is known
		}
		return nil, e.lastErr
	}
	res, _, _ := c.flight.Do(issuer, func() (any, error) {
		// Another caller may have fetched while this one waited for the lock.
		c.mu.Lock()
		e := c.byURL[issuer]
		if e != nil && c.v.now().Sub(e.triedAt) < c.v.refetchEvery {
			c.mu.Unlock()
			return e, nil
		}
		c.mu.Unlock()

		keys, err := c.fetch(ctx, issuer)

		c.mu.Lock()
		defer c.mu.Unlock()
		e = c.byURL[issuer]
		if e == nil {
			if len(c.byURL) >= maxIssuers {
				c.byURL = map[string]*issuerKeys{}
			}
			e = &issuerKeys{}
			c.byURL[issuer] = e
		}
		ne := *e // copy: readers hold the old value without the lock
		ne.triedAt = c.v.now()
		ne.lastErr = err
		if err == nil {
			ne.keys = keys
			ne.fetchedAt = ne.triedAt
		}
		c.byURL[issuer] = &ne
		return &ne, nil
	})
	got, ok := res.(*issuerKeys)
	if !ok { // never: the function returns only *issuerKeys
		return nil, refuse("the keys of issuer %s could not be read", quote(issuer))
	}
	if got.keys == nil || (got.lastErr != nil && got.triedAt.Sub(got.fetchedAt) > 24*time.Hour) {
		// No keys at all, or keys a day older than the issuer's last answer: refuse rather
		// than trust keys the issuer may have withdrawn.
		if got.lastErr != nil {
			return nil, got.lastErr
		}
		return nil, refuse("the issuer %s published no keys", quote(issuer))
	}
	return got.keys, nil
}

// fetch reads the issuer's discovery document and then its key set.
func (c *keyCache) fetch(ctx context.Context, issuer string) ([]jose.JSONWebKey, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.v.fetchTimeout)
	defer cancel()
	iu, err := url.Parse(issuer)
	if err != nil || (iu.Scheme != "https" && iu.Scheme != "http") || iu.Host == "" {
		return nil, refuse("the issuer %s is not an http(s) URL", quote(issuer))
	}
	disc, err := c.v.fetchDiscovery(ctx, issuer)
	if err != nil {
		return nil, err
	}
	ju, err := url.Parse(disc.JWKSURI)
	if err != nil || disc.JWKSURI == "" || ju.Host == "" || (ju.Scheme != "https" && !(ju.Scheme == "http" && iu.Scheme == "http")) {
		return nil, refuse("the discovery document of %s has no usable jwks_uri (https, or http only for an http issuer)", quote(issuer))
	}
	body, err := c.v.getJSON(ctx, disc.JWKSURI, "key set")
	if err != nil {
		return nil, err
	}
	keys, err := parseKeySet(body)
	if err != nil {
		return nil, refuse("the key set at %s: %s", quote(disc.JWKSURI), err)
	}
	return keys, nil
}

func (v *Verifier) getJSON(ctx context.Context, u, what string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, refuseFetch("the %s URL %s is not valid", what, quote(u))
	}
	req.Header.Set("Accept", "application/json")
	resp, err := v.client.Do(req)
	if err != nil {
		return nil, refuseFetch("fetching the %s at %s failed: %s", what, quote(u), fetchErr(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, refuseFetch("fetching the %s at %s answered HTTP %d", what, quote(u), resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		mt, _, _ := mime.ParseMediaType(ct)
		if mt != "application/json" && mt != "application/jwk-set+json" && !strings.HasSuffix(mt, "+json") {
			return nil, refuseFetch("the %s at %s is %s, not JSON", what, quote(u), quote(mt))
		}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocBytes+1))
	if err != nil {
		return nil, refuseFetch("reading the %s at %s failed: %s", what, quote(u), fetchErr(err))
	}
	if len(body) > maxDocBytes {
		return nil, refuseFetch("the %s at %s is larger than %d bytes", what, quote(u), maxDocBytes)
	}
	return body, nil
}

// fetchErr keeps the part of a transport error that helps (a refused address, a timeout) without
// repeating the URL.
func fetchErr(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	s := err.Error()
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}
