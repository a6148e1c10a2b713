package provider

import (
	"bytes"
	"context"

	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/defaults"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// unchangedCredentialPlans answers the commonest call of a plan, PlanResourceChange for a
// modelkeys_credential that nothing changed, without the framework's plan machinery, with the answer
// that machinery gives: the proposed new state as the plan, the prior private state and identity.
//
// Why: terraform-plugin-framework v1.19 plans every attribute of the schema in turn, and each turn
// rewrites the whole planned object and looks each of its attributes up in a map it rebuilds from
// the schema at every step. That is cubic in the number of attributes; with the credential's 29 it
// is half of the provider's CPU on a no-change plan, for a call whose answer is known up front.
//
// The answer is known when Terraform's proposed new state is byte for byte the prior state (so every
// configured value equals the stored one) and nothing the framework or ModifyPlan would add applies:
//   - a Default plans its value where the configuration omits the attribute: the prior value must be
//     that default or the attribute configured (a stored verify = false under a configuration that
//     omits verify is a change to true);
//   - ModifyPlan plans the provider's project for a credential whose project_id is omitted: the prior
//     project_id must be that project (or null when the provider has none), or it is a replacement;
//   - ModifyPlan clears the adoption marker from the private state: there must be none;
//   - the plan modifiers (UseStateForUnknown, RequiresReplace, UseStateWhenSemanticallyEqual) leave a
//     plan equal to the state as it is; TestUnchangedCredentialPlanModifiers lists them, so that a new
//     one is looked at here.
//
// Anything else, and any credential before the provider is configured, takes the framework's path;
// TestUnchangedCredentialPlanAnswersAsTheFramework holds both paths to the same answers.
// credentialTypeName is the resource type the short path is for (Metadata's provider type name and
// "_credential").
const credentialTypeName = "modelkeys_credential"

type unchangedCredentialPlans struct {
	provider *modelkeysProvider
	typ      tftypes.Object
	defaults map[string]tftypes.Value // the attributes with a Default, and that default
	// nullIdentity is the planned identity when Terraform sent none (before 1.12, or state written
	// before identities): the framework plans a null one then.
	nullIdentity *tfprotov6.ResourceIdentityData
}

// newUnchangedCredentialPlans returns nil, which plans everything the framework's way, when the
// credential's schema has a default this file does not know how to compare.
func newUnchangedCredentialPlans(p *modelkeysProvider) *unchangedCredentialPlans {
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
	u := &unchangedCredentialPlans{provider: p, typ: typ, defaults: map[string]tftypes.Value{},
		nullIdentity: &tfprotov6.ResourceIdentityData{IdentityData: &nullIdentity}}
	for name, a := range sr.Schema.Attributes {
		var v tftypes.Value
		switch a := a.(type) {
		case schema.BoolAttribute:
			if a.Default == nil {
				continue
			}
			var r defaults.BoolResponse
			a.Default.DefaultBool(ctx, defaults.BoolRequest{}, &r)
			v, err = r.PlanValue.ToTerraformValue(ctx)
		case schema.StringAttribute:
			if a.Default == nil {
				continue
			}
			var r defaults.StringResponse
			a.Default.DefaultString(ctx, defaults.StringRequest{}, &r)
			v, err = r.PlanValue.ToTerraformValue(ctx)
		case schema.Int64Attribute:
			if a.Default == nil {
				continue
			}
			var r defaults.Int64Response
			a.Default.DefaultInt64(ctx, defaults.Int64Request{}, &r)
			v, err = r.PlanValue.ToTerraformValue(ctx)
		case schema.MapAttribute:
			if a.Default == nil {
				continue
			}
			return nil
		case schema.SetAttribute:
			if a.Default == nil {
				continue
			}
			return nil
		case schema.ListAttribute:
			if a.Default == nil {
				continue
			}
			return nil
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
func (u *unchangedCredentialPlans) plan(req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, bool) {
	if u == nil || req.TypeName != credentialTypeName || (req.PriorIdentity != nil && req.PriorIdentity.IdentityData == nil) ||
		!sameMsgPack(req.ProposedNewState, req.PriorState) || bytes.Contains(req.PriorPrivate, []byte(privateAdoptedKey)) {
		return nil, false
	}
	data := u.provider.configured.Load()
	if data == nil {
		return nil, false
	}
	attrs := u.attributes(req.PriorState)
	if attrs == nil {
		return nil, false
	}
	var config map[string]tftypes.Value // decoded when a default is in question
	for name, def := range u.defaults {
		if attrs[name].Equal(def) {
			continue
		}
		if config == nil {
			if config = u.attributes(req.Config); config == nil {
				return nil, false
			}
		}
		if config[name].IsNull() { // the default would be planned over the stored value
			return nil, false
		}
	}
	project := tftypes.NewValue(tftypes.String, nil)
	if data.defaultProject != "" {
		project = tftypes.NewValue(tftypes.String, data.defaultProject)
	}
	if !attrs["project_id"].Equal(project) {
		return nil, false
	}
	identity := req.PriorIdentity
	if identity == nil {
		identity = u.nullIdentity
	}
	return &tfprotov6.PlanResourceChangeResponse{
		PlannedState:    req.ProposedNewState,
		PlannedPrivate:  req.PriorPrivate,
		PlannedIdentity: identity,
	}, true
}

// attributes decodes a known, non-null credential object; nil for anything else.
func (u *unchangedCredentialPlans) attributes(dv *tfprotov6.DynamicValue) map[string]tftypes.Value {
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
