package catalogtypes

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/attr/xattr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
)

var (
	_ basetypes.StringTypable                    = TimestampType{}
	_ basetypes.StringValuableWithSemanticEquals = Timestamp{}
	_ xattr.ValidateableAttribute                = Timestamp{}
)

// TimestampType is an RFC 3339 instant that a user sets (expires_at). It is timetypes.RFC3339 with
// two differences, both the server's rules (catalog.ParseTimestamp): the same instant in another
// offset is equal ("2027-01-01T01:00:00+01:00" is "2027-01-01T00:00:00Z", which timetypes does not
// accept as equal and the server answers with), and the year must be 2000 to 9999.
type TimestampType struct {
	timetypes.RFC3339Type
}

func (t TimestampType) String() string { return "catalogtypes.TimestampType" }

func (t TimestampType) ValueType(context.Context) attr.Value { return Timestamp{} }

func (t TimestampType) Equal(o attr.Type) bool {
	other, ok := o.(TimestampType)
	return ok && t.RFC3339Type.Equal(other.RFC3339Type)
}

func (t TimestampType) ValueFromString(_ context.Context, in basetypes.StringValue) (basetypes.StringValuable, diag.Diagnostics) {
	return Timestamp{RFC3339: timetypes.RFC3339{StringValue: in}}, nil
}

func (t TimestampType) ValueFromTerraform(ctx context.Context, in tftypes.Value) (attr.Value, error) {
	v, err := t.StringType.ValueFromTerraform(ctx, in)
	if err != nil {
		return nil, err
	}
	s, ok := v.(basetypes.StringValue)
	if !ok {
		return nil, fmt.Errorf("unexpected value type %T", v)
	}
	return Timestamp{RFC3339: timetypes.RFC3339{StringValue: s}}, nil
}

// Timestamp is a value of TimestampType.
type Timestamp struct {
	timetypes.RFC3339
}

// NewTimestampNull is a null Timestamp.
func NewTimestampNull() Timestamp { return Timestamp{RFC3339: timetypes.NewRFC3339Null()} }

// NewTimestampUnknown is an unknown Timestamp.
func NewTimestampUnknown() Timestamp { return Timestamp{RFC3339: timetypes.NewRFC3339Unknown()} }

// NewTimestampPointerValue is *t in UTC, or null when t is nil or zero.
func NewTimestampPointerValue(t *time.Time) Timestamp {
	if t == nil || t.IsZero() {
		return NewTimestampNull()
	}
	return Timestamp{RFC3339: timetypes.NewRFC3339TimeValue(t.UTC())}
}

func (v Timestamp) Type(context.Context) attr.Type { return TimestampType{} }

func (v Timestamp) Equal(o attr.Value) bool {
	other, ok := o.(Timestamp)
	return ok && v.StringValue.Equal(other.StringValue)
}

// StringSemanticEquals reports whether both name the same instant (catalog.TimestampsEqual).
func (v Timestamp) StringSemanticEquals(_ context.Context, newValuable basetypes.StringValuable) (bool, diag.Diagnostics) {
	var diags diag.Diagnostics
	other, ok := newValuable.(Timestamp)
	if !ok {
		diags.AddError("Semantic equality check error",
			fmt.Sprintf("Expected a value of type %T, got %T. This is a bug in the provider; please report it.", v, newValuable))
		return false, diags
	}
	return catalog.TimestampsEqual(v.ValueString(), other.ValueString()), diags
}

// ValidateAttribute applies the server's rule at plan time, naming the attribute. It replaces
// timetypes' own check, which would report the same mistake a second time in other words.
func (v Timestamp) ValidateAttribute(_ context.Context, req xattr.ValidateAttributeRequest, resp *xattr.ValidateAttributeResponse) {
	if v.IsNull() || v.IsUnknown() {
		return
	}
	if err := catalog.ValidateTimestamp(v.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid "+req.Path.String(), err.Error())
	}
}
