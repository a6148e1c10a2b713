package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/issuer"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store/sqlstore"
)

// serve --issuer-url publishes the discovery document and the JWKS; rotate-signing-key adds a
// generation beside a running server and says when the old keys leave the JWKS.
func TestServeIssuerAndRotateSigningKey(t *testing.T) {
	clearEnv(t)
	t.Setenv("MODELKEYS_ISSUER_URL", "")
	db := filepath.Join(t.TempDir(), "issuer.db")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	base, _, stop := startServe(t, "--dev", "--db", db, "--listen", addr, "--issuer-url", "http://"+addr+"/")
	defer stop()

	resp, err := http.Get(base + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if resp.StatusCode != 200 || doc.Issuer != "http://"+addr || doc.JWKSURI != "http://"+addr+"/.well-known/jwks.json" {
		t.Fatalf("discovery: %d %+v", resp.StatusCode, doc)
	}
	resp, err = http.Get(doc.JWKSURI)
	if err != nil {
		t.Fatal(err)
	}
	jwks, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.Count(string(jwks), `"kid"`) != 2 {
		t.Fatalf("JWKS: %d %s", resp.StatusCode, jwks)
	}

	var out bytes.Buffer
	if err := run(context.Background(), []string{"rotate-signing-key", "--db", db}, &out, &out); err != nil {
		t.Fatalf("rotate-signing-key: %v\n%s", err, out.String())
	}
	for _, want := range []string{"added signing keys", "ES256", "RS256", "LEAVES THE JWKS", "within 1m0s", "10m0s after"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("rotate-signing-key's output lacks %q:\n%s", want, out.String())
		}
	}
	st, err := sqlstore.OpenSQLite(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	keys, err := issuer.List(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	retiring := 0
	for _, k := range keys {
		if k.RetireAfter != nil {
			retiring++
		}
	}
	if len(keys) != 4 || retiring != 2 {
		t.Fatalf("after rotate-signing-key: %d keys, %d retiring; want 4 and 2", len(keys), retiring)
	}
}

func TestIssuerFlagsRefuseWhatCannotWork(t *testing.T) {
	clearEnv(t)
	t.Setenv("MODELKEYS_ISSUER_URL", "")
	db := filepath.Join(t.TempDir(), "x.db")
	var out bytes.Buffer
	err := run(context.Background(), []string{"serve", "--dev", "--db", db, "--listen", "127.0.0.1:0", "--issuer-url", "http://modelkeys.example.com"}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "--issuer-url") || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("serve with a plain-http public issuer URL: %v", err)
	}
	err = run(context.Background(), []string{"rotate-signing-key", "--db", db, "--activate-in", "-1m"}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "--activate-in") {
		t.Errorf("rotate-signing-key with a negative delay: %v", err)
	}
}
