package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
)

// destinationFuzzHomes are credentials that hold secrets, one per way a destination is made: a URL
// (custom, with two secrets), an implied auth method and a tenant (Azure), a region and an implied
// signing method (Bedrock).
var destinationFuzzHomes = []struct {
	provider string
	settings map[string]string
	secrets  map[string]string
}{
	{"custom", map[string]string{"base_url": "https://gw.example.com/v1"},
		map[string]string{api.SecretAPIKey: "sk-ADMINSTOREDKEY-7f3a9c2e", api.SecretAuthToken: "tok-ADMINSTOREDTOKEN-5b8d1e4f"}},
	{"azure_openai", map[string]string{"endpoint": "https://contoso.openai.azure.com", "deployment": "gpt-4o", "api_version": "2024-10-21"},
		map[string]string{api.SecretAPIKey: "ADMINAZUREKEY0123456789abcdef0123"}},
	{"bedrock", map[string]string{"region": "us-east-1", "access_key_id": "AKIAIOSFODNN7EXAMPLE"},
		map[string]string{api.SecretAPIKey: "ADMINAWSSECRETwJalrXUtnFEMIK7MDENG"}},
}

// FuzzPatchKeyDestination plays an editor and then an admin against a credential that holds the
// admin's secrets. The editor sends any PATCH body; then the admin reads the credential and sends a
// new key with any other body, with or without If-Match. Whatever the bodies, no secret is probed at a
// destination (catalog.Destination: URLs, hosts, tenant, effective auth method) that its sender did not
// choose: the stored secrets only where the admin stored them (unless the editor's body carried them),
// and the admin's new key only at the destination the admin's body named, the one the admin read when
// bound to it with If-Match, or the admin's own.
func FuzzPatchKeyDestination(f *testing.F) {
	seeds := []struct {
		home          uint8
		editor, admin string
		ifMatch       bool
	}{
		{0, `{"settings":{"base_url":"http://127.0.0.1:9/v1"},"api_key":"sk-junk-0000000000","auth_token":"tok-junk-000000"}`, `{}`, false},
		{0, `{"settings":{"base_url":"http://127.0.0.1:9/v1"},"api_key":"sk-junk-0000000000","auth_token":"tok-junk-000000"}`, `{}`, true},
		{0, `{"verify":true}`, `{"verify":true}`, false},
		{1, `{"settings":{"endpoint":"https://contoso.openai.azure.com","deployment":"gpt-4o","api_version":"2024-10-21","tenant_id":"evil.onmicrosoft.com","client_id":"c"},"verify":true}`, `{}`, false},
		{1, `{"settings":{"endpoint":"https://evil.openai.azure.com","deployment":"gpt-4o","api_version":"2024-10-21"},"api_key":"junkjunkjunkjunkjunk"}`, `{"verify":true}`, false},
		{2, `{"settings":{"region":"us-east-1"},"verify":true}`, `{}`, false},
		{2, `{"settings":{"region":"eu-west-1","access_key_id":"AKIAEXAMPLE"},"api_key":"junkjunkjunkjunkjunk"}`, `{"settings":{"region":"us-east-1"}}`, false},
		{0, `{`, `null`, false},
	}
	for _, s := range seeds {
		f.Add(s.home, []byte(s.editor), []byte(s.admin), s.ifMatch)
	}
	rec := &recordingVerifier{}
	h := newHarness(f, withVerifier(rec), withLimits(service.Limits{MaxBodyBytes: 1 << 20}))
	var n atomic.Int64
	f.Fuzz(func(t *testing.T, which uint8, editorBody, adminBody []byte, ifMatch bool) {
		home := destinationFuzzHomes[int(which)%len(destinationFuzzHomes)]
		prov, _ := catalog.Provider(home.provider)
		in := api.CredentialCreate{Name: fmt.Sprintf("k-%d", n.Add(1)), Provider: home.provider, Settings: home.settings, Verify: ptr(false)}
		if v, ok := home.secrets[api.SecretAPIKey]; ok {
			in.APIKey = ptr(v)
		}
		if v, ok := home.secrets[api.SecretAuthToken]; ok {
			in.AuthToken = ptr(v)
		}
		c, err := h.admin.CreateCredential(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		homeDest := catalog.Destination(prov, home.settings)
		rec.take()

		// The editor.
		code, answer := patchAs(h, h.tokens["editor"], c.ID, editorBody, 0)
		if code >= 500 {
			t.Fatalf("editor body %q: HTTP %d %s", truncate(editorBody), code, answer)
		}
		for _, p := range rec.take() {
			if maps.Equal(catalog.Destination(prov, p.settings), homeDest) {
				continue
			}
			for field, stored := range home.secrets {
				if p.secrets[field] == stored && !bytes.Contains(editorBody, []byte(stored)) {
					t.Fatalf("editor body %q: the stored %s was sent to %v", truncate(editorBody), field, catalog.Destination(prov, p.settings))
				}
			}
		}

		// The admin reads the credential, then sends a new key.
		seen, err := h.admin.GetCredential(context.Background(), c.ID)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		if json.Unmarshal(adminBody, &body) != nil || body == nil {
			body = map[string]any{}
		}
		const newKey = "sk-ADMINNEXTKEY-0c1d2e3f4a5b"
		body["api_key"] = newKey
		allowed := []map[string]string{}
		if s, ok := body["settings"].(map[string]any); ok {
			named := map[string]string{}
			for k, v := range s {
				if str, isString := v.(string); isString {
					named[k] = str
				}
			}
			allowed = append(allowed, catalog.Destination(prov, named))
		}
		version := int64(0)
		if ifMatch {
			version = seen.Version
			allowed = append(allowed, catalog.Destination(prov, seen.Settings))
		}
		if seen.DestinationSetBy == "" || seen.DestinationSetBy == "acme-admin" {
			allowed = append(allowed, catalog.Destination(prov, seen.Settings))
		}
		raw, _ := json.Marshal(body)
		if code, answer := patchAs(h, h.tokens["admin"], c.ID, raw, version); code >= 500 {
			t.Fatalf("admin body %q: HTTP %d %s", truncate(raw), code, answer)
		}
		for _, p := range rec.take() {
			if p.secrets[api.SecretAPIKey] != newKey {
				continue
			}
			dest := catalog.Destination(prov, p.settings)
			ok := false
			for _, a := range allowed {
				ok = ok || maps.Equal(a, dest)
			}
			if !ok {
				t.Fatalf("editor body %q, admin body %q (If-Match %v): the admin's new key was sent to %v, which the admin neither named nor saw",
					truncate(editorBody), truncate(raw), ifMatch, dest)
			}
		}
	})
}

// patchAs sends a PATCH of a credential with token, with If-Match when version is not zero.
func patchAs(h *harness, token, id string, body []byte, version int64) (int, []byte) {
	req := httptest.NewRequest(http.MethodPatch, "/v1/credentials/"+id, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	if version != 0 {
		req.Header.Set("If-Match", strconv.Quote(strconv.FormatInt(version, 10)))
	}
	w := httptest.NewRecorder()
	h.srv.Handler().ServeHTTP(w, req)
	return w.Code, w.Body.Bytes()
}
