package client

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

func TestIdentityProviderCRUD(t *testing.T) {
	var rec recorder
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		rec.add(r)
		switch {
		case r.Method == http.MethodDelete:
			w.WriteHeader(http.StatusNoContent)
		case r.Method == http.MethodGet && r.URL.Path == "/v1/identity-providers":
			writeJSON(w, 200, api.List[api.IdentityProvider]{Items: []api.IdentityProvider{{ID: "idp_1"}}})
		default:
			writeJSON(w, 200, api.IdentityProvider{ID: "idp_1", Name: "github", Version: 3, HasClientSecret: true})
		}
	})
	ctx := context.Background()
	secret := "client-secret-value"
	if _, err := c.CreateIdentityProvider(ctx, api.IdentityProviderCreate{Name: "github", Issuer: "https://token.actions.githubusercontent.com",
		Audiences: []string{"modelkeys"}, ClientSecret: &secret}); err != nil {
		t.Fatal(err)
	}
	if got, err := c.GetIdentityProvider(ctx, "idp_1"); err != nil || got.Version != 3 || !got.HasClientSecret {
		t.Fatalf("get: %+v %v", got, err)
	}
	name := "gh"
	if _, err := c.UpdateIdentityProvider(ctx, "idp_1", api.IdentityProviderPatch{Name: &name}, 3); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteIdentityProvider(ctx, "idp_1", 4); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListIdentityProviders(ctx, IdentityProviderListOptions{Name: "github", Limit: 10}); err != nil {
		t.Fatal(err)
	}
	want := []struct{ method, path, ifMatch string }{
		{"POST", "/v1/identity-providers", ""},
		{"GET", "/v1/identity-providers/idp_1", ""},
		{"PATCH", "/v1/identity-providers/idp_1", `"3"`},
		{"DELETE", "/v1/identity-providers/idp_1", `"4"`},
		{"GET", "/v1/identity-providers", ""},
	}
	for i, w := range want {
		r := rec.reqs[i]
		if r.Method != w.method || r.URL.Path != w.path || r.Header.Get("If-Match") != w.ifMatch {
			t.Errorf("call %d: %s %s If-Match %q, want %s %s %q", i, r.Method, r.URL.Path, r.Header.Get("If-Match"), w.method, w.path, w.ifMatch)
		}
	}
	if rec.header(0, IdempotencyKeyHeader) == "" {
		t.Error("the create carried no Idempotency-Key")
	}
	if !strings.Contains(rec.body(0), `"client_secret":"client-secret-value"`) {
		t.Errorf("create body %s lacks the client secret", rec.body(0))
	}
	if q := rec.reqs[4].URL.Query(); q.Get("name") != "github" || q.Get("limit") != "10" {
		t.Errorf("list query %v", q)
	}
	if _, err := c.GetIdentityProvider(ctx, ""); err == nil {
		t.Error("an empty id was sent")
	}
}

func TestFederationRuleCRUD(t *testing.T) {
	var rec recorder
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		rec.add(r)
		switch {
		case r.Method == http.MethodDelete:
			w.WriteHeader(http.StatusNoContent)
		case r.URL.Path == "/v1/federation-rules" && r.Method == http.MethodGet:
			if r.URL.Query().Get("page_token") == "" {
				writeJSON(w, 200, api.List[api.FederationRule]{Items: []api.FederationRule{{ID: "fr_1"}}, NextPageToken: "p2"})
				return
			}
			writeJSON(w, 200, api.List[api.FederationRule]{Items: []api.FederationRule{{ID: "fr_2"}}})
		default:
			writeJSON(w, 200, api.FederationRule{ID: "fr_1", Version: 2, Conditions: map[string]string{"repository": "acme/*"}})
		}
	})
	ctx := context.Background()
	if _, err := c.CreateFederationRule(ctx, api.FederationRuleCreate{Name: "ci", IdentityProviderID: "idp_1",
		Conditions: map[string]string{"repository": "acme/*"}, Role: "editor"}); err != nil {
		t.Fatal(err)
	}
	role := "viewer"
	if _, err := c.UpdateFederationRule(ctx, "fr_1", api.FederationRulePatch{Role: &role}, 2); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteFederationRule(ctx, "fr_1", 0); err != nil {
		t.Fatal(err)
	}
	all, err := c.ListAllFederationRules(ctx, FederationRuleListOptions{IdentityProviderID: "idp_1", Kind: api.FederationWorkload})
	if err != nil || len(all) != 2 {
		t.Fatalf("list all: %v %v", all, err)
	}
	if r := rec.reqs[1]; r.Method != "PATCH" || r.Header.Get("If-Match") != `"2"` || !strings.Contains(rec.body(1), `"role":"viewer"`) {
		t.Errorf("patch: %s If-Match %q body %s", r.Method, r.Header.Get("If-Match"), rec.body(1))
	}
	if r := rec.reqs[2]; r.Header.Get("If-Match") != "" {
		t.Errorf("delete with version 0 sent If-Match %q", r.Header.Get("If-Match"))
	}
	if q := rec.reqs[3].URL.Query(); q.Get("identity_provider_id") != "idp_1" || q.Get("kind") != "workload" {
		t.Errorf("list query %v", q)
	}
}

func TestIdentityProviderClientSecretNeverInErrors(t *testing.T) {
	const secret = `SECRET-client-"secret"-<value>`
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		writeProblem(w, api.Problem{Title: "Invalid", Status: 422, Detail: string(b)})
	})
	s := secret
	_, err := c.CreateIdentityProvider(context.Background(), api.IdentityProviderCreate{Name: "x", Issuer: "https://x", ClientSecret: &s})
	checkNoSecret(t, err, secret)
	_, err = c.UpdateIdentityProvider(context.Background(), "idp_1", api.IdentityProviderPatch{ClientSecret: &s}, 1)
	checkNoSecret(t, err, secret)
}

const (
	testSubjectToken = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJTRUNSRVQtc3ViamVjdCJ9.SECRET-signature_-"
	testAccessToken  = "mk_fed_SECRET-access-token-0123456789"
)

func TestExchangeToken(t *testing.T) {
	var rec recorder
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		rec.add(r)
		writeJSON(w, 200, api.TokenExchangeResponse{AccessToken: testAccessToken, IssuedTokenType: api.TokenTypeAccessToken, TokenType: "Bearer", ExpiresIn: 900})
	})
	got, err := c.ExchangeToken(context.Background(), "fr_1", testSubjectToken)
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessToken != testAccessToken || got.ExpiresIn != 900 {
		t.Fatalf("got %+v", got)
	}
	r := rec.reqs[0]
	if r.Method != http.MethodPost || r.URL.Path != "/v1/oauth/token" {
		t.Fatalf("%s %s", r.Method, r.URL.Path)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		t.Errorf("Content-Type %q", ct)
	}
	// The subject token is the credential: no static token rides along, and no idempotency key makes
	// the server keep the answer (a token) for replay.
	if h := r.Header.Get("Authorization"); h != "" {
		t.Errorf("Authorization %q sent with the exchange", h)
	}
	if h := r.Header.Get(IdempotencyKeyHeader); h != "" {
		t.Errorf("Idempotency-Key %q sent with the exchange", h)
	}
	form, err := url.ParseQuery(rec.body(0))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"grant_type": api.GrantTypeTokenExchange, "subject_token": testSubjectToken,
		"subject_token_type": api.TokenTypeJWT, "federation_rule": "fr_1"}
	for k, v := range want {
		if form.Get(k) != v {
			t.Errorf("form %s = %q, want %q", k, form.Get(k), v)
		}
	}
}

func TestExchangeTokenRefusals(t *testing.T) {
	cases := map[string]struct {
		h        http.HandlerFunc
		code     string
		contains []string
	}{
		"invalid_grant without a description": {
			h: func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, 400, api.OAuthError{Error: "invalid_grant"})
			},
			code:     "invalid_grant",
			contains: []string{`federation rule "fr_9"`, "invalid_grant", "issuer", "audiences", "every condition", "expired"},
		},
		"invalid_grant echoing the token": {
			h: func(w http.ResponseWriter, r *http.Request) {
				_ = r.ParseForm()
				writeJSON(w, 400, api.OAuthError{Error: "invalid_grant", ErrorDescription: "the subject token is not accepted: " + r.PostForm.Get("subject_token")})
			},
			code:     "invalid_grant",
			contains: []string{`federation rule "fr_9"`, "invalid_grant", "not accepted: [REDACTED]."},
		},
		"invalid_request": {
			h: func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, 400, api.OAuthError{Error: "invalid_request"})
			},
			code:     "invalid_request",
			contains: []string{"malformed", "federation rule id"},
		},
		"old server": {
			h: func(w http.ResponseWriter, r *http.Request) {
				writeProblem(w, api.Problem{Title: "Not Found", Status: 404, Detail: "no route"})
			},
			contains: []string{"HTTP 404", "older than workload identity"},
		},
		"proxy page echoing the form": {
			h: func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				w.WriteHeader(403)
				_, _ = w.Write(b)
			},
			contains: []string{"HTTP 403"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := newTestClient(t, tc.h)
			_, err := c.ExchangeToken(context.Background(), "fr_9", testSubjectToken)
			checkNoSecret(t, err, testSubjectToken, url.QueryEscape(testSubjectToken), "tok-123")
			var ee *ExchangeError
			if !errors.As(err, &ee) || !IsExchangeRefused(err) {
				t.Fatalf("want *ExchangeError, got %T %v", err, err)
			}
			if ee.Code != tc.code {
				t.Errorf("code %q, want %q", ee.Code, tc.code)
			}
			for _, s := range tc.contains {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error lacks %q: %v", s, err)
				}
			}
		})
	}
}

func TestExchangeTokenRetries5xx(t *testing.T) {
	var n atomic.Int32
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.WriteHeader(503)
			return
		}
		writeJSON(w, 200, api.TokenExchangeResponse{AccessToken: testAccessToken, TokenType: "bearer", ExpiresIn: 60})
	})
	if _, err := c.ExchangeToken(context.Background(), "fr_1", testSubjectToken); err != nil {
		t.Fatal(err)
	}
	if n.Load() != 2 {
		t.Fatalf("attempts %d, want 2", n.Load())
	}
}

func TestExchangeTokenBadAnswers(t *testing.T) {
	for name, resp := range map[string]api.TokenExchangeResponse{
		"no token":    {TokenType: "Bearer", ExpiresIn: 60},
		"not bearer":  {AccessToken: testAccessToken, TokenType: "N_A", ExpiresIn: 60},
		"no lifetime": {AccessToken: testAccessToken, TokenType: "Bearer"},
	} {
		t.Run(name, func(t *testing.T) {
			c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, resp) })
			_, err := c.ExchangeToken(context.Background(), "fr_1", testSubjectToken)
			checkNoSecret(t, err, testAccessToken, testSubjectToken)
		})
	}
}

// testSource is a TokenSource that can drop the token the server refused, then hands out the next.
type testSource struct {
	mu          sync.Mutex
	tokens      []string
	i           int
	invalidated []string
	err         error
}

func (s *testSource) Token(context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return "", s.err
	}
	return s.tokens[s.i], nil
}

func (s *testSource) InvalidateToken(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.invalidated = append(s.invalidated, tok)
	if s.i+1 < len(s.tokens) {
		s.i++
	}
}

func TestTokenSourceSuppliesEachCall(t *testing.T) {
	var rec recorder
	src := &testSource{tokens: []string{"exchanged-1", "exchanged-2"}}
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		rec.add(r)
		if r.Header.Get("Authorization") == "Bearer exchanged-1" && rec.count() > 1 {
			// The first token was ended (its rule changed): the server refuses it.
			writeProblem(w, api.Problem{Title: "Unauthorized", Status: 401, Detail: "token ended"})
			return
		}
		writeJSON(w, 200, api.Project{ID: "proj_1"})
	}, func(cfg *Config) { cfg.TokenSource = src })
	ctx := context.Background()
	if _, err := c.GetProject(ctx, "proj_1"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateProject(ctx, api.ProjectCreate{Name: "x"}); err != nil {
		t.Fatalf("the refused token was not replaced: %v", err)
	}
	got := []string{rec.header(0, "Authorization"), rec.header(1, "Authorization"), rec.header(2, "Authorization")}
	want := []string{"Bearer exchanged-1", "Bearer exchanged-1", "Bearer exchanged-2"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("call %d Authorization %q, want %q (the static Token must not be used)", i, got[i], want[i])
		}
	}
	if len(src.invalidated) != 1 || src.invalidated[0] != "exchanged-1" {
		t.Errorf("invalidated %v", src.invalidated)
	}
}

func TestTokenSourceRefusedTwiceIsOneError(t *testing.T) {
	var rec recorder
	src := &testSource{tokens: []string{"exchanged-1", "exchanged-2"}}
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		rec.add(r)
		writeProblem(w, api.Problem{Title: "Unauthorized", Status: 401, Detail: "no"})
	}, func(cfg *Config) { cfg.TokenSource = src })
	_, err := c.GetProject(context.Background(), "proj_1")
	if !IsUnauthorized(err) {
		t.Fatalf("want 401, got %v", err)
	}
	if rec.count() != 2 {
		t.Fatalf("sent %d times, want 2 (once more with a fresh token, then no more)", rec.count())
	}
}

func TestTokenSourceErrorSendsNothing(t *testing.T) {
	var rec recorder
	boom := errors.New("workload identity (token_source env): MODELKEYS_OIDC_TOKEN is not set")
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) { rec.add(r) },
		func(cfg *Config) { cfg.TokenSource = &testSource{err: boom} })
	_, err := c.GetProject(context.Background(), "proj_1")
	var tse *TokenSourceError
	if !errors.As(err, &tse) || !errors.Is(err, boom) {
		t.Fatalf("want a TokenSourceError wrapping the source's, got %T %v", err, err)
	}
	if !strings.Contains(err.Error(), "GET /v1/projects/proj_1") || !strings.Contains(err.Error(), "MODELKEYS_OIDC_TOKEN is not set") {
		t.Errorf("error %q", err)
	}
	if rec.count() != 0 {
		t.Errorf("%d requests sent without a token", rec.count())
	}
}

// fakeClock is a settable now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestCachingTokenSourceRefreshesBeforeExpiry(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	var fetches atomic.Int32
	var fail atomic.Bool
	lifetime := 15 * time.Minute
	src := NewCachingTokenSource(func(context.Context) (ExpiringToken, error) {
		n := fetches.Add(1)
		if fail.Load() {
			return ExpiringToken{}, errors.New("exchange refused")
		}
		return ExpiringToken{Token: "tok-" + strconv.Itoa(int(n)), Expiry: clock.now().Add(lifetime)}, nil
	})
	src.now = clock.now
	ctx := context.Background()
	tok := func() string {
		t.Helper()
		s, err := src.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if got := tok(); got != "tok-1" {
		t.Fatalf("first %q", got)
	}
	clock.advance(13*time.Minute + 59*time.Second) // 61 s left: still used
	if got := tok(); got != "tok-1" || fetches.Load() != 1 {
		t.Fatalf("with 61 s left: %q after %d fetches", got, fetches.Load())
	}
	clock.advance(2 * time.Second) // 59 s left: renewed before it can die during a call
	if got := tok(); got != "tok-2" {
		t.Fatalf("with 59 s left: %q", got)
	}

	// A failing refresh while the token still lives hands out the old one; once it is gone, the error.
	fail.Store(true)
	clock.advance(14*time.Minute + 30*time.Second) // 30 s left
	if got := tok(); got != "tok-2" {
		t.Fatalf("refresh failed with 30 s left: %q", got)
	}
	clock.advance(28 * time.Second) // 2 s left
	if _, err := src.Token(ctx); err == nil || !strings.Contains(err.Error(), "exchange refused") {
		t.Fatalf("want the refresh's error, got %v", err)
	}

	// A short-lived token (a 1-minute rule) is renewed at half its life, not on every call.
	fail.Store(false)
	lifetime = time.Minute
	first := tok()
	clock.advance(29 * time.Second)
	if got := tok(); got != first {
		t.Fatalf("a 1-minute token was renewed after 29 s")
	}
	clock.advance(2 * time.Second)
	if got := tok(); got == first {
		t.Fatalf("a 1-minute token was not renewed after 31 s")
	}

	// A refused token is dropped at once.
	cur := tok()
	src.InvalidateToken(cur)
	if got := tok(); got == cur {
		t.Fatal("the invalidated token was handed out again")
	}
}

func TestCachingTokenSourceSingleFlight(t *testing.T) {
	var fetches atomic.Int32
	release := make(chan struct{})
	src := NewCachingTokenSource(func(context.Context) (ExpiringToken, error) {
		fetches.Add(1)
		<-release
		return ExpiringToken{Token: "tok", Expiry: time.Now().Add(time.Hour)}, nil
	})
	const callers = 10 // Terraform's -parallelism
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := src.Token(context.Background())
			if err == nil && tok != "tok" {
				err = errors.New("wrong token " + tok)
			}
			errs <- err
		}()
	}
	time.Sleep(50 * time.Millisecond) // let them all queue behind the first fetch
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := fetches.Load(); n != 1 {
		t.Fatalf("%d fetches for %d concurrent callers, want 1", n, callers)
	}
}

func TestCachingTokenSourceWaiterKeepsOwnContext(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	src := NewCachingTokenSource(func(ctx context.Context) (ExpiringToken, error) {
		<-release
		return ExpiringToken{Token: "tok", Expiry: time.Now().Add(time.Hour)}, nil
	})
	go func() { _, _ = src.Token(context.Background()) }()
	time.Sleep(20 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := src.Token(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a waiter whose context ended got %v", err)
	}
}
