package verify

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/verify/vendortest"
)

var keylessVendors = []string{"openai", "anthropic", "openrouter", "azure_openai", "azure_ai_foundry", "vertex_ai"}

const trustedSubject = "modelkeys:org:org_test:credential:cred_test"

// setupKeyless starts an issuer and the vendor's fake, and returns a verifier aimed at the fake and
// an Assert that mints for subject, recording the assertions it minted.
func setupKeyless(t *testing.T, provider, subject string) (*Verifier, api.Provider, *vendortest.Vendor, Assert, *[]string) {
	t.Helper()
	iss := vendortest.NewIssuer(t)
	vendor := vendortest.NewVendor(t, provider, iss.URL, trustedSubject)
	p, ok := catalog.Provider(provider)
	if !ok {
		t.Fatalf("no provider %s", provider)
	}
	var minted []string
	assert := func(_ context.Context, audience string) (string, error) {
		a, err := iss.Mint(subject, audience)
		minted = append(minted, a)
		return a, err
	}
	return New(Options{BaseURLs: vendor.BaseURLs(), Timeout: 5 * time.Second}), p, vendor, assert, &minted
}

func TestKeylessExchangeAndRead(t *testing.T) {
	for _, id := range keylessVendors {
		t.Run(id, func(t *testing.T) {
			v, p, vendor, assert, minted := setupKeyless(t, id, trustedSubject)
			settings := vendor.Settings()
			if errs := catalog.ValidateCredential(id, settings, false, false); errs != nil {
				t.Fatalf("the fake's settings are not a valid keyless credential: %v", errs)
			}
			ctx := context.Background()

			r := v.VerifyKeyless(ctx, p, settings, assert)
			if !r.OK || !strings.Contains(r.Message, "exchanged the assertion") {
				t.Fatalf("VerifyKeyless = %+v", r)
			}
			if vendor.Exchanges.Load() != 1 || vendor.Reads.Load() != 1 {
				t.Errorf("exchanges %d, reads %d; want one of each", vendor.Exchanges.Load(), vendor.Reads.Load())
			}
			// Verification always exchanges afresh: it checks the vendor's trust, not a token.
			if r := v.VerifyKeyless(ctx, p, settings, assert); !r.OK || vendor.Exchanges.Load() != 2 {
				t.Errorf("second verification: %+v after %d exchanges, want a second exchange", r, vendor.Exchanges.Load())
			}

			tok, r := v.ExchangeKeyless(ctx, p, settings, assert)
			if !r.OK || !vendor.Issued(tok.AccessToken) || tok.TokenType != "Bearer" {
				t.Fatalf("ExchangeKeyless = %+v, %+v", tok, r)
			}
			if left := time.Until(tok.ExpiresAt); left < 10*time.Minute || left > 2*time.Hour {
				t.Errorf("expires_at %v is not the vendor's lifetime", tok.ExpiresAt)
			}
			if len(*minted) != 3 {
				t.Errorf("%d assertions minted for 3 exchanges; each exchange mints its own", len(*minted))
			}
		})
	}
}

func TestKeylessUntrustedSubjectIsRefused(t *testing.T) {
	for _, id := range keylessVendors {
		t.Run(id, func(t *testing.T) {
			const other = "modelkeys:org:org_test:credential:cred_other"
			v, p, vendor, assert, minted := setupKeyless(t, id, other)
			r := v.VerifyKeyless(context.Background(), p, vendor.Settings(), assert)
			if r.OK || !r.Refused {
				t.Fatalf("an untrusted subject: %+v, want a refusal", r)
			}
			for _, want := range []string{"invalid_grant: the vendor does not trust this issuer/subject: check that ", other, vendor.Issuer} {
				if !strings.Contains(r.Message, want) {
					t.Errorf("message %q lacks %q", r.Message, want)
				}
			}
			for _, a := range *minted {
				if strings.Contains(r.Message, a) || strings.Contains(r.Message, strings.Split(a, ".")[2]) {
					t.Errorf("the message echoes the assertion: %q", r.Message)
				}
			}
			if vendor.Reads.Load() != 0 {
				t.Error("the read was made after a refused exchange")
			}
		})
	}
}

func TestKeylessTokenURLStaysWithTheVendor(t *testing.T) {
	v, p, vendor, assert, minted := setupKeyless(t, "openai", trustedSubject)
	settings := vendor.Settings()
	settings["token_url"] = "http://127.0.0.2:9/oauth/token" // loopback, allowed by egress, but not the vendor's host
	r := v.VerifyKeyless(context.Background(), p, settings, assert)
	if r.OK || !r.Refused || !strings.Contains(r.Message, "auth.openai.com") || len(*minted) != 0 {
		t.Errorf("token_url on a host the operator did not trust: %+v (%d assertions minted), want a refusal before any is minted", r, len(*minted))
	}
}

func TestKeylessIssuerUnavailableIsAnOutage(t *testing.T) {
	v, p, vendor, _, _ := setupKeyless(t, "openrouter", trustedSubject)
	r := v.VerifyKeyless(context.Background(), p, vendor.Settings(), func(context.Context, string) (string, error) {
		return "", errors.New("no --issuer-url")
	})
	if r.OK || r.Refused || !strings.Contains(r.Message, "could not sign an assertion: no --issuer-url") {
		t.Errorf("%+v, want an outage naming the issuer's problem", r)
	}
}

func TestKeylessVendorTokenNeverInMessages(t *testing.T) {
	v, p, vendor, assert, _ := setupKeyless(t, "openai", trustedSubject)
	tok, _ := v.ExchangeKeyless(context.Background(), p, vendor.Settings(), assert)
	models, err := v.ListModelsKeyless(context.Background(), p, vendor.Settings(), assert)
	if err != nil || len(models) != 1 || models[0] != "gpt-4o" {
		t.Errorf("ListModelsKeyless = %v, %v", models, err)
	}
	if tok.AccessToken == "" {
		t.Fatal("no token")
	}
	// A vendor that echoes the token in its error must not get it into a message.
	if got := redactorWith(newRedactor(nil), tok.AccessToken)("bad token " + tok.AccessToken); strings.Contains(got, tok.AccessToken) {
		t.Errorf("redaction kept the token: %q", got)
	}
}

// The token endpoints default to the vendors' documented ones (checked without dialling them).
func TestKeylessDefaultTokenURLs(t *testing.T) {
	v := New(Options{})
	want := map[string]string{
		"openai":           "https://auth.openai.com/oauth/token",
		"anthropic":        "https://api.anthropic.com/v1/oauth/token",
		"openrouter":       "https://openrouter.ai/api/v1/oauth/token",
		"azure_openai":     "https://login.microsoftonline.com/" + vendortest.AzureTenant + "/oauth2/v2.0/token",
		"azure_ai_foundry": "https://login.microsoftonline.com/" + vendortest.AzureTenant + "/oauth2/v2.0/token",
		"vertex_ai":        "https://sts.googleapis.com/v1/token",
	}
	for id, url := range want {
		vendor := &vendortest.Vendor{Provider: id, URL: "http://127.0.0.1:1", Audience: vendortest.DefaultAudience(id)}
		settings := vendor.Settings()
		delete(settings, "token_url")
		p, _ := catalog.Provider(id)
		ex, err := v.prepareExchange(p, settings)
		if err != nil || ex.tokenURL != url || ex.audience != vendortest.DefaultAudience(id) {
			t.Errorf("%s: %+v, %v; want %s for audience %s", id, ex, err, url, vendortest.DefaultAudience(id))
		}
	}
}

// A keyless credential holds no secret to resend, so an editor may move its base_url freely: the
// vendor token must still go only to the vendor's API host (or one the operator trusts), never to a
// host of the editor's, even one the egress policy lets through.
func TestKeylessVendorTokenStaysWithTheVendor(t *testing.T) {
	for _, id := range []string{"openai", "azure_openai"} {
		t.Run(id, func(t *testing.T) {
			v, p, vendor, assert, _ := setupKeyless(t, id, trustedSubject)
			got := make(chan string, 4)
			editor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got <- r.Header.Get("Authorization") }))
			defer editor.Close()
			settings := vendor.Settings()
			settings["base_url"], settings["endpoint"] = editor.URL+"/v1", editor.URL
			r := v.VerifyKeyless(context.Background(), p, settings, assert)
			if r.OK || !r.Refused || !strings.Contains(r.Message, "own API host") {
				t.Errorf("a read on a host nobody trusted: %+v, want a refusal", r)
			}
			select {
			case h := <-got:
				t.Errorf("the editor's host received a request (Authorization %d bytes)", len(h))
			default:
			}
		})
	}
}
