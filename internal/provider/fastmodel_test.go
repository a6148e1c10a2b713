package provider

import (
	"context"
	"reflect"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// credentialValues are credential objects that the short path must read exactly as the framework does:
// every attribute known, some null, some unknown (a plan), and empty collections.
func credentialValues(t *testing.T, obj tftypes.Object) []tftypes.Value {
	t.Helper()
	str := func(s string) tftypes.Value { return tftypes.NewValue(tftypes.String, s) }
	full := map[string]tftypes.Value{}
	nulls := map[string]tftypes.Value{}
	unknowns := map[string]tftypes.Value{}
	for name, typ := range obj.AttributeTypes {
		nulls[name] = tftypes.NewValue(typ, nil)
		unknowns[name] = tftypes.NewValue(typ, tftypes.UnknownValue)
		switch {
		case typ.Is(tftypes.String):
			full[name] = str("v-" + name)
		case typ.Is(tftypes.Number):
			full[name] = tftypes.NewValue(tftypes.Number, 7)
		case typ.Is(tftypes.Bool):
			full[name] = tftypes.NewValue(tftypes.Bool, true)
		case typ.Is(tftypes.Map{}):
			full[name] = tftypes.NewValue(typ, map[string]tftypes.Value{"team": str("bench"), "a": str("b")})
		case typ.Is(tftypes.Set{}), typ.Is(tftypes.List{}):
			full[name] = tftypes.NewValue(typ, []tftypes.Value{str("x"), str("y")})
		case typ.Is(tftypes.Object{}):
			// rotation: an object of strings, one of them null
			ot, _ := typ.(tftypes.Object)
			attrs := map[string]tftypes.Value{}
			for an, at := range ot.AttributeTypes {
				if !at.Is(tftypes.String) {
					t.Fatalf("attribute %s.%s: type %s not covered by this test", name, an, at)
				}
				attrs[an] = str("v-" + an)
			}
			for an := range attrs {
				attrs[an] = tftypes.NewValue(tftypes.String, nil)
				break
			}
			full[name] = tftypes.NewValue(typ, attrs)
		default:
			t.Fatalf("attribute %s: type %s not covered by this test", name, typ)
		}
	}
	mixed := map[string]tftypes.Value{}
	i := 0
	for name := range obj.AttributeTypes {
		switch i % 3 {
		case 0:
			mixed[name] = full[name]
		case 1:
			mixed[name] = nulls[name]
		default:
			mixed[name] = unknowns[name]
		}
		i++
	}
	return []tftypes.Value{
		tftypes.NewValue(obj, full), tftypes.NewValue(obj, nulls), tftypes.NewValue(obj, unknowns), tftypes.NewValue(obj, mixed),
		tftypes.NewValue(obj, nil), tftypes.NewValue(obj, tftypes.UnknownValue),
	}
}

func TestModelCodecMatchesFramework(t *testing.T) {
	ctx := context.Background()
	var sr resource.SchemaResponse
	NewCredentialResource().Schema(ctx, resource.SchemaRequest{}, &sr)
	obj, ok := sr.Schema.Type().TerraformType(ctx).(tftypes.Object)
	if !ok {
		t.Fatal("the credential schema is not an object")
	}
	codec := newModelCodec[credentialModel]()
	for i, raw := range credentialValues(t, obj) {
		st := tfsdk.State{Schema: sr.Schema, Raw: raw}
		var want, got credentialModel
		wantDiags := st.Get(ctx, &want)
		gotDiags := codec.getState(ctx, st, &got)
		if !reflect.DeepEqual(want, got) || wantDiags.HasError() != gotDiags.HasError() {
			t.Fatalf("value %d: codec read %+v (%v), framework %+v (%v)", i, got, gotDiags, want, wantDiags)
		}
		if wantDiags.HasError() {
			continue
		}
		pl := tfsdk.Plan{Schema: sr.Schema, Raw: raw}
		var fromPlan credentialModel
		if d := codec.getPlan(ctx, pl, &fromPlan); d.HasError() || !reflect.DeepEqual(fromPlan, want) {
			t.Fatalf("value %d: plan read differs: %v", i, d)
		}
		// Writing the model back gives the same value the framework's Set gives.
		dst := tfsdk.State{Schema: sr.Schema, Raw: tftypes.NewValue(obj, nil)}
		ref := dst
		if d := codec.setState(ctx, &dst, &got); d.HasError() {
			t.Fatalf("value %d: codec set: %v", i, d)
		}
		if d := ref.Set(ctx, &want); d.HasError() {
			t.Fatalf("value %d: framework set: %v", i, d)
		}
		if !dst.Raw.Equal(ref.Raw) || !dst.Raw.Equal(raw) {
			t.Fatalf("value %d: codec wrote %s, framework %s, read %s", i, dst.Raw, ref.Raw, raw)
		}
		if _, _, ok := codec.value(ctx, dst.Raw, sr.Schema, &got); !ok {
			t.Fatalf("value %d: the short path did not apply to a credential", i)
		}
		var short credentialModel
		codec.get(ctx, raw, sr.Schema, &short, func() diag.Diagnostics {
			t.Fatalf("value %d: the short path did not apply to a credential", i)
			return nil
		})
	}
	// A value of another type is left to the framework, which reports it.
	other := tftypes.NewValue(tftypes.Object{AttributeTypes: map[string]tftypes.Type{"id": tftypes.String}},
		map[string]tftypes.Value{"id": tftypes.NewValue(tftypes.String, "x")})
	var m credentialModel
	if d := codec.getState(ctx, tfsdk.State{Schema: sr.Schema, Raw: other}, &m); !d.HasError() {
		t.Fatal("reading an object of another type succeeded")
	}
}

func TestWhenAnySetSkipsOnlyWhenAllNull(t *testing.T) {
	obj := tftypes.Object{AttributeTypes: map[string]tftypes.Type{"a": tftypes.String, "b": tftypes.String, "c": tftypes.String}}
	v := func(a, b any) tftypes.Value {
		return tftypes.NewValue(obj, map[string]tftypes.Value{
			"a": tftypes.NewValue(tftypes.String, a), "b": tftypes.NewValue(tftypes.String, b), "c": tftypes.NewValue(tftypes.String, "set")})
	}
	attrs := []string{"a", "b"}
	for _, tc := range []struct {
		raw  tftypes.Value
		want bool
	}{
		{v(nil, nil), false},
		{v("x", nil), true},
		{v(nil, tftypes.UnknownValue), true},
		{tftypes.NewValue(obj, nil), true},
		{tftypes.NewValue(obj, tftypes.UnknownValue), true},
	} {
		if got := anySet(tc.raw, attrs); got != tc.want {
			t.Errorf("anySet(%s) = %v, want %v", tc.raw, got, tc.want)
		}
	}
	if !anySet(v(nil, nil), []string{"a", "missing"}) {
		t.Error("an attribute the object lacks counts as not known to be null")
	}
}

// replacing is a validator that, like resourcevalidator's, replaces the diagnostics it is handed.
type replacing struct{ fail string }

func (replacing) Description(context.Context) string         { return "r" }
func (replacing) MarkdownDescription(context.Context) string { return "r" }
func (v replacing) ValidateResource(_ context.Context, _ resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var d diag.Diagnostics
	if v.fail != "" {
		d.AddError("failed", v.fail)
	}
	resp.Diagnostics = d
}

func TestWhenAnySetKeepsEveryValidatorsDiagnostics(t *testing.T) {
	obj := tftypes.Object{AttributeTypes: map[string]tftypes.Type{"a": tftypes.String}}
	req := resource.ValidateConfigRequest{Config: tfsdk.Config{Raw: tftypes.NewValue(obj, map[string]tftypes.Value{"a": tftypes.NewValue(tftypes.String, "x")})}}
	var resp resource.ValidateConfigResponse
	whenAnySet{attrs: []string{"a"}, validators: []resource.ConfigValidator{replacing{"one"}, replacing{""}, replacing{"two"}}}.
		ValidateResource(context.Background(), req, &resp)
	if resp.Diagnostics.ErrorsCount() != 2 {
		t.Fatalf("got %d errors, want 2: %v", resp.Diagnostics.ErrorsCount(), resp.Diagnostics)
	}
}
