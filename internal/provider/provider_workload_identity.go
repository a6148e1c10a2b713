package provider

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/providervalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
)

// Workload identity: instead of a stored MODELKEYS_TOKEN, the provider takes the OpenID Connect token
// its CI system or Terraform platform hands the run, trades it at the server's /v1/oauth/token for a
// short-lived modelkeys token under a federation rule, and renews that token before it expires. The
// identity token is read anew at each renewal (a file or an endpoint may have a newer one) and never
// logged, stored or put in an error.

var _ provider.ProviderWithConfigValidators = (*modelkeysProvider)(nil)

// Token sources of the workload_identity block.
const (
	sourceAuto           = "auto"
	sourceGitHubActions  = "github_actions"
	sourceGitLab         = "gitlab"
	sourceTerraformCloud = "terraform_cloud"
	sourceFile           = "file"
	sourceEnv            = "env"
)

// autoOrder is the order in which token_source = "auto" looks for an identity.
var autoOrder = []string{sourceGitHubActions, sourceGitLab, sourceTerraformCloud, sourceFile, sourceEnv}

// Environment variables of the workload identity.
const (
	envFederationRule = "MODELKEYS_FEDERATION_RULE"
	envOIDCToken      = "MODELKEYS_OIDC_TOKEN"
	envOIDCTokenFile  = "MODELKEYS_OIDC_TOKEN_FILE"
	envGitHubURL      = "ACTIONS_ID_TOKEN_REQUEST_URL"
	envGitHubToken    = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
	envTFCToken       = "TFC_WORKLOAD_IDENTITY_TOKEN"
	envGitLabCI       = "GITLAB_CI"
)

// maxIdentityTokenBytes bounds an identity token read from a file or an endpoint.
const maxIdentityTokenBytes = 64 << 10

type workloadIdentityModel struct {
	FederationRule types.String `tfsdk:"federation_rule"`
	TokenSource    types.String `tfsdk:"token_source"`
	TokenFile      types.String `tfsdk:"token_file"`
	TokenEnv       types.String `tfsdk:"token_env"`
	Audience       types.String `tfsdk:"audience"`
}

// envNameRE is an environment variable name as shells write them.
var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func workloadIdentityBlock() schema.Block {
	return schema.SingleNestedBlock{
		MarkdownDescription: "Sign in without a stored token: the provider takes the OpenID Connect identity token that the CI system or Terraform platform " +
			"gives the run (GitHub Actions, GitLab CI, HCP Terraform, a file or a variable), exchanges it at the server for a short-lived token under a " +
			"`modelkeys_federation_rule`, and renews that token before it expires, so a long apply does not stop half-way. " +
			"Cannot be combined with `token` (nor with `MODELKEYS_TOKEN` in the environment). Setting `MODELKEYS_FEDERATION_RULE` without this block " +
			"and without a token signs in the same way, with `token_source = \"auto\"`.",
		Attributes: map[string]schema.Attribute{
			"federation_rule": schema.StringAttribute{
				MarkdownDescription: "Id of the `workload` federation rule to sign in under (`fr_...`); the rule decides the role, the project and how long the " +
					"exchanged token lives. Environment: `" + envFederationRule + "`.",
				Optional: true,
			},
			"token_source": schema.StringAttribute{
				MarkdownDescription: "Where the identity token comes from. `github_actions`: asked from GitHub's token endpoint (`" + envGitHubURL + "` and `" + envGitHubToken +
					"`, which a job gets with `permissions: id-token: write`), for `audience`. `gitlab`: the variable that the job's `id_tokens:` keyword sets; name it `" + envOIDCToken +
					"` there, or set `token_env`. `terraform_cloud`: `" + envTFCToken + "`, which HCP Terraform sets when the workspace has `TFC_WORKLOAD_IDENTITY_AUDIENCE`; for a tagged " +
					"token (`TFC_WORKLOAD_IDENTITY_AUDIENCE_<TAG>`) set `token_env = \"TFC_WORKLOAD_IDENTITY_TOKEN_<TAG>\"`. `file`: read from `token_file`. " +
					"`env`: `" + envOIDCToken + "` (or `token_env`). `auto`, the default, tries them in this order and uses the first one present " +
					"(the provider's debug log says which).",
				Optional:   true,
				Validators: []validator.String{stringvalidator.OneOf(sourceAuto, sourceGitHubActions, sourceGitLab, sourceTerraformCloud, sourceFile, sourceEnv)},
			},
			"token_file": schema.StringAttribute{
				MarkdownDescription: "File holding the identity token, for `token_source = \"file\"` (and `auto`); read again at each renewal, so a platform that rotates " +
					"the file (a Kubernetes projected service account token) works. Environment: `" + envOIDCTokenFile + "`.",
				Optional: true,
			},
			"token_env": schema.StringAttribute{
				MarkdownDescription: "Name of the environment variable holding the identity token, for `env`, `gitlab` and `terraform_cloud`. Defaults to `" + envOIDCToken +
					"` for `env` and `gitlab` and to `" + envTFCToken + "` for `terraform_cloud`.",
				Optional:   true,
				Validators: []validator.String{stringvalidator.RegexMatches(envNameRE, "must be an environment variable name: letters, digits and underscores, not starting with a digit")},
			},
			"audience": schema.StringAttribute{
				MarkdownDescription: "The audience (`aud`) to ask for with `github_actions`; it must be one of the identity provider's `audiences`. Omitted: GitHub's default, " +
					"`https://github.com/OWNER`. With the other sources the token's audience was chosen where it was made (`id_tokens:` `aud`, " +
					"`TFC_WORKLOAD_IDENTITY_AUDIENCE`); when set, the provider checks that the token carries it and says so before asking the server.",
				Optional: true,
			},
		},
	}
}

// ConfigValidators: a static token and a workload identity are two ways to sign in; which one a run
// uses must not depend on a precedence rule nobody remembers, so both together fail at plan.
func (p *modelkeysProvider) ConfigValidators(context.Context) []provider.ConfigValidator {
	return []provider.ConfigValidator{
		providervalidator.Conflicting(path.MatchRoot("token"), path.MatchRoot("workload_identity")),
	}
}

// workloadIdentity is a resolved workload_identity configuration.
type workloadIdentity struct {
	ruleID    string
	source    string // one of the sources; auto when not set
	tokenFile string
	tokenEnv  string
	audience  string

	getenv     func(string) string
	httpClient *http.Client // for GitHub's token endpoint
	client     atomic.Pointer[client.Client]
	lastUsed   atomic.Value // string: the source the last identity token came from
}

// resolveWorkloadIdentity reads the workload_identity block and its environment variables. It returns
// nil when the provider signs in some other way. staticToken is the token from config or environment.
func resolveWorkloadIdentity(ctx context.Context, block types.Object, staticToken string, getenv func(string) string, diags *diag.Diagnostics) *workloadIdentity {
	var m workloadIdentityModel
	if workloadIdentityUnknown(block) {
		return nil // Configure says so and configures on the next run
	}
	present := !block.IsNull()
	if present {
		diags.Append(block.As(ctx, &m, basetypes.ObjectAsOptions{})...)
		if diags.HasError() {
			return nil
		}
	}
	envRule := getenv(envFederationRule)
	if !present && envRule == "" {
		return nil
	}
	if staticToken != "" {
		// The config's token with the block is refused at validation; this is the environment's.
		if present {
			diags.AddAttributeError(path.Root("workload_identity"), "Two ways to sign in",
				"workload_identity is set and so is MODELKEYS_TOKEN in the environment: the provider would not know which to use. "+
					"Unset MODELKEYS_TOKEN in this run (a workload identity needs no stored token), or remove the workload_identity block.")
		} else {
			diags.AddAttributeError(path.Root("token"), "Two ways to sign in",
				envFederationRule+" is set in the environment and so is a token (token or MODELKEYS_TOKEN): the provider would not know which to use. "+
					"Unset one of them.")
		}
		return nil
	}
	w := &workloadIdentity{
		ruleID:    stringOrEnvWith(m.FederationRule, envRule),
		source:    sourceAuto,
		tokenFile: stringOrEnvWith(m.TokenFile, getenv(envOIDCTokenFile)),
		tokenEnv:  m.TokenEnv.ValueString(),
		audience:  m.Audience.ValueString(),
		getenv:    getenv,
		httpClient: &http.Client{
			Timeout: 30 * time.Second,
			// GitHub's endpoint answers directly; a redirect would carry the request token elsewhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	if v := m.TokenSource.ValueString(); v != "" {
		w.source = v
	}
	if w.ruleID == "" {
		diags.AddAttributeError(path.Root("workload_identity").AtName("federation_rule"), "No federation rule",
			"workload_identity needs the id of the federation rule to sign in under: set federation_rule (fr_...) or "+envFederationRule+". "+
				"An administrator creates the rule with the modelkeys_federation_rule resource.")
		return nil
	}
	if w.source == sourceFile && w.tokenFile == "" {
		diags.AddAttributeError(path.Root("workload_identity").AtName("token_file"), "No token file",
			`token_source = "file" reads the identity token from token_file (or `+envOIDCTokenFile+`); set one of them.`)
		return nil
	}
	tflog.Debug(ctx, "signing in with a workload identity", map[string]any{"federation_rule": w.ruleID, "token_source": w.source})
	return w
}

// workloadIdentityUnknown reports a workload_identity block with a value known only after apply (a
// federation rule created in the same run, say).
func workloadIdentityUnknown(block types.Object) bool {
	if block.IsUnknown() {
		return true
	}
	for _, v := range block.Attributes() {
		if v.IsUnknown() {
			return true
		}
	}
	return false
}

// stringOrEnvWith is the configured value, else env (already read).
func stringOrEnvWith(v types.String, env string) string {
	if !v.IsNull() && !v.IsUnknown() && v.ValueString() != "" {
		return v.ValueString()
	}
	return env
}

// identityError is a failure to get or exchange an identity token: it names the source and says what
// to check, and never holds a token.
type identityError struct {
	source string // the source tried, or "auto"
	msg    string
	err    error // an *client.ExchangeError or a transport error, when there is one
}

func (e *identityError) Error() string {
	s := "workload identity (token_source = " + strconv.Quote(e.source) + "): " + e.msg
	if e.err != nil {
		s += ": " + e.err.Error()
	}
	return s
}

func (e *identityError) Unwrap() error { return e.err }

func (w *workloadIdentity) fail(source, format string, args ...any) error {
	return &identityError{source: source, msg: fmt.Sprintf(format, args...)}
}

// tokenSource returns the client's token source: exchanged tokens, cached and renewed. bind must be
// called with the client before the first request.
func (w *workloadIdentity) tokenSource() client.TokenSource {
	return client.NewCachingTokenSource(w.exchange)
}

func (w *workloadIdentity) bind(c *client.Client) { w.client.Store(c) }

// exchange gets an identity token and trades it for a modelkeys token.
func (w *workloadIdentity) exchange(ctx context.Context) (client.ExpiringToken, error) {
	c := w.client.Load()
	if c == nil {
		return client.ExpiringToken{}, errors.New("workload identity: the provider is not configured yet")
	}
	subject, used, err := w.subjectToken(ctx)
	if err != nil {
		return client.ExpiringToken{}, err
	}
	if err := w.precheck(used, subject); err != nil {
		return client.ExpiringToken{}, err
	}
	started := time.Now()
	res, err := c.ExchangeToken(ctx, w.ruleID, subject)
	if err != nil {
		msg := "the exchange of the identity token at the modelkeys server failed"
		if client.IsExchangeRefused(err) {
			msg = "the modelkeys server refused the identity token"
		}
		return client.ExpiringToken{}, &identityError{source: used, msg: msg, err: err}
	}
	tflog.Debug(ctx, "exchanged the workload identity for a modelkeys token", map[string]any{
		"token_source": used, "federation_rule": w.ruleID, "expires_in": res.ExpiresIn,
	})
	return client.ExpiringToken{Token: res.AccessToken, Expiry: started.Add(time.Duration(res.ExpiresIn) * time.Second)}, nil
}

// subjectToken reads the identity token from the configured source, or with auto from the first
// source present, and says which one it used.
func (w *workloadIdentity) subjectToken(ctx context.Context) (token, used string, err error) {
	if w.source != sourceAuto {
		tok, err := w.from(ctx, w.source)
		return tok, w.source, err
	}
	var looked []string
	for _, src := range autoOrder {
		if !w.present(src) {
			looked = append(looked, w.describe(src))
			continue
		}
		tok, err := w.from(ctx, src)
		if err != nil {
			return "", src, err
		}
		if prev, _ := w.lastUsed.Load().(string); prev != src {
			tflog.Debug(ctx, "workload identity: token_source auto uses "+src, map[string]any{"token_source": src})
			w.lastUsed.Store(src)
		}
		return tok, src, nil
	}
	return "", sourceAuto, w.fail(sourceAuto, "found no identity token; looked for %s. In GitHub Actions give the job `permissions: id-token: write`; "+
		"in GitLab CI add `id_tokens: %s: aud: ...` to the job; in HCP Terraform set TFC_WORKLOAD_IDENTITY_AUDIENCE on the workspace; elsewhere set %s or %s",
		strings.Join(looked, ", "), w.envFor(sourceGitLab), envOIDCToken, envOIDCTokenFile)
}

// envFor is the variable a source reads its token from.
func (w *workloadIdentity) envFor(src string) string {
	if w.tokenEnv != "" {
		return w.tokenEnv
	}
	if src == sourceTerraformCloud {
		return envTFCToken
	}
	return envOIDCToken
}

// present reports whether a source has an identity to offer here, for auto.
func (w *workloadIdentity) present(src string) bool {
	switch src {
	case sourceGitHubActions:
		return w.getenv(envGitHubURL) != "" && w.getenv(envGitHubToken) != ""
	case sourceGitLab:
		return w.getenv(envGitLabCI) != "" && w.getenv(w.envFor(src)) != ""
	case sourceTerraformCloud:
		return w.getenv(w.envFor(src)) != ""
	case sourceFile:
		return w.tokenFile != ""
	case sourceEnv:
		return w.getenv(w.envFor(src)) != ""
	}
	return false
}

func (w *workloadIdentity) describe(src string) string {
	switch src {
	case sourceGitHubActions:
		return "GitHub Actions (" + envGitHubURL + ")"
	case sourceGitLab:
		return "GitLab CI (" + envGitLabCI + " and " + w.envFor(src) + ")"
	case sourceTerraformCloud:
		return "HCP Terraform (" + w.envFor(src) + ")"
	case sourceFile:
		return "a token file (token_file or " + envOIDCTokenFile + ")"
	default:
		return w.envFor(src)
	}
}

// from reads the identity token of one source.
func (w *workloadIdentity) from(ctx context.Context, src string) (string, error) {
	switch src {
	case sourceGitHubActions:
		return w.fromGitHub(ctx)
	case sourceGitLab:
		name := w.envFor(src)
		if tok := strings.TrimSpace(w.getenv(name)); tok != "" {
			return tok, nil
		}
		return "", w.fail(src, "%s is not set: give the job `id_tokens: %s: aud: AUDIENCE` in .gitlab-ci.yml, with an audience of the identity provider "+
			"(or name the variable in token_env)", name, name)
	case sourceTerraformCloud:
		name := w.envFor(src)
		if tok := strings.TrimSpace(w.getenv(name)); tok != "" {
			return tok, nil
		}
		return "", w.fail(src, "%s is not set: HCP Terraform sets it in runs of a workspace with the variable TFC_WORKLOAD_IDENTITY_AUDIENCE "+
			"(TFC_WORKLOAD_IDENTITY_AUDIENCE_<TAG> sets TFC_WORKLOAD_IDENTITY_TOKEN_<TAG>; name that one in token_env), "+
			"on HCP Terraform or on agents of version 1.7 or later", name)
	case sourceFile:
		return w.fromFile(src)
	case sourceEnv:
		name := w.envFor(src)
		if tok := strings.TrimSpace(w.getenv(name)); tok != "" {
			return tok, nil
		}
		return "", w.fail(src, "%s is not set: put the identity token (a JWT) in it, or name another variable in token_env", name)
	}
	return "", w.fail(src, "unknown token_source")
}

func (w *workloadIdentity) fromFile(src string) (string, error) {
	if w.tokenFile == "" {
		return "", w.fail(src, "no token_file (or %s) is set", envOIDCTokenFile)
	}
	f, err := os.Open(w.tokenFile)
	if err != nil {
		// The path and the reason (not found, permission): the file's contents are not in it.
		return "", w.fail(src, "cannot read token_file: %v", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxIdentityTokenBytes+1))
	if err != nil {
		return "", w.fail(src, "cannot read token_file %s: %v", w.tokenFile, err)
	}
	if len(b) > maxIdentityTokenBytes {
		return "", w.fail(src, "token_file %s is larger than %d bytes: it does not hold one identity token", w.tokenFile, maxIdentityTokenBytes)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", w.fail(src, "token_file %s is empty", w.tokenFile)
	}
	return tok, nil
}

// fromGitHub asks GitHub Actions' token endpoint for an ID token with the configured audience.
func (w *workloadIdentity) fromGitHub(ctx context.Context) (string, error) {
	const src = sourceGitHubActions
	reqURL, reqToken := w.getenv(envGitHubURL), w.getenv(envGitHubToken)
	if reqURL == "" || reqToken == "" {
		return "", w.fail(src, "%s or %s is not set: the job needs `permissions: id-token: write` (jobs of pull requests from forks never get it)",
			envGitHubURL, envGitHubToken)
	}
	u, err := url.Parse(reqURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", w.fail(src, "%s is not an http(s) URL", envGitHubURL)
	}
	if w.audience != "" {
		q := u.Query()
		q.Set("audience", w.audience)
		u.RawQuery = q.Encode()
	}
	where := u.Scheme + "://" + u.Host + u.Path // without the query, which may carry run details
	var lastErr error
	for attempt := range 3 {
		if attempt > 0 {
			select {
			case <-time.After(time.Duration(attempt) * time.Second):
			case <-ctx.Done():
				return "", w.fail(src, "asking %s: %v", where, ctx.Err())
			}
		}
		tok, retry, err := w.askGitHub(ctx, u.String(), reqToken, where)
		if err == nil {
			return tok, nil
		}
		lastErr = err
		if !retry {
			break
		}
	}
	return "", lastErr
}

func (w *workloadIdentity) askGitHub(ctx context.Context, target, reqToken, where string) (tok string, retry bool, err error) {
	const src = sourceGitHubActions
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return "", false, w.fail(src, "cannot ask %s: %v", where, err)
	}
	req.Header.Set("Authorization", "Bearer "+reqToken)
	req.Header.Set("Accept", "application/json")
	resp, err := w.httpClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the URL with its query
		}
		return "", true, w.fail(src, "asking %s for an ID token: %v", where, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxIdentityTokenBytes))
	if resp.StatusCode != http.StatusOK {
		return "", resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests,
			w.fail(src, "%s answered HTTP %d to the request for an ID token: check that the job has `permissions: id-token: write` and that audience %q is allowed",
				where, resp.StatusCode, w.audience)
	}
	var out struct {
		Value string `json:"value"`
	}
	if err := json.Unmarshal(body, &out); err != nil || strings.TrimSpace(out.Value) == "" {
		return "", false, w.fail(src, "%s answered without an ID token (want a JSON object with \"value\")", where)
	}
	return strings.TrimSpace(out.Value), false, nil
}

// precheck reads the identity token's claims, unverified (the server verifies it), to fail early with
// a clear message when it cannot work: not a JWT, expired, or without the configured audience.
func (w *workloadIdentity) precheck(src, tok string) error {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return w.fail(src, "the identity token is not a JWT (three dot-separated parts); check that the source holds the token itself")
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return w.fail(src, "the identity token is not a JWT: its payload is not base64url")
	}
	var claims struct {
		Exp json.Number     `json:"exp"`
		Aud json.RawMessage `json:"aud"`
	}
	if err := json.Unmarshal(raw, &claims); err != nil {
		return w.fail(src, "the identity token is not a JWT: its payload is not a JSON object")
	}
	if exp, err := claims.Exp.Int64(); err == nil && exp > 0 && time.Unix(exp, 0).Before(time.Now().Add(-time.Minute)) {
		return w.fail(src, "the identity token expired at %s; the source must hand out a fresh one (a variable set at the start of a long job "+
			"can outlive its token: prefer github_actions or a file the platform renews)", time.Unix(exp, 0).UTC().Format(time.RFC3339))
	}
	if w.audience != "" && src != sourceGitHubActions {
		var auds []string
		var one string
		if json.Unmarshal(claims.Aud, &one) == nil {
			auds = []string{one}
		} else {
			_ = json.Unmarshal(claims.Aud, &auds)
		}
		found := false
		for _, a := range auds {
			found = found || a == w.audience
		}
		if !found {
			return w.fail(src, "the identity token's audience is %s, not %q as workload_identity.audience says; set the audience where the token is made "+
				"(id_tokens: aud, TFC_WORKLOAD_IDENTITY_AUDIENCE)", quoteAll(auds), w.audience)
		}
	}
	return nil
}

func quoteAll(ss []string) string {
	if len(ss) == 0 {
		return "empty"
	}
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

// addIdentityError turns a failure of the sign-in into a diagnostic on workload_identity; false when
// err is not one.
func addIdentityError(err error, where string, diags *diag.Diagnostics) bool {
	var ie *identityError
	if !errors.As(err, &ie) {
		return false
	}
	summary := "Cannot sign in with the workload identity"
	if client.IsExchangeRefused(err) {
		summary = "The modelkeys server refused the workload identity"
	}
	diags.AddAttributeError(path.Root("workload_identity"), summary, where+": "+ie.Error())
	return true
}
