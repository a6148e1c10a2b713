package console_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
)

// The list searches names and labels, filters by lifecycle and policy violations, sorts, and pages
// by keyset: every credential shows exactly once across the pages.
func TestConsoleFindCredentials(t *testing.T) {
	t.Parallel()
	limits := service.DefaultLimits()
	limits.MaxCredentialsPerOrg = 70
	h := newHarness(t, func(o *harnessOptions) { o.limits = &limits })
	ctx, svc := context.Background(), h.srv.Service()
	if a := h.signedIn(api.RoleViewer).get("/ui/credentials"); strings.Contains(a.body, "at most 70") {
		t.Error("the limit shows before it bites")
	}
	for i := range 60 {
		k := fmt.Sprintf("sk-console-bulk-%02d-aabbccddeeff00112233445566", i)
		team := "alpha"
		if i%2 == 1 {
			team = "beta"
		}
		in := api.CredentialCreate{Name: fmt.Sprintf("bulk-%02d", i), Provider: "openai", APIKey: &k, Labels: map[string]string{"team": team}}
		if i == 7 {
			in.RotationPeriod = "1d"
		}
		if _, _, err := svc.CreateCredential(ctx, h.admin, in, nil); err != nil {
			t.Fatal(err)
		}
	}
	b := h.signedIn(api.RoleViewer)
	seen := map[string]int{}
	next := "/ui/credentials?q=bulk"
	pages := 0
	for next != "" {
		a := b.get(strings.ReplaceAll(next, "&amp;", "&"))
		if a.status != http.StatusOK {
			t.Fatalf("GET %s: %d", next, a.status)
		}
		for _, m := range regexpAll(`>(bulk-\d\d)</a>`, a.body) {
			seen[m]++
		}
		next = regexpFind(`href="([^"]+)" rel="next"`, a.body)
		if pages++; pages > 3 {
			t.Fatal("too many pages")
		}
	}
	if len(seen) != 60 || pages != 2 {
		t.Errorf("paging by name: %d credentials on %d pages", len(seen), pages)
	}
	for n, c := range seen {
		if c != 1 {
			t.Errorf("%s shown %d times", n, c)
		}
	}
	// Label search, exact label, sorting.
	if a := b.get("/ui/credentials?q=team%3Dbeta&sort=newest"); strings.Contains(a.body, ">bulk-00<") || !strings.Contains(a.body, ">bulk-59<") ||
		strings.Index(a.body, ">bulk-59<") > strings.Index(a.body, ">bulk-01<") {
		t.Error("team=beta, newest first: wrong rows or order")
	}
	if a := b.get("/ui/credentials?q=BULK-4"); !strings.Contains(a.body, ">bulk-41<") || strings.Contains(a.body, ">bulk-31<") {
		t.Error("a name search is not a case-insensitive substring match")
	}
	// Lifecycle: bulk-07 has a one-day rotation period but was just created, so nothing is due; a
	// filter for rotation_due finds nothing, one for ok finds it.
	if a := b.get("/ui/credentials?q=bulk-07&lifecycle=rotation_due"); !strings.Contains(a.body, "No credentials match") {
		t.Error("lifecycle filter kept a credential that is ok")
	}
	if a := b.get("/ui/credentials?q=bulk-07&lifecycle=ok"); !strings.Contains(a.body, ">bulk-07<") {
		t.Error("lifecycle filter lost an ok credential")
	}
	if a := b.get("/ui/credentials?lifecycle=nope"); a.status != http.StatusUnprocessableEntity {
		t.Errorf("an unknown lifecycle status: %d", a.status)
	}
	// A policy made stricter after the keys were written: the credentials break it, the filter finds
	// them and the credential page says so.
	if _, err := svc.PutCredentialPolicy(ctx, h.admin, "", api.CredentialPolicyPut{AllowedProviders: []string{"anthropic"}}, 0); err != nil {
		t.Fatal(err)
	}
	a := b.get("/ui/credentials?violations=yes")
	if !strings.Contains(a.body, ">bulk-01<") || strings.Contains(a.body, ">claude<") || !strings.Contains(a.body, "breaks 1 policy rule") {
		t.Errorf("violations filter:\n%s", a.body)
	}
	if p := b.get("/ui/credentials/" + h.orgCred.ID); !strings.Contains(p.body, "breaks the scope") {
		t.Error("the credential page does not show its policy violations")
	}
	// The organisation's limit shows where it bites.
	if !strings.Contains(a.body, "holds 62 of at most 70 credentials") {
		t.Error("the limit is not shown once it bites")
	}
}

// The audit log filters by object, actor and action, and names objects.
func TestConsoleAuditFilters(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.signedIn(api.RoleViewer)
	a := b.get("/ui/audit?object=" + h.orgCred.ID)
	if !strings.Contains(a.body, ">openai-prod</a>") || strings.Contains(a.body, h.prjCred.ID+"</code>") {
		t.Errorf("object filter:\n%s", a.body)
	}
	a = b.get("/ui/audit?actor=alice&action=create&type=connection")
	if !strings.Contains(a.body, "chat-prod") || strings.Contains(a.body, "openai-prod</a>") {
		t.Errorf("actor, action and type filter:\n%s", a.body)
	}
	if a := b.get("/ui/audit?actor=nobody"); !strings.Contains(a.body, "No events match the filter") {
		t.Error("an actor with no events")
	}
}

func regexpAll(expr, s string) []string {
	var out []string
	for _, m := range regexp.MustCompile(expr).FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

// The policies page shows each scope's credential policy beside its model policy.
func TestConsoleShowsCredentialPolicies(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	if _, err := h.srv.Service().PutCredentialPolicy(context.Background(), h.admin, h.project.ID, api.CredentialPolicyPut{AllowedProviders: []string{"anthropic"}, MaxRotationPeriod: "30d", RequireVerification: true}, 0); err != nil {
		t.Fatal(err)
	}
	a := h.signedIn(api.RoleViewer).get("/ui/policies")
	for _, want := range []string{"Credential policies", "<code>anthropic</code>", "<code>30d</code>", "required", "violations=yes"} {
		if !strings.Contains(a.body, want) {
			t.Errorf("the policies page has no %q", want)
		}
	}
}
