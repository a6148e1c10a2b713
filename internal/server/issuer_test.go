package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/issuer"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/secrets"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store/pgtest"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store/sqlstore"
)

// issuerServer is one modelkeys-server serving --issuer-url on its own loopback listener.
type issuerServer struct {
	url string
	srv *Server
	st  *sqlstore.Store
	ts  *httptest.Server
}

// issuerDB is a database that issuer servers share: a SQLite file or a PostgreSQL database.
func issuerDB(t *testing.T) string {
	if backendOf(t) == sqlstore.DialectPostgres {
		return pgtest.Start(t)
	}
	return filepath.Join(t.TempDir(), "modelkeys.db")
}

// startIssuer starts a server with --issuer-url set to its own address on the database dsn.
func startIssuer(t *testing.T, dsn string, key []byte, now func() time.Time) *issuerServer {
	t.Helper()
	return startIssuerAt(t, "127.0.0.1:0", dsn, key, now)
}

// startIssuerAt is startIssuer listening on addr (a restart on the address of a stopped server).
func startIssuerAt(t *testing.T, addr, dsn string, key []byte, now func() time.Time) *issuerServer {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	is := newIssuerServer(t, "http://"+ln.Addr().String(), dsn, key, now)
	is.ts = httptest.NewUnstartedServer(validateOpenAPI(t, is.srv.Handler()))
	_ = is.ts.Listener.Close()
	is.ts.Listener = ln
	is.ts.Start()
	t.Cleanup(is.ts.Close)
	return is
}

// startIssuerReplicas starts n servers on the database dsn behind a round-robin proxy whose address
// is their issuer URL, as replicas behind a load balancer are; each also listens on its own address
// (ts).
func startIssuerReplicas(t *testing.T, n int, dsn string, key []byte, now func() time.Time) (string, []*issuerServer) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + ln.Addr().String()
	var replicas []*issuerServer
	var targets []*url.URL
	for range n {
		is := newIssuerServer(t, u, dsn, key, now)
		is.ts = httptest.NewServer(validateOpenAPI(t, is.srv.Handler()))
		t.Cleanup(is.ts.Close)
		target, _ := url.Parse(is.ts.URL)
		replicas, targets = append(replicas, is), append(targets, target)
	}
	proxy := httptest.NewUnstartedServer(roundRobin(targets))
	_ = proxy.Listener.Close()
	proxy.Listener = ln
	proxy.Start()
	t.Cleanup(proxy.Close)
	return u, replicas
}

func newIssuerServer(t *testing.T, issuerURL, dsn string, key []byte, now func() time.Time) *issuerServer {
	t.Helper()
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	ring, err := secrets.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(ctx, service.Config{Store: st, Keyring: ring, Version: "test", Now: now, IssuerURL: issuerURL,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return &issuerServer{url: issuerURL, srv: srv, st: st}
}

// vendorVerify checks an assertion as a vendor does: discovery document, then JWKS, then the
// signature, iss, aud and exp, at time at. It returns the verified token.
func vendorVerify(t *testing.T, issuerURL, audience, token string, at time.Time) (*oidc.IDToken, error) {
	t.Helper()
	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, issuerURL) // fetches and checks the discovery document
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	return provider.VerifierContext(ctx, &oidc.Config{ClientID: audience, SupportedSigningAlgs: []string{oidc.ES256, oidc.RS256},
		Now: func() time.Time { return at }}).Verify(ctx, token)
}

func getPublic(t *testing.T, u string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(u) //nolint:noctx // a test on loopback
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func jwksKIDs(t *testing.T, issuerURL string) []string {
	t.Helper()
	_, b := getPublic(t, issuerURL+issuer.JWKSPath)
	var set struct {
		Keys []struct {
			KID string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(b, &set); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, k := range set.Keys {
		out = append(out, k.KID)
	}
	return out
}

// A vendor trusts the issuer as any OpenID issuer: it reads the discovery document and the JWKS,
// unauthenticated, and verifies each assertion's signature, iss, aud, exp and sub.
func TestIssuerAssertionsVerifyAsAVendorVerifies(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		clock := &testClock{t: time.Now()}
		is := startIssuer(t, issuerDB(t), secrets.NewMasterKey(), clock.Now)
		ctx := context.Background()

		resp, body := getPublic(t, is.url+issuer.DiscoveryPath)
		if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "public, max-age=3600" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("discovery: %d %q %q", resp.StatusCode, resp.Header.Get("Cache-Control"), resp.Header.Get("Content-Type"))
		}
		var doc map[string]any
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatal(err)
		}
		for _, member := range []string{"issuer", "jwks_uri", "id_token_signing_alg_values_supported", "response_types_supported", "subject_types_supported", "claims_supported"} {
			if doc[member] == nil {
				t.Errorf("the discovery document lacks %s", member)
			}
		}
		if doc["issuer"] != is.url || doc["jwks_uri"] != is.url+"/.well-known/jwks.json" {
			t.Errorf("discovery: issuer %v jwks_uri %v", doc["issuer"], doc["jwks_uri"])
		}
		resp, _ = getPublic(t, is.url+issuer.JWKSPath)
		if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "public, max-age=300" {
			t.Fatalf("JWKS: %d %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
		}

		for _, aud := range []string{"https://api.openai.com/v1", "api://AzureADTokenExchange", "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/modelkeys"} {
			tok, err := is.srv.Service().MintAssertion(ctx, "org_1", "cred_1", aud)
			if err != nil {
				t.Fatal(err)
			}
			idt, err := vendorVerify(t, is.url, aud, tok, clock.Now())
			if err != nil {
				t.Fatalf("%s: a vendor refuses the assertion: %v", aud, err)
			}
			if idt.Subject != "modelkeys:org:org_1:credential:cred_1" || idt.Issuer != is.url {
				t.Errorf("%s: sub %q iss %q", aud, idt.Subject, idt.Issuer)
			}
			if left := time.Until(idt.Expiry); left > issuer.MaxLifetime+time.Second {
				t.Errorf("%s: expires in %s, more than %s", aud, left, issuer.MaxLifetime)
			}
			// A vendor refuses it for another audience, and after it expires.
			if _, err := vendorVerify(t, is.url, "another-vendor", tok, clock.Now()); err == nil {
				t.Errorf("%s: verified for another audience", aud)
			}
			if _, err := vendorVerify(t, is.url, aud, tok, idt.Expiry.Add(time.Second)); err == nil {
				t.Errorf("%s: verified after it expired", aud)
			}
		}
	})
}

// The JWKS never holds a private key member, whatever the key type.
func TestIssuerJWKSHoldsNoPrivateKey(t *testing.T) {
	clock := &testClock{t: time.Now()}
	dsn := issuerDB(t)
	key := secrets.NewMasterKey()
	is := startIssuer(t, dsn, key, clock.Now)
	ring, _ := secrets.NewKeyring(key)
	if _, err := service.RotateSigningKey(context.Background(), is.st, ring, clock.Now(), time.Minute); err != nil {
		t.Fatal(err)
	}
	clock.Advance(issuer.ReloadInterval)
	_, body := getPublic(t, is.url+issuer.JWKSPath)
	var set struct {
		Keys []map[string]json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 4 {
		t.Fatalf("the JWKS has %d keys, want 4 (two generations of ES256 and RS256)", len(set.Keys))
	}
	for _, k := range set.Keys {
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"} {
			if _, ok := k[private]; ok {
				t.Fatalf("the JWKS publishes the private member %q of key %s", private, k["kid"])
			}
		}
	}
}

// Without --issuer-url the documents are a 404 that says how to enable them, and /v1/issuer a 409.
func TestIssuerOffWithoutIssuerURL(t *testing.T) {
	h := newHarness(t)
	for _, path := range []string{issuer.DiscoveryPath, issuer.JWKSPath} {
		resp, body := getPublic(t, h.ts.URL+path)
		if resp.StatusCode != 404 || !strings.Contains(string(body), "--issuer-url") {
			t.Errorf("%s without --issuer-url: %d %s", path, resp.StatusCode, body)
		}
	}
	_, err := h.viewer.Issuer(context.Background(), "")
	if !client.IsConflict(err) || !strings.Contains(err.Error(), "--issuer-url") {
		t.Errorf("/v1/issuer without --issuer-url: %v", err)
	}
	if _, err := h.srv.Service().MintAssertion(context.Background(), "org", "cred", "aud"); err != service.ErrNoIssuer { //nolint:errorlint // the sentinel itself
		t.Errorf("MintAssertion without --issuer-url: %v", err)
	}
}

// GET /v1/issuer answers any role the issuer's URLs and a credential's subject, within its
// organisation only.
func TestIssuerRoute(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		clock := &testClock{t: time.Now()}
		is := startIssuer(t, issuerDB(t), secrets.NewMasterKey(), clock.Now)
		ctx := context.Background()
		tokens := map[string]string{}
		for role, org := range map[string]string{api.RoleAdmin: "acme", api.RoleViewer: "acme", "other": "other"} {
			r := role
			if role == "other" {
				r = api.RoleAdmin
			}
			v, _, err := service.CreateToken(ctx, is.st, org, r, org+"-"+role, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			tokens[role] = v
		}
		c := func(role string) *client.Client {
			cl, err := client.New(client.Config{BaseURL: is.url, Token: tokens[role], MaxRetries: 0})
			if err != nil {
				t.Fatal(err)
			}
			return cl
		}
		key := "sk-" + strings.Repeat("a", 40)
		cred, err := c(api.RoleAdmin).CreateCredential(ctx, api.CredentialCreate{Name: "openai", Provider: "openai", APIKey: &key, Verify: ptr(false)})
		if err != nil {
			t.Fatal(err)
		}
		who, err := c(api.RoleViewer).WhoAmI(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c(api.RoleViewer).Issuer(ctx, cred.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := api.Issuer{Issuer: is.url, JWKSURI: is.url + "/.well-known/jwks.json", DiscoveryURL: is.url + "/.well-known/openid-configuration",
			SubjectFormat: "modelkeys:org:<organisation id>:credential:<credential id>",
			SubjectPrefix: "modelkeys:org:" + who.OrganizationID + ":credential:",
			CredentialID:  cred.ID, Subject: "modelkeys:org:" + who.OrganizationID + ":credential:" + cred.ID}
		if got != want {
			t.Fatalf("GET /v1/issuer\n got %+v\nwant %+v", got, want)
		}
		if !strings.HasPrefix(got.Subject, got.SubjectPrefix) {
			t.Fatalf("the subject %q does not start with the organisation's prefix %q", got.Subject, got.SubjectPrefix)
		}
		if got.Subject != service.CredentialSubject(who.OrganizationID, cred.ID) {
			t.Fatalf("the route's subject %q is not the one assertions carry", got.Subject)
		}
		if got, err := c(api.RoleViewer).Issuer(ctx, ""); err != nil || got.Subject != "" || got.Issuer != is.url {
			t.Fatalf("without credential_id: %+v, %v", got, err)
		}
		if _, err := c("other").Issuer(ctx, cred.ID); !client.IsNotFound(err) {
			t.Fatalf("another organisation's credential: %v, want 404", err)
		}
		if _, err := c(api.RoleViewer).Issuer(ctx, "cred_missing"); !client.IsNotFound(err) {
			t.Fatalf("a missing credential: %v, want 404", err)
		}
		// The documents need no token; the route does.
		if resp, _ := getPublic(t, is.url+"/v1/issuer"); resp.StatusCode != 401 {
			t.Fatalf("/v1/issuer without a token: %d, want 401", resp.StatusCode)
		}
	})
}

// rotate-signing-key with two servers on one database: the new key signs everywhere within a
// minute without a restart; tokens of the old key verify until they expire; then the old key
// leaves the JWKS.
func TestIssuerSigningKeyRotationAcrossReplicas(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		clock := &testClock{t: time.Now()}
		dsn, key := issuerDB(t), secrets.NewMasterKey()
		issuerURL, replicas := startIssuerReplicas(t, 2, dsn, key, clock.Now)
		a, b := replicas[0], replicas[1]
		if ka, kb := jwksKIDs(t, a.ts.URL), jwksKIDs(t, b.ts.URL); !slices.Equal(ka, kb) || len(ka) != 2 {
			t.Fatalf("two servers starting on one database publish %v and %v; want the same one generation", ka, kb)
		}
		aud := "https://api.openai.com/v1"
		oldTok, err := b.srv.Service().MintAssertion(ctx, "org_1", "cred_1", aud)
		if err != nil {
			t.Fatal(err)
		}
		oldKIDs := jwksKIDs(t, b.ts.URL)

		ring, _ := secrets.NewKeyring(key)
		gen, err := service.RotateSigningKey(ctx, a.st, ring, clock.Now(), 0)
		if err != nil {
			t.Fatal(err)
		}
		newKID := gen[slices.IndexFunc(gen, func(k store.SigningKey) bool { return k.Alg == issuer.ES256 })].KID
		clock.Advance(issuer.ReloadInterval + time.Second)
		for name, is := range map[string]*issuerServer{"a": a, "b": b} {
			tok, err := is.srv.Service().MintAssertion(ctx, "org_1", "cred_1", aud)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := vendorVerify(t, issuerURL, aud, tok, clock.Now()); err != nil {
				t.Fatalf("server %s after the rotation: %v", name, err)
			}
			if kid := headerKID(t, tok); kid != newKID {
				t.Fatalf("server %s signs with %s %s after the rotation, want the new key %s", name, kid, issuer.ReloadInterval, newKID)
			}
			// The old key's token still verifies until it expires.
			if _, err := vendorVerify(t, issuerURL, aud, oldTok, clock.Now()); err != nil {
				t.Fatalf("server %s: the old key's token before it expires: %v", name, err)
			}
		}
		clock.Advance(issuer.RetireDelay)
		for name, is := range map[string]*issuerServer{"a": a, "b": b} {
			kids := jwksKIDs(t, is.ts.URL)
			for _, old := range oldKIDs {
				if slices.Contains(kids, old) {
					t.Fatalf("server %s still publishes the old key %s after %s", name, old, issuer.RetireDelay)
				}
			}
			if !slices.Contains(kids, newKID) {
				t.Fatalf("server %s does not publish the new key", name)
			}
		}
	})
}

// Master-key rotation re-wraps the signing keys: a server restarted with the new key signs with
// the same keys, and tokens signed before still verify.
func TestIssuerSurvivesMasterKeyRotation(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		clock := &testClock{t: time.Now()}
		dsn, oldKey, newKey := issuerDB(t), secrets.NewMasterKey(), secrets.NewMasterKey()
		before := startIssuer(t, dsn, oldKey, clock.Now)
		aud := "openrouter"
		oldTok, err := before.srv.Service().MintAssertion(ctx, "org_1", "cred_1", aud)
		if err != nil {
			t.Fatal(err)
		}
		ring, _ := secrets.NewKeyring(newKey, oldKey)
		if _, err := service.RotateMasterKey(ctx, before.st, ring); err != nil {
			t.Fatal(err)
		}
		// The server still on the old key keeps signing with the keys it opened until restarted.
		if _, err := before.srv.Service().MintAssertion(ctx, "org_1", "cred_1", aud); err != nil {
			t.Fatalf("the server still on the old master key: %v", err)
		}
		// Restarted with the new key, on the same address (the issuer URL does not change).
		before.ts.Close()
		after := startIssuerAt(t, strings.TrimPrefix(before.url, "http://"), dsn, newKey, clock.Now)
		tok, err := after.srv.Service().MintAssertion(ctx, "org_1", "cred_1", aud)
		if err != nil {
			t.Fatalf("a server with the new master key: %v", err)
		}
		for name, tk := range map[string]string{"new": tok, "old": oldTok} {
			if _, err := vendorVerify(t, after.url, aud, tk, clock.Now()); err != nil {
				t.Fatalf("the %s token after the master-key rotation: %v", name, err)
			}
		}
		if headerKID(t, tok) != headerKID(t, oldTok) {
			t.Fatal("the signing key changed with the master key; only its wrapping should")
		}
		// No key is left wrapped by the old master key.
		keys, err := issuer.List(ctx, after.st)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if k.KeyID != secrets.KeyID(newKey) {
				t.Fatalf("signing key %s is wrapped by %s after the rotation", k.KID, k.KeyID)
			}
		}
	})
}

func headerKID(t *testing.T, token string) string {
	t.Helper()
	var h struct {
		KID string `json:"kid"`
	}
	part, _, _ := strings.Cut(token, ".")
	b, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil || json.Unmarshal(b, &h) != nil {
		t.Fatalf("token header: %v", err)
	}
	return h.KID
}
