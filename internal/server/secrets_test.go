package server

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
)

func TestSecretRotation(t *testing.T) { forEachBackend(t, testSecretRotation) }

func testSecretRotation(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withReveal())
	ctx := context.Background()
	k1 := h.secret("sk-proj-")
	c := h.mustCreate(h.admin, openAICred("rotating", k1))

	k2 := h.secret("sk-proj-")
	rotated, err := h.admin.UpdateCredential(ctx, c.ID, api.CredentialPatch{APIKey: &k2}, c.Version)
	if err != nil {
		t.Fatal(err)
	}
	if rotated.SecretVersion != c.SecretVersion+1 {
		t.Errorf("secret_version %d after rotation, want %d", rotated.SecretVersion, c.SecretVersion+1)
	}
	if rotated.Version != c.Version+1 {
		t.Errorf("version %d after rotation, want %d", rotated.Version, c.Version+1)
	}
	if rotated.SecretFingerprint == c.SecretFingerprint {
		t.Error("secret_fingerprint did not change with the key")
	}
	if rotated.SecretHint == c.SecretHint || !strings.HasSuffix(rotated.SecretHint, k2[len(k2)-4:]) {
		t.Errorf("secret_hint %q after rotation (was %q)", rotated.SecretHint, c.SecretHint)
	}
	rev, err := h.admin.RevealCredential(ctx, c.ID)
	if err != nil || rev.APIKey != k2 {
		t.Fatalf("reveal after rotation: err %v, got the new key: %v", err, rev != nil && rev.APIKey == k2)
	}

	// Sending the same key again changes nothing at all.
	same, err := h.admin.UpdateCredential(ctx, c.ID, api.CredentialPatch{APIKey: &k2}, rotated.Version)
	if err != nil {
		t.Fatal(err)
	}
	if same.SecretVersion != rotated.SecretVersion || same.Version != rotated.Version || same.SecretFingerprint != rotated.SecretFingerprint {
		t.Errorf("re-sending the key: secret_version %d->%d version %d->%d", rotated.SecretVersion, same.SecretVersion, rotated.Version, same.SecretVersion)
	}

	// Going back to the first key gives the first fingerprint again (drift detection relies on it).
	back, err := h.admin.UpdateCredential(ctx, c.ID, api.CredentialPatch{APIKey: &k1}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if back.SecretFingerprint != c.SecretFingerprint || back.SecretVersion != 3 {
		t.Errorf("back to k1: fingerprint equal %v, secret_version %d (want 3)", back.SecretFingerprint == c.SecretFingerprint, back.SecretVersion)
	}
	// Equal keys in two credentials have equal fingerprints; the fingerprint is not the key's hash alone.
	twin := h.mustCreate(h.admin, openAICred("twin", k1))
	if twin.SecretFingerprint != back.SecretFingerprint {
		t.Error("the same key fingerprints differently in two credentials")
	}
	if strings.Contains(twin.SecretFingerprint, k1) {
		t.Error("fingerprint holds the key")
	}
}

// TestNoPlaintextAtRestOrInLogs runs a busy life of secrets through the API, including every error path
// that might echo one, then scans the raw SQLite files and the server's logs for any plaintext.
func TestNoPlaintextAtRestOrInLogs(t *testing.T) { forEachBackend(t, testNoPlaintextAtRestOrInLogs) }

func testNoPlaintextAtRestOrInLogs(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withReveal())
	ctx := context.Background()
	admin := h.tokens["admin"]

	var creds []*api.Credential
	for _, name := range []string{"a", "b", "c"} {
		creds = append(creds, h.mustCreate(h.admin, openAICred(name, h.secret("sk-proj-"))))
	}
	custom := h.mustCreate(h.admin, api.CredentialCreate{Name: "gw", Provider: "custom",
		Settings: map[string]string{"base_url": "https://llm.example.com/v1"},
		APIKey:   ptr(h.secret("sk-")), AuthToken: ptr(h.secret("proxy-"))})
	for _, c := range creds {
		for range 2 {
			if _, err := h.admin.UpdateCredential(ctx, c.ID, api.CredentialPatch{APIKey: ptr(h.secret("sk-proj-"))}, 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := h.admin.UpdateCredential(ctx, custom.ID, api.CredentialPatch{AuthToken: ptr("")}, 0); err != nil {
		t.Fatal(err)
	}
	if err := h.admin.DeleteCredential(ctx, creds[2].ID, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := h.admin.RevealCredential(ctx, creds[0].ID); err != nil {
		t.Fatal(err)
	}

	// Error paths with a secret in the body: none may echo it.
	leaky := []struct {
		method, path string
		body         string
	}{
		{"POST", "/v1/credentials", `{"name":"dup","provider":"openai","api_key":"%s","settings":{"colour":"x"}}`},
		{"POST", "/v1/credentials", `{"name":"dup","provider":"openai","settings":{"api_key":"%s"}}`},
		{"POST", "/v1/credentials", `{"name":"dup","provider":"custom","settings":{"base_url":"https://u:%s@example.com"}}`},
		{"POST", "/v1/credentials", `{"name":"a","provider":"openai","api_key":"%s"}`},
		{"POST", "/v1/credentials", `{"name":"x","provider":"openai","apikey":"%s"}`},
		{"POST", "/v1/credentials", `{"name":"x","provider":"openai","api_key":"%s",`},
		{"POST", "/v1/credentials", `{"name":"x","provider":"anthropic","api_key":"%s","auth_token":"%[1]s"}`},
		{"POST", "/v1/credentials", `{"name":["%s"],"provider":"openai"}`},
		{"PATCH", "/v1/credentials/" + creds[0].ID, `{"api_key":"%s","provider":"anthropic"}`},
		{"PATCH", "/v1/credentials/" + creds[0].ID, `{"api_key":"%s","name":"b"}`},
		{"PATCH", "/v1/credentials/" + creds[0].ID, `{"api_key":"%s","bogus":1}`},
		{"PATCH", "/v1/credentials/cred_missing", `{"api_key":"%s"}`},
		{"POST", "/v1/projects", `{"name":"%s"}`},
	}
	for _, l := range leaky {
		s := h.secret("sk-")
		body := strings.ReplaceAll(l.body, "%[1]s", s)
		body = strings.Replace(body, "%s", s, 1)
		r := h.do(l.method, l.path, admin, []byte(body))
		if r.Status < 400 {
			t.Fatalf("%s %s %s: %d, expected an error", l.method, l.path, l.body, r.Status)
		}
		if bytes.Contains(r.Body, []byte(s)) {
			t.Errorf("%s %s (%s): the error answer echoes the secret: %s", l.method, l.path, l.body, r.Body)
		}
	}
	// 413 with a secret in the oversized body.
	s := h.secret("sk-")
	r := h.do("POST", "/v1/credentials", admin, []byte(`{"api_key":"`+s+`","description":"`+strings.Repeat("z", 1<<20)+`"}`))
	if r.Status != http.StatusRequestEntityTooLarge || bytes.Contains(r.Body, []byte(s)) {
		t.Errorf("413: status %d, echoes secret %v", r.Status, bytes.Contains(r.Body, []byte(s)))
	}

	// No read answer carries a secret either.
	secretsNow := h.usedSecrets()
	for _, path := range []string{"/v1/credentials", "/v1/credentials/" + creds[0].ID, "/v1/credentials/" + custom.ID, "/v1/audit-events?limit=500", "/metrics"} {
		tok := admin
		if path == "/metrics" {
			tok = testMetricsToken
		}
		r := h.do("GET", path, tok, nil)
		if leaked, ok := containsAny(r.Body, secretsNow); ok {
			t.Errorf("GET %s answers a secret (%s...)", path, leaked[:10])
		}
	}

	h.scanForSecrets()
}

// TestCiphertextBoundToItsRow copies one credential's sealed api_key into another credential's row with
// plain SQL: it must not decrypt there, so the other row never yields the first one's key.
func TestCiphertextBoundToItsRow(t *testing.T) { forEachBackend(t, testCiphertextBoundToItsRow) }

func testCiphertextBoundToItsRow(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withReveal())
	ctx := context.Background()
	ka, kb := h.secret("sk-a-"), h.secret("sk-b-")
	a := h.mustCreate(h.admin, openAICred("victim", ka))
	b := h.mustCreate(h.admin, openAICred("attacker", kb))
	kc := h.secret("sk-c-")
	c := h.mustCreate(h.other, openAICred("other-org", kc))

	db, rebind := h.rawDB()
	defer db.Close()
	// Copy a's row into b (same organisation) and into c (another organisation).
	for _, target := range []string{b.ID, c.ID} {
		res, err := db.ExecContext(ctx, rebind(`UPDATE credential_secrets
			SET key_id = (SELECT key_id FROM credential_secrets WHERE credential_id = ? AND field = 'api_key'),
			    wrapped_key = (SELECT wrapped_key FROM credential_secrets WHERE credential_id = ? AND field = 'api_key'),
			    ciphertext = (SELECT ciphertext FROM credential_secrets WHERE credential_id = ? AND field = 'api_key')
			WHERE credential_id = ? AND field = 'api_key'`), a.ID, a.ID, a.ID, target)
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			t.Fatalf("copied into %d rows, want 1", n)
		}
	}
	var same int
	if err := db.QueryRowContext(ctx, rebind(`SELECT COUNT(DISTINCT ciphertext) FROM credential_secrets WHERE credential_id IN (?, ?, ?)`), a.ID, b.ID, c.ID).Scan(&same); err != nil || same != 1 {
		t.Fatalf("the copy did not happen: %d distinct ciphertexts, %v", same, err)
	}
	_ = db.Close()

	for _, tc := range []struct {
		who *client.Client
		id  string
	}{{h.admin, b.ID}, {h.other, c.ID}} {
		r := h.do("POST", "/v1/credentials/"+tc.id+"/reveal", tokenOf(h, tc.who), nil)
		if r.Status < 400 {
			t.Fatalf("reveal of a row holding a copied ciphertext answered %d", r.Status)
		}
		if bytes.Contains(r.Body, []byte(ka)) {
			t.Fatal("the copied ciphertext decrypted to the victim's key")
		}
		// An update path that needs the secrets must fail too, not re-seal the victim's key as its own.
		r = h.do("PATCH", "/v1/credentials/"+tc.id, tokenOf(h, tc.who), []byte(`{"description":"x"}`))
		if r.Status < 400 || bytes.Contains(r.Body, []byte(ka)) {
			t.Fatalf("PATCH of a row holding a copied ciphertext: %d %s", r.Status, r.Body)
		}
	}
	// The victim itself still opens.
	rev, err := h.admin.RevealCredential(ctx, a.ID)
	if err != nil || rev.APIKey != ka {
		t.Fatalf("the original row no longer opens: %v", err)
	}
	// And the server's logs name no key.
	if leaked, ok := containsAny(h.logs.Bytes(), []string{ka, kb, kc}); ok {
		t.Fatalf("logs hold %s...", leaked[:8])
	}
}

func tokenOf(h *harness, c *client.Client) string {
	for role, cl := range map[string]*client.Client{"admin": h.admin, "editor": h.editor, "viewer": h.viewer, "other": h.other} {
		if cl == c {
			return h.tokens[role]
		}
	}
	h.t.Fatal("unknown client")
	return ""
}

func TestReveal(t *testing.T) { forEachBackend(t, testReveal) }

func testReveal(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("refused without --allow-reveal", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		c := h.mustCreate(h.admin, openAICred("k", h.secret("sk-")))
		_, err := h.admin.RevealCredential(ctx, c.ID)
		ae := apiError(t, err, http.StatusForbidden)
		if !strings.Contains(ae.Problem.Detail, "--allow-reveal") {
			t.Errorf("403 should say how to allow it: %q", ae.Problem.Detail)
		}
	})

	t.Run("admin only and audited", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, withReveal())
		key, tok := h.secret("sk-"), h.secret("proxy-")
		c := h.mustCreate(h.admin, api.CredentialCreate{Name: "gw", Provider: "custom",
			Settings: map[string]string{"base_url": "https://llm.example.com"}, APIKey: &key, AuthToken: &tok})
		for _, cl := range []*client.Client{h.editor, h.viewer} {
			_, err := cl.RevealCredential(ctx, c.ID)
			apiError(t, err, http.StatusForbidden)
		}
		_, err := h.other.RevealCredential(ctx, c.ID)
		apiError(t, err, http.StatusNotFound)

		r := h.do("POST", "/v1/credentials/"+c.ID+"/reveal", h.tokens["admin"], nil)
		if r.Status != 200 || r.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("reveal: %d, Cache-Control %q", r.Status, r.Header.Get("Cache-Control"))
		}
		var got api.CredentialSecret
		if err := json.Unmarshal(r.Body, &got); err != nil {
			t.Fatal(err)
		}
		if got.ID != c.ID || got.APIKey != key || got.AuthToken != tok {
			t.Fatal("reveal did not return the stored secrets")
		}
		events := allAudit(t, h.admin)
		var reveals []api.AuditEvent
		for _, e := range events {
			if e.Action == "reveal" {
				reveals = append(reveals, e)
			}
		}
		if len(reveals) != 1 {
			t.Fatalf("%d reveal audit events, want 1 (refused reveals are not reveals)", len(reveals))
		}
		e := reveals[0]
		if e.Actor != "acme-admin" || e.ObjectID != c.ID || !slices.Equal(e.Fields, []string{"api_key", "auth_token"}) {
			t.Errorf("reveal event %+v", e)
		}
		if leaked, ok := containsAny(mustJSON(t, events), []string{key, tok}); ok {
			t.Errorf("audit holds %s...", leaked[:6])
		}
	})
}
