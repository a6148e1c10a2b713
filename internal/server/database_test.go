package server

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/secrets"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store/pgtest"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store/sqlstore"
)

// TestRotateMasterKeyOnStore rotates in one transaction: afterwards everything opens with the new key
// alone and fingerprints are unchanged; a rotation that fails half-way changes nothing.
func TestRotateMasterKeyOnStore(t *testing.T) { forEachBackend(t, testRotateMasterKeyOnStore) }

func testRotateMasterKeyOnStore(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withReveal())
	ctx := context.Background()
	type rec struct{ id, key, token, fingerprint string }
	var recs []rec
	for _, name := range []string{"a", "b", "c"} {
		key := h.secret("sk-rot-" + name + "-")
		c := h.mustCreate(h.admin, openAICred(name, key))
		recs = append(recs, rec{c.ID, key, "", c.SecretFingerprint})
	}
	key, tok := h.secret("sk-rot-gw-"), h.secret("tok-rot-")
	gw := h.mustCreate(h.other, api.CredentialCreate{Name: "gw", Provider: "custom", APIKey: &key, AuthToken: &tok,
		Settings: map[string]string{"base_url": "https://gw.example.com/v1"}, Verify: ptr(false)})
	recs = append(recs, rec{gw.ID, key, tok, gw.SecretFingerprint})

	newKey := secrets.NewMasterKey()
	ring, err := secrets.NewKeyring(newKey, h.key)
	if err != nil {
		t.Fatal(err)
	}
	n, err := service.RotateMasterKey(ctx, h.store, ring)
	if err != nil {
		t.Fatalf("rotate: %v", err)
	}
	if n != 6 { // five secrets and the fingerprint key
		t.Errorf("re-wrapped %d data keys, want 6", n)
	}

	// A server with the new key alone, on the same database.
	onlyNew, err := secrets.NewKeyring(newKey)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(ctx, service.Config{Store: h.store, Keyring: onlyNew, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Limits: service.DefaultLimits(), AllowReveal: true, Version: "test"})
	if err != nil {
		t.Fatalf("server.New with the new key alone: %v", err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	at := func(token string) *client.Client {
		c, err := client.New(client.Config{BaseURL: ts.URL, Token: token, MaxRetries: 0})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for _, r := range recs {
		c := at(h.tokens["admin"])
		if r.id == gw.ID {
			c = at(h.tokens["other"])
		}
		got, err := c.RevealCredential(ctx, r.id)
		if err != nil {
			t.Fatalf("reveal %s with the new key alone: %v", r.id, err)
		}
		if got.APIKey != r.key || got.AuthToken != r.token {
			t.Errorf("credential %s decrypted to other values after rotation", r.id)
		}
		cr, err := c.GetCredential(ctx, r.id)
		if err != nil {
			t.Fatal(err)
		}
		if cr.SecretFingerprint != r.fingerprint {
			t.Errorf("credential %s: fingerprint changed with the master key", r.id)
		}
		// The fingerprint key moved too: the same secret still fingerprints the same.
		same, err := c.UpdateCredential(ctx, r.id, api.CredentialPatch{APIKey: &r.key}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if same.SecretFingerprint != r.fingerprint || same.SecretVersion != cr.SecretVersion {
			t.Errorf("credential %s: re-sending its key after rotation looks like a change", r.id)
		}
	}

	// All or nothing: break one row (another row's sealed key copied into it, so it cannot be
	// re-wrapped) and rotate again to a third key; the failure must leave every row as it was.
	db, rebind := h.rawDB()
	defer db.Close()
	if _, err := db.ExecContext(ctx, rebind(`UPDATE credential_secrets
		SET wrapped_key = (SELECT wrapped_key FROM credential_secrets WHERE credential_id = ? AND field = 'api_key')
		WHERE credential_id = ? AND field = 'api_key'`), recs[0].id, gw.ID); err != nil {
		t.Fatal(err)
	}
	third := secrets.NewMasterKey()
	ring3, err := secrets.NewKeyring(third, newKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := service.RotateMasterKey(ctx, h.store, ring3); err == nil {
		t.Fatal("rotation over a broken row succeeded")
	}
	var moved int
	if err := db.QueryRowContext(ctx, rebind(`SELECT COUNT(*) FROM credential_secrets WHERE key_id = ?`), secrets.KeyID(third)).Scan(&moved); err != nil {
		t.Fatal(err)
	}
	if moved != 0 {
		t.Fatalf("a failed rotation left %d rows under the new key; it must be all or nothing", moved)
	}
	if got, err := at(h.tokens["admin"]).RevealCredential(ctx, recs[1].id); err != nil || got.APIKey != recs[1].key {
		t.Fatalf("after a failed rotation the previous key no longer opens a secret: %v", err)
	}
}

// cutProxy is a TCP proxy in front of the test cluster's unix socket that can be cut (every open
// connection dropped, new ones closed at once) and restored, like a network partition.
type cutProxy struct {
	ln     net.Listener
	target string // unix socket path

	mu    sync.Mutex
	down  bool
	conns map[net.Conn]bool
}

func newCutProxy(t *testing.T, socket string) *cutProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: socket, conns: map[net.Conn]bool{}}
	t.Cleanup(func() { _ = ln.Close(); p.cut() })
	go p.serve()
	return p
}

func (p *cutProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		up, err := net.Dial("unix", p.target)
		if err != nil {
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		p.conns[c], p.conns[up] = true, true
		p.mu.Unlock()
		go func() { _, _ = io.Copy(up, c); _ = up.Close() }()
		go func() { _, _ = io.Copy(c, up); _ = c.Close() }()
	}
}

func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		_ = c.Close()
	}
	clear(p.conns)
}

func (p *cutProxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}

// TestReadyzFollowsTheDatabase: /readyz fails while PostgreSQL is unreachable and recovers by itself
// when it is back, with no restart.
func TestReadyzFollowsTheDatabase(t *testing.T) {
	t.Parallel()
	dsn := pgtest.Start(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	dir := q.Get("host")
	if dir == "" || dir[0] != '/' {
		t.Skip("the PostgreSQL under test is not on a local unix socket; nothing to cut")
	}
	port := q.Get("port")
	if port == "" {
		port = "5432"
	}
	proxy := newCutProxy(t, dir+"/.s.PGSQL."+port)
	q.Del("host")
	q.Del("port")
	q.Set("connect_timeout", "2")
	u.Host = proxy.ln.Addr().String()
	u.RawQuery = q.Encode()

	ctx := context.Background()
	st, err := sqlstore.OpenPostgres(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	key := secrets.NewMasterKey()
	ring, _ := secrets.NewKeyring(key)
	srv, err := New(ctx, service.Config{Store: st, Keyring: ring, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), Limits: service.DefaultLimits(), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	ready := func() int {
		resp, err := ts.Client().Get(ts.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	waitFor := func(want int) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			got := ready()
			if got == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("/readyz stayed %d, want %d", got, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if got := ready(); got != http.StatusOK {
		t.Fatalf("/readyz %d with the database up", got)
	}
	proxy.cut()
	waitFor(http.StatusServiceUnavailable)
	if r := ready(); r != http.StatusServiceUnavailable {
		t.Fatalf("/readyz %d while the database is cut off", r)
	}
	if r, err := ts.Client().Get(ts.URL + "/healthz"); err != nil {
		t.Fatal(err)
	} else if _ = r.Body.Close(); r.StatusCode != http.StatusOK {
		t.Fatalf("/healthz %d while the database is cut off, want 200", r.StatusCode)
	}
	proxy.restore()
	waitFor(http.StatusOK)
}
