package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
)

// Plan-time validators: each applies a rule written once (mostly in internal/catalog, which the server
// uses too) and reports it on the attribute's path.

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

// labelsCheck applies the server's label rules (catalog.ValidateLabels) at plan time.
type labelsCheck struct{}

func (labelsCheck) Description(context.Context) string {
	return fmt.Sprintf("at most %d labels; keys of 1 to %d characters, values of at most %d, no control or format characters",
		catalog.MaxLabels, catalog.MaxLabelKeyLen, catalog.MaxLabelValueLen)
}
func (v labelsCheck) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (labelsCheck) ValidateMap(ctx context.Context, req validator.MapRequest, resp *validator.MapResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	labels := map[string]string{}
	for k, v := range req.ConfigValue.Elements() {
		s, ok := v.(types.String)
		if !ok || s.IsUnknown() {
			return // checked once every value is known
		}
		labels[k] = s.ValueString()
	}
	for _, f := range catalog.ValidateLabels(labels) {
		p := req.Path
		if key, ok := strings.CutPrefix(f.Field, "labels."); ok {
			p = p.AtMapKey(key)
		}
		resp.Diagnostics.AddAttributeError(p, "Invalid "+req.Path.String(), f.Message)
	}
}

// endpointValidator checks the endpoint at plan time, naming the attribute.
type endpointValidator struct{}

func (endpointValidator) Description(context.Context) string {
	return "must be https://host:port, http://host:port or file://PATH"
}
func (v endpointValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (endpointValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if _, err := parseEndpoint(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid endpoint", err.Error())
	}
}

// durationValidator checks Go durations at plan time.
type durationValidator struct{}

func (durationValidator) Description(context.Context) string {
	return "must be a positive Go duration such as 30s or 2m"
}
func (v durationValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (durationValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if d, err := time.ParseDuration(req.ConfigValue.ValueString()); err != nil || d <= 0 {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid duration",
			fmt.Sprintf("%q is not a positive Go duration; use a value such as 30s or 2m.", req.ConfigValue.ValueString()))
	}
}

// jsonObjectValidator checks at plan time that a JSON string holds an object (jsontypes.Normalized
// already checks that it is JSON).
type jsonObjectValidator struct{}

func (jsonObjectValidator) Description(context.Context) string { return "a JSON object" }
func (v jsonObjectValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (jsonObjectValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	text := req.ConfigValue.ValueString()
	if !json.Valid([]byte(text)) {
		return // the type's own validation reports JSON syntax
	}
	if _, err := catalog.NormalizeParameters(text); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid "+req.Path.String(), fmt.Sprintf("%s, not %s.", err, describeJSON(strings.TrimSpace(text))))
	}
}

func describeJSON(text string) string {
	if len(text) > 40 {
		text = text[:40] + "..."
	}
	return "`" + text + "`"
}
