package server

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
)

// TestTokenExchangeReplayLimit: one subject token that verifies is exchanged at most
// ExchangesPerSubjectToken times a minute under a rule; after that the endpoint answers an RFC 6749
// error with 429 and Retry-After, saying nothing of which check, while another token of the same
// workload is still exchanged. Each refused replay stores no token and writes no event of its own.
func TestTokenExchangeReplayLimit(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		h := newHarness(t, withFederationTest(), noAuthLimit())
		f := setupFederation(t, h, api.FederationRuleCreate{})
		token := f.iss.Mint(ciClaims(nil))
		h.remember(token)
		ok, limited := 0, 0
		for i := range 50 {
			r := h.exchange(f.rule.ID, token)
			switch r.Status {
			case http.StatusOK:
				if limited > 0 {
					t.Fatalf("exchange %d succeeded after a 429", i)
				}
				var out api.TokenExchangeResponse
				if err := json.Unmarshal(r.Body, &out); err != nil {
					t.Fatal(err)
				}
				h.remember(out.AccessToken)
				ok++
			case http.StatusTooManyRequests:
				limited++
				e := oauthErrorOf(t, r)
				if e.Error != "invalid_request" {
					t.Errorf("error %q, want invalid_request", e.Error)
				}
				for _, detail := range []string{"subject", "replay", "rule", f.rule.ID} {
					if strings.Contains(strings.ToLower(e.ErrorDescription), detail) {
						t.Errorf("description %q says which check (%q)", e.ErrorDescription, detail)
					}
				}
				if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 || s > 60 {
					t.Errorf("Retry-After %q, want 1..60 seconds", r.Header.Get("Retry-After"))
				}
			default:
				t.Fatalf("exchange %d: %d %s", i, r.Status, r.Body)
			}
		}
		if ok != service.ExchangesPerSubjectToken || limited != 50-ok {
			t.Fatalf("%d exchanges succeeded and %d were refused, want %d then 429s", ok, limited, service.ExchangesPerSubjectToken)
		}
		exchanges := 0
		for _, e := range auditEvents(t, h) {
			if e.Action == "token_exchange" {
				exchanges++
			}
		}
		if exchanges != ok {
			t.Errorf("%d token_exchange events for %d exchanges", exchanges, ok)
		}
		// Another job's token (another run) is its own.
		h.exchanged(f.rule.ID, f.iss.Mint(ciClaims(map[string]any{"run_id": json.Number("9876543210124")})))
	})
}
