package provider

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// read answers the refresh of a credential (ReadResource) with what the framework answers, by calling
// the same refresh that Read calls and doing the framework's part around it in one pass:
//   - the state refresh leaves, where each value whose type has a semantic equality (timestamps,
//     durations) keeps its stored spelling when the server's is equal to it;
//   - write-only attributes null (they are never stored);
//   - the identity, {id}, which must be the one Terraform holds, if it holds one;
//   - the private state with the server's version of the credential, the other keys kept.
//
// A refresh that fails, or finds the credential gone, is answered as the framework answers it too (the
// state as it was with the error; a null state), so that a failing server is not asked twice. The
// framework's own path answers instead, reading again, for a diagnostic about an attribute (whose
// path this file does not convert) and an identity that is not the one Terraform holds; and, without a
// read here, for a private state holding the framework's own keys (an import's first read).
// TestReadCredentialAnswersAsTheFramework holds both paths to the same answers.
func (u *credentialShortPaths) read(ctx context.Context, req *tfprotov6.ReadResourceRequest) (*tfprotov6.ReadResourceResponse, bool) {
	data := u.configuredFor(req.TypeName, req.CurrentIdentity)
	if data == nil {
		return nil, false
	}
	private := map[string][]byte{}
	if len(req.Private) > 0 {
		if json.Unmarshal(req.Private, &private) != nil {
			return nil, false
		}
		for k := range private {
			if strings.HasPrefix(k, ".") { // the framework's keys
				return nil, false
			}
		}
	}
	prior := u.attributes(req.CurrentState)
	if prior == nil {
		return nil, false
	}
	identity := tfsdk.ResourceIdentity{Schema: u.identitySchema, Raw: tftypes.NewValue(u.identitySchema.Type().TerraformType(ctx), nil)}
	if req.CurrentIdentity != nil {
		v, err := req.CurrentIdentity.IdentityData.Unmarshal(identity.Raw.Type())
		if err != nil {
			return nil, false
		}
		identity.Raw = v
	}
	priorIdentity := identity.Raw

	st := tfsdk.State{Schema: u.schema, Raw: tftypes.NewValue(u.typ, prior)}
	var state credentialModel
	var diags diag.Diagnostics
	diags.Append(credentialCodec.getState(ctx, st, &state)...)
	if diags.HasError() {
		return nil, false
	}
	version, gone := (&credentialResource{data: data}).refresh(ctx, &state, &diags)
	switch {
	case !withoutPaths(diags):
		return nil, false
	case diags.HasError():
		// As the framework answers a Read that failed: the state, private state and identity as they were.
		return u.readAnswer(req.CurrentState, diags, private, priorIdentity)
	case gone:
		// As the framework answers a Read that removed the resource: a null state, with an identity.
		diags.Append(setIDIdentity(ctx, &identity, state.ID)...)
	default:
		diags.Append(credentialCodec.setState(ctx, &st, &state)...)
		diags.Append(setIDIdentity(ctx, &identity, state.ID)...)
		diags.Append(setVersion(ctx, privateData(private), version)...)
	}
	if diags.HasError() || !withoutPaths(diags) || identity.Raw.IsFullyNull() || (!priorIdentity.IsFullyNull() && !priorIdentity.Equal(identity.Raw)) {
		return nil, false
	}
	if gone {
		return u.readAnswer(nil, diags, private, identity.Raw)
	}

	var refreshed map[string]tftypes.Value
	if st.Raw.As(&refreshed) != nil {
		return nil, false
	}
	for name, typ := range u.semantic {
		if v, ok := u.semanticallyEqual(ctx, typ, prior[name], refreshed[name]); ok {
			refreshed[name] = v
		}
	}
	for name, wo := range u.writeOnly {
		if wo {
			refreshed[name] = tftypes.NewValue(u.typ.AttributeTypes[name], nil)
		}
	}
	newState, err := tfprotov6.NewDynamicValue(u.typ, tftypes.NewValue(u.typ, refreshed))
	if err != nil {
		return nil, false
	}
	return u.readAnswer(&newState, diags, private, identity.Raw)
}

// readAnswer is a ReadResource response as the framework encodes it; state nil is a null state
// (a removed resource).
func (u *credentialShortPaths) readAnswer(state *tfprotov6.DynamicValue, diags diag.Diagnostics, private privateData, identity tftypes.Value) (*tfprotov6.ReadResourceResponse, bool) {
	if state == nil {
		null, err := tfprotov6.NewDynamicValue(u.typ, tftypes.NewValue(u.typ, nil))
		if err != nil {
			return nil, false
		}
		state = &null
	}
	newIdentity, err := tfprotov6.NewDynamicValue(identity.Type(), identity)
	if err != nil {
		return nil, false
	}
	var privateBytes []byte // the framework sends none for an empty private state
	if len(private) > 0 {
		if privateBytes, err = json.Marshal(map[string][]byte(private)); err != nil {
			return nil, false
		}
	}
	return &tfprotov6.ReadResourceResponse{
		NewState:    state,
		Diagnostics: diagnosticsToProto(diags),
		Private:     privateBytes,
		NewIdentity: &tfprotov6.ResourceIdentityData{IdentityData: &newIdentity},
	}, true
}

// semanticallyEqual is the framework's semantic equality of one attribute: the prior value, when both
// values are known and set and the type says the refreshed one means the same.
func (u *credentialShortPaths) semanticallyEqual(ctx context.Context, typ basetypes.StringTypable, prior, refreshed tftypes.Value) (tftypes.Value, bool) {
	if !prior.IsKnown() || prior.IsNull() || !refreshed.IsKnown() || refreshed.IsNull() || prior.Equal(refreshed) {
		return tftypes.Value{}, false
	}
	pv, err := typ.ValueFromTerraform(ctx, prior)
	if err != nil {
		return tftypes.Value{}, false
	}
	nv, err := typ.ValueFromTerraform(ctx, refreshed)
	if err != nil {
		return tftypes.Value{}, false
	}
	p, ok1 := pv.(basetypes.StringValuableWithSemanticEquals)
	n, ok2 := nv.(basetypes.StringValuableWithSemanticEquals)
	if !ok1 || !ok2 {
		return tftypes.Value{}, false
	}
	if equal, diags := n.StringSemanticEquals(ctx, p); !equal || diags.HasError() {
		return tftypes.Value{}, false
	}
	return prior, true
}

// privateData is a private state as the framework keeps the provider's part of it: JSON values by key.
type privateData map[string][]byte

func (p privateData) SetKey(_ context.Context, key string, value []byte) diag.Diagnostics {
	var diags diag.Diagnostics
	if !json.Valid(value) {
		diags.AddError("Invalid private state value", "the value of private state key "+key+" is not JSON")
		return diags
	}
	p[key] = value
	return nil
}

// withoutPaths: no diagnostic in diags is about an attribute (whose path would have to be converted as
// the framework converts it).
func withoutPaths(diags diag.Diagnostics) bool {
	for _, d := range diags {
		if _, withPath := d.(diag.DiagnosticWithPath); withPath {
			return false
		}
	}
	return true
}

// diagnosticsToProto converts diagnostics without paths as the framework does.
func diagnosticsToProto(diags diag.Diagnostics) []*tfprotov6.Diagnostic {
	var out []*tfprotov6.Diagnostic
	for _, d := range diags {
		severity := tfprotov6.DiagnosticSeverityWarning
		if d.Severity() == diag.SeverityError {
			severity = tfprotov6.DiagnosticSeverityError
		}
		out = append(out, &tfprotov6.Diagnostic{Severity: severity, Summary: d.Summary(), Detail: d.Detail()})
	}
	return out
}
