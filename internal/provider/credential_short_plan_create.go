package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// create answers a plan of a new credential (no prior state) with what the framework plans for it,
// in the framework's order, in one pass over the attributes:
//   - a Default where the configuration omits the attribute (verify);
//   - null for a write-only attribute, which is never planned or stored;
//   - unknown ("known after apply") for a Computed attribute the configuration omits and no Default
//     fills;
//   - the plan modifiers, all of which leave a new resource's plan alone (UseStateForUnknown,
//     RequiresReplace and UseStateWhenSemanticallyEqual look at a prior state there is none of;
//     TestCredentialShortPathModifiers lists them, so that a new one is looked at here);
//   - ModifyPlan's part for a new credential, planCreate itself.
//
// Where planCreate has anything to say (a missing API key), or a value does not decode, the
// framework's path answers instead, so diagnostics read as they always have.
func (u *credentialShortPaths) create(ctx context.Context, req *tfprotov6.PlanResourceChangeRequest, data *providerData) (*tfprotov6.PlanResourceChangeResponse, bool) {
	if len(req.PriorPrivate) > 0 || !u.isNull(req.PriorState) {
		return nil, false
	}
	proposed, config := u.attributes(req.ProposedNewState), u.attributes(req.Config)
	if proposed == nil || config == nil {
		return nil, false
	}
	planned := make(map[string]tftypes.Value, len(proposed))
	for name, v := range proposed {
		def, hasDefault := u.defaults[name]
		switch {
		case u.writeOnly[name]:
			v = tftypes.NewValue(u.typ.AttributeTypes[name], nil)
		case !config[name].IsNull():
		case hasDefault:
			v = def
		case u.computed[name]:
			v = tftypes.NewValue(u.typ.AttributeTypes[name], tftypes.UnknownValue)
		}
		planned[name] = v
	}

	out := tfsdk.Plan{Schema: u.schema, Raw: tftypes.NewValue(u.typ, planned)}
	var plan, cfg credentialModel
	var diags diag.Diagnostics
	diags.Append(credentialCodec.getPlan(ctx, out, &plan)...)
	diags.Append(credentialCodec.getConfig(ctx, tfsdk.Config{Schema: u.schema, Raw: tftypes.NewValue(u.typ, config)}, &cfg)...)
	if diags.HasError() {
		return nil, false
	}
	(&credentialResource{data: data}).planCreate(&plan, &cfg, &diags)
	diags.Append(credentialCodec.setPlan(ctx, &out, &plan)...)
	if len(diags) > 0 {
		return nil, false
	}
	state, err := tfprotov6.NewDynamicValue(u.typ, out.Raw)
	if err != nil {
		return nil, false
	}
	return &tfprotov6.PlanResourceChangeResponse{PlannedState: &state, PlannedIdentity: u.identity(req)}, true
}

// isNull: dv is absent or a null credential, as the prior state of a resource not yet created is.
func (u *credentialShortPaths) isNull(dv *tfprotov6.DynamicValue) bool {
	if dv == nil {
		return true
	}
	v, err := dv.Unmarshal(u.typ)
	return err == nil && v.IsNull()
}
