package server

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
)

// TestClientRetriesThroughA429Storm: a burst of creates far above a token's rate limit gets 429s with
// Retry-After; the client's retries carry every create through, and the idempotency keys keep any
// retried create from making a second credential.
func TestClientRetriesThroughA429Storm(t *testing.T) {
	h := newHarness(t, withLimits(service.Limits{MaxBodyBytes: 1 << 20, MaxCredentialsPerOrg: 200, RequestsPerSecond: 20, Burst: 5}))
	c, err := client.New(client.Config{
		BaseURL: h.ts.URL, Token: h.tokens["editor"], MaxRetries: 10,
		RetryWaitMin: 50 * time.Millisecond, RetryWaitMax: 2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	const n = 30
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = c.CreateCredential(context.Background(), openAICred(fmt.Sprintf("storm-%02d", i), h.secret("sk-proj-")))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("create %d did not get through: %v", i, err)
		}
	}
	if got := h.countCredentials("acme"); got != n {
		t.Fatalf("%d credentials after %d creates, want exactly %d", got, n, n)
	}
	// The storm happened: the server answered 429 along the way.
	metrics := h.do(http.MethodGet, "/metrics", testMetricsToken, nil)
	if !strings.Contains(string(metrics.Body), `code="429"`) {
		t.Fatal("no 429 was answered: the test did not create a storm")
	}
}
