package server

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/secrets"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
)

// TestRotateMasterKeyRewrapsClientSecrets: rotate-master-key re-wraps identity providers' client
// secrets with the credentials' secrets, so a server holding only the new key still opens them (the
// console's sign-in needs them).
func TestRotateMasterKeyRewrapsClientSecrets(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		h := newHarness(t)
		secret := h.secret("idp-secret-")
		p, err := h.admin.CreateIdentityProvider(ctx, api.IdentityProviderCreate{Name: "sso", Issuer: "https://idp.example.test",
			ClientID: "console", ClientSecret: &secret})
		if err != nil {
			t.Fatal(err)
		}
		seedSealedSecret(t, h)
		org := mustOrg(t, h)

		newKey := secrets.NewMasterKey()
		ring, err := secrets.NewKeyring(newKey, h.key)
		if err != nil {
			t.Fatal(err)
		}
		n, err := service.RotateMasterKey(ctx, h.store, ring)
		if err != nil {
			t.Fatalf("rotate: %v", err)
		}
		if n < 3 { // the credential's key, the client secret and the fingerprint key at least
			t.Errorf("re-wrapped %d keys, want the client secret among them", n)
		}
		onlyNew, err := secrets.NewKeyring(newKey)
		if err != nil {
			t.Fatal(err)
		}
		srv, err := New(ctx, service.Config{Store: h.store, Keyring: onlyNew, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
			Limits: service.DefaultLimits(), Version: "test"})
		if err != nil {
			t.Fatal(err)
		}
		got, err := srv.Service().IdentityProviderClientSecret(ctx, org, p.ID)
		if err != nil || got != secret {
			t.Fatalf("client secret after the rotation: err %v, matches %v", err, got == secret)
		}
	})
}
