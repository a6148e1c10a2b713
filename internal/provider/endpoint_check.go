package provider

import (
	"context"
	"errors"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
)

// pendingCheck is what Configure leaves for checkConfigured: where the endpoint came from.
type pendingCheck struct {
	src endpointSource
}

// checkConfigured runs the check a configuration owes (checkEndpoint), once, right after Configure: the protocol server calls it from ConfigureProvider, so a provider configured
// directly (unit tests of Configure) makes no request.
func (g *storeGuard) checkConfigured(ctx context.Context) []*tfprotov6.Diagnostic {
	d := g.data()
	if d == nil || d.client == nil {
		return nil
	}
	g.checkMu.Lock()
	defer g.checkMu.Unlock()
	pc := d.pending
	if pc == nil {
		return nil
	}
	d.pending = nil
	var diags diag.Diagnostics
	checkEndpoint(ctx, d.client, d, pc.src, &diags)
	return providerDiagnosticsToProto(diags)
}

// providerDiagnosticsToProto converts the checks' diagnostics, each on a root attribute of the
// provider's configuration or on none.
func providerDiagnosticsToProto(diags diag.Diagnostics) []*tfprotov6.Diagnostic {
	var out []*tfprotov6.Diagnostic
	for _, d := range diags {
		pd := &tfprotov6.Diagnostic{Severity: tfprotov6.DiagnosticSeverityWarning, Summary: d.Summary(), Detail: d.Detail()}
		if d.Severity() == diag.SeverityError {
			pd.Severity = tfprotov6.DiagnosticSeverityError
		}
		if wp, ok := d.(diag.DiagnosticWithPath); ok {
			if steps := wp.Path().Steps(); len(steps) == 1 {
				if name, ok := steps[0].(path.PathStepAttributeName); ok {
					pd.Attribute = tftypes.NewAttributePath().WithAttributeName(string(name))
				}
			}
		}
		out = append(out, pd)
	}
	return out
}

// checkEndpoint asks the API whom the token speaks for (GET /v1/whoami), once per configuration, so
// that a wrong endpoint, scheme or token fails the first command that configures the provider, even
// a plan that would only create, and names what to check. It records the organisation, role and
// store id in d. False when it added an error.
//
// One request per configuration, not per resource: Terraform configures the provider once per
// command (and terraform validate not at all).
func checkEndpoint(ctx context.Context, c *client.Client, d *providerData, src endpointSource, diags *diag.Diagnostics) bool {
	who, err := c.WhoAmI(ctx)
	if err == nil {
		d.organization, d.role, d.storeID = who.Organization, who.Role, who.StoreID
		tflog.Info(ctx, "modelkeys endpoint checked", map[string]any{"endpoint": c.BaseURL(), "organization": who.Organization, "role": who.Role, "token_name": who.Actor})
		return true
	}
	where := "endpoint " + c.BaseURL() + " (" + src.describe() + ")"
	if addIdentityError(err, where, diags) {
		return false
	}
	if d.embedded {
		diags.AddAttributeError(path.Root("endpoint"), "Cannot open the embedded store", where+": "+err.Error())
		return false
	}
	if ue, ok := client.AsUnreachable(err); ok {
		diags.AddAttributeError(path.Root("endpoint"), "Cannot reach the modelkeys server",
			"The provider checks its endpoint and token before anything else, and "+where+" did not answer: "+ue.Err.Error()+".\n\n"+ue.Hint+".")
		return false
	}
	if ae, ok := client.AsAPIError(err); ok {
		switch {
		case client.IsUnauthorized(err) && d.workload != nil:
			diags.AddAttributeError(path.Root("workload_identity"), "The modelkeys server refused the exchanged token",
				where+" answered 401 to the token it had just issued for federation rule "+d.workload.ruleID+": "+ae.Problem.Detail+"\n\n"+
					"The rule was probably changed or deleted during this run (a change ends the tokens it issued); run again.")
			return false
		case client.IsUnauthorized(err):
			diags.AddAttributeError(path.Root("token"), "The modelkeys server refused the token",
				where+" answered 401: "+ae.Problem.Detail+"\n\n"+
					"Check token (or MODELKEYS_TOKEN): it must be a token this server issued (modelkeys-server token create --org ORG --role editor --name NAME), "+
					"not revoked, for the organisation whose objects this configuration manages; and that the endpoint is the server that issued it.")
			return false
		case client.IsPlainHTTPToTLSServer(err):
			diags.AddAttributeError(path.Root("endpoint"), "The modelkeys server speaks HTTPS",
				where+" is http://, but the server there answers only TLS: use https:// (with ca_cert_pem for a private certificate).")
			return false
		case client.IsNotFound(err):
			// A server from before GET /v1/whoami answers 404 with a problem document; anything else
			// answering 404 there is not a modelkeys server at all. Neither is worth failing a run
			// that works today: say so and carry on unchecked.
			diags.AddAttributeWarning(path.Root("endpoint"), "Endpoint and token not checked",
				where+" answered 404 to GET /v1/whoami: it is a modelkeys-server older than this provider (the token is then checked by the first request that needs it), "+
					"or not a modelkeys server at all, or endpoint has a wrong path.")
			return true
		}
	}
	var redirect *client.RedirectError
	if errors.As(err, &redirect) {
		diags.AddAttributeError(path.Root("endpoint"), "The modelkeys server redirects", where+": "+err.Error())
		return false
	}
	diags.AddAttributeError(path.Root("endpoint"), "The endpoint and token check failed",
		"The provider checks its endpoint and token before anything else, and "+where+" failed: "+err.Error())
	return false
}

// endpointSource says where the endpoint came from, so an error can point at the right place: a stray
// MODELKEYS_ENDPOINT in the environment is a common surprise.
type endpointSource int

const (
	endpointFromConfig endpointSource = iota
	endpointFromEnv
	endpointDefault
)

func (s endpointSource) describe() string {
	switch s {
	case endpointFromEnv:
		return "from the environment variable MODELKEYS_ENDPOINT"
	case endpointDefault:
		return "the default, as neither endpoint nor MODELKEYS_ENDPOINT is set"
	default:
		return "from the provider's endpoint argument"
	}
}
