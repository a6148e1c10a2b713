package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/federation/federationtest"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
)

// These tests sign in as a CI job would: no MODELKEYS_TOKEN anywhere, an identity token from the
// loopback test issuer, exchanged at the real server. They change the process environment, which the
// in-process provider reads, so they do not run in parallel.

// clearSignInEnv unsets every variable the provider signs in with, for the rest of the test.
func clearSignInEnv(t *testing.T) {
	t.Helper()
	for _, k := range []string{"MODELKEYS_TOKEN", envFederationRule, envOIDCToken, envOIDCTokenFile, envGitHubURL, envGitHubToken,
		envTFCToken, envGitLabCI, "MODELKEYS_ENDPOINT", "MODELKEYS_PROJECT"} {
		t.Setenv(k, "")
		_ = os.Unsetenv(k)
	}
}

// trust is what an administrator sets up: an identity provider for the issuer, a project, and rules.
type trust struct {
	iss      *federationtest.Issuer
	provider *api.IdentityProvider
	project  *api.Project
	rules    map[string]*api.FederationRule
}

func newTrust(t *testing.T, s *testServer, iss *federationtest.Issuer, ttl string) *trust {
	t.Helper()
	ctx := context.Background()
	tr := &trust{iss: iss, rules: map[string]*api.FederationRule{}}
	var err error
	tr.provider, err = s.Client.CreateIdentityProvider(ctx, api.IdentityProviderCreate{Name: "ci", Issuer: iss.URL(), Audiences: []string{"modelkeys"}})
	if err != nil {
		t.Fatal(err)
	}
	tr.project, err = s.Client.CreateProject(ctx, api.ProjectCreate{Name: "team"})
	if err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string]api.FederationRuleCreate{
		"apply":   {Role: api.RoleEditor, Conditions: map[string]string{"repository": "acme/infra", "ref": "refs/heads/main"}},
		"plan":    {Role: api.RoleViewer, Conditions: map[string]string{"repository": "acme/infra"}},
		"project": {Role: api.RoleEditor, Conditions: map[string]string{"repository": "acme/team"}, ProjectID: tr.project.ID},
	} {
		in.Name, in.IdentityProviderID, in.TokenTTL = name, tr.provider.ID, ttl
		r, err := s.Client.CreateFederationRule(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		tr.rules[name] = r
	}
	return tr
}

// mainBranch is an identity token of the main branch of acme/infra, for audience "modelkeys".
func (tr *trust) mainBranch() string {
	return tr.iss.Mint(map[string]any{"aud": "modelkeys", "repository": "acme/infra", "ref": "refs/heads/main", "sub": "repo:acme/infra:ref:refs/heads/main"})
}

// ciProvider is a provider block that signs in with a workload identity.
func ciProvider(s *testServer, alias, ruleID, extra string) string {
	a := ""
	if alias != "" {
		a = fmt.Sprintf("  alias = %q\n", alias)
	}
	return fmt.Sprintf(`
provider "modelkeys" {
%s  endpoint = %q
  workload_identity {
    federation_rule = %q
%s
  }
}
`, a, s.URL, ruleID, extra)
}

// TestAccWorkloadIdentity_endToEnd: an admin configuration trusts the issuer and creates a rule; a CI
// configuration with no stored token signs in under it and creates credentials; a long apply outlives
// several of its short-lived tokens; everything it did is audited with the rule and the job's claims.
//
// The two configurations run as two Terraform working directories, as they would in real life (an
// in-process provider serves every configuration of one Terraform run from one process, so two
// provider configurations in one run would share one client): the CI one runs inside the admin one's
// check, while the admin's objects exist.
func TestAccWorkloadIdentity_endToEnd(t *testing.T) {
	clearSignInEnv(t)
	iss := federationtest.NewIssuer(t)
	s := newTestServer(t, withLoopbackIssuers)
	admin := s.providerConfig() + fmt.Sprintf(`
resource "modelkeys_identity_provider" "ci" {
  name      = "github"
  issuer    = %q
  audiences = ["modelkeys"]
}

resource "modelkeys_federation_rule" "apply" {
  name                 = "infra-main"
  identity_provider_id = modelkeys_identity_provider.ci.id
  role                 = "editor"
  token_ttl            = "3s"
  conditions = {
    repository = "acme/infra"
    ref        = "refs/heads/main"
  }
}
`, iss.URL())
	job := func(ruleID string) string {
		return ciProvider(s, "", ruleID, `    token_source = "env"`) + fmt.Sprintf(`
resource "modelkeys_credential" "first" {
  name           = "ci-first"
  model_provider = "openai"
  api_key_wo     = %q
  api_key_wo_version = 1
  verify         = false
}

# Outlive the 3-second tokens: the credential after the pause needs a renewed one.
resource "terraform_data" "pause" {
  depends_on = [modelkeys_credential.first]
  provisioner "local-exec" {
    command = "sleep 5"
  }
}

resource "modelkeys_credential" "second" {
  depends_on     = [terraform_data.pause]
  name           = "ci-second"
  model_provider = "openai"
  api_key_wo     = %q
  api_key_wo_version = 1
  verify         = false
}
`, keyOne, keyTwo)
	}
	var subject string
	runJob := func(st *terraform.State) error {
		ruleID := st.RootModule().Resources["modelkeys_federation_rule.apply"].Primary.ID
		subject = iss.Mint(map[string]any{"aud": "modelkeys", "repository": "acme/infra", "ref": "refs/heads/main",
			"sub": "repo:acme/infra:ref:refs/heads/main", "run_id": "4242"})
		t.Setenv(envOIDCToken, subject)
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: protoV6Providers,
			CheckDestroy:             checkAllDestroyed(s),
			Steps: []resource.TestStep{{
				Config: job(ruleID),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("modelkeys_credential.first", plancheck.ResourceActionCreate),
						plancheck.ExpectResourceAction("modelkeys_credential.second", plancheck.ResourceActionCreate),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("modelkeys_credential.second", tfjsonpath.New("project_id"), knownvalue.Null()),
				},
				Check: resource.ComposeTestCheckFunc(
					func(*terraform.State) error { return auditedAsRule(s, ruleID, "ci-first", "ci-second") },
					func(*terraform.State) error { return logsHoldNone(s, subject) },
					stateHoldsNone(subject, keyOne, keyTwo),
				),
			}},
		})
		return nil
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		CheckDestroy:             checkAllDestroyed(s),
		Steps: []resource.TestStep{{
			Config: admin,
			Check:  runJob,
		}},
	})
}

// auditedAsRule: the creation of each credential named is audited with the rule as its actor and the
// job's claims.
func auditedAsRule(s *testServer, ruleID string, names ...string) error {
	page, err := s.Client.ListAuditEvents(context.Background(), 0, 1000)
	if err != nil {
		return err
	}
	creds, err := s.Client.ListAllCredentials(context.Background(), clientListAll())
	if err != nil {
		return err
	}
	idOf := map[string]string{}
	for _, c := range creds {
		idOf[c.Name] = c.ID
	}
	for _, name := range names {
		found := false
		for _, ev := range page.Items {
			if ev.ObjectID == idOf[name] && ev.Action == "create" {
				found = true
				if ev.ActorFederationRule != ruleID || ev.ActorClaims["repository"] != "acme/infra" {
					return fmt.Errorf("credential %s was created by %q (rule %q, claims %v), want rule %s", name, ev.Actor, ev.ActorFederationRule, ev.ActorClaims, ruleID)
				}
			}
		}
		if !found {
			return fmt.Errorf("no audit event for the creation of credential %s", name)
		}
	}
	return nil
}

// logsHoldNone: the server's log does not hold any of the tokens.
func logsHoldNone(s *testServer, tokens ...string) error {
	logs := string(s.Logs.Bytes())
	for _, tok := range tokens {
		if tok != "" && strings.Contains(logs, tok) {
			return fmt.Errorf("the server log holds an identity token")
		}
	}
	return nil
}

// A rule with a project_id confines its tokens: a credential in the organisation scope is refused
// clearly, one in the project is created.
func TestAccWorkloadIdentity_projectScope(t *testing.T) {
	clearSignInEnv(t)
	iss := federationtest.NewIssuer(t)
	s := newTestServer(t, withLoopbackIssuers)
	tr := newTrust(t, s, iss, "15m")
	t.Setenv(envOIDCToken, iss.Mint(map[string]any{"aud": "modelkeys", "repository": "acme/team"}))
	cred := func(project string) string {
		return ciProvider(s, "", tr.rules["project"].ID, `    token_source = "env"`) + fmt.Sprintf(`
resource "modelkeys_credential" "test" {
  name           = "team-key"
  model_provider = "openai"
  api_key        = %q
  verify         = false
  %s
}
`, keyOne, project)
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		CheckDestroy:             checkAllDestroyed(s),
		Steps: []resource.TestStep{
			{
				Config:      cred(""),
				ExpectError: wrappedText(`is confined to project ` + regexp.QuoteMeta(tr.project.ID) + ` by its federation rule, so it cannot reach the organisation.s own objects \(set project_id to its project\)`),
			},
			{
				Config: cred(fmt.Sprintf("project_id = %q", tr.project.ID)),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(credAddr, tfjsonpath.New("project_id"), knownvalue.StringExact(tr.project.ID)),
				},
			},
		},
	})
}

// A token the rule does not trust is refused at the provider's first request: the error names the
// source and what to check, and holds neither token.
func TestAccWorkloadIdentity_refused(t *testing.T) {
	clearSignInEnv(t)
	iss := federationtest.NewIssuer(t)
	s := newTestServer(t, withLoopbackIssuers)
	tr := newTrust(t, s, iss, "15m")
	cases := map[string]struct {
		token string
		want  []string
	}{
		"another repository": {iss.Mint(map[string]any{"aud": "modelkeys", "repository": "evil/fork", "ref": "refs/heads/main"}),
			[]string{"The modelkeys server refused the workload identity", `token_source = "env"`, "invalid_grant", "conditions"}},
		"wrong audience": {iss.Mint(map[string]any{"aud": "something-else", "repository": "acme/infra", "ref": "refs/heads/main"}),
			[]string{"refused", `token_source = "env"`, "audiences"}},
		"alg none": {iss.MintAlgNone(map[string]any{"aud": "modelkeys", "repository": "acme/infra", "ref": "refs/heads/main"}),
			[]string{"refused", `token_source = "env"`}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Setenv(envOIDCToken, tc.token)
			var got error
			resource.Test(t, resource.TestCase{
				PreCheck:                 func() { testAccPreCheck(t) },
				ProtoV6ProviderFactories: protoV6Providers,
				ErrorCheck: func(err error) error {
					got = err
					return nil
				},
				Steps: []resource.TestStep{{
					Config:   ciProvider(s, "", tr.rules["apply"].ID, `    token_source = "env"`) + `data "modelkeys_credentials" "all" {}`,
					PlanOnly: true,
				}},
			})
			if got == nil {
				t.Fatal("the plan signed in with a token the rule does not trust")
			}
			msg := strings.Join(strings.Fields(got.Error()), " ")
			t.Log(msg)
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error lacks %q:\n%s", w, msg)
				}
			}
			parts := strings.Split(tc.token, ".")
			for _, p := range parts {
				if len(p) > 8 && strings.Contains(got.Error(), p) {
					t.Fatalf("the error holds part of the identity token")
				}
			}
			if err := logsHoldNone(s, tc.token); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Every token source signs in against the real server: GitHub Actions (a loopback stand-in for its
// token endpoint), GitLab, HCP Terraform (plain and tagged), a file, a variable, and auto.
func TestAccWorkloadIdentity_tokenSources(t *testing.T) {
	clearSignInEnv(t)
	iss := federationtest.NewIssuer(t)
	s := newTestServer(t, withLoopbackIssuers)
	tr := newTrust(t, s, iss, "15m")
	rule := tr.rules["plan"].ID

	// GitHub's endpoint: mints for the audience asked, only to the job's request token.
	var asked []string
	gh := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer gh-request-token" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		aud := r.URL.Query().Get("audience")
		asked = append(asked, aud)
		_ = json.NewEncoder(w).Encode(map[string]string{"value": iss.Mint(map[string]any{"aud": aud, "repository": "acme/infra"})})
	}))
	t.Cleanup(gh.Close)
	file := filepath.Join(t.TempDir(), "oidc-token")
	if err := os.WriteFile(file, []byte(tr.mainBranch()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		block string
		env   map[string]string
	}{
		{"github_actions", `    token_source = "github_actions"` + "\n" + `    audience = "modelkeys"`,
			map[string]string{envGitHubURL: gh.URL + "/?api-version=2.0", envGitHubToken: "gh-request-token"}},
		{"gitlab", `    token_source = "gitlab"`, map[string]string{envGitLabCI: "true", envOIDCToken: tr.mainBranch()}},
		{"terraform_cloud", `    token_source = "terraform_cloud"`, map[string]string{envTFCToken: tr.mainBranch()}},
		{"terraform_cloud tagged", `    token_source = "terraform_cloud"` + "\n" + `    token_env = "TFC_WORKLOAD_IDENTITY_TOKEN_MODELKEYS"`,
			map[string]string{"TFC_WORKLOAD_IDENTITY_TOKEN_MODELKEYS": tr.mainBranch()}},
		{"file", `    token_source = "file"` + "\n" + fmt.Sprintf(`    token_file = %q`, file), nil},
		{"file from the environment", `    token_source = "file"`, map[string]string{envOIDCTokenFile: file}},
		{"env", `    token_source = "env"`, map[string]string{envOIDCToken: tr.mainBranch()}},
		// auto: GitHub Actions comes first when its variables are there, even with a token in the environment.
		{"auto", `    audience = "modelkeys"`, map[string]string{envGitHubURL: gh.URL + "/?api-version=2.0", envGitHubToken: "gh-request-token",
			envOIDCToken: "not-used"}},
		{"auto falls back to env", ``, map[string]string{envOIDCToken: tr.mainBranch()}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			resource.Test(t, resource.TestCase{
				PreCheck:                 func() { testAccPreCheck(t) },
				ProtoV6ProviderFactories: protoV6Providers,
				Steps: []resource.TestStep{{
					Config: ciProvider(s, "", rule, tc.block) + `data "modelkeys_credentials" "all" {}`,
					ConfigStateChecks: []statecheck.StateCheck{
						statecheck.ExpectKnownValue("data.modelkeys_credentials.all", tfjsonpath.New("credentials"), knownvalue.ListSizeExact(0)),
					},
				}},
			})
		})
	}
	for _, a := range asked {
		if a != "modelkeys" {
			t.Errorf("GitHub was asked for audience %q", a)
		}
	}
	if len(asked) == 0 && os.Getenv(resource.EnvTfAcc) != "" { // without TF_ACC every case skipped
		t.Error("GitHub's endpoint was never asked")
	}
}

// TestAccWorkloadIdentity_secretHygiene signs in through GitHub Actions' endpoint at TRACE level and
// finds none of the tokens in the logs of Terraform, the provider and the server, nor in the state:
// not the job's request token, not the identity token, not the exchanged modelkeys tokens.
func TestAccWorkloadIdentity_secretHygiene(t *testing.T) {
	clearSignInEnv(t)
	logPath := filepath.Join(t.TempDir(), "tf.log")
	t.Setenv("TF_LOG", "TRACE")
	t.Setenv("TF_ACC_LOG_PATH", logPath)
	iss := federationtest.NewIssuer(t)
	s := newTestServer(t, withLoopbackIssuers)
	tr := newTrust(t, s, iss, "2s") // short-lived: several exchanges in one run
	const requestToken = "gh-request-token-hygiene-5c1d9e7a3b"
	var (
		mu     sync.Mutex
		minted []string
	)
	gh := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+requestToken {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		tok := iss.Mint(map[string]any{"aud": r.URL.Query().Get("audience"), "repository": "acme/infra", "ref": "refs/heads/main"})
		mu.Lock()
		minted = append(minted, tok)
		mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]string{"value": tok})
	}))
	t.Cleanup(gh.Close)
	t.Setenv(envGitHubURL, gh.URL+"/?api-version=2.0")
	t.Setenv(envGitHubToken, requestToken)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		CheckDestroy:             checkAllDestroyed(s),
		Steps: []resource.TestStep{{
			Config: ciProvider(s, "", tr.rules["apply"].ID, `    audience = "modelkeys"`) + fmt.Sprintf(`
resource "modelkeys_credential" "test" {
  name           = "hygiene"
  model_provider = "openai"
  api_key        = %q
  verify         = false
}

resource "terraform_data" "pause" {
  depends_on = [modelkeys_credential.test]
  provisioner "local-exec" {
    command = "sleep 3"
  }
}

resource "modelkeys_project" "test" {
  depends_on = [terraform_data.pause]
  name       = "hygiene"
}
`, keyOne),
		}},
	})
	logs, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(logs), "exchanged the workload identity for a modelkeys token") {
		t.Fatal("the TRACE log lacks the provider's exchange line: the logs were not captured, so the scan proves nothing")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(minted) < 2 {
		t.Fatalf("%d identity tokens asked for: the run did not renew its 2-second token", len(minted))
	}
	exchanged := regexp.MustCompile(regexp.QuoteMeta(service.ExchangedTokenPrefix) + `[A-Za-z0-9_-]{8,}`)
	for where, b := range map[string][]byte{"terraform and provider logs": logs, "server logs": s.Logs.Bytes()} {
		for _, tok := range append([]string{requestToken}, minted...) {
			if strings.Contains(string(b), tok) {
				t.Errorf("%s hold a token", where)
			}
			if sig := tok[strings.LastIndex(tok, ".")+1:]; len(sig) > 16 && strings.Contains(string(b), sig) {
				t.Errorf("%s hold an identity token's signature", where)
			}
		}
		if m := exchanged.Find(b); m != nil {
			t.Errorf("%s hold an exchanged token (%d characters of mkx_...)", where, len(m))
		}
	}
}

// A rule deleted while a run uses it ends the run's token: the next request, and the fresh exchange it
// tries, are refused, and the error says so instead of a bare 401.
func TestAccWorkloadIdentity_ruleDeletedMidRun(t *testing.T) {
	clearSignInEnv(t)
	iss := federationtest.NewIssuer(t)
	s := newTestServer(t, withLoopbackIssuers)
	tr := newTrust(t, s, iss, "15m")
	t.Setenv(envOIDCToken, tr.mainBranch())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	deleted := make(chan error, 1)
	go func() {
		// As soon as the first credential exists, an administrator deletes the rule.
		for ctx.Err() == nil {
			if creds, err := s.Client.ListAllCredentials(ctx, clientListAll()); err == nil && len(creds) > 0 {
				deleted <- s.Client.DeleteFederationRule(ctx, tr.rules["apply"].ID, 0)
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		CheckDestroy:             checkAllDestroyed(s),
		Steps: []resource.TestStep{{
			Config: ciProvider(s, "", tr.rules["apply"].ID, `    token_source = "env"`) + fmt.Sprintf(`
resource "modelkeys_credential" "first" {
  name           = "first"
  model_provider = "openai"
  api_key        = %q
  verify         = false
}

resource "terraform_data" "pause" {
  depends_on = [modelkeys_credential.first]
  provisioner "local-exec" {
    command = "sleep 2"
  }
}

resource "modelkeys_project" "after" {
  depends_on = [terraform_data.pause]
  name       = "after"
}
`, keyOne),
			ExpectError: wrappedText(`workload identity \(token_source = "env"\): the modelkeys server refused the identity token`),
		}, {
			PreConfig: func() {
				if ps, err := s.Client.ListAllProjects(context.Background(), client.ProjectListOptions{Name: "after"}); err != nil || len(ps) != 0 {
					t.Fatalf("the project was created after the rule was deleted (%v)", err)
				}
			},
			// The administrator takes over what the run left, so the test's destroy can run.
			Config: s.providerConfig() + fmt.Sprintf(`
resource "modelkeys_credential" "first" {
  name           = "first"
  model_provider = "openai"
  api_key        = %q
  verify         = false
}
`, keyOne),
		}},
	})
	if err := <-deleted; err != nil {
		t.Fatal(err)
	}
}
