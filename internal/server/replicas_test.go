package server

// Two replicas on one PostgreSQL database behind a round-robin proxy: every guarantee that a single
// server gets from its database must hold when the racing requests land on different processes, so
// nothing may rest on in-process locks. Each test fires a burst at the proxy, which alternates
// between the replicas, and then counts what the database holds.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
)

const burst = 12

// fire sends n requests at once (as close together as goroutines allow) and returns the answers.
func fire(n int, send func(i int) rawResponse) []rawResponse {
	got := make([]rawResponse, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			got[i] = send(i)
		}()
	}
	close(start)
	wg.Wait()
	return got
}

func statuses(got []rawResponse) map[int]int {
	m := map[int]int{}
	for _, r := range got {
		m[r.Status]++
	}
	return m
}

func TestReplicasCreateSameNameAndIdempotencyKey(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withReplicas(2))
	body := mustJSON(t, openAICred("racing", h.secret("sk-race-")))
	got := fire(burst, func(int) rawResponse {
		return h.do("POST", "/v1/credentials", h.tokens["admin"], body, "Idempotency-Key", "one-key")
	})
	ids := map[string]bool{}
	for _, r := range got {
		if r.Status != http.StatusCreated {
			t.Fatalf("a create replayed across replicas answered %d %s; want 201 with the first result", r.Status, r.Body)
		}
		var c api.Credential
		if err := json.Unmarshal(r.Body, &c); err != nil {
			t.Fatal(err)
		}
		ids[c.ID] = true
	}
	if len(ids) != 1 {
		t.Errorf("the same create got %d different credentials: %v", len(ids), ids)
	}
	if n := h.countCredentials("acme"); n != 1 {
		t.Fatalf("acme has %d credentials after a burst of one create, want exactly 1", n)
	}
}

func TestReplicasCreateSameNameDifferentKeys(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withReplicas(2))
	body := mustJSON(t, openAICred("contended", h.secret("sk-race-")))
	got := fire(burst, func(i int) rawResponse {
		return h.do("POST", "/v1/credentials", h.tokens["admin"], body, "Idempotency-Key", "key-"+strconv.Itoa(i))
	})
	if st := statuses(got); st[http.StatusCreated] != 1 || st[http.StatusConflict] != burst-1 {
		t.Fatalf("statuses %v; want one 201 and %d 409", st, burst-1)
	}
	if n := h.countCredentials("acme"); n != 1 {
		t.Fatalf("acme has %d credentials, want 1", n)
	}
}

func TestReplicasIdempotencyKeyReusedForDifferentRequests(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withReplicas(2))
	got := fire(burst, func(i int) rawResponse {
		body := mustJSON(t, openAICred("cred-"+strconv.Itoa(i), h.secret("sk-race-")))
		return h.do("POST", "/v1/credentials", h.tokens["admin"], body, "Idempotency-Key", "shared-key")
	})
	if st := statuses(got); st[http.StatusCreated] != 1 || st[http.StatusUnprocessableEntity] != burst-1 {
		t.Fatalf("statuses %v; want one 201 and %d 422 (key reused for another request)", st, burst-1)
	}
	if n := h.countCredentials("acme"); n != 1 {
		t.Fatalf("acme has %d credentials, want 1", n)
	}
}

func TestReplicasIfMatchRace(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withReplicas(2))
	c := h.mustCreate(h.admin, openAICred("patched", h.secret("sk-race-")))
	etag := `"` + strconv.FormatInt(c.Version, 10) + `"`
	got := fire(burst, func(i int) rawResponse {
		return h.do("PATCH", "/v1/credentials/"+c.ID, h.tokens["admin"],
			[]byte(fmt.Sprintf(`{"description":"writer %d"}`, i)), "If-Match", etag)
	})
	if st := statuses(got); st[http.StatusOK] != 1 || st[http.StatusPreconditionFailed] != burst-1 {
		t.Fatalf("statuses %v; want one 200 and %d 412", st, burst-1)
	}
	after, err := h.admin.GetCredential(t.Context(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if after.Version != c.Version+1 {
		t.Errorf("version %d after one winning PATCH, want %d", after.Version, c.Version+1)
	}
}

func TestReplicasCredentialLimitUnderBurst(t *testing.T) {
	t.Parallel()
	const max = 5
	h := newHarness(t, withReplicas(2), withLimits(service.Limits{MaxCredentialsPerOrg: max, MaxBodyBytes: 1 << 20}))
	h.mustCreate(h.admin, openAICred("existing", h.secret("sk-race-")))
	got := fire(3*burst, func(i int) rawResponse {
		body := mustJSON(t, openAICred("burst-"+strconv.Itoa(i), h.secret("sk-race-")))
		return h.do("POST", "/v1/credentials", h.tokens["admin"], body, "Idempotency-Key", "burst-"+strconv.Itoa(i))
	})
	if st := statuses(got); st[http.StatusCreated] != max-1 || st[http.StatusUnprocessableEntity] != 3*burst-(max-1) {
		t.Errorf("statuses %v; want %d 201 and the rest 422", st, max-1)
	}
	if n := h.countCredentials("acme"); n != max {
		t.Fatalf("acme has %d credentials after a burst across replicas, limit %d", n, max)
	}
}
