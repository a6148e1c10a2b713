package server

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
)

// fakeVerifier refuses keys containing "REFUSE", cannot reach the provider for keys containing "OUTAGE" and
// accepts the rest. It counts probes.
type fakeVerifier struct {
	mu     sync.Mutex
	calls  int
	refuse bool // refuse every key from now on
}

func (f *fakeVerifier) Verify(_ context.Context, _ api.Provider, _ map[string]string, sec map[string]string) api.VerifyResult {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	key := sec[api.SecretAPIKey]
	switch {
	case f.refuse || strings.Contains(key, "REFUSE"):
		return api.VerifyResult{Refused: true, Message: "HTTP 401: Incorrect API key provided"}
	case strings.Contains(key, "OUTAGE"):
		return api.VerifyResult{Message: "dial tcp: connection refused"}
	}
	return api.VerifyResult{OK: true, Message: "listed 12 models"}
}

func (f *fakeVerifier) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func (f *fakeVerifier) setRefuse(v bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refuse = v
}

func TestVerification(t *testing.T) { forEachBackend(t, testVerification) }

func testVerification(t *testing.T) {
	t.Parallel()
	v := &fakeVerifier{}
	h := newHarness(t, withVerifier(v))
	ctx := context.Background()
	verified := func(name, key string) api.CredentialCreate {
		in := openAICred(name, key)
		in.Verify = nil // default: verify
		return in
	}

	// A refused key is a 422 on api_key with the provider's answer, and nothing is stored.
	bad := h.secret("sk-REFUSE-")
	_, err := h.admin.CreateCredential(ctx, verified("refused", bad))
	fe := fieldError(t, apiError(t, err, http.StatusUnprocessableEntity).Problem, "api_key")
	if !strings.Contains(fe.Message, "Incorrect API key") || strings.Contains(fe.Message, bad) {
		t.Errorf("refusal message %q", fe.Message)
	}
	if n := h.countCredentials("acme"); n != 0 {
		t.Fatalf("a refused key was stored (%d credentials)", n)
	}

	good := h.mustCreate(h.admin, verified("good", h.secret("sk-good-")))
	if good.Status != api.StatusVerified || good.VerifiedAt == nil {
		t.Errorf("accepted key: status %q verified_at %v", good.Status, good.VerifiedAt)
	}
	down := h.mustCreate(h.admin, verified("down", h.secret("sk-OUTAGE-")))
	if down.Status != api.StatusUnverified || !strings.Contains(down.StatusMessage, "Could not reach") {
		t.Errorf("outage: status %q %q, want unverified with the reason", down.Status, down.StatusMessage)
	}
	before := v.count()
	skipped := h.mustCreate(h.admin, openAICred("skipped", h.secret("sk-")))
	if v.count() != before || skipped.Status != api.StatusUnverified {
		t.Errorf("verify=false probed the provider (%d probes) or status %q", v.count()-before, skipped.Status)
	}

	// Rotating to a refused key is refused and keeps the old key.
	_, err = h.admin.UpdateCredential(ctx, good.ID, api.CredentialPatch{APIKey: ptr(h.secret("sk-REFUSE-"))}, 0)
	apiError(t, err, http.StatusUnprocessableEntity)
	if got, _ := h.admin.GetCredential(ctx, good.ID); got.SecretFingerprint != good.SecretFingerprint || got.SecretVersion != 1 {
		t.Error("a refused rotation replaced the key")
	}

	// A retried create does not probe again.
	body := mustJSON(t, verified("idem", h.secret("sk-good-")))
	h.do("POST", "/v1/credentials", h.tokens["admin"], body, "Idempotency-Key", "v-1")
	before = v.count()
	if r := h.do("POST", "/v1/credentials", h.tokens["admin"], body, "Idempotency-Key", "v-1"); r.Status != http.StatusCreated {
		t.Fatalf("replay: %d", r.Status)
	}
	if v.count() != before {
		t.Error("a replayed create probed the provider again")
	}

	// The key is revoked at the provider: /verify records invalid without a new version, and
	// connections through it show invalid.
	conn, err := h.admin.CreateConnection(ctx, api.ConnectionCreate{Name: "chat", CredentialID: good.ID, Model: "gpt-4.1"})
	if err != nil || conn.Status != api.ConnectionReady {
		t.Fatalf("connection: %+v %v", conn, err)
	}
	v.setRefuse(true)
	_, err = h.viewer.VerifyCredential(ctx, good.ID)
	apiError(t, err, http.StatusForbidden)
	re, err := h.editor.VerifyCredential(ctx, good.ID)
	if err != nil {
		t.Fatal(err)
	}
	if re.Status != api.StatusInvalid || re.Version != good.Version {
		t.Errorf("re-verify: status %q version %d (was %d), want invalid and the same version", re.Status, re.Version, good.Version)
	}
	if c, _ := h.viewer.GetConnection(ctx, conn.ID); c.Status != api.ConnectionInvalid {
		t.Errorf("connection through a refused key: status %q, want invalid", c.Status)
	}
	v.setRefuse(false)
	if re, _ := h.editor.VerifyCredential(ctx, good.ID); re == nil || re.Status != api.StatusVerified {
		t.Errorf("re-verify after the key works again: %+v", re)
	}
	if c, _ := h.viewer.GetConnection(ctx, conn.ID); c.Status != api.ConnectionReady {
		t.Errorf("connection after the key works again: status %q", c.Status)
	}
	h.scanForSecrets()
}

func TestCredentialLimits(t *testing.T) { forEachBackend(t, testCredentialLimits) }

func testCredentialLimits(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withLimits(service.Limits{MaxCredentialsPerOrg: 2, MaxBodyBytes: 1 << 20, OnePerProvider: []string{"anthropic"}}))
	ctx := context.Background()
	h.mustCreate(h.admin, api.CredentialCreate{Name: "claude", Provider: "anthropic", APIKey: ptr(h.secret("sk-ant-")), Verify: ptr(false)})
	_, err := h.admin.CreateCredential(ctx, api.CredentialCreate{Name: "claude-2", Provider: "anthropic", APIKey: ptr(h.secret("sk-ant-")), Verify: ptr(false)})
	apiError(t, err, http.StatusConflict)
	h.mustCreate(h.admin, openAICred("one", h.secret("sk-")))
	_, err = h.admin.CreateCredential(ctx, openAICred("three", h.secret("sk-")))
	ae := apiError(t, err, http.StatusUnprocessableEntity)
	if !strings.Contains(ae.Problem.Detail, "2 credentials") || !strings.Contains(ae.Problem.Detail, "--max-credentials") {
		t.Errorf("limit detail %q", ae.Problem.Detail)
	}
	// The limit is per organisation.
	h.mustCreate(h.other, openAICred("three", h.secret("sk-")))
}

func TestRateLimit(t *testing.T) { forEachBackend(t, testRateLimit) }

func testRateLimit(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withLimits(service.Limits{MaxBodyBytes: 1 << 20, RequestsPerSecond: 0.5, Burst: 2}))
	var last rawResponse
	for range 3 {
		last = h.do("GET", "/v1/credentials", h.tokens["viewer"], nil)
	}
	if last.Status != http.StatusTooManyRequests {
		t.Fatalf("third request within the burst of 2: %d, want 429", last.Status)
	}
	ra, err := strconv.Atoi(last.Header.Get("Retry-After"))
	if err != nil || ra < 1 {
		t.Errorf("Retry-After %q", last.Header.Get("Retry-After"))
	}
	last.problem(t)
	// service.Limits are per token.
	if r := h.do("GET", "/v1/credentials", h.tokens["admin"], nil); r.Status != 200 {
		t.Errorf("another token: %d", r.Status)
	}
	// Public endpoints are not limited.
	for range 5 {
		if r := h.do("GET", "/healthz", "", nil); r.Status != 200 {
			t.Fatalf("healthz: %d", r.Status)
		}
	}
}

// The per-token limiters of tokens that have gone quiet are dropped, and only those: a token still
// inside its limit keeps its limiter, so a sweep never hands it a fresh burst.
func TestIdleRateLimitersAreForgotten(t *testing.T) {
	h := newHarness(t, withLimits(service.Limits{MaxBodyBytes: 1 << 20, RequestsPerSecond: 0.5, Burst: 2}))
	for range 2 {
		h.do("GET", "/v1/credentials", h.tokens["viewer"], nil)
	}
	h.do("GET", "/v1/credentials", h.tokens["admin"], nil)

	s := h.srv
	s.limitersMu.Lock()
	defer s.limitersMu.Unlock()
	now := time.Now()
	s.sweepLimitersLocked(now)
	if _, ok := s.limiters[h.tokenIDs["viewer"]]; !ok || len(s.limiters) != 2 {
		t.Fatalf("a sweep right after use kept %d limiters (viewer's: %v), want both", len(s.limiters), ok)
	}
	s.sweepLimitersLocked(now.Add(10 * time.Second)) // 0.5/s for 10 s refills a burst of 2
	if len(s.limiters) != 0 {
		t.Errorf("a sweep once the buckets refilled kept %d limiters, want none", len(s.limiters))
	}
}

func TestCredentialModels(t *testing.T) { forEachBackend(t, testCredentialModels) }

func testCredentialModels(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	c := h.mustCreate(h.admin, openAICred("k", h.secret("sk-")))
	if _, err := h.admin.PutModelPolicy(ctx, "", api.ModelPolicyPut{Mode: api.PolicyDenylist, Models: []string{"openai/gpt-4.1"}}, 0); err != nil {
		t.Fatal(err)
	}
	models, err := h.viewer.CredentialModels(ctx, c.ID)
	if err != nil || len(models) == 0 {
		t.Fatalf("credential models: %d %v", len(models), err)
	}
	for _, m := range models {
		if m.Provider != "openai" {
			t.Errorf("model %s of provider %s through an openai key", m.ID, m.Provider)
		}
		if (m.ID == "gpt-4.1") == m.Allowed {
			t.Errorf("%s allowed=%v under a gpt-4.1 denylist", m.ID, m.Allowed)
		}
	}
	_, err = h.other.CredentialModels(ctx, c.ID)
	if !client.IsNotFound(err) {
		t.Errorf("another org's credential models: %v", err)
	}
	r := h.do("GET", "/v1/credentials/"+c.ID+"/models", h.tokens["viewer"], nil)
	if bytes.Contains(r.Body, []byte("PLAINTEXT")) {
		t.Error("models answer carries the key")
	}
}

func TestModelPolicyIfMatch(t *testing.T) { forEachBackend(t, testModelPolicyIfMatch) }

func testModelPolicyIfMatch(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	p1, err := h.admin.PutModelPolicy(ctx, "", api.ModelPolicyPut{Mode: api.PolicyDenylist, Publishers: []string{"meta"}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	r := h.do("GET", "/v1/model-policy", h.tokens["viewer"], nil)
	if r.Header.Get("ETag") != client.ETag(p1.Version) {
		t.Errorf("policy ETag %q, want %q", r.Header.Get("ETag"), client.ETag(p1.Version))
	}
	p2, err := h.admin.PutModelPolicy(ctx, "", api.ModelPolicyPut{Mode: api.PolicyDenylist, Publishers: []string{"meta", "xai"}}, p1.Version)
	if err != nil || p2.Version != p1.Version+1 {
		t.Fatalf("PUT with the current version: %+v %v", p2, err)
	}
	// Same content again is not a change.
	if p3, err := h.admin.PutModelPolicy(ctx, "", api.ModelPolicyPut{Mode: api.PolicyDenylist, Publishers: []string{"xai", "meta"}}, 0); err != nil || p3.Version != p2.Version {
		t.Errorf("same policy again: %+v %v", p3, err)
	}
	_, err = h.admin.PutModelPolicy(ctx, "", api.ModelPolicyPut{Mode: api.PolicyAll}, p1.Version)
	apiError(t, err, http.StatusPreconditionFailed)
	// DELETE honours If-Match like every other DELETE: a stale one is refused and nothing is reset.
	apiError(t, h.admin.DeleteModelPolicy(ctx, "", p1.Version), http.StatusPreconditionFailed)
	if got, _ := h.viewer.GetModelPolicy(ctx, ""); got.Mode != api.PolicyDenylist {
		t.Fatalf("a DELETE with a stale If-Match reset the policy to %q", got.Mode)
	}
	if err := h.admin.DeleteModelPolicy(ctx, "", p2.Version); err != nil {
		t.Fatalf("DELETE with the current version: %v", err)
	}
	if got, _ := h.viewer.GetModelPolicy(ctx, ""); got.Mode != api.PolicyAll {
		t.Errorf("after DELETE: mode %q", got.Mode)
	}
	// Deleting a scope that has no policy is fine (Terraform destroy after an out-of-band reset).
	if err := h.admin.DeleteModelPolicy(ctx, "", 0); err != nil {
		t.Errorf("DELETE of a default policy: %v", err)
	}
}
