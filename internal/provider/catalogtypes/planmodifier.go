package catalogtypes

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
)

// UseStateWhenSemanticallyEqual plans the prior state's value when the configuration's means the
// same in another spelling ("2160h" for "90d"), so such a change plans nothing. The framework applies
// semantic equality only to what Create, Read and Update return, not to plans; Terraform accepts a
// planned value equal to the prior state in place of the configuration's.
func UseStateWhenSemanticallyEqual(t basetypes.StringTypable) planmodifier.String {
	return semanticStateModifier{typ: t}
}

type semanticStateModifier struct{ typ basetypes.StringTypable }

func (m semanticStateModifier) Description(context.Context) string {
	return "keeps the prior value when the configuration spells the same value differently"
}

func (m semanticStateModifier) MarkdownDescription(ctx context.Context) string {
	return m.Description(ctx)
}

func (m semanticStateModifier) PlanModifyString(ctx context.Context, req planmodifier.StringRequest, resp *planmodifier.StringResponse) {
	if req.StateValue.IsNull() || req.StateValue.IsUnknown() || req.PlanValue.IsNull() || req.PlanValue.IsUnknown() ||
		req.PlanValue.Equal(req.StateValue) {
		return
	}
	prior, diags := m.typ.ValueFromString(ctx, req.StateValue)
	resp.Diagnostics.Append(diags...)
	planned, diags := m.typ.ValueFromString(ctx, req.PlanValue)
	resp.Diagnostics.Append(diags...)
	withEquality, ok := prior.(basetypes.StringValuableWithSemanticEquals)
	if resp.Diagnostics.HasError() || !ok {
		return
	}
	equal, diags := withEquality.StringSemanticEquals(ctx, planned)
	resp.Diagnostics.Append(diags...)
	if equal {
		resp.PlanValue = req.StateValue
	}
}
