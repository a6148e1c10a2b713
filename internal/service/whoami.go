package service

import (
	"context"
	"errors"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/idgen"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// metaStoreID is the meta key of the database's random id (see api.WhoAmI.StoreID).
const metaStoreID = "store_id"

// WhoAmI says whom p speaks for and which database this is. Any role may ask: it is how a client
// checks its endpoint and token before relying on them.
func (s *Service) WhoAmI(ctx context.Context, p Principal) (api.WhoAmI, error) {
	storeID, err := s.StoreID(ctx)
	if err != nil {
		return api.WhoAmI{}, err
	}
	var org store.Organization
	err = s.readOne(ctx, func(tx store.Tx) error {
		var err error
		org, err = tx.GetOrganization(ctx, p.OrgID)
		return err
	})
	if err != nil {
		return api.WhoAmI{}, err
	}
	return api.WhoAmI{OrganizationID: org.ID, Organization: org.Name, Role: p.Role, Actor: p.Actor, StoreID: storeID, ProjectID: p.ProjectID}, nil
}

// StoreID is the database's random id, made and kept in the meta table the first time it is asked for
// (a database made before there were store ids gets one then). Replicas racing on a new database agree
// on the first one written.
func (s *Service) StoreID(ctx context.Context) (string, error) {
	if id := s.storeID.Load(); id != nil {
		return *id, nil
	}
	var id string
	err := s.store.Tx(ctx, func(tx store.Tx) error {
		v, ok, err := tx.GetMeta(ctx, metaStoreID)
		if err != nil || ok {
			id = v
			return err
		}
		id = idgen.New("store")
		return tx.InsertMeta(ctx, metaStoreID, id)
	})
	if errors.Is(err, store.ErrDuplicate) {
		err = s.store.Tx(ctx, func(tx store.Tx) error {
			v, ok, err := tx.GetMeta(ctx, metaStoreID)
			if err == nil && !ok {
				err = errors.New("the store id another replica wrote is gone")
			}
			id = v
			return err
		})
	}
	if err != nil {
		return "", err
	}
	s.storeID.Store(&id)
	return id, nil
}
