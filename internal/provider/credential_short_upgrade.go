package provider

import (
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// upgrade answers UpgradeResourceState, which Terraform calls for every credential in state before
// anything else, where the stored state is of the schema's own version: the framework then decodes
// the stored JSON with the schema's type (dropping attributes the schema no longer has) and sends it
// back, re-encoded. Its other work, converting the value to the framework's types and back, changes
// nothing for a schema without blocks. Older versions, flatmap state and anything that does not
// decode take the framework's path.
func (u *credentialShortPaths) upgrade(req *tfprotov6.UpgradeResourceStateRequest) (*tfprotov6.UpgradeResourceStateResponse, bool) {
	if u == nil || req.TypeName != credentialTypeName || req.Version != u.schema.Version || req.RawState == nil ||
		len(req.RawState.JSON) == 0 || req.RawState.Flatmap != nil {
		return nil, false
	}
	v, err := req.RawState.UnmarshalWithOpts(u.typ, tfprotov6.UnmarshalOpts{
		ValueFromJSONOpts: tftypes.ValueFromJSONOpts{IgnoreUndefinedAttributes: true}})
	if err != nil {
		return nil, false
	}
	state, err := tfprotov6.NewDynamicValue(u.typ, v)
	if err != nil {
		return nil, false
	}
	return &tfprotov6.UpgradeResourceStateResponse{UpgradedState: &state}, true
}
