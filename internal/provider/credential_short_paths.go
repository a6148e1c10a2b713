package provider

import (
	"bytes"
	"context"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/identityschema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/defaults"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// credentialShortPaths answers the calls Terraform makes once per modelkeys_credential in every run,
// without the framework's machinery, with the answers that machinery gives: the state upgrade
// (credential_short_upgrade.go), the refresh (credential_short_read.go), the plan of a new credential
// (credential_short_plan_create.go) and the plan of one that nothing changed
// (credential_short_plan_unchanged.go).
//
// Why: terraform-plugin-framework v1.19 works attribute by attribute, and each step looks the
// attribute up in a map it rebuilds from the schema: planning rewrites the whole planned object once
// per attribute, and every conversion of a state walks it twice more to turn null blocks into empty
// ones and back, which a schema without blocks never needs. With the credential's 29 attributes that
// was half of the provider's CPU on a no-change plan and on an apply that creates credentials
// (Terraform plans each new resource twice, at plan and again at apply). Each answer here is a single
// pass over the attributes, around the same resource code the framework calls.
//
// Anything these files do not know the answer to, and every call before the provider is configured,
// takes the framework's path; the tests beside each file hold both paths to the same answers.
type credentialShortPaths struct {
	provider  *modelkeysProvider
	schema    schema.Schema
	typ       tftypes.Object
	defaults  map[string]tftypes.Value // the attributes with a Default, and that default
	computed  map[string]bool          // Computed attributes (with or without Optional)
	writeOnly map[string]bool
	// semantic are the attributes whose type has a semantic equality (timestamps, durations): a refresh
	// keeps the stored spelling of an equal value.
	semantic       map[string]basetypes.StringTypable
	identitySchema identityschema.Schema
	// nullIdentity is the planned identity when Terraform sent none (before 1.12, a new resource, or
	// state written before identities): the framework plans a null one then.
	nullIdentity *tfprotov6.ResourceIdentityData
}

// credentialTypeName is the resource type the short paths are for (Metadata's provider type name and
// "_credential").
const credentialTypeName = "modelkeys_credential"

// newCredentialShortPaths returns nil, which plans and reads everything the framework's way, when the
// credential's schema has a default this file does not know how to compute, or a custom type other
// than a string's.
func newCredentialShortPaths(p *modelkeysProvider) *credentialShortPaths {
	ctx := context.Background()
	var sr resource.SchemaResponse
	NewCredentialResource().Schema(ctx, resource.SchemaRequest{}, &sr)
	typ, ok := sr.Schema.Type().TerraformType(ctx).(tftypes.Object)
	if !ok || sr.Diagnostics.HasError() {
		return nil
	}
	var ir resource.IdentitySchemaResponse
	(&credentialResource{}).IdentitySchema(ctx, resource.IdentitySchemaRequest{}, &ir)
	ityp := ir.IdentitySchema.Type().TerraformType(ctx)
	nullIdentity, err := tfprotov6.NewDynamicValue(ityp, tftypes.NewValue(ityp, nil))
	if err != nil {
		return nil
	}
	u := &credentialShortPaths{provider: p, schema: sr.Schema, typ: typ, defaults: map[string]tftypes.Value{},
		computed: map[string]bool{}, writeOnly: map[string]bool{}, semantic: map[string]basetypes.StringTypable{},
		identitySchema: ir.IdentitySchema,
		nullIdentity:   &tfprotov6.ResourceIdentityData{IdentityData: &nullIdentity}}
	for name, a := range sr.Schema.Attributes {
		u.computed[name], u.writeOnly[name] = a.IsComputed(), a.IsWriteOnly()
		var v tftypes.Value
		switch a := a.(type) {
		case schema.BoolAttribute:
			if a.CustomType != nil {
				return nil // a semantic equality the refresh would have to apply
			}
			if a.Default == nil {
				continue
			}
			var r defaults.BoolResponse
			a.Default.DefaultBool(ctx, defaults.BoolRequest{}, &r)
			v, err = r.PlanValue.ToTerraformValue(ctx)
		case schema.StringAttribute:
			if a.CustomType != nil {
				u.semantic[name] = a.CustomType
			}
			if a.Default == nil {
				continue
			}
			var r defaults.StringResponse
			a.Default.DefaultString(ctx, defaults.StringRequest{}, &r)
			v, err = r.PlanValue.ToTerraformValue(ctx)
		case schema.Int64Attribute:
			if a.CustomType != nil {
				return nil // a semantic equality the refresh would have to apply
			}
			if a.Default == nil {
				continue
			}
			var r defaults.Int64Response
			a.Default.DefaultInt64(ctx, defaults.Int64Request{}, &r)
			v, err = r.PlanValue.ToTerraformValue(ctx)
		case schema.MapAttribute:
			if !plainStringCollection(a.CustomType != nil, a.ElementType, a.Default != nil) {
				return nil
			}
			continue
		case schema.SetAttribute:
			if !plainStringCollection(a.CustomType != nil, a.ElementType, a.Default != nil) {
				return nil
			}
			continue
		case schema.ListAttribute:
			if !plainStringCollection(a.CustomType != nil, a.ElementType, a.Default != nil) {
				return nil
			}
			continue
		case schema.SingleNestedAttribute:
			if !plainNestedObject(a) {
				return nil
			}
			continue
		default:
			return nil
		}
		if err != nil {
			return nil
		}
		u.defaults[name] = v
	}
	return u
}

// plan is the framework's answer to req when it is known without asking the framework; false otherwise.
func (u *credentialShortPaths) plan(ctx context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, bool) {
	data := u.configuredFor(req.TypeName, req.PriorIdentity)
	if data == nil {
		return nil, false
	}
	if sameMsgPack(req.ProposedNewState, req.PriorState) {
		return u.unchanged(req, data)
	}
	return u.create(ctx, req, data)
}

// configuredFor is the configured provider's data when a call of typeName with identity is one the
// short paths may answer: a credential, with a decodable identity or none; nil otherwise.
func (u *credentialShortPaths) configuredFor(typeName string, identity *tfprotov6.ResourceIdentityData) *providerData {
	if u == nil || typeName != credentialTypeName || (identity != nil && identity.IdentityData == nil) {
		return nil
	}
	return u.provider.configured.Load()
}

// plainStringCollection: a map, set or list attribute of plain strings without a default, which
// needs no semantic equality on refresh and plans nothing of its own.
func plainStringCollection(customType bool, elem attr.Type, hasDefault bool) bool {
	return !customType && !hasDefault && elem == types.StringType
}

// plainNestedObject reports whether the framework plans a as it is configured: an optional object
// (rotation) of plain optional or required strings, with no default, custom type or plan modifier at
// either level, so that its planned value is its configured one, as the short paths assume of every
// attribute without a default.
func plainNestedObject(a schema.SingleNestedAttribute) bool {
	if a.Computed || a.Default != nil || a.CustomType != nil || len(a.PlanModifiers) > 0 {
		return false
	}
	for _, n := range a.Attributes {
		s, ok := n.(schema.StringAttribute)
		if !ok || s.Computed || s.Default != nil || s.CustomType != nil || len(s.PlanModifiers) > 0 || s.WriteOnly || s.Sensitive {
			return false
		}
	}
	return true
}

// identity is the identity the framework plans: the prior one, or a null one when Terraform sent none.
func (u *credentialShortPaths) identity(req *tfprotov6.PlanResourceChangeRequest) *tfprotov6.ResourceIdentityData {
	if req.PriorIdentity == nil {
		return u.nullIdentity
	}
	return req.PriorIdentity
}

// attributes decodes a known, non-null credential object; nil for anything else.
func (u *credentialShortPaths) attributes(dv *tfprotov6.DynamicValue) map[string]tftypes.Value {
	if dv == nil {
		return nil
	}
	v, err := dv.Unmarshal(u.typ)
	if err != nil || v.IsNull() || !v.IsKnown() {
		return nil
	}
	var attrs map[string]tftypes.Value
	if v.As(&attrs) != nil {
		return nil
	}
	return attrs
}

// sameMsgPack: both values are there, in MessagePack, byte for byte the same. Terraform encodes
// equal values alike (attributes and map keys in order); values that are equal but encoded apart
// only miss the short path.
func sameMsgPack(a, b *tfprotov6.DynamicValue) bool {
	return a != nil && b != nil && len(a.JSON) == 0 && len(b.JSON) == 0 && len(a.MsgPack) > 0 && bytes.Equal(a.MsgPack, b.MsgPack)
}
