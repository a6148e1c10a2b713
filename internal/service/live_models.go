package service

import (
	"context"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// ModelLister is implemented by verifiers that can ask a provider which models a key reaches.
type ModelLister interface {
	ListModels(ctx context.Context, p api.Provider, settings, secrets map[string]string) ([]string, error)
}

// CredentialModels lists the models a credential reaches: the provider's own answer when the verifier
// can ask it, otherwise the catalog's models of that provider. Each says whether policy allows it.
func (s *Service) CredentialModels(ctx context.Context, p Principal, id string) (api.List[api.Model], error) {
	cred, plain, err := s.readCredentialWithSecrets(ctx, p, id)
	if err != nil {
		return api.List[api.Model]{}, err
	}
	models := catalog.ModelsFor(cred.Provider)
	// verify = false says "do not call the provider with this key": keep to the catalog then.
	// An admin key is never sent to an inference endpoint: its provider's catalog models it is.
	if lister, ok := s.cfg.Verifier.(ModelLister); ok && cred.Verify && cred.Purpose != api.PurposeAdmin {
		prov, _ := catalog.Provider(cred.Provider)
		var ids []string
		var lerr error
		if err := s.probe(ctx, p.OrgID, func() { ids, lerr = s.listModels(ctx, lister, p.OrgID, cred, prov, plain) }); err != nil {
			return api.List[api.Model]{}, err
		}
		if isEgressRefusal(lerr) {
			return api.List[api.Model]{}, &Error{Status: StatusUnprocessable, Title: "Destination refused",
				Detail: "Could not list the provider's models; nothing was sent: " + lerr.Error() + "."}
		}
		if lerr != nil {
			return api.List[api.Model]{}, &Error{Status: 502, Title: "Provider error", Detail: "Could not list the provider's models: " + lerr.Error()}
		}
		models = models[:0:0]
		for _, mid := range ids {
			m, ok := catalog.Model(cred.Provider, mid)
			if !ok {
				m = api.Model{ID: mid, Provider: cred.Provider, Publisher: catalog.PublisherOf(cred.Provider, mid), DisplayName: mid, InputModalities: []string{}, OutputModalities: []string{}}
			}
			models = append(models, m)
		}
	}
	out := api.List[api.Model]{Items: []api.Model{}}
	err = s.read(ctx, func(tx store.Tx) error {
		pol, err := s.effectivePolicy(ctx, tx, p.OrgID, cred.ProjectID)
		if err != nil {
			return err
		}
		for _, m := range models {
			m.Allowed = pol.decide(cred.Provider, m.ID, m.Publisher).Allowed
			out.Items = append(out.Items, m)
		}
		return nil
	})
	return out, err
}
