package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
)

// configuredData takes the providerData handed to a resource, data source or ephemeral resource's
// Configure. nil before the provider is configured (validation runs without it).
func configuredData(raw any, diags *diag.Diagnostics) *providerData {
	if raw == nil {
		return nil
	}
	d, ok := raw.(*providerData)
	if !ok {
		diags.AddError("Unexpected provider data", fmt.Sprintf("expected *providerData, got %T; this is a bug in the modelkeys provider, please report it.", raw))
		return nil
	}
	return d
}

// requestContext adds the provider token's masking to an operation's context: framework contexts are
// per request, so masking set in Configure does not carry over.
func (d *providerData) requestContext(ctx context.Context, secrets ...string) context.Context {
	if d == nil {
		return maskSecrets(ctx, secrets...)
	}
	return maskSecrets(ctx, append([]string{d.token}, secrets...)...)
}
