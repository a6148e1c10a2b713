package provider

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/verify"
)

// anthropicFake is Anthropic's auth check (GET /v1/models with x-api-key and anthropic-version) with
// keys that can be revoked.
type anthropicFake struct {
	mu    sync.Mutex
	valid map[string]bool
}

func (f *anthropicFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	ok := f.valid[r.Header.Get("x-api-key")] && r.Header.Get("anthropic-version") == verify.AnthropicVersion && r.URL.Path == "/v1/models"
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if !ok {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"},"request_id":"req_011CSHoEeqs5C35K2UUqR7Fy"}`))
		return
	}
	_, _ = w.Write([]byte(`{"data":[{"type":"model","id":"claude-sonnet-4-20250514","display_name":"Claude Sonnet 4","created_at":"2025-05-22T00:00:00Z"}],"has_more":false}`))
}

func (f *anthropicFake) revoke(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.valid, key)
}

func TestAccVerifyCredential(t *testing.T) {
	const good = "sk-ant-api03-good-000000000000000000000001"
	const wrong = "sk-ant-api03-wrong-00000000000000000000002"
	fake := &anthropicFake{valid: map[string]bool{good: true}}
	provider := httptest.NewServer(fake)
	t.Cleanup(provider.Close)
	s := newTestServer(t, func(c *service.Config) {
		// The fake answers at once; the probe's timeout is only a bound, generous so that a loaded
		// machine under -race cannot turn the fake's 401 into an "unreachable".
		c.Verifier = verify.New(verify.Options{BaseURLs: map[string]string{"anthropic": provider.URL}, Timeout: 30 * time.Second})
	})
	config := func(key string) string {
		return credentialConfig(s, fmt.Sprintf(`
  name           = "anthropic-prod"
  model_provider = "anthropic"
  api_key        = %q
`, key))
	}
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		CheckDestroy:             checkAllDestroyed(s),
		Steps: []resource.TestStep{
			{
				// A wrong key fails at apply with the provider's answer, and nothing is created.
				Config:      config(wrong),
				ExpectError: regexp.MustCompile(`(?s)Anthropic\s+refused\s+the\s+key:\s+HTTP\s+401:\s+invalid\s+x-api-key`),
			},
			{
				// A working key is created, verified.
				PreConfig: func() {
					if all, err := s.Client.ListAllCredentials(context.Background(), clientListAll()); err != nil || len(all) != 0 {
						t.Errorf("a refused key was stored: %v, %v", all, err)
					}
				},
				Config: config(good),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(credAddr, tfjsonpath.New("status"), knownvalue.StringExact(api.StatusVerified)),
				},
			},
			{
				// The key is revoked at the provider and the server re-verifies: refresh shows invalid.
				PreConfig: func() {
					fake.revoke(good)
					rep, err := s.srv.Service().Reverify(context.Background())
					if err != nil || rep.Invalid != 1 {
						t.Errorf("Reverify = %+v, %v", rep, err)
					}
				},
				RefreshState: true,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(credAddr, "status", api.StatusInvalid),
					resource.TestMatchResourceAttr(credAddr, "status_message", regexp.MustCompile(`HTTP 401: invalid x-api-key`)),
				),
			},
			{
				// A plan of the unchanged configuration reads it too, and changes nothing else.
				Config: config(good),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(credAddr, tfjsonpath.New("status"), knownvalue.StringExact(api.StatusInvalid)),
				},
			},
		},
	})
	if logs := string(s.Logs.Bytes()); strings.Contains(logs, good) || strings.Contains(logs, wrong) {
		t.Error("a key reached the server's logs")
	}
}
