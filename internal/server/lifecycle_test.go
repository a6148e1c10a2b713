package server

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
)

// testClock is a clock the test moves by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newTestClock is a clock the test moves, starting at a fixed instant in the future (so that real
// time never catches up with it).
func newTestClock() *testClock { return &testClock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)} }

// withClock makes the harness's service read the time from c.
func withClock(c *testClock) func(*harnessOptions) {
	return func(o *harnessOptions) { o.now = c.Now }
}

func TestCredentialLifecycleStatus(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		clock := newTestClock()
		h := newHarness(t, withClock(clock))
		ctx := context.Background()
		start := clock.Now()

		in := openAICred("rotating", h.secret("sk-"))
		in.RotationPeriod = "2160h"
		cred := h.mustCreate(h.editor, in)
		if cred.RotationPeriod != "90d" {
			t.Errorf("rotation_period %q, want it normalised to 90d", cred.RotationPeriod)
		}
		if !cred.RotatedAt.Equal(start) || cred.RotationDueAt == nil || !cred.RotationDueAt.Equal(start.Add(90*catalog.Day)) {
			t.Errorf("rotated_at %v, rotation_due_at %v; want %v and 90 days later", cred.RotatedAt, cred.RotationDueAt, start)
		}
		if cred.LifecycleStatus != api.LifecycleOK || cred.LifecycleSince != nil || len(cred.PolicyViolations) != 0 {
			t.Errorf("new credential: %s since %v, violations %v", cred.LifecycleStatus, cred.LifecycleSince, cred.PolicyViolations)
		}
		plain := h.mustCreate(h.editor, openAICred("plain", h.secret("sk-")))
		if plain.RotationDueAt != nil || plain.LifecycleStatus != api.LifecycleOK {
			t.Errorf("credential without period: due %v, %s", plain.RotationDueAt, plain.LifecycleStatus)
		}
		conn, err := h.editor.CreateConnection(ctx, api.ConnectionCreate{Name: "chat", CredentialID: cred.ID, Model: "gpt-4.1"})
		if err != nil {
			t.Fatal(err)
		}

		// 91 days on: rotation is due, since the due date.
		clock.Advance(91 * catalog.Day)
		got, err := h.viewer.GetCredential(ctx, cred.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.LifecycleStatus != api.LifecycleRotationDue || got.LifecycleSince == nil || !got.LifecycleSince.Equal(start.Add(90*catalog.Day)) ||
			!strings.Contains(got.LifecycleMessage, "rotating") {
			t.Errorf("after 91 days: %s since %v: %s", got.LifecycleStatus, got.LifecycleSince, got.LifecycleMessage)
		}
		if got.Version != cred.Version {
			t.Errorf("a computed status changed the version: %d -> %d", cred.Version, got.Version)
		}

		// An expiry ten days away is within the default warning of 14 days: expiring beats rotation_due.
		expires := clock.Now().Add(10 * catalog.Day)
		got, err = h.editor.UpdateCredential(ctx, cred.ID, api.CredentialPatch{ExpiresAt: ptr(expires.Format(time.RFC3339))}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got.LifecycleStatus != api.LifecycleExpiring || !got.LifecycleSince.Equal(expires.Add(-14*catalog.Day)) {
			t.Errorf("ten days before expiry: %s since %v", got.LifecycleStatus, got.LifecycleSince)
		}
		if c, _ := h.viewer.GetConnection(ctx, conn.ID); c.Status != api.ConnectionReady {
			t.Errorf("connection on an expiring credential: %s", c.Status)
		}

		// Expired: the connection is invalid, and the filter finds it.
		clock.Advance(10 * catalog.Day)
		got, _ = h.viewer.GetCredential(ctx, cred.ID)
		if got.LifecycleStatus != api.LifecycleExpired || !got.LifecycleSince.Equal(expires) {
			t.Errorf("at expiry: %s since %v", got.LifecycleStatus, got.LifecycleSince)
		}
		c, err := h.viewer.GetConnection(ctx, conn.ID)
		if err != nil {
			t.Fatal(err)
		}
		if c.Status != api.ConnectionInvalid || !strings.Contains(c.StatusMessage, "expired") {
			t.Errorf("connection on an expired credential: %s %q", c.Status, c.StatusMessage)
		}
		expired, err := h.viewer.ListAllCredentials(ctx, client.CredentialListOptions{LifecycleStatus: api.LifecycleExpired})
		if err != nil || len(expired) != 1 || expired[0].ID != cred.ID {
			t.Errorf("lifecycle_status=expired lists %+v, %v", expired, err)
		}
		ok, err := h.viewer.ListAllCredentials(ctx, client.CredentialListOptions{LifecycleStatus: api.LifecycleOK, Limit: 1})
		if err != nil || len(ok) != 1 || ok[0].ID != plain.ID {
			t.Errorf("lifecycle_status=ok lists %+v, %v", ok, err)
		}
		r := h.do("GET", "/v1/credentials?lifecycle_status=stale", h.tokens["viewer"], nil)
		if r.Status != http.StatusUnprocessableEntity {
			t.Errorf("unknown lifecycle_status filter: HTTP %d", r.Status)
		}

		// Rotating the key clears the old key's expiry: ok again, and the connection is ready.
		got, err = h.editor.UpdateCredential(ctx, cred.ID, api.CredentialPatch{APIKey: ptr(h.secret("sk-"))}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got.LifecycleStatus != api.LifecycleOK || got.ExpiresAt != nil || !got.RotatedAt.Equal(clock.Now()) ||
			!got.RotationDueAt.Equal(clock.Now().Add(90*catalog.Day)) {
			t.Errorf("after rotation: %s, expires %v, rotated %v, due %v", got.LifecycleStatus, got.ExpiresAt, got.RotatedAt, got.RotationDueAt)
		}
		if c, _ := h.viewer.GetConnection(ctx, conn.ID); c.Status != api.ConnectionReady {
			t.Errorf("connection after rotation: %s %q", c.Status, c.StatusMessage)
		}
		// A change of something else keeps rotated_at.
		before := got.RotatedAt
		clock.Advance(time.Hour)
		got, err = h.editor.UpdateCredential(ctx, cred.ID, api.CredentialPatch{Description: ptr("changed")}, 0)
		if err != nil || !got.RotatedAt.Equal(before) {
			t.Errorf("a description change moved rotated_at: %v -> %v (%v)", before, got.RotatedAt, err)
		}
		// Removing the period removes the due date.
		got, err = h.editor.UpdateCredential(ctx, cred.ID, api.CredentialPatch{RotationPeriod: ptr("")}, 0)
		if err != nil || got.RotationPeriod != "" || got.RotationDueAt != nil {
			t.Errorf("period removed: %q, due %v, %v", got.RotationPeriod, got.RotationDueAt, err)
		}
	})
}

func TestCredentialLifecycleInputsRefused(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		h := newHarness(t)
		ctx := context.Background()
		in := openAICred("bad", h.secret("sk-"))
		in.RotationPeriod, in.ExpiresAt = "90 days", "30/12/2026"
		_, err := h.editor.CreateCredential(ctx, in)
		ae := apiError(t, err, http.StatusUnprocessableEntity)
		if fe := fieldError(t, ae.Problem, "rotation_period"); !strings.Contains(fe.Message, "not a duration") {
			t.Errorf("rotation_period: %s", fe.Message)
		}
		if fe := fieldError(t, ae.Problem, "expires_at"); !strings.Contains(fe.Message, "RFC 3339") {
			t.Errorf("expires_at: %s", fe.Message)
		}
		cred := h.mustCreate(h.editor, openAICred("good", h.secret("sk-")))
		_, err = h.editor.UpdateCredential(ctx, cred.ID, api.CredentialPatch{RotationPeriod: ptr("-1d")}, 0)
		fieldError(t, apiError(t, err, http.StatusUnprocessableEntity).Problem, "rotation_period")
	})
}

func TestLifecycleSweepAuditsTransitionsAndMetrics(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		clock := newTestClock()
		h := newHarness(t, withClock(clock))
		ctx := context.Background()
		in := openAICred("expiring", h.secret("sk-"))
		in.ExpiresAt = clock.Now().Add(20 * catalog.Day).Format(time.RFC3339)
		cred := h.mustCreate(h.editor, in)
		h.mustCreate(h.editor, openAICred("fine", h.secret("sk-")))

		svc := h.srv.Service()
		rep, err := svc.SweepLifecycle(ctx)
		if err != nil || rep.Checked != 2 || rep.Transitions != 0 {
			t.Fatalf("first sweep: %+v, %v", rep, err)
		}
		clock.Advance(7 * catalog.Day) // 13 days left: expiring
		if rep, err = svc.SweepLifecycle(ctx); err != nil || rep.Transitions != 1 || rep.ByStatus[api.LifecycleExpiring] != 1 {
			t.Fatalf("sweep at 13 days left: %+v, %v", rep, err)
		}
		if rep, err = svc.SweepLifecycle(ctx); err != nil || rep.Transitions != 0 {
			t.Fatalf("sweep again: %+v, %v", rep, err)
		}
		clock.Advance(14 * catalog.Day) // expired
		if rep, err = svc.SweepLifecycle(ctx); err != nil || rep.Transitions != 1 {
			t.Fatalf("sweep after expiry: %+v, %v", rep, err)
		}
		events, err := h.admin.ListAuditEvents(ctx, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var transitions []string
		for _, e := range events.Items {
			if e.Action != "lifecycle" {
				continue
			}
			if e.ObjectID != cred.ID || len(e.Fields) != 1 || e.Fields[0] != "lifecycle_status" || len(e.Changes) != 1 || e.Actor != "modelkeys-server" {
				t.Errorf("lifecycle event %+v", e)
				continue
			}
			transitions = append(transitions, e.Changes[0].From+">"+e.Changes[0].To)
		}
		if strings.Join(transitions, " ") != "ok>expiring expiring>expired" {
			t.Errorf("transitions audited: %v", transitions)
		}
		r := h.do("GET", "/metrics", testMetricsToken, nil)
		for _, want := range []string{`modelkeys_credentials{lifecycle_status="expired"} 1`, `modelkeys_credentials{lifecycle_status="ok"} 1`,
			`modelkeys_credentials{lifecycle_status="rotation_due"} 0`} {
			if !strings.Contains(string(r.Body), want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
	})
}

func TestCredentialPolicyRules(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		clock := newTestClock()
		h := newHarness(t, withClock(clock))
		ctx := context.Background()

		pol, err := h.viewer.GetCredentialPolicy(ctx, "")
		if err != nil || pol.Version != 0 || len(pol.AllowedProviders) != 0 || pol.ExpiryWarning != "14d" || pol.RequireVerification {
			t.Fatalf("default policy %+v, %v", pol, err)
		}
		_, err = h.viewer.PutCredentialPolicy(ctx, "", api.CredentialPolicyPut{RequireVerification: true}, 0)
		apiError(t, err, http.StatusForbidden)
		_, err = h.editor.PutCredentialPolicy(ctx, "", api.CredentialPolicyPut{AllowedProviders: []string{"openia"}, MaxRotationPeriod: "forever", ExpiryWarning: "0d"}, 0)
		ae := apiError(t, err, http.StatusUnprocessableEntity)
		for _, f := range []string{"allowed_providers", "max_rotation_period", "expiry_warning"} {
			fieldError(t, ae.Problem, f)
		}

		// Existing credentials, written before the policy.
		old := openAICred("old-openai", h.secret("sk-"))
		old.RotationPeriod = "365d"
		legacy := h.mustCreate(h.editor, old)

		pol, err = h.editor.PutCredentialPolicy(ctx, "", api.CredentialPolicyPut{AllowedProviders: []string{"anthropic", "openai"},
			MaxRotationPeriod: "2160h", RequireVerification: true}, 0)
		if err != nil || pol.Version != 1 || pol.MaxRotationPeriod != "90d" || pol.ExpiryWarning != "14d" {
			t.Fatalf("put policy: %+v, %v", pol, err)
		}
		if again, err := h.editor.PutCredentialPolicy(ctx, "", api.CredentialPolicyPut{AllowedProviders: []string{"openai", "anthropic"},
			MaxRotationPeriod: "90d", RequireVerification: true}, 1); err != nil || again.Version != 1 {
			t.Errorf("the same policy again: %+v, %v", again, err)
		}

		// The old credential is kept, with its violations, capped to the policy's period.
		got, err := h.viewer.GetCredential(ctx, legacy.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.PolicyViolations) != 2 || !strings.Contains(strings.Join(got.PolicyViolations, " "), "max_rotation_period 90d") ||
			!strings.Contains(strings.Join(got.PolicyViolations, " "), "requires verification") {
			t.Errorf("violations %q", got.PolicyViolations)
		}
		if got.RotationDueAt == nil || !got.RotationDueAt.Equal(got.RotatedAt.Add(90*catalog.Day)) {
			t.Errorf("rotation_due_at %v, want the policy's 90 days after %v", got.RotationDueAt, got.RotatedAt)
		}
		// ... and refused at its next change, until that change fixes it.
		_, err = h.editor.UpdateCredential(ctx, legacy.ID, api.CredentialPatch{Description: ptr("touched")}, 0)
		ae = apiError(t, err, http.StatusUnprocessableEntity)
		fieldError(t, ae.Problem, "rotation_period")
		fieldError(t, ae.Problem, "verify")
		// Turning verify on sends the stored key, so the key comes with it.
		fixed, err := h.editor.UpdateCredential(ctx, legacy.ID, api.CredentialPatch{RotationPeriod: ptr("30d"), Verify: ptr(true), APIKey: old.APIKey}, 0)
		if err != nil || len(fixed.PolicyViolations) != 0 {
			t.Fatalf("fixing change: %+v, %v", fixed, err)
		}

		// New credentials: a provider outside the list, a period too long, verify = false.
		_, err = h.editor.CreateCredential(ctx, api.CredentialCreate{Name: "m", Provider: "mistral", APIKey: ptr(h.secret("k-")), Verify: ptr(true)})
		ae = apiError(t, err, http.StatusUnprocessableEntity)
		if fe := fieldError(t, ae.Problem, "provider"); !strings.Contains(fe.Message, "anthropic, openai") {
			t.Errorf("provider refusal does not name the allowed ones: %s", fe.Message)
		}
		long := openAICred("long", h.secret("sk-"))
		long.RotationPeriod, long.Verify = "91d", ptr(true)
		fieldError(t, apiError(t, h.createErr(long), http.StatusUnprocessableEntity).Problem, "rotation_period")
		fieldError(t, apiError(t, h.createErr(openAICred("unverified", h.secret("sk-"))), http.StatusUnprocessableEntity).Problem, "verify")
		fine := openAICred("fine", h.secret("sk-"))
		fine.Verify = ptr(true)
		withDefault := h.mustCreate(h.editor, fine)
		if withDefault.RotationPeriod != "" || !withDefault.RotationDueAt.Equal(clock.Now().Add(90*catalog.Day)) {
			t.Errorf("credential without a period: %q due %v, want the policy's 90 days", withDefault.RotationPeriod, withDefault.RotationDueAt)
		}

		// A project: the stricter of each rule.
		proj, err := h.editor.CreateProject(ctx, api.ProjectCreate{Name: "team", InheritOrganizationCredentials: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.editor.PutCredentialPolicy(ctx, proj.ID, api.CredentialPolicyPut{AllowedProviders: []string{"anthropic", "mistral"},
			MaxRotationPeriod: "30d", ExpiryWarning: "30d"}, 0); err != nil {
			t.Fatal(err)
		}
		inProj := openAICred("p-openai", h.secret("sk-"))
		inProj.ProjectID, inProj.Verify = proj.ID, ptr(true)
		ae = apiError(t, h.createErr(inProj), http.StatusUnprocessableEntity)
		if fe := fieldError(t, ae.Problem, "provider"); !strings.Contains(fe.Message, "anthropic") || strings.Contains(fe.Message, "mistral") {
			t.Errorf("project refusal should name only what both allow: %s", fe.Message)
		}
		claude := api.CredentialCreate{Name: "claude", Provider: "anthropic", ProjectID: proj.ID, APIKey: ptr(h.secret("sk-ant-")), Verify: ptr(false)}
		fieldError(t, apiError(t, h.createErr(claude), http.StatusUnprocessableEntity).Problem, "verify") // the organisation's rule holds
		claude.Verify, claude.ExpiresAt = ptr(true), clock.Now().Add(20*catalog.Day).Format(time.RFC3339)
		c := h.mustCreate(h.editor, claude)
		if !c.RotationDueAt.Equal(clock.Now().Add(30*catalog.Day)) || c.LifecycleStatus != api.LifecycleExpiring {
			t.Errorf("project credential: due %v (want 30 days), %s (want expiring: 20 days left, the project warns at 30)", c.RotationDueAt, c.LifecycleStatus)
		}
		// A connection of the project may not use an organisation credential of a provider it refuses.
		_, err = h.editor.CreateConnection(ctx, api.ConnectionCreate{Name: "chat", CredentialID: withDefault.ID, Model: "gpt-4.1", ProjectID: proj.ID})
		if fe := fieldError(t, apiError(t, err, http.StatusUnprocessableEntity).Problem, "credential_id"); !strings.Contains(fe.Message, "openai") {
			t.Errorf("connection refusal: %s", fe.Message)
		}

		// Deleting resets: the project's rules go, the organisation's stay.
		if err := h.editor.DeleteCredentialPolicy(ctx, proj.ID, 0); err != nil {
			t.Fatal(err)
		}
		if p, err := h.viewer.GetCredentialPolicy(ctx, proj.ID); err != nil || p.Version != 0 {
			t.Errorf("after delete: %+v, %v", p, err)
		}
		if _, err := h.editor.CreateConnection(ctx, api.ConnectionCreate{Name: "chat", CredentialID: withDefault.ID, Model: "gpt-4.1", ProjectID: proj.ID}); err != nil {
			t.Errorf("connection after the project's policy is gone: %v", err)
		}
		_, err = h.viewer.GetCredentialPolicy(ctx, "proj_missing")
		apiError(t, err, http.StatusNotFound)
		if err := h.editor.DeleteCredentialPolicy(ctx, "", 7); err == nil {
			t.Error("delete with a stale If-Match succeeded")
		}
		if err := h.editor.DeleteCredentialPolicy(ctx, "", 0); err != nil {
			t.Fatal(err)
		}
		if got, _ := h.viewer.GetCredential(ctx, legacy.ID); len(got.PolicyViolations) != 0 {
			t.Errorf("violations without a policy: %v", got.PolicyViolations)
		}
		// Another organisation never sees this one's policy.
		if p, err := h.other.GetCredentialPolicy(ctx, ""); err != nil || p.Version != 0 {
			t.Errorf("other organisation: %+v, %v", p, err)
		}
	})
}

// createErr creates a credential as the editor and returns only the error.
func (h *harness) createErr(in api.CredentialCreate) error {
	if in.APIKey != nil {
		h.remember(*in.APIKey)
	}
	_, err := h.editor.CreateCredential(context.Background(), in)
	return err
}
