package provider

import (
	"context"
	"reflect"
	"strings"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/attr/xattr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// modelCodec reads and writes a resource model (a struct of attr.Value fields with tfsdk tags) from and
// to the tftypes.Value that Terraform sent, the way tfsdk.State/Plan/Config.Get and Set do, without
// the framework's per-call reflection: terraform-plugin-framework v1.19 rebuilds the struct's tag map
// on every Get and Set and compiles a regular expression for every field it reads or writes (a tenth
// of the provider's CPU on a plan of many credentials). The field layout is worked out once per model
// type, the attribute types once from the first schema seen.
//
// Only the common case takes the short path: a known, non-null object of exactly the schema's type,
// whose attributes all convert to the field's type. Anything else (null or unknown objects, a field
// that would not convert) goes to the framework's own Get or Set, so errors read as they always did.
// Attribute values that validate themselves (xattr.ValidateableAttribute, xattr.TypeWithValidate) are
// validated as the framework does.
type modelCodec struct {
	typ    reflect.Type
	once   sync.Once
	fields []codecField // nil when the struct is not one the short path handles
	tfType tftypes.Type
}

type codecField struct {
	name  string
	index []int
	typ   attr.Type
	path  path.Path
}

var attrValueType = reflect.TypeOf((*attr.Value)(nil)).Elem()

// newModelCodec is for *T models, T a struct.
func newModelCodec[T any]() *modelCodec {
	return &modelCodec{typ: reflect.TypeOf((*T)(nil)).Elem()}
}

// structFields lists the tagged fields of t, embedded structs flattened, as the framework reads them;
// false for anything the short path leaves to the framework (untagged, pointer-embedded, "-", dupes).
func structFields(t reflect.Type, prefix []int, out map[string][]int) bool {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		idx := append(append([]int(nil), prefix...), i)
		tag, ok := f.Tag.Lookup("tfsdk")
		if f.Anonymous {
			if ok || f.Type.Kind() != reflect.Struct || !structFields(f.Type, idx, out) {
				return false
			}
			continue
		}
		if !f.IsExported() || !ok || tag == "-" || !f.Type.Implements(attrValueType) {
			return false
		}
		if _, dup := out[tag]; dup {
			return false
		}
		out[tag] = idx
	}
	return true
}

// typed is what tfsdk.State, Plan and Config hold as their Schema (an internal framework type).
type typed interface{ Type() attr.Type }

func (c *modelCodec) init(ctx context.Context, sch typed) {
	if sch == nil {
		return // a zero State or Plan: leave the codec for the next call that has a schema
	}
	c.once.Do(func() {
		schemaType := sch.Type()
		ot, ok := schemaType.(attr.TypeWithAttributeTypes)
		if !ok || c.typ.Kind() != reflect.Struct {
			return
		}
		tags := map[string][]int{}
		if !structFields(c.typ, nil, tags) {
			return
		}
		attrTypes := ot.AttributeTypes()
		if len(attrTypes) != len(tags) {
			return
		}
		fields := make([]codecField, 0, len(tags))
		for name, idx := range tags {
			at, ok := attrTypes[name]
			if !ok {
				return
			}
			fields = append(fields, codecField{name: name, index: idx, typ: at, path: path.Root(name)})
		}
		c.tfType = schemaType.TerraformType(ctx)
		c.fields = fields
	})
}

// get fills target (a *T) from raw, or calls slow (the framework's Get) when the short path does not apply.
func (c *modelCodec) get(ctx context.Context, raw tftypes.Value, sch typed, target any, slow func() diag.Diagnostics) diag.Diagnostics {
	c.init(ctx, sch)
	rv := reflect.ValueOf(target)
	if c.fields == nil || rv.Kind() != reflect.Pointer || rv.Elem().Type() != c.typ ||
		!raw.IsKnown() || raw.IsNull() || !raw.Type().Equal(c.tfType) {
		return slow()
	}
	var vals map[string]tftypes.Value
	if err := raw.As(&vals); err != nil || len(vals) != len(c.fields) {
		return slow()
	}
	result := reflect.New(c.typ).Elem()
	var diags diag.Diagnostics
	for _, f := range c.fields {
		tv, ok := vals[f.name]
		if !ok {
			return slow()
		}
		v, err := f.typ.ValueFromTerraform(ctx, tv)
		if err != nil {
			return slow()
		}
		if va, ok := v.(xattr.ValidateableAttribute); ok {
			resp := xattr.ValidateAttributeResponse{}
			va.ValidateAttribute(ctx, xattr.ValidateAttributeRequest{Path: f.path}, &resp)
			diags.Append(resp.Diagnostics...)
		} else if tv2, ok := f.typ.(xattr.TypeWithValidate); ok { //nolint:staticcheck // the framework still honours it
			diags.Append(tv2.Validate(ctx, tv, f.path)...)
		}
		if diags.HasError() {
			return diags
		}
		fv := result.FieldByIndex(f.index)
		if reflect.TypeOf(v) != fv.Type() {
			return slow()
		}
		fv.Set(reflect.ValueOf(v))
	}
	rv.Elem().Set(result)
	return diags
}

// value is the tftypes.Value of model (a *T) for tfsdk.State/Plan.Set, which takes one as it is; ok is
// false when the short path does not apply and the caller should Set the struct itself. dst is the
// value the State or Plan holds now, whose type is its schema's. Types that validate their values
// (the framework's list, set and map types do) are validated as the framework's Set does.
func (c *modelCodec) value(ctx context.Context, dst tftypes.Value, sch typed, model any) (tftypes.Value, diag.Diagnostics, bool) {
	c.init(ctx, sch)
	rv := reflect.ValueOf(model)
	if c.fields == nil || rv.Kind() != reflect.Pointer || rv.Elem().Type() != c.typ || !dst.Type().Equal(c.tfType) {
		return tftypes.Value{}, nil, false
	}
	obj, ok := c.tfType.(tftypes.Object)
	if !ok {
		return tftypes.Value{}, nil, false
	}
	rv = rv.Elem()
	vals := make(map[string]tftypes.Value, len(c.fields))
	var diags diag.Diagnostics
	for _, f := range c.fields {
		v, ok := rv.FieldByIndex(f.index).Interface().(attr.Value)
		if !ok || v == nil {
			return tftypes.Value{}, nil, false
		}
		if va, ok := v.(xattr.ValidateableAttribute); ok { // validated as the framework's Set does
			resp := xattr.ValidateAttributeResponse{}
			va.ValidateAttribute(ctx, xattr.ValidateAttributeRequest{Path: f.path}, &resp)
			if diags.Append(resp.Diagnostics...); diags.HasError() {
				return tftypes.Value{}, diags, true
			}
		}
		tv, err := v.ToTerraformValue(ctx)
		if err != nil || !tv.Type().Equal(obj.AttributeTypes[f.name]) {
			return tftypes.Value{}, nil, false
		}
		if tw, ok := f.typ.(xattr.TypeWithValidate); ok { //nolint:staticcheck // the framework still honours it
			diags.Append(tw.Validate(ctx, tv, f.path)...)
			if diags.HasError() {
				return tftypes.Value{}, diags, true
			}
		}
		vals[f.name] = tv
	}
	if tftypes.ValidateValue(obj, vals) != nil {
		return tftypes.Value{}, nil, false
	}
	return tftypes.NewValue(obj, vals), diags, true
}

func (c *modelCodec) getState(ctx context.Context, s tfsdk.State, target any) diag.Diagnostics {
	return c.get(ctx, s.Raw, s.Schema, target, func() diag.Diagnostics { return s.Get(ctx, target) })
}

func (c *modelCodec) getPlan(ctx context.Context, p tfsdk.Plan, target any) diag.Diagnostics {
	return c.get(ctx, p.Raw, p.Schema, target, func() diag.Diagnostics { return p.Get(ctx, target) })
}

func (c *modelCodec) getConfig(ctx context.Context, cfg tfsdk.Config, target any) diag.Diagnostics {
	return c.get(ctx, cfg.Raw, cfg.Schema, target, func() diag.Diagnostics { return cfg.Get(ctx, target) })
}

func (c *modelCodec) setState(ctx context.Context, s *tfsdk.State, model any) diag.Diagnostics {
	v, diags, ok := c.value(ctx, s.Raw, s.Schema, model)
	if !ok {
		return s.Set(ctx, model)
	}
	if !diags.HasError() {
		diags.Append(s.Set(ctx, v)...)
	}
	return diags
}

func (c *modelCodec) setPlan(ctx context.Context, p *tfsdk.Plan, model any) diag.Diagnostics {
	v, diags, ok := c.value(ctx, p.Raw, p.Schema, model)
	if !ok {
		return p.Set(ctx, model)
	}
	if !diags.HasError() {
		diags.Append(p.Set(ctx, v)...)
	}
	return diags
}

// whenAnySet runs its validators only when the configuration sets (to anything but null) at least one
// of the root attributes attrs: for validators that cannot object otherwise, such as
// resourcevalidator.Conflicting and RequiredTogether over attributes that include one of attrs in
// each. Each of those walks the whole configuration once per path expression, converting the
// framework's schema at every step; on a plan of many resources that set none of attrs it was a tenth
// of the provider's CPU, for no diagnostic. A configuration that is unknown or null as a whole, or
// an attribute that is unknown, runs them as before.
type whenAnySet struct {
	attrs      []string
	validators []resource.ConfigValidator
}

func (v whenAnySet) Description(ctx context.Context) string {
	d := make([]string, len(v.validators))
	for i, x := range v.validators {
		d[i] = x.Description(ctx)
	}
	return strings.Join(d, "; ")
}

func (v whenAnySet) MarkdownDescription(ctx context.Context) string {
	d := make([]string, len(v.validators))
	for i, x := range v.validators {
		d[i] = x.MarkdownDescription(ctx)
	}
	return strings.Join(d, "; ")
}

func (v whenAnySet) ValidateResource(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	if !anySet(req.Config.Raw, v.attrs) {
		return
	}
	// Each gets a response of its own, as the framework gives it (resourcevalidator's validators
	// replace the diagnostics they are handed rather than append to them).
	for _, x := range v.validators {
		var r resource.ValidateConfigResponse
		x.ValidateResource(ctx, req, &r)
		resp.Diagnostics.Append(r.Diagnostics...)
	}
}

// anySet is false only when raw is a known object whose attributes attrs are all present and null.
func anySet(raw tftypes.Value, attrs []string) bool {
	if !raw.IsKnown() || raw.IsNull() {
		return true
	}
	var vals map[string]tftypes.Value
	if err := raw.As(&vals); err != nil {
		return true
	}
	for _, a := range attrs {
		if v, ok := vals[a]; !ok || !v.IsNull() {
			return true
		}
	}
	return false
}
