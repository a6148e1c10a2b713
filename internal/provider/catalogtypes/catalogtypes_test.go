package catalogtypes

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr/xattr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

func TestDurationSemanticEquals(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"90d", "2160h", true},
		{"90d", "90d", true},
		{"1d12h", "36h", true},
		{"90d", "30d", false},
		{"90d", "91d", false},
		{"x", "x", false}, // invalid values are never equal: validation reports them
	} {
		got, diags := NewDurationValue(tc.a).StringSemanticEquals(ctx, NewDurationValue(tc.b))
		if diags.HasError() || got != tc.want {
			t.Errorf("%q vs %q: got %v (%v), want %v", tc.a, tc.b, got, diags, tc.want)
		}
	}
	if _, diags := NewDurationValue("90d").StringSemanticEquals(ctx, types.StringValue("90d")); !diags.HasError() {
		t.Error("a value of another type should be an error")
	}
}

func TestDurationValidateAttribute(t *testing.T) {
	ctx := context.Background()
	at := path.Root("rotation_period")
	for s, wantErr := range map[string]string{"90d": "", "36h30m": "", "90 days": "is not a duration", "0d": "not positive", "3651d": "ten years"} {
		var resp xattr.ValidateAttributeResponse
		NewDurationValue(s).ValidateAttribute(ctx, xattr.ValidateAttributeRequest{Path: at}, &resp)
		if wantErr == "" {
			if resp.Diagnostics.HasError() {
				t.Errorf("%q: %v", s, resp.Diagnostics)
			}
			continue
		}
		if resp.Diagnostics.ErrorsCount() != 1 {
			t.Fatalf("%q: want one error, got %v", s, resp.Diagnostics)
		}
		d := resp.Diagnostics.Errors()[0]
		if d.Summary() != "Invalid rotation_period" || !strings.Contains(d.Detail(), wantErr) {
			t.Errorf("%q: %s: %s", s, d.Summary(), d.Detail())
		}
	}
	for _, v := range []Duration{NewDurationNull(), NewDurationUnknown()} {
		var resp xattr.ValidateAttributeResponse
		v.ValidateAttribute(ctx, xattr.ValidateAttributeRequest{Path: at}, &resp)
		if resp.Diagnostics.HasError() {
			t.Errorf("%v: %v", v, resp.Diagnostics)
		}
	}
	if !NewDurationValue("").IsNull() {
		t.Error(`"" should be null`)
	}
}

func TestDurationTypeRoundTrip(t *testing.T) {
	ctx := context.Background()
	v, err := DurationType{}.ValueFromTerraform(ctx, tftypes.NewValue(tftypes.String, "90d"))
	if err != nil || !v.Equal(NewDurationValue("90d")) {
		t.Fatalf("got %v, %v", v, err)
	}
	if !(DurationType{}).Equal(NewDurationValue("1h").Type(ctx)) || (DurationType{}).Equal(TimestampType{}) {
		t.Error("DurationType.Equal")
	}
}

func TestTimestampSemanticEquals(t *testing.T) {
	ctx := context.Background()
	ts := func(s string) Timestamp {
		v, _ := TimestampType{}.ValueFromString(ctx, types.StringValue(s))
		return v.(Timestamp)
	}
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"2027-01-01T00:00:00Z", "2027-01-01T01:00:00+01:00", true}, // timetypes.RFC3339 says false
		{"2027-01-01T00:00:00Z", "2027-01-01T00:00:00+00:00", true},
		{"2027-01-01T00:00:00Z", "2027-01-01T00:00:00+01:00", false},
		{"2027-01-01", "2027-01-01", false},
	} {
		got, diags := ts(tc.a).StringSemanticEquals(ctx, ts(tc.b))
		if diags.HasError() || got != tc.want {
			t.Errorf("%q vs %q: got %v (%v), want %v", tc.a, tc.b, got, diags, tc.want)
		}
	}
}

func TestTimestampValidateAttribute(t *testing.T) {
	ctx := context.Background()
	at := path.Root("expires_at")
	for s, wantErr := range map[string]string{"2027-01-01T00:00:00Z": "", "2027-01-01T01:00:00+01:00": "", "2027-01-01": "RFC 3339", "1999-12-31T00:00:00Z": "out of range"} {
		v, _ := TimestampType{}.ValueFromString(ctx, types.StringValue(s))
		var resp xattr.ValidateAttributeResponse
		v.(Timestamp).ValidateAttribute(ctx, xattr.ValidateAttributeRequest{Path: at}, &resp)
		if wantErr == "" {
			if resp.Diagnostics.HasError() {
				t.Errorf("%q: %v", s, resp.Diagnostics)
			}
			continue
		}
		if resp.Diagnostics.ErrorsCount() != 1 { // one error: timetypes' own check does not run as well
			t.Fatalf("%q: want one error, got %v", s, resp.Diagnostics)
		}
		d := resp.Diagnostics.Errors()[0]
		if d.Summary() != "Invalid expires_at" || !strings.Contains(d.Detail(), wantErr) {
			t.Errorf("%q: %s: %s", s, d.Summary(), d.Detail())
		}
	}
}

func TestNewTimestampPointerValue(t *testing.T) {
	if !NewTimestampPointerValue(nil).IsNull() || !NewTimestampPointerValue(&time.Time{}).IsNull() {
		t.Error("nil and zero should be null")
	}
	at := time.Date(2027, 1, 1, 1, 0, 0, 0, time.FixedZone("", 3600))
	if got := NewTimestampPointerValue(&at).ValueString(); got != "2027-01-01T00:00:00Z" {
		t.Errorf("got %q, want UTC", got)
	}
}

func TestUseStateWhenSemanticallyEqual(t *testing.T) {
	ctx := context.Background()
	m := UseStateWhenSemanticallyEqual(DurationType{})
	for _, tc := range []struct {
		state, plan types.String
		want        types.String
	}{
		{types.StringValue("90d"), types.StringValue("2160h"), types.StringValue("90d")},
		{types.StringValue("90d"), types.StringValue("30d"), types.StringValue("30d")},
		{types.StringNull(), types.StringValue("2160h"), types.StringValue("2160h")},
		{types.StringValue("90d"), types.StringNull(), types.StringNull()},
		{types.StringValue("90d"), types.StringUnknown(), types.StringUnknown()},
	} {
		resp := planmodifier.StringResponse{PlanValue: tc.plan}
		m.PlanModifyString(ctx, planmodifier.StringRequest{StateValue: tc.state, PlanValue: tc.plan, ConfigValue: tc.plan}, &resp)
		if resp.Diagnostics.HasError() || !resp.PlanValue.Equal(tc.want) {
			t.Errorf("state %v, plan %v: got %v (%v), want %v", tc.state, tc.plan, resp.PlanValue, resp.Diagnostics, tc.want)
		}
	}
}
