package federation

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Discovery is what the console's sign-in needs of an issuer's OpenID discovery document.
type Discovery struct {
	Issuer                        string   `json:"issuer"`
	AuthorizationEndpoint         string   `json:"authorization_endpoint"`
	TokenEndpoint                 string   `json:"token_endpoint"`
	JWKSURI                       string   `json:"jwks_uri"`
	CodeChallengeMethodsSupported []string `json:"code_challenge_methods_supported"`
	// TokenEndpointAuthMethodsSupported lists how clients authenticate at the token endpoint
	// (absent: client_secret_basic, OpenID Connect Discovery's default).
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
}

// discoveryCache keeps discovery documents for the verifier's key age, and a failure for its refetch
// interval (a sign-in link clicked again and again does not make the server ask again and again).
type discoveryCache struct {
	mu sync.Mutex
	m  map[string]discEntry
}

type discEntry struct {
	doc     Discovery
	err     error
	fetched time.Time
}

// Discover returns the issuer's discovery document (cached), checked: its issuer is issuerURL
// exactly, and its endpoints are https (http only for an http issuer, which the egress policy must
// allow).
func (v *Verifier) Discover(ctx context.Context, issuerURL string) (Discovery, error) {
	now := v.now()
	v.disc.mu.Lock()
	e, ok := v.disc.m[issuerURL]
	v.disc.mu.Unlock()
	if ok && ((e.err == nil && now.Sub(e.fetched) < v.maxKeyAge) || (e.err != nil && now.Sub(e.fetched) < v.refetchEvery)) {
		return e.doc, e.err
	}
	res, _, _ := v.discFlight.Do(issuerURL, func() (any, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), v.fetchTimeout)
		defer cancel()
		doc, err := v.fetchDiscovery(ctx, issuerURL)
		e := discEntry{doc: doc, err: err, fetched: v.now()}
		v.disc.mu.Lock()
		if len(v.disc.m) >= maxIssuers {
			v.disc.m = map[string]discEntry{}
		}
		v.disc.m[issuerURL] = e
		v.disc.mu.Unlock()
		return e, nil
	})
	got, _ := res.(discEntry) // the only type the function returns
	return got.doc, got.err
}

// fetchDiscovery reads and checks the discovery document (no cache).
func (v *Verifier) fetchDiscovery(ctx context.Context, issuer string) (Discovery, error) {
	iu, err := url.Parse(issuer)
	if err != nil || (iu.Scheme != "https" && iu.Scheme != "http") || iu.Host == "" {
		return Discovery{}, refuse("the issuer %s is not an http(s) URL", quote(issuer))
	}
	discURL := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	body, err := v.getJSON(ctx, discURL, "discovery document")
	if err != nil {
		return Discovery{}, err
	}
	var d Discovery
	if json.Unmarshal(body, &d) != nil {
		return Discovery{}, refuse("the discovery document at %s is not JSON", quote(discURL))
	}
	if d.Issuer != issuer {
		return Discovery{}, refuse("the discovery document at %s names issuer %s, not %s", quote(discURL), quote(d.Issuer), quote(issuer))
	}
	for _, ep := range []*string{&d.AuthorizationEndpoint, &d.TokenEndpoint, &d.JWKSURI} {
		if *ep != "" && !endpointOK(*ep, iu.Scheme) {
			return Discovery{}, refuse("the discovery document at %s names an endpoint %s that is not https (http only for an http issuer)", quote(discURL), quote(*ep))
		}
	}
	return d, nil
}

func endpointOK(raw, issuerScheme string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" {
		return false
	}
	return u.Scheme == "https" || (u.Scheme == "http" && issuerScheme == "http")
}
