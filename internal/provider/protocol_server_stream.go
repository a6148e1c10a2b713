package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

// The list resource and action calls of the framework's server, which embedding
// tfprotov6.ProviderServer in releasingServer would hide. They are not wrapped in
// withReleasedContext: ListResource and InvokeAction answer with a stream that the framework fills
// after the call returns, with the call's context, which must stay alive until then. They are called
// once per list block or action, so what they keep does not add up.
var (
	_ tfprotov6.ListResourceServer = releasingServer{}
	_ tfprotov6.ActionServer       = releasingServer{}
)

func (s releasingServer) ValidateListResourceConfig(ctx context.Context, req *tfprotov6.ValidateListResourceConfigRequest) (*tfprotov6.ValidateListResourceConfigResponse, error) {
	return s.lists.ValidateListResourceConfig(ctx, req)
}

func (s releasingServer) ListResource(ctx context.Context, req *tfprotov6.ListResourceRequest) (*tfprotov6.ListResourceServerStream, error) {
	return s.lists.ListResource(ctx, req)
}

func (s releasingServer) ValidateActionConfig(ctx context.Context, req *tfprotov6.ValidateActionConfigRequest) (*tfprotov6.ValidateActionConfigResponse, error) {
	return s.actions.ValidateActionConfig(ctx, req)
}

func (s releasingServer) PlanAction(ctx context.Context, req *tfprotov6.PlanActionRequest) (*tfprotov6.PlanActionResponse, error) {
	return s.actions.PlanAction(ctx, req)
}

func (s releasingServer) InvokeAction(ctx context.Context, req *tfprotov6.InvokeActionRequest) (*tfprotov6.InvokeActionServerStream, error) {
	return s.actions.InvokeAction(ctx, req)
}
