package provider

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

// fakeJWT is a token shaped like a JWT with the given claims and a bogus signature: the provider only
// reads its claims to fail early; the server verifies it.
func fakeJWT(t *testing.T, claims map[string]any) string {
	t.Helper()
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","kid":"k1"}`))
	b, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return h + "." + base64.RawURLEncoding.EncodeToString(b) + ".SECRET-signature"
}

func liveJWT(t *testing.T, aud string) string {
	return fakeJWT(t, map[string]any{"iss": "https://issuer.example", "sub": "repo:acme/infra", "aud": aud, "exp": time.Now().Add(10 * time.Minute).Unix()})
}

type envMap map[string]string

func (e envMap) get(k string) string { return e[k] }

var wiAttrTypes = map[string]attr.Type{
	"federation_rule": types.StringType, "token_source": types.StringType, "token_file": types.StringType,
	"token_env": types.StringType, "audience": types.StringType,
}

// wiBlock is a workload_identity block with the given attributes set (the rest null).
func wiBlock(t *testing.T, set map[string]string) types.Object {
	t.Helper()
	vals := map[string]attr.Value{}
	for k := range wiAttrTypes {
		vals[k] = types.StringNull()
		if v, ok := set[k]; ok {
			vals[k] = types.StringValue(v)
		}
	}
	o, d := types.ObjectValue(wiAttrTypes, vals)
	if d.HasError() {
		t.Fatal(d)
	}
	return o
}

func resolveWI(t *testing.T, block types.Object, token string, env envMap) (*workloadIdentity, diag.Diagnostics) {
	t.Helper()
	var diags diag.Diagnostics
	w := resolveWorkloadIdentity(context.Background(), block, token, env.get, &diags)
	return w, diags
}

func TestResolveWorkloadIdentity(t *testing.T) {
	null := types.ObjectNull(wiAttrTypes)
	t.Run("not used", func(t *testing.T) {
		if w, d := resolveWI(t, null, "static", envMap{}); w != nil || d.HasError() {
			t.Fatalf("%v %v", w, d)
		}
	})
	t.Run("environment only", func(t *testing.T) {
		w, d := resolveWI(t, null, "", envMap{envFederationRule: "fr_env"})
		if d.HasError() || w == nil || w.ruleID != "fr_env" || w.source != sourceAuto {
			t.Fatalf("%+v %v", w, d)
		}
	})
	t.Run("block overrides environment", func(t *testing.T) {
		w, d := resolveWI(t, wiBlock(t, map[string]string{"federation_rule": "fr_cfg", "token_source": "file", "token_file": "/tmp/x"}), "",
			envMap{envFederationRule: "fr_env", envOIDCTokenFile: "/tmp/y"})
		if d.HasError() || w.ruleID != "fr_cfg" || w.source != sourceFile || w.tokenFile != "/tmp/x" {
			t.Fatalf("%+v %v", w, d)
		}
	})
	for name, tc := range map[string]struct {
		block types.Object
		token string
		env   envMap
		want  string
	}{
		"block and MODELKEYS_TOKEN": {wiBlock(t, map[string]string{"federation_rule": "fr_1"}), "static", envMap{}, "Unset MODELKEYS_TOKEN"},
		"rule env and a token":      {null, "static", envMap{envFederationRule: "fr_1"}, "MODELKEYS_FEDERATION_RULE is set in the environment and so is a token"},
		"no rule":                   {wiBlock(t, map[string]string{"token_source": "env"}), "", envMap{}, "set federation_rule (fr_...) or MODELKEYS_FEDERATION_RULE"},
		"file without a file":       {wiBlock(t, map[string]string{"federation_rule": "fr_1", "token_source": "file"}), "", envMap{}, "token_file (or MODELKEYS_OIDC_TOKEN_FILE)"},
	} {
		t.Run(name, func(t *testing.T) {
			w, d := resolveWI(t, tc.block, tc.token, tc.env)
			if w != nil || !d.HasError() {
				t.Fatalf("want an error, got %+v", w)
			}
			if msg := d[0].Detail(); !strings.Contains(msg, tc.want) || strings.Contains(msg, "static") {
				t.Fatalf("error %q, want it to say %q and not show the token", msg, tc.want)
			}
		})
	}
}

// newWI is a resolved workload identity over env, for the token source tests.
func newWI(t *testing.T, set map[string]string, env envMap) *workloadIdentity {
	t.Helper()
	if set == nil {
		set = map[string]string{}
	}
	set["federation_rule"] = "fr_1"
	w, d := resolveWI(t, wiBlock(t, set), "", env)
	if d.HasError() {
		t.Fatal(d)
	}
	return w
}

// githubEndpoint stands in for GitHub Actions' ID token endpoint on loopback.
type githubEndpoint struct {
	*httptest.Server
	calls     atomic.Int32
	audiences chan string
	failFirst int32
	status    int
}

func newGitHubEndpoint(t *testing.T, token string) *githubEndpoint {
	t.Helper()
	g := &githubEndpoint{audiences: make(chan string, 10), status: http.StatusOK}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := g.calls.Add(1)
		if r.Header.Get("Authorization") != "Bearer gh-request-token-SECRET" || r.URL.Query().Get("api-version") != "2.0" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		g.audiences <- r.URL.Query().Get("audience")
		if n <= g.failFirst {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		if g.status != http.StatusOK {
			w.WriteHeader(g.status)
			_, _ = w.Write([]byte(`{"message":"echo gh-request-token-SECRET"}`))
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"value": token, "count": "1"})
	}))
	t.Cleanup(g.Close)
	return g
}

func (g *githubEndpoint) env() envMap {
	return envMap{envGitHubURL: g.URL + "/token?api-version=2.0", envGitHubToken: "gh-request-token-SECRET"}
}

func TestWorkloadIdentityGitHubActions(t *testing.T) {
	ctx := context.Background()
	tok := liveJWT(t, "modelkeys")
	t.Run("asks with the request token and the audience", func(t *testing.T) {
		g := newGitHubEndpoint(t, tok)
		g.failFirst = 1 // a hiccup of GitHub's endpoint is retried
		w := newWI(t, map[string]string{"token_source": "github_actions", "audience": "modelkeys"}, g.env())
		got, used, err := w.subjectToken(ctx)
		if err != nil || got != tok || used != sourceGitHubActions {
			t.Fatalf("%q %q %v", got, used, err)
		}
		if a := <-g.audiences; a != "modelkeys" {
			t.Errorf("audience %q", a)
		}
		if g.calls.Load() != 2 {
			t.Errorf("%d calls, want 2 (one retry)", g.calls.Load())
		}
	})
	t.Run("refused", func(t *testing.T) {
		g := newGitHubEndpoint(t, tok)
		g.status = http.StatusForbidden
		w := newWI(t, map[string]string{"token_source": "github_actions", "audience": "modelkeys"}, g.env())
		_, _, err := w.subjectToken(ctx)
		checkIdentityErr(t, err, `token_source = "github_actions"`, "HTTP 403", "permissions: id-token: write")
		if g.calls.Load() != 1 {
			t.Errorf("a 403 was retried (%d calls)", g.calls.Load())
		}
	})
	t.Run("not in a job with id-token: write", func(t *testing.T) {
		w := newWI(t, map[string]string{"token_source": "github_actions"}, envMap{})
		_, _, err := w.subjectToken(ctx)
		checkIdentityErr(t, err, "ACTIONS_ID_TOKEN_REQUEST_URL or ACTIONS_ID_TOKEN_REQUEST_TOKEN is not set", "permissions: id-token: write")
	})
}

func TestWorkloadIdentityEnvironmentSources(t *testing.T) {
	ctx := context.Background()
	tok := liveJWT(t, "modelkeys")
	cases := map[string]struct {
		set  map[string]string
		env  envMap
		want string // error text; "" for success
	}{
		"env":                      {map[string]string{"token_source": "env"}, envMap{envOIDCToken: tok}, ""},
		"env with token_env":       {map[string]string{"token_source": "env", "token_env": "MY_JWT"}, envMap{"MY_JWT": tok}, ""},
		"env missing":              {map[string]string{"token_source": "env"}, envMap{}, "MODELKEYS_OIDC_TOKEN is not set"},
		"gitlab":                   {map[string]string{"token_source": "gitlab"}, envMap{envOIDCToken: tok, envGitLabCI: "true"}, ""},
		"gitlab with its own name": {map[string]string{"token_source": "gitlab", "token_env": "GITLAB_OIDC"}, envMap{"GITLAB_OIDC": tok}, ""},
		"gitlab missing":           {map[string]string{"token_source": "gitlab"}, envMap{envGitLabCI: "true"}, "id_tokens: MODELKEYS_OIDC_TOKEN: aud"},
		"terraform_cloud":          {map[string]string{"token_source": "terraform_cloud"}, envMap{envTFCToken: tok}, ""},
		"terraform_cloud tagged":   {map[string]string{"token_source": "terraform_cloud", "token_env": "TFC_WORKLOAD_IDENTITY_TOKEN_MODELKEYS"}, envMap{"TFC_WORKLOAD_IDENTITY_TOKEN_MODELKEYS": tok}, ""},
		"terraform_cloud missing":  {map[string]string{"token_source": "terraform_cloud"}, envMap{}, "TFC_WORKLOAD_IDENTITY_AUDIENCE"},
		"audience checked":         {map[string]string{"token_source": "env", "audience": "other"}, envMap{envOIDCToken: tok}, `audience is "modelkeys", not "other"`},
		"expired":                  {map[string]string{"token_source": "env"}, envMap{envOIDCToken: fakeJWT(t, map[string]any{"exp": time.Now().Add(-time.Hour).Unix()})}, "expired at"},
		"not a JWT":                {map[string]string{"token_source": "env"}, envMap{envOIDCToken: "SECRET-opaque"}, "not a JWT"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			w := newWI(t, tc.set, tc.env)
			got, used, err := w.subjectToken(ctx)
			if err == nil {
				err = w.precheck(used, got)
			}
			if tc.want == "" {
				if err != nil || got != tok {
					t.Fatalf("%q %v", got, err)
				}
				return
			}
			checkIdentityErr(t, err, tc.want)
		})
	}
}

func TestWorkloadIdentityFileIsReadAtEachRenewal(t *testing.T) {
	file := filepath.Join(t.TempDir(), "token")
	first, second := liveJWT(t, "a"), liveJWT(t, "b")
	if err := os.WriteFile(file, []byte(first+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	w := newWI(t, map[string]string{"token_source": "file", "token_file": file}, envMap{})
	if got, _, err := w.subjectToken(context.Background()); err != nil || got != first {
		t.Fatalf("%q %v", got, err)
	}
	if err := os.WriteFile(file, []byte(second), 0o600); err != nil { // the platform renewed it
		t.Fatal(err)
	}
	if got, _, err := w.subjectToken(context.Background()); err != nil || got != second {
		t.Fatalf("after renewal %q %v", got, err)
	}
	w = newWI(t, map[string]string{"token_source": "file", "token_file": filepath.Join(t.TempDir(), "missing")}, envMap{})
	_, _, err := w.subjectToken(context.Background())
	checkIdentityErr(t, err, `token_source = "file"`, "cannot read token_file", "no such file")
}

func TestWorkloadIdentityAutoOrder(t *testing.T) {
	ctx := context.Background()
	gh, tfc, file, env := liveJWT(t, "gh"), liveJWT(t, "tfc"), liveJWT(t, "file"), liveJWT(t, "env")
	g := newGitHubEndpoint(t, gh)
	path := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	all := envMap{envTFCToken: tfc, envOIDCTokenFile: path, envOIDCToken: env, envGitLabCI: "true"}
	for k, v := range g.env() {
		all[k] = v
	}
	without := func(keys ...string) envMap {
		m := envMap{}
		for k, v := range all {
			m[k] = v
		}
		for _, k := range keys {
			delete(m, k)
		}
		return m
	}
	steps := []struct {
		env  envMap
		want string
		tok  string
	}{
		{all, sourceGitHubActions, gh},
		{without(envGitHubURL), sourceGitLab, env}, // GitLab's id_tokens variable is MODELKEYS_OIDC_TOKEN by convention
		{without(envGitHubURL, envGitLabCI), sourceTerraformCloud, tfc},
		{without(envGitHubURL, envGitLabCI, envTFCToken), sourceFile, file},
		{without(envGitHubURL, envGitLabCI, envTFCToken, envOIDCTokenFile), sourceEnv, env},
	}
	for _, s := range steps {
		w := newWI(t, nil, s.env)
		got, used, err := w.subjectToken(ctx)
		if err != nil || used != s.want || got != s.tok {
			t.Errorf("auto with %d variables: used %q (%v), want %q", len(s.env), used, err, s.want)
		}
	}
	w := newWI(t, nil, envMap{})
	_, _, err := w.subjectToken(ctx)
	checkIdentityErr(t, err, `token_source = "auto"`, "found no identity token", "GitHub Actions (ACTIONS_ID_TOKEN_REQUEST_URL)",
		"HCP Terraform (TFC_WORKLOAD_IDENTITY_TOKEN)", "permissions: id-token: write")
}

// checkIdentityErr: err is an identityError that says each of want and shows no token.
func checkIdentityErr(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("want an error")
	}
	var ie *identityError
	if !asIdentityError(err, &ie) {
		t.Fatalf("want an identityError, got %T: %v", err, err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q: %v", w, err)
		}
	}
	if strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), "eyJ") {
		t.Errorf("error shows a token: %v", err)
	}
}

func asIdentityError(err error, target **identityError) bool {
	ie, ok := err.(*identityError)
	if ok {
		*target = ie
	}
	return ok
}

// The static token and a workload identity cannot be configured together: terraform validate and
// plan refuse it before anything is sent.
func TestAccWorkloadIdentity_conflictsWithToken(t *testing.T) {
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		Steps: []resource.TestStep{{
			Config: `
provider "modelkeys" {
  endpoint = "http://127.0.0.1:1"
  token    = "mk_static"
  workload_identity {
    federation_rule = "fr_1"
    token_source    = "env"
  }
}

data "modelkeys_providers" "all" {}
`,
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(`(?s)Invalid Attribute Combination.*token.*workload_identity`),
		}},
	})
}
