package service

import (
	"context"
	"fmt"
	"slices"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
)

// checkConnectionModel refuses a connection's model that neither the catalog (catalog.ModelListed)
// nor the provider's own model list for the credential knows, unless allowUnknown: a typo such as
// gpt-4o-mni would otherwise be stored as ready and fail only when an application calls it. The
// provider's list is asked only when the catalog does not know the model, outside any transaction
// (it is a network call). A missing credential is left to admitConnection, which words it.
func (s *Service) checkConnectionModel(ctx context.Context, p Principal, credentialID, model string, allowUnknown bool) error {
	if allowUnknown || credentialID == "" {
		return nil
	}
	cred, err := s.GetCredential(ctx, p, credentialID)
	if err != nil {
		if se, ok := AsError(err); ok && se.Status == StatusNotFound {
			return nil
		}
		return err
	}
	if catalog.ModelListed(cred.Provider, model) {
		return nil
	}
	live, note, err := s.liveModelIDs(ctx, p, cred)
	if err != nil {
		return err
	}
	if slices.Contains(live, model) {
		return nil
	}
	return InvalidField("model", "%s", catalog.UnknownModelMessage(cred.Provider, model, live, note))
}

// liveModelIDs asks the provider which models cred reaches, when the server can ask and the
// credential lets it (verify = true). note says, for the refusal, what the answer was or why there
// was none.
func (s *Service) liveModelIDs(ctx context.Context, p Principal, cred api.Credential) ([]string, string, error) {
	lister, ok := s.cfg.Verifier.(ModelLister)
	switch {
	case !ok:
		return nil, "this server does not ask providers for their model lists", nil
	case !cred.Verify:
		return nil, catalog.NoteNotAsked(cred.Name, cred.Provider), nil
	case cred.Purpose == api.PurposeAdmin: // an admin key is never sent to an inference endpoint
		return nil, fmt.Sprintf("credential %q is an admin credential, whose key is not used for models", cred.Name), nil
	}
	_, plain, err := s.readCredentialWithSecrets(ctx, p, cred.ID)
	if err != nil {
		return nil, "", err
	}
	prov, _ := catalog.Provider(cred.Provider)
	var ids []string
	var lerr error
	if err := s.probe(ctx, p.OrgID, func() { ids, lerr = s.listModels(ctx, lister, p.OrgID, cred, prov, plain) }); err != nil {
		return nil, "", err
	}
	// A provider that cannot list its models leaves the model unconfirmed: the refusal says why, and
	// allow_unknown_model is the way past it.
	note := catalog.NoteListed(cred.Name, cred.Provider, len(ids))
	if lerr != nil {
		ids, note = nil, fmt.Sprintf("the model list of credential %q could not be read from %s (%v)", cred.Name, cred.Provider, lerr)
	}
	return ids, note, nil
}

// connectionPublisher is the publisher a policy judges a connection's model by: the catalog's, or
// the one its rules make certain (catalog.PublisherOf); "" when unknown.
func connectionPublisher(provider, model string) string {
	return catalog.PublisherOf(provider, model)
}
