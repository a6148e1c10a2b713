package service

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/idgen"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// CreateConnection connects a model through a credential, refusing what scope or policy forbids.
func (s *Service) CreateConnection(ctx context.Context, p Principal, in api.ConnectionCreate, idem *IdempotencyKey) (api.Connection, bool, error) {
	if err := requireWrite(p); err != nil {
		return api.Connection{}, false, err
	}
	fields := checkName(in.Name)
	params, perr := normalizeParameters(in.Parameters)
	if perr != nil {
		fields = append(fields, *perr)
	}
	fields = append(fields, checkModel(in.Model)...)
	fields = append(fields, checkID("credential_id", in.CredentialID)...)
	fields = append(fields, checkID("project_id", in.ProjectID)...)
	if in.CredentialID == "" {
		fields = append(fields, api.FieldError{Field: "credential_id", Message: "credential_id is required."})
	}
	if len(fields) > 0 {
		return api.Connection{}, false, invalid(fields...)
	}
	if err := scopeRefuses(p, in.ProjectID, scopeName(in.ProjectID)); err != nil {
		return api.Connection{}, false, err
	}
	if err := s.credentialInScope(ctx, p, in.CredentialID); err != nil {
		return api.Connection{}, false, err
	}
	if err := s.checkConnectionModel(ctx, p, in.CredentialID, in.Model, in.AllowUnknownModel); err != nil {
		return api.Connection{}, false, err
	}
	now := s.now()
	c := api.Connection{
		ID: idgen.New("conn"), Name: in.Name, CredentialID: in.CredentialID, Model: in.Model, ProjectID: in.ProjectID,
		Parameters: params, Enabled: in.Enabled == nil || *in.Enabled, Version: 1, CreatedAt: now, UpdatedAt: now,
	}
	id, replayed, err := s.createOnce(ctx, p, idem, "connection", func(tx store.Tx) (string, error) {
		if c.ProjectID != "" {
			if _, err := tx.GetProject(ctx, p.OrgID, c.ProjectID); err != nil {
				if errors.Is(err, store.ErrNotFound) {
					return "", InvalidField("project_id", "project %q does not exist in this organisation.", c.ProjectID)
				}
				return "", err
			}
		}
		if err := s.admitConnection(ctx, tx, p, c); err != nil {
			return "", err
		}
		if err := tx.InsertConnection(ctx, p.OrgID, c); err != nil {
			if errors.Is(err, store.ErrDuplicate) {
				return "", conflict(fmt.Sprintf("A connection named %q already exists in this scope; names are unique per scope.", c.Name))
			}
			return "", err
		}
		fields := []string{"name", "credential_id", "model", "enabled"}
		if c.Parameters != "" {
			fields = append(fields, "parameters")
		}
		return c.ID, s.audit(ctx, tx, p, "create", "connection", c.ID, fields)
	})
	if err != nil {
		return api.Connection{}, false, err
	}
	out, err := s.GetConnection(ctx, p, id)
	return out, replayed, err
}

// admitConnection checks that c may use its credential and model: the credential is in reach of the
// connection's scope, the model exists for providers with a catalog, and the effective policy allows it.
func (s *Service) admitConnection(ctx context.Context, tx store.Tx, p Principal, c api.Connection) error {
	if c.CredentialID == "" {
		return InvalidField("credential_id", "connection %q has no credential since its credential was deleted with force; set credential_id to another credential.", c.Name)
	}
	cred, err := tx.GetCredential(ctx, p.OrgID, c.CredentialID)
	if errors.Is(err, store.ErrNotFound) {
		return InvalidField("credential_id", "credential %q does not exist in this organisation.", c.CredentialID)
	} else if err != nil {
		return err
	}
	if cred.Purpose == api.PurposeAdmin {
		return InvalidField("credential_id", "credential %q is an admin credential (purpose \"admin\"): its key manages keys and is never used by connections. Use an inference credential, such as one whose rotation it manages.", cred.Name)
	}
	switch {
	case cred.ProjectID == c.ProjectID:
	case cred.ProjectID == "":
		proj, err := tx.GetProject(ctx, p.OrgID, c.ProjectID)
		if err != nil {
			return storeErr(err, "project", c.ProjectID)
		}
		if !proj.InheritOrganizationCredentials {
			return InvalidField("credential_id", "credential %q belongs to the organisation and project %q does not inherit organisation credentials; set inherit_organization_credentials = true on the project, or use a credential of the project.", cred.Name, proj.Name)
		}
	default:
		return InvalidField("credential_id", "credential %q belongs to project %s; a connection may use only credentials of its own project, or organisation credentials when its project inherits them.", cred.Name, cred.ProjectID)
	}
	// Whether the model is known at all was checked before the transaction (checkConnectionModel).
	// Its publisher is the catalog's or the one the catalog's rules make certain; without one only the
	// policy's model rules can match it.
	publisher := connectionPublisher(cred.Provider, c.Model)
	// A project's credential policy rules the credentials its connections use, its own or inherited.
	if c.ProjectID != cred.ProjectID {
		cpol, err := s.effectiveCredentialPolicy(ctx, tx, p.OrgID, c.ProjectID)
		if err != nil {
			return err
		}
		if !cpol.providerAllowed(cred.Provider) {
			return InvalidField("credential_id", "credential %q is for provider %q, which %s credential policy does not allow; the allowed providers are: %s.",
				cred.Name, cred.Provider, cpol.allowedBy, cpol.allowedList())
		}
	}
	pol, err := s.effectivePolicy(ctx, tx, p.OrgID, c.ProjectID)
	if err != nil {
		return err
	}
	if d := pol.decide(cred.Provider, c.Model, publisher); !d.Allowed {
		return InvalidField("model", "model %s/%s is refused: %s. Change the model policy or pick an allowed model.", cred.Provider, c.Model, d.Reason)
	}
	return nil
}

// GetConnection reads one connection with its current status.
func (s *Service) GetConnection(ctx context.Context, p Principal, id string) (api.Connection, error) {
	var c api.Connection
	err := s.read(ctx, func(tx store.Tx) error {
		var err error
		if c, err = tx.GetConnection(ctx, p.OrgID, id); err != nil {
			return storeErr(err, "connection", id)
		}
		if err := scopeHides(p, c.ProjectID, "connection", id); err != nil {
			return err
		}
		return newStatusCache(s, tx, p.OrgID).fill(ctx, &c)
	})
	return c, err
}

// ListConnections pages connections with their statuses.
func (s *Service) ListConnections(ctx context.Context, p Principal, f store.ConnectionFilter) (api.List[api.Connection], error) {
	scope, err := scopedListFilter(p, f.ProjectID)
	if err != nil {
		return api.List[api.Connection]{}, err
	}
	f.ProjectID = scope
	limit := clampLimit(f.Limit)
	f.Limit = limit + 1
	out := api.List[api.Connection]{Items: []api.Connection{}}
	err = s.read(ctx, func(tx store.Tx) error {
		items, err := tx.ListConnections(ctx, p.OrgID, f)
		if err != nil {
			return err
		}
		items, out.NextPageToken = pageOf(items, limit, func(x api.Connection) string { return x.ID })
		cache := newStatusCache(s, tx, p.OrgID)
		for i := range items {
			if err := cache.fill(ctx, &items[i]); err != nil {
				return err
			}
		}
		out.Items = append(out.Items, items...)
		return nil
	})
	return out, err
}

// UpdateConnection patches a connection; re-pointing it at another credential happens in place.
func (s *Service) UpdateConnection(ctx context.Context, p Principal, id string, in api.ConnectionPatch, ifMatch int64) (api.Connection, error) {
	if err := requireWrite(p); err != nil {
		return api.Connection{}, err
	}
	if err := s.connectionInScope(ctx, p, id); err != nil {
		return api.Connection{}, err
	}
	if in.CredentialID != nil {
		if err := s.credentialInScope(ctx, p, *in.CredentialID); err != nil {
			return api.Connection{}, err
		}
	}
	if in.Model != nil || in.CredentialID != nil {
		// A new model, or a credential of another provider, must be one that is known; the current
		// connection gives whichever of the two the patch leaves out.
		cur, err := s.GetConnection(ctx, p, id)
		if err != nil {
			return api.Connection{}, err
		}
		model, credID := cur.Model, cur.CredentialID
		if in.Model != nil {
			model = *in.Model
		}
		if in.CredentialID != nil {
			credID = *in.CredentialID
		}
		if (model != cur.Model || credID != cur.CredentialID) && len(checkModel(model)) == 0 {
			if err := s.checkConnectionModel(ctx, p, credID, model, in.AllowUnknownModel); err != nil {
				return api.Connection{}, err
			}
		}
	}
	err := s.tx(ctx, func(tx store.Tx) error {
		cur, err := tx.GetConnection(ctx, p.OrgID, id)
		if err != nil {
			return storeErr(err, "connection", id)
		}
		if ifMatch != 0 && ifMatch != cur.Version {
			return preconditionFailed("connection", id, ifMatch, cur.Version)
		}
		next := cur
		var changed []string
		if in.Name != nil && *in.Name != cur.Name {
			if f := checkName(*in.Name); len(f) > 0 {
				return invalid(f...)
			}
			next.Name, changed = *in.Name, append(changed, "name")
		}
		if in.CredentialID != nil && *in.CredentialID != cur.CredentialID {
			if f := checkID("credential_id", *in.CredentialID); len(f) > 0 {
				return invalid(f...)
			}
			next.CredentialID, changed = *in.CredentialID, append(changed, "credential_id")
		}
		if in.Model != nil && *in.Model != cur.Model {
			if f := checkModel(*in.Model); len(f) > 0 {
				return invalid(f...)
			}
			next.Model, changed = *in.Model, append(changed, "model")
		}
		if in.Parameters != nil {
			params, perr := normalizeParameters(*in.Parameters)
			if perr != nil {
				return invalid(*perr)
			}
			if params != cur.Parameters {
				next.Parameters, changed = params, append(changed, "parameters")
			}
		}
		if in.Enabled != nil && *in.Enabled != cur.Enabled {
			next.Enabled, changed = *in.Enabled, append(changed, "enabled")
		}
		if len(changed) == 0 {
			return nil
		}
		if next.CredentialID != cur.CredentialID || next.Model != cur.Model {
			if err := s.admitConnection(ctx, tx, p, next); err != nil {
				return err
			}
		}
		next.Version, next.UpdatedAt = cur.Version+1, s.now()
		if err := tx.UpdateConnection(ctx, p.OrgID, next, cur.Version); err != nil {
			if errors.Is(err, store.ErrDuplicate) {
				return conflict(fmt.Sprintf("A connection named %q already exists in this scope.", next.Name))
			}
			return storeErr(err, "connection", id)
		}
		return s.audit(ctx, tx, p, "update", "connection", id, changed)
	})
	if errors.Is(err, store.ErrVersionMismatch) {
		return api.Connection{}, lostRace("connection", id)
	}
	if err != nil {
		return api.Connection{}, err
	}
	return s.GetConnection(ctx, p, id)
}

// DeleteConnection removes a connection.
func (s *Service) DeleteConnection(ctx context.Context, p Principal, id string, ifMatch int64) error {
	if err := requireWrite(p); err != nil {
		return err
	}
	if err := s.connectionInScope(ctx, p, id); err != nil {
		return err
	}
	return s.tx(ctx, func(tx store.Tx) error {
		cur, err := tx.GetConnection(ctx, p.OrgID, id)
		if err != nil {
			return storeErr(err, "connection", id)
		}
		if ifMatch != 0 && ifMatch != cur.Version {
			return preconditionFailed("connection", id, ifMatch, cur.Version)
		}
		if err := tx.DeleteConnection(ctx, p.OrgID, id); err != nil {
			return storeErr(err, "connection", id)
		}
		return s.audit(ctx, tx, p, "delete", "connection", id, nil)
	})
}

// statusCache computes connection statuses, reading each credential and policy once per request.
type statusCache struct {
	s         *Service
	tx        store.Tx
	orgID     string
	creds     map[string]api.Credential
	policies  map[string]effectivePolicy
	lifecycle *lifecycleCache
}

func newStatusCache(s *Service, tx store.Tx, orgID string) *statusCache {
	return &statusCache{s: s, tx: tx, orgID: orgID, creds: map[string]api.Credential{}, policies: map[string]effectivePolicy{},
		lifecycle: newLifecycleCache(s, tx, orgID)}
}

// fill sets Provider, Status and StatusMessage: blocked when the effective policy refuses the model
// now, invalid when the credential's key was refused or has expired, or the credential was deleted
// with force (the message stored then says which it was), ready otherwise.
func (c *statusCache) fill(ctx context.Context, conn *api.Connection) error {
	if conn.CredentialID == "" {
		conn.Status = api.ConnectionInvalid
		return nil
	}
	cred, ok := c.creds[conn.CredentialID]
	if !ok {
		var err error
		if cred, err = c.tx.GetCredential(ctx, c.orgID, conn.CredentialID); err != nil {
			return err
		}
		if err := c.lifecycle.fill(ctx, &cred); err != nil {
			return err
		}
		c.creds[conn.CredentialID] = cred
	}
	pol, ok := c.policies[conn.ProjectID]
	if !ok {
		var err error
		if pol, err = c.s.effectivePolicy(ctx, c.tx, c.orgID, conn.ProjectID); err != nil {
			return err
		}
		c.policies[conn.ProjectID] = pol
	}
	conn.Provider = cred.Provider
	switch d := pol.decide(cred.Provider, conn.Model, connectionPublisher(cred.Provider, conn.Model)); {
	case !d.Allowed:
		conn.Status, conn.StatusMessage = api.ConnectionBlocked, "Blocked: "+d.Reason+"."
	case cred.Status == api.StatusInvalid:
		conn.Status, conn.StatusMessage = api.ConnectionInvalid, fmt.Sprintf("Credential %q is invalid: %s", cred.Name, cred.StatusMessage)
	case cred.LifecycleStatus == api.LifecycleExpired:
		conn.Status, conn.StatusMessage = api.ConnectionInvalid, cred.LifecycleMessage
	default:
		conn.Status, conn.StatusMessage = api.ConnectionReady, ""
	}
	return nil
}

// checkModel refuses an empty model id and one with control characters.
func checkModel(model string) []api.FieldError {
	if strings.TrimSpace(model) == "" {
		return []api.FieldError{{Field: "model", Message: "model is required: the provider's model id, such as gpt-4o."}}
	}
	if err := catalog.ValidateText(model); err != nil {
		return []api.FieldError{{Field: "model", Message: "the model id: " + err.Error() + "."}}
	}
	return nil
}

// normalizeParameters checks that text is a JSON object and returns it compact with sorted keys, so
// that equal parameters are stored, and compared, as equal strings.
func normalizeParameters(text string) (string, *api.FieldError) {
	norm, err := catalog.NormalizeParameters(text)
	if err != nil {
		return "", &api.FieldError{Field: "parameters", Message: err.Error()}
	}
	return norm, nil
}
