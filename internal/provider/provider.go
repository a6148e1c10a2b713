// Package provider is the modelkeys Terraform provider: resources, data sources and the ephemeral
// resource over the modelkeys API, remote or embedded.
package provider

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework/action"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/list"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
)

var (
	_ provider.Provider                       = (*modelkeysProvider)(nil)
	_ provider.ProviderWithEphemeralResources = (*modelkeysProvider)(nil)
	_ provider.ProviderWithListResources      = (*modelkeysProvider)(nil)
	_ provider.ProviderWithActions            = (*modelkeysProvider)(nil)
)

// DefaultEndpoint is the embedded store in the working directory.
const DefaultEndpoint = "file://.modelkeys/modelkeys.db"

// New returns the provider factory that main.go and the tests serve.
func New(version string) func() provider.Provider {
	return func() provider.Provider { return &modelkeysProvider{version: version} }
}

type modelkeysProvider struct {
	version string
	// configured is what Configure handed the resources, for the protocol-level short paths
	// (credential_short_paths.go); nil until then.
	configured atomic.Pointer[providerData]
}

type providerModel struct {
	Endpoint       types.String `tfsdk:"endpoint"`
	Token          types.String `tfsdk:"token"`
	Project        types.String `tfsdk:"project"`
	RequestTimeout types.String `tfsdk:"request_timeout"`
	MaxRetries     types.Int64  `tfsdk:"max_retries"`
	CACertPEM      types.String `tfsdk:"ca_cert_pem"`
	// WorkloadIdentity is the workload_identity block (provider_workload_identity.go).
	WorkloadIdentity types.Object `tfsdk:"workload_identity"`
}

func (p *modelkeysProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "modelkeys"
	resp.Version = p.version
}

func (p *modelkeysProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The modelkeys provider manages LLM model-provider API keys, the models connected through them and the " +
			"policies that decide which models may be used, on a `modelkeys-server` or on an embedded SQLite store that needs no server. " +
			"Every argument can also be set through its environment variable.",
		Attributes: map[string]schema.Attribute{
			"endpoint": schema.StringAttribute{
				MarkdownDescription: "Where the modelkeys API is: `https://host:port`, `http://127.0.0.1:port`, or `file://PATH` for the embedded " +
					"store (an SQLite file served in-process, no server needed). Defaults to `" + DefaultEndpoint + "`, relative to the working directory. " +
					"Plain `http://` to a host other than `localhost` or a loopback address draws a warning: the token and keys would travel in clear text. " +
					"Environment: `MODELKEYS_ENDPOINT`.",
				Optional:   true,
				Validators: []validator.String{endpointValidator{}},
			},
			"token": schema.StringAttribute{
				MarkdownDescription: "API token of a `modelkeys-server` (`modelkeys-server token create`). Not needed in embedded mode, nor with `workload_identity`, which it cannot be combined with. Environment: `MODELKEYS_TOKEN`.",
				Optional:            true,
				Sensitive:           true,
			},
			"project": schema.StringAttribute{
				MarkdownDescription: "Project id used by resources that omit `project_id`. Omitted: organisation-wide. Environment: `MODELKEYS_PROJECT`.",
				Optional:            true,
			},
			"request_timeout": schema.StringAttribute{
				MarkdownDescription: "Timeout of each API request attempt, as a Go duration such as `30s` or `2m`. Defaults to `30s`. Environment: `MODELKEYS_REQUEST_TIMEOUT`.",
				Optional:            true,
				Validators:          []validator.String{durationValidator{}},
			},
			"max_retries": schema.Int64Attribute{
				MarkdownDescription: "How many times a request is retried after a connection error, a 429 or a 5xx answer, with exponential backoff that honours `Retry-After`. " +
					"Defaults to 4; 0 sends each request once. Creates are safe to retry: every POST carries an idempotency key. Environment: `MODELKEYS_MAX_RETRIES`.",
				Optional:   true,
				Validators: []validator.Int64{int64validator.AtLeast(0)}, // so terraform validate refuses -1 too, not only a run
			},
			"ca_cert_pem": schema.StringAttribute{
				MarkdownDescription: "PEM-encoded CA certificate to trust, in addition to the system's, for a server with a private certificate. Environment: `MODELKEYS_CA_CERT_PEM`.",
				Optional:            true,
			},
		},
		Blocks: map[string]schema.Block{
			"workload_identity": workloadIdentityBlock(),
		},
	}
}

// providerData is what Configure hands to every resource and data source.
type providerData struct {
	client         *client.Client
	defaultProject string
	embedded       bool
	token          string
	// organization, role and storeID are what GET /v1/whoami answered when the provider was
	// configured (endpoint_check.go): for messages, and to notice a state written to another store.
	organization, role, storeID string
	// embeddedPath is the database file in embedded mode; "" for a server.
	embeddedPath string
	// pending is the check of endpoint and token that this configuration still owes.
	pending *pendingCheck
	// workload is the workload identity the client signs in with; nil with a static token.
	workload *workloadIdentity
}

func (p *modelkeysProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var cfg providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	endpoint := stringOrEnv(cfg.Endpoint, "MODELKEYS_ENDPOINT", DefaultEndpoint)
	src := endpointFromConfig
	if cfg.Endpoint.IsNull() {
		src = endpointDefault
		if os.Getenv("MODELKEYS_ENDPOINT") != "" {
			src = endpointFromEnv
		}
	}
	token := stringOrEnv(cfg.Token, "MODELKEYS_TOKEN", "")
	ctx = maskSecrets(ctx, token)
	workload := resolveWorkloadIdentity(ctx, cfg.WorkloadIdentity, token, os.Getenv, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}

	if cfg.Endpoint.IsUnknown() || cfg.Token.IsUnknown() || workloadIdentityUnknown(cfg.WorkloadIdentity) {
		// Values from resources not yet created: configure on the next run, once they are known.
		resp.Diagnostics.AddWarning("Provider configuration not known yet",
			"endpoint, token or workload_identity depends on values known only after apply; the modelkeys provider cannot talk to the API in this plan.")
		return
	}
	ep, err := parseEndpoint(endpoint)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("endpoint"), "Invalid endpoint", err.Error())
		return
	}
	timeout := client.DefaultRequestTimeout
	if v := stringOrEnv(cfg.RequestTimeout, "MODELKEYS_REQUEST_TIMEOUT", ""); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			resp.Diagnostics.AddAttributeError(path.Root("request_timeout"), "Invalid request_timeout",
				"request_timeout must be a positive Go duration such as 30s or 2m, not "+strconv.Quote(v)+".")
			return
		}
		timeout = d
	}
	retries := client.DefaultMaxRetries
	if !cfg.MaxRetries.IsNull() && !cfg.MaxRetries.IsUnknown() {
		retries = int(cfg.MaxRetries.ValueInt64())
	} else if v := os.Getenv("MODELKEYS_MAX_RETRIES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			resp.Diagnostics.AddAttributeError(path.Root("max_retries"), "Invalid MODELKEYS_MAX_RETRIES", "MODELKEYS_MAX_RETRIES must be a non-negative integer.")
			return
		}
		retries = n
	}
	if retries < 0 {
		resp.Diagnostics.AddAttributeError(path.Root("max_retries"), "Invalid max_retries", "max_retries must be 0 or more.")
		return
	}
	if retries == 0 {
		retries = -1 // the client reads 0 as "default"; the user asked for none
	}

	ccfg := client.Config{
		BaseURL:        ep.url,
		Token:          token,
		UserAgent:      "terraform-provider-modelkeys/" + p.version + " (+https://github.com/modelkeys/terraform-provider-modelkeys) terraform/" + req.TerraformVersion,
		RequestTimeout: timeout,
		MaxRetries:     retries,
		Logger:         tflogAdapter{ctx: ctx},
		// A server found unreachable fails the rest of the run at once: one error, not one per
		// resource after each one's retries.
		StopAfterUnreachable: true,
	}
	data := &providerData{defaultProject: stringOrEnv(cfg.Project, "MODELKEYS_PROJECT", ""), token: token, workload: workload}
	if workload != nil {
		ccfg.TokenSource = workload.tokenSource()
	}
	if ep.embeddedPath != "" && workload != nil {
		resp.Diagnostics.AddAttributeError(path.Root("workload_identity"), "No sign-in with an embedded store",
			"endpoint "+endpoint+" is an embedded store, which is opened in-process and needs no sign-in: remove workload_identity "+
				"(or "+envFederationRule+"), or point endpoint at a modelkeys-server.")
		return
	}
	if ep.embeddedPath != "" {
		es, err := openEmbedded(ctx, ep.embeddedPath, p.version)
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("endpoint"), "Cannot open the embedded store", err.Error())
			return
		}
		if es.created {
			resp.Diagnostics.AddAttributeWarning(path.Root("endpoint"), "New embedded modelkeys store", es.firstUseWarning(ep.embeddedPath, src))
		}
		data.embeddedPath = ep.embeddedPath
		ccfg.HTTPClient = &http.Client{Transport: es.transport}
		ccfg.Token = ""
		data.embedded = true
		tflog.Debug(ctx, "using the embedded modelkeys store", map[string]any{"path": ep.embeddedPath})
	} else {
		hc := client.DefaultHTTPClient()
		if pem := stringOrEnv(cfg.CACertPEM, "MODELKEYS_CA_CERT_PEM", ""); pem != "" {
			pool, err := x509.SystemCertPool()
			if err != nil {
				pool = x509.NewCertPool()
			}
			if !pool.AppendCertsFromPEM([]byte(pem)) {
				resp.Diagnostics.AddAttributeError(path.Root("ca_cert_pem"), "Invalid ca_cert_pem", "ca_cert_pem holds no PEM-encoded certificate.")
				return
			}
			if tr, ok := hc.Transport.(*http.Transport); ok { // always, from DefaultHTTPClient
				tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
			}
		}
		ccfg.HTTPClient = hc
		if cleartextToRemote(ep.url) {
			resp.Diagnostics.AddAttributeWarning(path.Root("endpoint"), "Endpoint is not encrypted",
				"endpoint "+ep.url+" is plain http to a host that is not this machine, so the token and every API key sent "+
					"travel in clear text and can be read or changed on the way: use https:// (ca_cert_pem trusts a private "+
					"certificate), or http:// only to 127.0.0.1, [::1] or localhost.")
		}
		if token == "" && workload == nil {
			resp.Diagnostics.AddAttributeWarning(path.Root("token"), "No API token",
				"endpoint "+ep.url+" is a server, which answers 401 without a token: set token or MODELKEYS_TOKEN, or sign in with a workload_identity block.")
		}
		tflog.Debug(ctx, "using a modelkeys server", map[string]any{"endpoint": ep.url})
	}
	c, err := client.New(ccfg)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("endpoint"), "Cannot make the API client", err.Error())
		return
	}
	data.client = c
	if workload != nil {
		workload.bind(c)
	}
	// The protocol server checks the endpoint and token right after this (endpoint_check.go).
	data.pending = &pendingCheck{src: src}
	resp.ResourceData = data
	resp.DataSourceData = data
	resp.EphemeralResourceData = data
	resp.ListResourceData = data
	resp.ActionData = data
	p.configured.Store(data)
}

func (p *modelkeysProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		NewCredentialResource,
		NewConnectionResource,
		NewModelPolicyResource,
		NewProjectResource,
		NewCredentialPolicyResource,
		NewIdentityProviderResource,
		NewFederationRuleResource,
	}
}

func (p *modelkeysProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		NewProvidersDataSource,
		NewModelsDataSource,
		NewCredentialDataSource,
		NewCredentialsDataSource,
		NewConnectionDataSource,
		NewProjectDataSource,
		NewIssuerDataSource,
	}
}

func (p *modelkeysProvider) EphemeralResources(context.Context) []func() ephemeral.EphemeralResource {
	return []func() ephemeral.EphemeralResource{
		NewCredentialSecretEphemeralResource,
		NewCredentialAccessTokenEphemeralResource,
	}
}

// ListResources are for terraform query (Terraform 1.14+); see list_resources.go.
func (p *modelkeysProvider) ListResources(context.Context) []func() list.ListResource {
	return []func() list.ListResource{
		NewCredentialListResource,
		NewConnectionListResource,
		NewProjectListResource,
		NewModelPolicyListResource,
		NewCredentialPolicyListResource,
		NewIdentityProviderListResource,
		NewFederationRuleListResource,
	}
}

// Actions run with terraform apply -invoke or from an action_trigger (Terraform 1.14+).
func (p *modelkeysProvider) Actions(context.Context) []func() action.Action {
	return []func() action.Action{
		NewCredentialVerifyAction,
		NewCredentialRotateAction,
	}
}

// stringOrEnv picks the configured value, then the environment variable, then def.
func stringOrEnv(v types.String, env, def string) string {
	if !v.IsNull() && !v.IsUnknown() {
		return v.ValueString()
	}
	if e := os.Getenv(env); e != "" {
		return e
	}
	return def
}
