package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
)

// /metrics spans every organisation: on the API's listener it takes the operator's metrics token and
// no API token, whatever its role; without a metrics token it is not served there; the handler for
// --metrics-listen serves it without a token, and nothing else.
func TestMetricsNeedTheMetricsToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.mustCreate(h.editor, openAICred("counted", h.secret("sk-")))

	for name, token := range map[string]string{"no token": "", "acme admin": h.tokens["admin"], "acme viewer": h.tokens["viewer"],
		"other admin": h.tokens["other"], "a wrong metrics token": testMetricsToken + "x"} {
		r := h.do(http.MethodGet, "/metrics", token, nil)
		if r.Status != http.StatusUnauthorized || strings.Contains(string(r.Body), "modelkeys_credentials") {
			t.Errorf("%s: %d, want 401 and no metrics", name, r.Status)
		}
		if name == "acme viewer" && !strings.Contains(string(r.Body), "metrics token") {
			t.Errorf("the 401 does not say which token /metrics takes: %s", r.Body)
		}
	}
	r := h.do(http.MethodGet, "/metrics", testMetricsToken, nil)
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `modelkeys_credentials{lifecycle_status="ok"} 1`) {
		t.Errorf("with the metrics token: %d\n%.300s", r.Status, r.Body)
	}

	// A server started without --metrics-token: /metrics is not on its API listener.
	bare, err := New(context.Background(), service.Config{Store: h.store, Keyring: h.keyring, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(validateOpenAPI(t, bare.Handler()))
	defer api.Close()
	for _, token := range []string{"", testMetricsToken, h.tokens["admin"]} {
		status, body := get(t, api.URL+"/metrics", token)
		if status != http.StatusNotFound || !strings.Contains(body, "--metrics-listen") {
			t.Errorf("/metrics without --metrics-token (token %q...): %d %s", token[:min(len(token), 4)], status, body)
		}
	}

	// The --metrics-listen handler: the metrics without a token, and nothing else.
	ml := httptest.NewServer(bare.MetricsHandler())
	defer ml.Close()
	if status, body := get(t, ml.URL+"/metrics", ""); status != http.StatusOK || !strings.Contains(body, `modelkeys_credentials{lifecycle_status="ok"} 1`) {
		t.Errorf("metrics listener: %d\n%.300s", status, body)
	}
	for _, path := range []string{"/v1/credentials", "/healthz", "/ui/"} {
		if status, _ := get(t, ml.URL+path, h.tokens["admin"]); status != http.StatusNotFound {
			t.Errorf("metrics listener serves %s: %d", path, status)
		}
	}
}

func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// A scrape costs the same statements with 3 credentials as with 60: the lifecycle gauge is two
// statements (classes, then one aggregate), not a read per credential.
func TestMetricsScrapeStatementsDoNotGrowWithCredentials(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		h := newHarness(t)
		ml := httptest.NewServer(h.srv.MetricsHandler())
		defer ml.Close()
		scrape := func() int64 {
			t.Helper()
			before := h.store.Statements()
			if status, _ := get(t, ml.URL+"/metrics", ""); status != http.StatusOK {
				t.Fatalf("scrape: %d", status)
			}
			return h.store.Statements() - before
		}
		for i := range 3 {
			h.mustCreate(h.editor, openAICred(fmt.Sprintf("few-%d", i), h.secret("sk-")))
		}
		few := scrape()
		for i := range 57 {
			c := h.editor
			if i%2 == 1 {
				c = h.other
			}
			h.mustCreate(c, openAICred(fmt.Sprintf("many-%d", i), h.secret("sk-")))
		}
		many := scrape()
		if few != 2 || many != 2 {
			t.Errorf("a scrape ran %d statements with 3 credentials and %d with 60; want 2 each", few, many)
		}
	})
}

// The gauge counts each credential in the lifecycle status a read of it shows, across organisations,
// projects, rotation periods, expiry dates and both scopes' credential policies.
func TestMetricsLifecycleCountsAgreeWithReads(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		clock := newTestClock()
		h := newHarness(t, withClock(clock))
		ctx := context.Background()
		prj, err := h.admin.CreateProject(ctx, api.ProjectCreate{Name: "research", InheritOrganizationCredentials: true})
		if err != nil {
			t.Fatal(err)
		}
		// The organisation caps rotation at 60 days; the project warns 40 days before expiry.
		if _, err := h.admin.PutCredentialPolicy(ctx, "", api.CredentialPolicyPut{MaxRotationPeriod: "60d"}, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := h.admin.PutCredentialPolicy(ctx, prj.ID, api.CredentialPolicyPut{ExpiryWarning: "40d"}, 0); err != nil {
			t.Fatal(err)
		}
		now := clock.Now()
		for i, spec := range []struct {
			c             *client.Client
			project       string
			period        string
			expiresInDays int // 0: no expiry
		}{
			{h.editor, "", "", 0},          // due at 60 days: the organisation's maximum applies without a period
			{h.editor, "", "30d", 0},       // due at 30 days
			{h.editor, "", "", 200},        // expiring from day 170 (the default 30-day warning)
			{h.editor, "", "", 20},         // expiring at once
			{h.editor, prj.ID, "", 35},     // expiring at once under the project's 40-day warning
			{h.editor, prj.ID, "", 45},     // expiring from day 5
			{h.editor, prj.ID, "45d", 100}, // due at 45 days, expiring from day 60
			{h.editor, prj.ID, "7d", 0},
			{h.other, "", "30d", 0}, // another organisation: no policy
			{h.other, "", "", 5},
			{h.other, "", "", 400},
			{h.other, "", "", 0},
		} {
			in := openAICred(fmt.Sprintf("c%d", i), h.secret("sk-"))
			in.ProjectID, in.RotationPeriod = spec.project, spec.period
			if spec.expiresInDays > 0 {
				in.ExpiresAt = now.Add(time.Duration(spec.expiresInDays) * catalog.Day).Format(time.RFC3339)
			}
			h.mustCreate(spec.c, in)
		}
		seen := map[string]bool{}
		at := 0
		for _, days := range []int{0, 6, 10, 31, 46, 61, 65, 120, 171, 201, 500} {
			clock.Advance(time.Duration(days-at) * catalog.Day)
			at = days
			want := map[string]int{}
			for _, c := range []*client.Client{h.admin, h.other} {
				list, err := c.ListCredentials(ctx, client.CredentialListOptions{Limit: 500})
				if err != nil {
					t.Fatal(err)
				}
				for _, cred := range list.Items {
					want[cred.LifecycleStatus]++
					seen[cred.LifecycleStatus] = true
				}
			}
			got, err := h.srv.Service().LifecycleCounts(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, st := range api.LifecycleStatuses {
				if got[st] != want[st] {
					t.Errorf("day %d: %d %s by the gauge, %d by reads (gauge %v, reads %v)", days, got[st], st, want[st], got, want)
				}
			}
		}
		if len(seen) != len(api.LifecycleStatuses) {
			t.Errorf("the credentials went through %v only; the test should see every status", seen)
		}
	})
}
