package catalogtypes

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/attr/xattr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
)

var (
	_ basetypes.StringTypable                    = DurationType{}
	_ basetypes.StringValuableWithSemanticEquals = Duration{}
	_ xattr.ValidateableAttribute                = Duration{}
)

// DurationType is a lifecycle duration (catalog.ParseDuration): a Go duration or whole days with d.
type DurationType struct {
	basetypes.StringType
}

func (t DurationType) String() string { return "catalogtypes.DurationType" }

func (t DurationType) ValueType(context.Context) attr.Value { return Duration{} }

func (t DurationType) Equal(o attr.Type) bool {
	other, ok := o.(DurationType)
	return ok && t.StringType.Equal(other.StringType)
}

func (t DurationType) ValueFromString(_ context.Context, in basetypes.StringValue) (basetypes.StringValuable, diag.Diagnostics) {
	return Duration{StringValue: in}, nil
}

func (t DurationType) ValueFromTerraform(ctx context.Context, in tftypes.Value) (attr.Value, error) {
	v, err := t.StringType.ValueFromTerraform(ctx, in)
	if err != nil {
		return nil, err
	}
	s, ok := v.(basetypes.StringValue)
	if !ok {
		return nil, fmt.Errorf("unexpected value type %T", v)
	}
	return Duration{StringValue: s}, nil
}

// Duration is a value of DurationType. "90d" and "2160h" are semantically equal.
type Duration struct {
	basetypes.StringValue
}

// NewDurationNull is a null Duration.
func NewDurationNull() Duration { return Duration{StringValue: basetypes.NewStringNull()} }

// NewDurationUnknown is an unknown Duration.
func NewDurationUnknown() Duration { return Duration{StringValue: basetypes.NewStringUnknown()} }

// NewDurationValue is s as a Duration, or null when s is empty (the API's "unset").
func NewDurationValue(s string) Duration {
	if s == "" {
		return NewDurationNull()
	}
	return Duration{StringValue: basetypes.NewStringValue(s)}
}

func (v Duration) Type(context.Context) attr.Type { return DurationType{} }

func (v Duration) Equal(o attr.Value) bool {
	other, ok := o.(Duration)
	return ok && v.StringValue.Equal(other.StringValue)
}

// StringSemanticEquals reports whether both spell the same duration (catalog.DurationsEqual).
func (v Duration) StringSemanticEquals(_ context.Context, newValuable basetypes.StringValuable) (bool, diag.Diagnostics) {
	var diags diag.Diagnostics
	other, ok := newValuable.(Duration)
	if !ok {
		diags.AddError("Semantic equality check error",
			fmt.Sprintf("Expected a value of type %T, got %T. This is a bug in the provider; please report it.", v, newValuable))
		return false, diags
	}
	return catalog.DurationsEqual(v.ValueString(), other.ValueString()), diags
}

// ValidateAttribute applies the server's rule at plan time, naming the attribute.
func (v Duration) ValidateAttribute(_ context.Context, req xattr.ValidateAttributeRequest, resp *xattr.ValidateAttributeResponse) {
	if v.IsNull() || v.IsUnknown() {
		return
	}
	if err := catalog.ValidateDuration(v.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid "+req.Path.String(), err.Error())
	}
}
