package sqlstore

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

func TestProjects(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		org := ensureOrg(t, s, "acme")
		inTx(t, s, func(tx store.Tx) error {
			p := newProject("proj_1", "ml")
			p.InheritOrganizationCredentials = true
			if err := tx.InsertProject(ctx, org, p); err != nil {
				return err
			}
			if err := tx.InsertProject(ctx, org, newProject("proj_2", "web")); err != nil {
				return err
			}
			got, err := tx.GetProject(ctx, org, "proj_1")
			if err != nil || !reflect.DeepEqual(got, p) {
				return fmt.Errorf("GetProject = %+v, %v; want %+v", got, err, p)
			}
			p.Name, p.InheritOrganizationCredentials, p.Version, p.UpdatedAt = "ml2", false, 2, at(30)
			if err := tx.UpdateProject(ctx, org, p, 1); err != nil {
				return err
			}
			if err := tx.UpdateProject(ctx, org, p, 1); !errors.Is(err, store.ErrVersionMismatch) {
				return fmt.Errorf("stale project update: %v", err)
			}
			got, err = tx.GetProject(ctx, org, "proj_1")
			if err != nil || !reflect.DeepEqual(got, p) {
				return fmt.Errorf("after update GetProject = %+v, %v; want %+v", got, err, p)
			}
			byName, err := tx.ListProjects(ctx, org, "web", "", 0)
			if err != nil || len(byName) != 1 || byName[0].ID != "proj_2" {
				return fmt.Errorf("ListProjects(name) = %+v, %v", byName, err)
			}
			page, err := tx.ListProjects(ctx, org, "", "proj_1", 10)
			if err != nil || len(page) != 1 || page[0].ID != "proj_2" {
				return fmt.Errorf("ListProjects(after) = %+v, %v", page, err)
			}

			// A project holding objects cannot be deleted; its policy goes with it.
			if err := tx.InsertCredential(ctx, org, newCredential("cred_1", "k", "proj_1")); err != nil {
				return err
			}
			if err := tx.PutModelPolicy(ctx, org, api.ModelPolicy{ProjectID: "proj_1", Mode: api.PolicyAll, Version: 1, UpdatedAt: at(0)}, 0); err != nil {
				return err
			}
			if err := tx.DeleteProject(ctx, org, "proj_1"); !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), "cred_1") {
				return fmt.Errorf("delete of a project in use: %v", err)
			}
			if err := tx.DeleteCredential(ctx, org, "cred_1"); err != nil {
				return err
			}
			if err := tx.DeleteProject(ctx, org, "proj_1"); err != nil {
				return err
			}
			if _, err := tx.GetModelPolicy(ctx, org, "proj_1"); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("project policy after project delete: %v", err)
			}
			if err := tx.DeleteProject(ctx, org, "proj_1"); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("second project delete: %v", err)
			}
			return nil
		})
	})
}
