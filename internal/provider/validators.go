package provider

import (
	"context"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

// stringCheck adapts a check written once for the server (internal/catalog) to a plan-time validator.
type stringCheck struct {
	description string
	check       func(string) error
}

func (v stringCheck) Description(context.Context) string { return v.description }
func (v stringCheck) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (v stringCheck) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if err := v.check(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid "+req.Path.String(), err.Error())
	}
}

// wireToPath maps an API field name (settings.endpoint, provider, api_key) to its attribute path.
func wireToPath(field string) path.Path {
	name, key, hasKey := strings.Cut(field, ".")
	if name == "provider" {
		name = "model_provider"
	}
	p := path.Root(name)
	if hasKey {
		p = p.AtMapKey(key)
	}
	return p
}

// addFieldErrors reports API field errors as attribute diagnostics.
func addFieldErrors(diags *diag.Diagnostics, summary string, fields []api.FieldError) {
	for _, f := range fields {
		diags.AddAttributeError(wireToPath(f.Field), summary, f.Message)
	}
}
