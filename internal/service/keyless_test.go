package service

import (
	"testing"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

// A cached vendor token is handed out until a minute before it expires, and never after.
func TestAccessTokenCacheMargin(t *testing.T) {
	var k keylessState
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	k.keep("a", api.CredentialAccessToken{AccessToken: "t", ExpiresAt: now.Add(15 * time.Minute)})
	if _, ok := k.cached("a", now.Add(13*time.Minute)); !ok {
		t.Error("a token with two minutes left was not served from the cache")
	}
	if _, ok := k.cached("a", now.Add(14*time.Minute)); ok {
		t.Error("a token with a minute left was served: a workload must get at least a minute")
	}
	if len(k.tokens) != 0 {
		t.Errorf("an expired token stays in memory: %d kept", len(k.tokens))
	}
	if _, ok := k.cached("b", now); ok {
		t.Error("a token of another credential version was served")
	}
}

// Each caller has its own bucket: one busy workload does not starve another.
func TestAccessTokenLimitPerCaller(t *testing.T) {
	var k keylessState
	now := time.Now()
	for i := range accessTokenBurst {
		if !k.allow("org\x00tok1", now) {
			t.Fatalf("refused after %d calls, within the burst of %d", i, accessTokenBurst)
		}
	}
	if k.allow("org\x00tok1", now) {
		t.Error("a call beyond the burst was allowed")
	}
	if !k.allow("org\x00tok2", now) {
		t.Error("another caller was refused for the first caller's calls")
	}
}

func TestMayUseCredential(t *testing.T) {
	c := api.Credential{ID: "cred_1", ProjectID: "proj_a"}
	for _, tc := range []struct {
		p    Principal
		want bool
	}{
		{Principal{Role: api.RoleAdmin}, true},
		{Principal{Role: api.RoleEditor}, false},
		{Principal{Role: api.RoleViewer, Credentials: []string{"cred_1"}}, true},
		{Principal{Role: api.RoleViewer, Credentials: []string{"cred_2"}}, false},
		{Principal{Role: api.RoleViewer, Credentials: []string{"*"}}, true},
		{Principal{Role: api.RoleViewer, Credentials: []string{"*"}, ProjectID: "proj_a"}, true},
		{Principal{Role: api.RoleViewer, Credentials: []string{"*"}, ProjectID: "proj_b"}, false},
	} {
		if got := mayUseCredential(tc.p, c); got != tc.want {
			t.Errorf("%+v: %v, want %v", tc.p, got, tc.want)
		}
	}
}
