package provider

import (
	"bytes"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// unchanged answers a plan of a credential that nothing changed: the proposed new state as the plan,
// the prior private state and identity.
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
//     plan equal to the state as it is; TestCredentialShortPathModifiers lists them, so that a new
//     one is looked at here.
func (u *credentialShortPaths) unchanged(req *tfprotov6.PlanResourceChangeRequest, data *providerData) (*tfprotov6.PlanResourceChangeResponse, bool) {
	if bytes.Contains(req.PriorPrivate, []byte(privateAdoptedKey)) {
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
	return &tfprotov6.PlanResourceChangeResponse{
		PlannedState:    req.ProposedNewState,
		PlannedPrivate:  req.PriorPrivate,
		PlannedIdentity: u.identity(req),
	}, true
}
