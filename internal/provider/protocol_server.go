package provider

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

// NewProtocol6Server returns the provider's protocol 6 server: the framework's, with the context of
// every per-resource call let go of when the call returns. main and the acceptance tests serve this.
//
// Why: terraform-plugin-framework (v1.19.0) keeps the cancel function of every call's context until
// Terraform sends StopProvider (proto6server.registerContext), which it does not do on a normal run.
// Each cancel function holds the whole context chain, on which terraform-plugin-go hangs a fresh set
// of loggers per call: about 11 KiB that the garbage collector can never free, 70 MiB of the provider's
// peak memory over an apply of 2,000 resources. Handing the framework a context that forgets its
// parent on return shrinks what stays behind to a few dozen bytes per call.
func NewProtocol6Server(version string) func() tfprotov6.ProviderServer {
	return func() tfprotov6.ProviderServer {
		p := &modelkeysProvider{version: version}
		s := newReleasingServer(providerserver.NewProtocol6(p)(), newCredentialShortPaths(p))
		s.guard = &storeGuard{provider: p}
		return s
	}
}

// releasingServer wraps the calls Terraform makes once per resource instance, which are the ones that
// add up; the few per-run calls (schema, provider configuration) pass through unchanged. Embedding
// tfprotov6.ProviderServer hides the framework's optional servers: list resources and actions are
// passed through in protocol_server_stream.go (unwrapped: their answers are streams, read after the
// call returns); state stores this provider does not offer.
type releasingServer struct {
	tfprotov6.ProviderServer
	lists   tfprotov6.ListResourceServer // nil when the wrapped server has none
	actions tfprotov6.ActionServer
	short   *credentialShortPaths // nil: every plan and refresh the framework's way
	guard   *storeGuard           // nil: no store check (store_guard.go)
}

func newReleasingServer(s tfprotov6.ProviderServer, short *credentialShortPaths) releasingServer {
	lists, _ := s.(tfprotov6.ListResourceServer)
	actions, _ := s.(tfprotov6.ActionServer)
	return releasingServer{ProviderServer: s, lists: lists, actions: actions, short: short}
}

// withReleasedContext runs call with a context that behaves as ctx until call returns, and then
// holds nothing.
func withReleasedContext[Req, Resp any](ctx context.Context, req Req, call func(context.Context, Req) (Resp, error)) (Resp, error) {
	rc := &releasableContext{}
	rc.current.Store(&contextBox{ctx})
	defer rc.current.Store(releasedBox)
	return call(rc, req)
}

// ConfigureProvider runs the framework's Configure, then the check of endpoint and token
// that the configuration owes (endpoint_check.go): once per configuration, before any resource call.
func (s releasingServer) ConfigureProvider(ctx context.Context, req *tfprotov6.ConfigureProviderRequest) (*tfprotov6.ConfigureProviderResponse, error) {
	resp, err := s.ProviderServer.ConfigureProvider(ctx, req)
	if err != nil || resp == nil || s.guard == nil || protoHasError(resp.Diagnostics) {
		return resp, err
	}
	resp.Diagnostics = append(resp.Diagnostics, s.guard.checkConfigured(ctx)...)
	return resp, nil
}

func (s releasingServer) ValidateResourceConfig(ctx context.Context, req *tfprotov6.ValidateResourceConfigRequest) (*tfprotov6.ValidateResourceConfigResponse, error) {
	return withReleasedContext(ctx, req, s.ProviderServer.ValidateResourceConfig)
}

func (s releasingServer) UpgradeResourceState(ctx context.Context, req *tfprotov6.UpgradeResourceStateRequest) (*tfprotov6.UpgradeResourceStateResponse, error) {
	if resp, ok := s.short.upgrade(req); ok {
		return resp, nil
	}
	return withReleasedContext(ctx, req, s.ProviderServer.UpgradeResourceState)
}

func (s releasingServer) ReadResource(ctx context.Context, req *tfprotov6.ReadResourceRequest) (*tfprotov6.ReadResourceResponse, error) {
	return withReleasedContext(ctx, req, s.readResource)
}

func (s releasingServer) readResource(ctx context.Context, req *tfprotov6.ReadResourceRequest) (*tfprotov6.ReadResourceResponse, error) {
	resp, ok := s.short.read(ctx, req)
	if !ok {
		var err error
		if resp, err = s.ProviderServer.ReadResource(ctx, req); err != nil {
			return resp, err
		}
	}
	s.guard.afterRead(ctx, req, resp)
	return resp, nil
}

func (s releasingServer) PlanResourceChange(ctx context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	if resp, ok := s.short.plan(ctx, req); ok {
		return resp, nil
	}
	return withReleasedContext(ctx, req, s.ProviderServer.PlanResourceChange)
}

func (s releasingServer) ApplyResourceChange(ctx context.Context, req *tfprotov6.ApplyResourceChangeRequest) (*tfprotov6.ApplyResourceChangeResponse, error) {
	resp, err := withReleasedContext(ctx, req, s.ProviderServer.ApplyResourceChange)
	if err == nil && resp != nil {
		resp.Private = s.guard.stamp(resp.NewState, resp.Diagnostics, resp.Private)
		s.guard.explainDefaultProject(req.Config, resp.Diagnostics)
	}
	return resp, err
}

func (s releasingServer) ImportResourceState(ctx context.Context, req *tfprotov6.ImportResourceStateRequest) (*tfprotov6.ImportResourceStateResponse, error) {
	if s.guard != nil {
		var refused *tfprotov6.ImportResourceStateResponse
		if req, refused = s.guard.resolveImportName(ctx, req); refused != nil {
			return refused, nil
		}
	}
	return withReleasedContext(ctx, req, s.ProviderServer.ImportResourceState)
}

func (s releasingServer) MoveResourceState(ctx context.Context, req *tfprotov6.MoveResourceStateRequest) (*tfprotov6.MoveResourceStateResponse, error) {
	return withReleasedContext(ctx, req, s.ProviderServer.MoveResourceState)
}

func (s releasingServer) ValidateDataResourceConfig(ctx context.Context, req *tfprotov6.ValidateDataResourceConfigRequest) (*tfprotov6.ValidateDataResourceConfigResponse, error) {
	return withReleasedContext(ctx, req, s.ProviderServer.ValidateDataResourceConfig)
}

func (s releasingServer) ReadDataSource(ctx context.Context, req *tfprotov6.ReadDataSourceRequest) (*tfprotov6.ReadDataSourceResponse, error) {
	return withReleasedContext(ctx, req, s.ProviderServer.ReadDataSource)
}

func (s releasingServer) ValidateEphemeralResourceConfig(ctx context.Context, req *tfprotov6.ValidateEphemeralResourceConfigRequest) (*tfprotov6.ValidateEphemeralResourceConfigResponse, error) {
	return withReleasedContext(ctx, req, s.ProviderServer.ValidateEphemeralResourceConfig)
}

func (s releasingServer) OpenEphemeralResource(ctx context.Context, req *tfprotov6.OpenEphemeralResourceRequest) (*tfprotov6.OpenEphemeralResourceResponse, error) {
	return withReleasedContext(ctx, req, s.ProviderServer.OpenEphemeralResource)
}

func (s releasingServer) RenewEphemeralResource(ctx context.Context, req *tfprotov6.RenewEphemeralResourceRequest) (*tfprotov6.RenewEphemeralResourceResponse, error) {
	return withReleasedContext(ctx, req, s.ProviderServer.RenewEphemeralResource)
}

func (s releasingServer) CloseEphemeralResource(ctx context.Context, req *tfprotov6.CloseEphemeralResourceRequest) (*tfprotov6.CloseEphemeralResourceResponse, error) {
	return withReleasedContext(ctx, req, s.ProviderServer.CloseEphemeralResource)
}

// releasableContext is a context.Context that answers as the one it holds, until that is swapped for
// releasedBox: then it is a cancelled context with no values and no parent. Done then returns another
// (closed) channel than before, which the Context contract does not allow; nothing uses the context
// after the call returns, and whatever does sees it cancelled either way.
type releasableContext struct {
	current atomic.Pointer[contextBox]
}

type contextBox struct{ context.Context }

var releasedBox = func() *contextBox {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return &contextBox{ctx}
}()

func (c *releasableContext) Deadline() (time.Time, bool) { return c.current.Load().Deadline() }
func (c *releasableContext) Done() <-chan struct{}       { return c.current.Load().Done() }
func (c *releasableContext) Err() error                  { return c.current.Load().Err() }
func (c *releasableContext) Value(key any) any           { return c.current.Load().Value(key) }
