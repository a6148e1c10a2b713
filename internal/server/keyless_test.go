package server

import (
	"context"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/secrets"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store/pgtest"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store/sqlstore"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/verify"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/verify/vendortest"
)

// keylessServer is a modelkeys-server that is an issuer at its own loopback address, with a verifier
// aimed at a fake vendor, and admin, editor and viewer tokens of organisation acme.
type keylessServer struct {
	url     string
	srv     *Server
	dbPath  string // SQLite only
	logs    *syncBuffer
	clients map[string]*client.Client
	orgID   string
}

func startKeylessServer(t *testing.T, vendor *vendortest.Vendor) *keylessServer {
	t.Helper()
	ctx := context.Background()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ks := &keylessServer{url: "http://" + ln.Addr().String(), logs: &syncBuffer{}, clients: map[string]*client.Client{}}
	var st *sqlstore.Store
	if backendOf(t) == sqlstore.DialectPostgres {
		st, err = sqlstore.OpenPostgres(ctx, pgtest.Start(t))
	} else {
		ks.dbPath = filepath.Join(t.TempDir(), "modelkeys.db")
		st, err = sqlstore.OpenSQLite(ctx, ks.dbPath)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	ring, err := secrets.NewKeyring(secrets.NewMasterKey())
	if err != nil {
		t.Fatal(err)
	}
	ks.srv, err = New(ctx, service.Config{
		Store: st, Keyring: ring, Version: "test", IssuerURL: ks.url,
		Logger:   slog.New(slog.NewJSONHandler(ks.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Verifier: verify.New(verify.Options{BaseURLs: vendor.BaseURLs(), Timeout: 5 * time.Second}),
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(validateOpenAPI(t, ks.srv.Handler()))
	_ = ts.Listener.Close()
	ts.Listener = ln
	ts.Start()
	t.Cleanup(ts.Close)
	for _, role := range []string{api.RoleAdmin, api.RoleEditor, api.RoleViewer} {
		value, _, err := service.CreateToken(ctx, st, "acme", role, "acme-"+role, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		c, err := client.New(client.Config{BaseURL: ks.url, Token: value, RetryWaitMin: time.Millisecond, RetryWaitMax: 10 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		ks.clients[role] = c
	}
	who, err := ks.clients[api.RoleAdmin].WhoAmI(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ks.orgID = who.OrganizationID
	return ks
}

func TestKeylessCredentials(t *testing.T) { forEachBackend(t, testKeylessCredentials) }

func testKeylessCredentials(t *testing.T) {
	ctx := context.Background()
	// The vendor's fake reads this server's discovery document and keys, as a vendor does.
	vendor := vendortest.NewVendor(t, "openrouter", "", "")
	ks := startKeylessServer(t, vendor)
	vendor.Issuer = ks.url // the vendor trusts this server as an issuer
	admin, editor := ks.clients[api.RoleAdmin], ks.clients[api.RoleEditor]

	// The vendor's federation policy can name the credential's subject only once the credential
	// exists: a refused first exchange is recorded, not a 422.
	c, err := admin.CreateCredential(ctx, api.CredentialCreate{Name: "router", Provider: "openrouter", Settings: vendor.Settings()})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	subject := service.CredentialSubject(ks.orgID, c.ID)
	if c.HasAPIKey || c.Status != api.StatusInvalid || !strings.Contains(c.StatusMessage, "invalid_grant: the vendor does not trust this issuer/subject") ||
		!strings.Contains(c.StatusMessage, subject) || !strings.Contains(c.StatusMessage, ks.url) {
		t.Fatalf("created before the vendor trusts it: has_api_key %v, status %s, %q; want invalid, naming the issuer and subject %s", c.HasAPIKey, c.Status, c.StatusMessage, subject)
	}

	vendor.Trust(subject)
	c, err = admin.VerifyCredential(ctx, c.ID)
	if err != nil || c.Status != api.StatusVerified {
		t.Fatalf("verify once trusted: %+v, %v", c, err)
	}
	exchanges := vendor.Exchanges.Load()

	// Minutes-lived tokens: a fresh one, then the same from memory until a minute before it expires.
	tok, err := admin.CredentialAccessToken(ctx, c.ID)
	if err != nil || !vendor.Issued(tok.AccessToken) || tok.TokenType != "Bearer" || time.Until(tok.ExpiresAt) < 10*time.Minute {
		t.Fatalf("access token: %+v, %v", tok, err)
	}
	again, err := admin.CredentialAccessToken(ctx, c.ID)
	if err != nil || again.AccessToken != tok.AccessToken || vendor.Exchanges.Load() != exchanges+1 {
		t.Errorf("second access token: %v (%d exchanges), want the cached token after one exchange", err, vendor.Exchanges.Load()-exchanges)
	}
	// Verification never uses the cache: it checks the vendor's trust.
	if _, err := admin.VerifyCredential(ctx, c.ID); err != nil || vendor.Exchanges.Load() != exchanges+2 {
		t.Errorf("verify after a token: %v, %d exchanges; want a fresh one", err, vendor.Exchanges.Load()-exchanges)
	}
	// The re-verify sweep covers keyless credentials.
	if rep, err := ks.srv.Service().Reverify(ctx); err != nil || rep.Verified != 1 || vendor.Exchanges.Load() != exchanges+3 {
		t.Errorf("re-verify sweep: %+v, %v", rep, err)
	}
	// A vendor that stops trusting the subject turns the credential invalid at the next check.
	vendor.Trust("someone else")
	if c, err := admin.VerifyCredential(ctx, c.ID); err != nil || c.Status != api.StatusInvalid {
		t.Errorf("verify after the vendor's rule changed: %+v, %v", c, err)
	}

	// The same policies govern it: a provider the scope no longer allows hands out no tokens.
	pol, err := admin.PutCredentialPolicy(ctx, "", api.CredentialPolicyPut{AllowedProviders: []string{"openai"}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CredentialAccessToken(ctx, c.ID); err == nil || !strings.Contains(err.Error(), "violates its scope's credential policy") {
		t.Errorf("a credential the policy refuses: %v, want 409", err)
	}
	if err := admin.DeleteCredentialPolicy(ctx, "", pol.Version); err != nil {
		t.Fatal(err)
	}

	// Who may have one: an editor without a federation rule naming the credential may not.
	if _, err := editor.CredentialAccessToken(ctx, c.ID); !client.IsForbidden(err) {
		t.Errorf("editor: %v, want 403", err)
	}
	// A stored key never comes out of this endpoint.
	key := "sk-or-v1-" + strings.Repeat("a", 64)
	keyed, err := admin.CreateCredential(ctx, api.CredentialCreate{Name: "router-key", Provider: "openrouter", APIKey: &key, Verify: ptr(false)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CredentialAccessToken(ctx, keyed.ID); err == nil || !strings.Contains(err.Error(), "keys never leave modelkeys") || strings.Contains(err.Error(), key) {
		t.Errorf("a credential with a key: %v, want 409 saying keys never leave", err)
	}
	// A keyless credential takes no key.
	_, err = admin.CreateCredential(ctx, api.CredentialCreate{Name: "router-2", Provider: "openrouter", Settings: vendor.Settings(), APIKey: &key})
	if !client.IsValidation(err) || !strings.Contains(err.Error(), "api_key") || !strings.Contains(err.Error(), "keyless") {
		t.Errorf("keyless with an api_key: %v, want 422 naming api_key", err)
	}

	// Every call audited with the caller, never the token.
	events, err := admin.ListAuditEvents(ctx, 0, 200)
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	for _, e := range events.Items {
		if e.Action == "access_token" && e.ObjectID == c.ID {
			calls++
			if e.Actor != "acme-admin" {
				t.Errorf("access_token audited as %q, want the caller acme-admin", e.Actor)
			}
		}
	}
	if calls != 2 {
		t.Errorf("%d access_token events, want 2", calls)
	}
	// The vendor token is nowhere but in the answers: not in logs, audit events or the database.
	for where, text := range map[string]string{"logs": ks.logs.String(), "audit": auditText(events)} {
		if strings.Contains(text, tok.AccessToken) {
			t.Errorf("the vendor token is in the %s", where)
		}
	}
	if ks.dbPath != "" {
		for _, f := range []string{ks.dbPath, ks.dbPath + "-wal"} {
			if b, err := os.ReadFile(f); err == nil && strings.Contains(string(b), tok.AccessToken) {
				t.Errorf("the vendor token is in %s", filepath.Base(f))
			}
		}
	}
}

func auditText(l *api.List[api.AuditEvent]) string {
	var b strings.Builder
	for _, e := range l.Items {
		b.WriteString(e.Actor + " " + e.Action + " " + e.ObjectID + " " + strings.Join(e.Fields, ",") + "\n")
		for _, c := range e.Changes {
			b.WriteString(c.Field + " " + c.From + " " + c.To + "\n")
		}
	}
	return b.String()
}

// TestKeyedCredentialBecomesKeyless: a credential that keeps a key becomes keyless only when the same
// change deletes the key (the refusal names api_key), and the stored key is gone after it.
func TestKeyedCredentialBecomesKeyless(t *testing.T) {
	forEachBackend(t, testKeyedCredentialBecomesKeyless)
}

func testKeyedCredentialBecomesKeyless(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	key := h.secret("sk-proj-")
	c, err := h.admin.CreateCredential(ctx, api.CredentialCreate{Name: "openai", Provider: "openai", APIKey: &key, Verify: ptr(false)})
	if err != nil {
		t.Fatal(err)
	}
	keyless := map[string]string{"auth_method": "workload_identity", "identity_provider_id": "wip_1", "service_account_id": "svc_acct_1", "audience": "https://api.openai.com/v1"}
	_, err = h.admin.UpdateCredential(ctx, c.ID, api.CredentialPatch{Settings: &keyless}, c.Version)
	if !client.IsValidation(err) || !strings.Contains(err.Error(), "api_key") || !strings.Contains(err.Error(), "keyless") {
		t.Fatalf("keyless settings with the key kept: %v, want 422 naming api_key", err)
	}
	c, err = h.admin.UpdateCredential(ctx, c.ID, api.CredentialPatch{Settings: &keyless, APIKey: ptr("")}, c.Version)
	if err != nil || c.HasAPIKey || c.SecretFingerprint != "" {
		t.Fatalf("keyless with the key deleted: %+v, %v", c, err)
	}
	// Back to a key: the catalog asks for one.
	keyed := map[string]string{}
	_, err = h.admin.UpdateCredential(ctx, c.ID, api.CredentialPatch{Settings: &keyed}, c.Version)
	if !client.IsValidation(err) || !strings.Contains(err.Error(), "api_key") {
		t.Errorf("back to a key without one: %v, want 422 naming api_key", err)
	}
}

// TestKeylessEveryVendor: for each vendor that accepts keyless credentials, a credential verified by
// an exchange at the vendor's fake (which checks the server's assertion against its discovery document
// and keys) and a vendor token that the fake issued.
func TestKeylessEveryVendor(t *testing.T) { forEachBackend(t, testKeylessEveryVendor) }

func testKeylessEveryVendor(t *testing.T) {
	for _, provider := range []string{"openai", "anthropic", "openrouter", "azure_openai", "azure_ai_foundry", "vertex_ai"} {
		t.Run(provider, func(t *testing.T) {
			ctx := context.Background()
			vendor := vendortest.NewVendor(t, provider, "", "")
			ks := startKeylessServer(t, vendor)
			vendor.Issuer = ks.url
			admin := ks.clients[api.RoleAdmin]
			c, err := admin.CreateCredential(ctx, api.CredentialCreate{Name: "keyless", Provider: provider, Settings: vendor.Settings(), Verify: ptr(false)})
			if err != nil {
				t.Fatal(err)
			}
			vendor.Trust(service.CredentialSubject(ks.orgID, c.ID))
			if c, err = admin.VerifyCredential(ctx, c.ID); err != nil || c.Status != api.StatusVerified {
				t.Fatalf("verify: %+v, %v", c, err)
			}
			tok, err := admin.CredentialAccessToken(ctx, c.ID)
			if err != nil || !vendor.Issued(tok.AccessToken) {
				t.Fatalf("access token: %+v, %v", tok, err)
			}
			if vendor.Reads.Load() != 1 {
				t.Errorf("%d reads with the vendor token, want the verification's one", vendor.Reads.Load())
			}
		})
	}
}
