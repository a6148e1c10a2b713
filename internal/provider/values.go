package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
)

func known(v basetypes.StringValue) bool { return !v.IsNull() && !v.IsUnknown() }

func optionalString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// stringPointerOrEmpty sends "" for a null optional string, so removing it from the configuration
// clears it on the server.
func stringPointerOrEmpty(v types.String) *string {
	s := v.ValueString()
	return &s
}

// nullIfEmpty keeps null in state for an optional attribute the configuration left out.
func nullIfEmpty(s string, prior types.String) types.String {
	if s == "" && prior.IsNull() {
		return types.StringNull()
	}
	return types.StringValue(s)
}

// timeValue is a server time in UTC, or null when it is unset.
func timeValue(t *time.Time) timetypes.RFC3339 {
	if t == nil || t.IsZero() {
		return timetypes.NewRFC3339Null()
	}
	return timetypes.NewRFC3339TimeValue(t.UTC())
}

// stringMap reads a map(string) attribute; null gives an empty map.
func stringMap(ctx context.Context, m types.Map) (map[string]string, diag.Diagnostics) {
	out := map[string]string{}
	if m.IsNull() || m.IsUnknown() {
		return out, nil
	}
	diags := m.ElementsAs(ctx, &out, false)
	return out, diags
}

// knownStringMap reads a map whose values may be unknown; ok is false when any is.
func knownStringMap(m types.Map) (map[string]string, bool) {
	out := map[string]string{}
	if m.IsNull() {
		return out, true
	}
	if m.IsUnknown() {
		return nil, false
	}
	for k, v := range m.Elements() {
		s, ok := v.(types.String)
		if !ok || s.IsUnknown() {
			return nil, false
		}
		out[k] = s.ValueString()
	}
	return out, true
}

// mapValue turns an API map into a map attribute, keeping null when the map is empty and the prior
// value was null (the configuration left it out).
func mapValue(ctx context.Context, m map[string]string, prior types.Map) (types.Map, diag.Diagnostics) {
	if len(m) == 0 && prior.IsNull() {
		return types.MapNull(types.StringType), nil
	}
	return types.MapValueFrom(ctx, types.StringType, m)
}

// addAPIError turns a client error into diagnostics: field errors on their attributes, the rest as one
// error with the server's explanation.
func addAPIError(diags *diag.Diagnostics, summary string, err error) {
	ae, ok := client.AsAPIError(err)
	if ok && len(ae.Problem.Errors) > 0 {
		addFieldErrors(diags, summary, ae.Problem.Errors)
		return
	}
	diags.AddError(summary, err.Error())
}

func quotedList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = "`" + s + "`"
	}
	return strings.Join(q, ", ")
}

// privateState is the subset of the framework's private state API that the resources use.
type privateState interface {
	GetKey(ctx context.Context, key string) ([]byte, diag.Diagnostics)
}

type privateStateSetter interface {
	SetKey(ctx context.Context, key string, value []byte) diag.Diagnostics
}

// setVersion remembers the object's version in private state, so that an update sends If-Match and a
// concurrent change from elsewhere fails clearly instead of being overwritten.
func setVersion(ctx context.Context, p privateStateSetter, version int64) diag.Diagnostics {
	return p.SetKey(ctx, "version", []byte(fmt.Sprintf(`{"v":%d}`, version)))
}

func getVersion(ctx context.Context, p privateState) (int64, diag.Diagnostics) {
	raw, diags := p.GetKey(ctx, "version")
	if len(raw) == 0 {
		return 0, diags
	}
	var v struct {
		V int64 `json:"v"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return 0, diags
	}
	return v.V, diags
}

// conflictIDs are the objects a 409 names as standing in the way, or nil.
func conflictIDs(err error) []string {
	if ae, ok := client.AsAPIError(err); ok && len(ae.Problem.Conflicts) > 0 {
		return ae.Problem.Conflicts
	}
	return nil
}
