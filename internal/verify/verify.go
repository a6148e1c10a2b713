// Package verify probes model providers with a credential's key: one cheap, authenticated read per
// provider, sent with that provider's own auth convention. It implements service.Verifier (is the key
// accepted?) and service.ModelLister (which models does it reach?).
//
// The probes, by provider:
//
//   - openrouter: GET {base}/models/user with "Authorization: Bearer KEY" (the models the key may use;
//     GET {base}/models answers without a key, so it proves nothing).
//   - openai, mistral, deepseek, xai, perplexity, fireworks, litellm: GET {base}/models with
//     "Authorization: Bearer KEY". openai adds OpenAI-Organization and OpenAI-Project from the
//     organization_id and project settings when they are set.
//   - custom: GET {base_url}/models. api_key goes in "Authorization: Bearer"; auth_token goes in
//     "Authorization: Bearer" when there is no api_key, and in "Proxy-Authorization: Bearer" when both
//     are set (the convention of identity-aware proxies such as Google IAP, which read the proxy's token
//     there so the upstream server keeps its own Authorization header). With neither, the probe is
//     unauthenticated and only shows that the server answers.
//   - portkey: GET {base}/models with x-portkey-api-key, plus x-portkey-virtual-key and
//     x-portkey-config from the settings when set.
//   - databricks: GET {host}/api/2.0/serving-endpoints with "Authorization: Bearer TOKEN", the REST
//     list of serving endpoints. It is the workspace's documented list call; the OpenAI-compatible
//     surface under {host}/serving-endpoints has no documented models list. The endpoint names are the
//     model names that OpenAI clients pass.
//   - anthropic: GET {base}/v1/models with x-api-key and "anthropic-version: 2023-06-01".
//   - gemini: GET {base}/v1beta/models with x-goog-api-key. Gemini answers a bad key with 400
//     API_KEY_INVALID, which counts as a refusal like 401 and 403.
//   - azure_openai: GET {endpoint}/openai/models?api-version={api_version} with the api-key header (the
//     data-plane Models - List call). The data plane has no "get deployment" call in current API
//     versions, so the deployment name is not checked here: a wrong one shows as 404 at first use.
//   - azure_ai_foundry: GET {endpoint}/info?api-version={api_version, default 2024-05-01-preview} with
//     the api-key header (Get Model Info), and azureml-model-deployment when deployment is set.
//     Both Azure providers, with auth_method entra_id, first exchange the client secret (api_key) of
//     client_id for an access token: POST {authority}/{tenant_id}/oauth2/v2.0/token with the client
//     credentials grant and the scope https://cognitiveservices.azure.com/.default, where authority is
//     https://login.microsoftonline.com or Options.BaseURLs["azure_entra"]; the probe then sends
//     "Authorization: Bearer TOKEN" instead of the api-key header. An OAuth error answer (400 or 401,
//     such as invalid_client) is a refusal that shows the error and its description.
//   - bedrock: with a Bedrock API key (auth_method api_key, the default), GET https://bedrock.{region}.amazonaws.com/foundation-models with
//     "Authorization: Bearer KEY" (ListFoundationModels, a Bedrock control-plane action that API keys
//     may call). With auth_method sigv4 (implied by access_key_id), the same request signed with Signature Version 4 by the AWS
//     SDK's signer. Either way it proves the key authenticates and may list models in that region; it
//     does not prove the key may invoke a particular model.
//   - vertex_ai: the service-account JSON is parsed and its private key loaded (a malformed file is a
//     refusal with the precise reason); a signed JWT is exchanged for an access token at the file's
//     token_uri (the OAuth 2.0 JWT bearer grant, RFC 7523, as Google's libraries do); then
//     GET {base}/v1/projects/{project_id}/locations/{location}/endpoints?pageSize=1 checks that the
//     account may use Vertex AI in that project (roles/aiplatform.user grants it). project_id defaults
//     to the key file's project_id, location to us-central1 (DefaultVertexLocation). Whether the project
//     has a given publisher model enabled is not checked. ListModels returns the catalog's Vertex models,
//     since Vertex has no per-key model list.
//
// Base URLs: settings.base_url (or endpoint, host) wins, then Options.BaseURLs[provider], then the
// catalog's default. Every URL that receives a key must be https, or http on a loopback host, with no
// query, fragment or user info (catalog.CheckURL); a Vertex key file's token_uri too.
//
// Egress: every connection goes through an EgressPolicy (Options.Egress), checked on the address
// dialled after DNS. A refused destination is Blocked: nothing is sent, and the message names the rule
// and the --egress-allow range that would open it.
//
// Results: 2xx is OK; 401 and 403 are a refusal summarised as "HTTP 401: <provider's message>";
// timeouts, connection errors, 429, 5xx and any other answer are an outage, which keeps the
// credential's last status. No answer's body is ever echoed: a message says what happened (the HTTP
// status, a timeout, a TLS or connection error in fixed words), and adds a provider's own error message
// only when the body has a provider's documented JSON error shape, trimmed to 200 characters with the
// secrets and anything key-shaped redacted. A 2xx model list must have the provider's list shape and
// hold plausible model ids, or it is an error that quotes none of it. This keeps the verifier from
// being a way to read other services the server can reach.
package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
)

// DefaultTimeout bounds one probe when Options.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// AnthropicVersion is the anthropic-version header the probe sends.
const AnthropicVersion = "2023-06-01"

// DefaultFoundryAPIVersion is the Azure AI Model Inference API version used when the credential sets none.
const DefaultFoundryAPIVersion = "2024-05-01-preview"

const (
	maxListBody  = 8 << 20
	maxErrorBody = 64 << 10
	maxSummary   = 200
)

// Options configure a Verifier.
type Options struct {
	// BaseURLs overrides providers' default base URLs, by provider id (tests, proxies, sovereign
	// regions). A credential's own base_url setting still wins. The key EntraBaseURLKey overrides the
	// Microsoft Entra ID authority (EntraAuthority).
	BaseURLs map[string]string
	// HTTPClient sends the probes; nil uses a client of its own. Redirects are never followed, so a key
	// is not forwarded to another host.
	HTTPClient *http.Client
	// Timeout bounds each probe, token exchange included; zero means DefaultTimeout.
	Timeout time.Duration
	// Now is the clock of signed requests (SigV4, JWT); nil is time.Now.
	Now func() time.Time
	// Egress decides which addresses may be dialled. nil is EmbeddedEgress (loopback and private
	// ranges allowed, for the provider's embedded server); modelkeys-server passes ServerEgress. The
	// hosts of BaseURLs are trusted either way.
	Egress *EgressPolicy
}

// Verifier probes providers. It is safe for concurrent use.
type Verifier struct {
	baseURLs map[string]string
	egress   *EgressPolicy
	client   *http.Client
	timeout  time.Duration
	now      func() time.Time
}

// New makes a Verifier.
func New(o Options) *Verifier {
	v := &Verifier{baseURLs: map[string]string{}, timeout: o.Timeout, now: o.Now}
	for k, u := range o.BaseURLs {
		v.baseURLs[k] = strings.TrimRight(strings.TrimSpace(u), "/")
	}
	if v.timeout <= 0 {
		v.timeout = DefaultTimeout
	}
	if v.now == nil {
		v.now = time.Now
	}
	egress := o.Egress
	if egress == nil {
		egress = EmbeddedEgress()
	}
	v.egress = egress.withTrusted(v.baseURLs)
	c := http.Client{}
	if o.HTTPClient != nil {
		c = *o.HTTPClient
	}
	// Every connection dials through the egress policy, and no proxy from the environment is used: a
	// proxy would dial the destination itself, out of the policy's sight. A caller's own RoundTripper
	// that is not an *http.Transport is used as it is and owns its egress.
	switch t := c.Transport.(type) {
	case nil:
		base, ok := http.DefaultTransport.(*http.Transport)
		if !ok { // replaced by someone in this process: start from a plain transport instead
			base = &http.Transport{}
		}
		c.Transport = v.transport(base.Clone())
	case *http.Transport:
		c.Transport = v.transport(t.Clone())
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	v.client = &c
	return v
}

func (v *Verifier) transport(t *http.Transport) *http.Transport {
	t.Proxy = nil
	t.DialContext = v.egress.DialContext
	t.DialTLSContext = nil
	t.ForceAttemptHTTP2 = true
	return t
}

// ParseBaseURLs reads "openai=https://...,anthropic=https://..." (the MODELKEYS_PROVIDER_BASE_URLS
// form) and checks every entry. Entries may also be given one by one (the repeatable flag): pass them
// joined with commas, or call it once per entry and merge.
func ParseBaseURLs(spec string) (map[string]string, error) {
	out := map[string]string{}
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		id, raw, ok := strings.Cut(part, "=")
		id, raw = strings.TrimSpace(id), strings.TrimSpace(raw)
		if !ok || id == "" || raw == "" {
			return nil, fmt.Errorf("provider base URL %q: write it as PROVIDER=URL, for example openai=https://api.openai.com/v1", part)
		}
		if _, known := catalog.Provider(id); !known && id != EntraBaseURLKey && id != GoogleIAMCredentialsBaseURLKey && id != AzureManagementBaseURLKey && id != AWSIAMBaseURLKey {
			return nil, fmt.Errorf("provider base URL %q: %q is not a provider; use one of %s (or %s for the Microsoft Entra ID authority, %s for Azure Resource Manager, %s for AWS IAM)", part, id, strings.Join(catalog.ProviderIDs(), ", "), EntraBaseURLKey, AzureManagementBaseURLKey, AWSIAMBaseURLKey)
		}
		if err := checkURL(raw); err != nil {
			return nil, fmt.Errorf("provider base URL for %s: %w", id, err)
		}
		out[id] = strings.TrimRight(raw, "/")
	}
	return out, nil
}

// checkURL refuses URLs a key must not be sent to, by the catalog's one rule for URL settings: not
// absolute, plain http off loopback, or with a query, fragment or user info.
func checkURL(raw string) error {
	if msg := catalog.CheckURL(raw); msg != "" {
		return fmt.Errorf("%q %s", redactURL(raw), msg)
	}
	return nil
}

// probe is one prepared request: the request, how to read its models, and the secrets to redact.
type probe struct {
	req    *http.Request
	models func([]byte) ([]string, error)
	// refusedOn reports extra refusals beyond 401 and 403 (Gemini's 400 API_KEY_INVALID).
	refusedOn func(status int, body []byte) bool
	// staticModels answers ListModels without a request (Vertex).
	staticModels []string
}

// failure is a result decided before or instead of the probe's HTTP answer.
type failure struct {
	refused bool
	blocked bool // the egress policy refused the destination
	msg     string
}

func (f *failure) Error() string { return f.msg }

// Is lets the server recognise an egress refusal in a ListModels error.
func (f *failure) Is(target error) bool { return f.blocked && target == api.ErrEgressRefused }

func refused(format string, a ...any) *failure {
	return &failure{refused: true, msg: fmt.Sprintf(format, a...)}
}
func outage(format string, a ...any) *failure { return &failure{msg: fmt.Sprintf(format, a...)} }

// Verify probes the provider with the credential's secrets.
func (v *Verifier) Verify(ctx context.Context, p api.Provider, settings, secrets map[string]string) api.VerifyResult {
	ctx, cancel := context.WithTimeout(ctx, v.timeout)
	defer cancel()
	red := newRedactor(secrets)
	pr, err := v.prepare(ctx, p, settings, secrets)
	if err != nil {
		return resultOf(err, red)
	}
	status, body, err := v.do(ctx, pr.req)
	if err != nil {
		if e, ok := asEgress(err); ok {
			return api.VerifyResult{Blocked: true, Message: e.Error()}
		}
		return api.VerifyResult{Message: red(v.transportError(err))}
	}
	switch {
	case status >= 200 && status < 300:
		msg := "The provider accepted the key."
		if pr.models != nil {
			if ids, err := pr.models(body); err == nil {
				msg = fmt.Sprintf("The provider accepted the key (%d models listed).", len(ids))
			}
		}
		return api.VerifyResult{OK: true, Message: msg}
	case status == http.StatusUnauthorized || status == http.StatusForbidden ||
		(pr.refusedOn != nil && pr.refusedOn(status, body)):
		return api.VerifyResult{Refused: true, Message: summary(status, body, red)}
	}
	return api.VerifyResult{Message: summary(status, body, red)}
}

// ListModels asks the provider which models the key reaches.
func (v *Verifier) ListModels(ctx context.Context, p api.Provider, settings, secrets map[string]string) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, v.timeout)
	defer cancel()
	red := newRedactor(secrets)
	pr, err := v.prepare(ctx, p, settings, secrets)
	if err != nil {
		var f *failure
		if errors.As(err, &f) {
			return nil, &failure{blocked: f.blocked, msg: red(f.msg)}
		}
		return nil, errors.New(red(err.Error()))
	}
	if pr.req == nil || pr.models == nil {
		return pr.staticModels, nil
	}
	status, body, err := v.do(ctx, pr.req)
	if err != nil {
		if e, ok := asEgress(err); ok {
			return nil, &failure{blocked: true, msg: e.Error()}
		}
		return nil, errors.New(red(v.transportError(err)))
	}
	if status < 200 || status >= 300 {
		return nil, errors.New(summary(status, body, red))
	}
	ids, err := pr.models(body)
	if err == nil {
		err = checkModelIDs(ids)
	}
	if err != nil {
		return nil, fmt.Errorf("HTTP %d, but the answer is not %s's list of models (%w)", status, p.DisplayName, err)
	}
	return ids, nil
}

func resultOf(err error, red func(string) string) api.VerifyResult {
	var f *failure
	if errors.As(err, &f) {
		return api.VerifyResult{Refused: f.refused, Blocked: f.blocked, Message: red(f.msg)}
	}
	return api.VerifyResult{Message: red(err.Error())}
}

// do sends a request and reads a bounded body.
func (v *Verifier) do(ctx context.Context, req *http.Request) (int, []byte, error) {
	req = req.WithContext(ctx)
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", "modelkeys-verify")
	}
	resp, err := v.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	limit := int64(maxListBody)
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		limit = maxErrorBody
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	if err != nil && resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return 0, nil, err
	}
	return resp.StatusCode, body, nil
}

// transportError words a failure to get an answer at all, in fixed words: the errors of a
// connection can quote what the other end sent (net/http's "malformed HTTP response" quotes its first
// line, an SSH or Redis banner for instance), and that must not reach a message.
func (v *Verifier) transportError(err error) string {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return fmt.Sprintf("the provider did not answer within %s", v.timeout)
	}
	what := connectionProblem(err)
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Sprintf("%s %s: %s", ue.Op, redactURL(ue.URL), what)
	}
	return what
}

// redactURL drops the query, which for some providers could carry a key.
func redactURL(raw string) string {
	if i := strings.IndexByte(raw, '?'); i >= 0 {
		return raw[:i]
	}
	return raw
}
