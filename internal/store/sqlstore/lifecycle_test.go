package sqlstore

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

func TestCredentialLifecycleColumns(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		org := ensureOrg(t, s, "acme")
		c := newCredential("cred_l", "l", "")
		c.RotationPeriod = "90d"
		exp := at(500)
		c.ExpiresAt = &exp
		c.RotatedAt = at(10)
		inTx(t, s, func(tx store.Tx) error {
			if err := tx.InsertCredential(ctx, org, c); err != nil {
				return err
			}
			got, err := tx.GetCredential(ctx, org, "cred_l")
			if err != nil {
				return err
			}
			if got.RotationPeriod != "90d" || got.ExpiresAt == nil || !got.ExpiresAt.Equal(exp) || !got.RotatedAt.Equal(at(10)) || got.LifecycleStatus != api.LifecycleOK {
				return fmt.Errorf("read back %+v", got)
			}
			got.ExpiresAt, got.RotationPeriod, got.RotatedAt, got.Version = nil, "", at(20), 2
			if err := tx.UpdateCredential(ctx, org, got, 1); err != nil {
				return err
			}
			if err := tx.SetCredentialLifecycle(ctx, org, "cred_l", api.LifecycleExpired); err != nil {
				return err
			}
			if err := tx.SetCredentialLifecycle(ctx, "org_other", "cred_l", api.LifecycleExpired); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("another organisation's credential: %v", err)
			}
			again, err := tx.GetCredential(ctx, org, "cred_l")
			if err != nil {
				return err
			}
			if again.RotationPeriod != "" || again.ExpiresAt != nil || !again.RotatedAt.Equal(at(20)) || again.LifecycleStatus != api.LifecycleExpired || again.Version != 2 {
				return fmt.Errorf("after update %+v", again)
			}
			return nil
		})
	})
}

func TestCredentialPolicy(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		org := ensureOrg(t, s, "acme")
		inTx(t, s, func(tx store.Tx) error {
			if _, err := tx.GetCredentialPolicy(ctx, org, ""); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("policy never set: %v", err)
			}
			p := api.CredentialPolicy{AllowedProviders: []string{"anthropic", "openai"}, MaxRotationPeriod: "90d", ExpiryWarning: "14d",
				RequireVerification: true, Version: 1, UpdatedAt: at(0)}
			if err := tx.PutCredentialPolicy(ctx, org, p, 3); !errors.Is(err, store.ErrVersionMismatch) {
				return fmt.Errorf("If-Match on a scope with no policy: %v", err)
			}
			if err := tx.PutCredentialPolicy(ctx, org, p, 0); err != nil {
				return err
			}
			got, err := tx.GetCredentialPolicy(ctx, org, "")
			if err != nil {
				return err
			}
			if !reflect.DeepEqual(got, p) {
				return fmt.Errorf("GetCredentialPolicy\n got %+v\nwant %+v", got, p)
			}
			p2 := api.CredentialPolicy{AllowedProviders: []string{}, ExpiryWarning: "1d", Version: 2, UpdatedAt: at(1)}
			if err := tx.PutCredentialPolicy(ctx, org, p2, 1); err != nil {
				return err
			}
			if err := tx.PutCredentialPolicy(ctx, org, p2, 1); !errors.Is(err, store.ErrVersionMismatch) {
				return fmt.Errorf("stale If-Match: %v", err)
			}
			if got, err = tx.GetCredentialPolicy(ctx, org, ""); err != nil || !reflect.DeepEqual(got, p2) {
				return fmt.Errorf("after update %+v, %v", got, err)
			}
			if _, err := tx.GetCredentialPolicy(ctx, "org_other", ""); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("another organisation: %v", err)
			}
			if err := tx.DeleteCredentialPolicy(ctx, org, ""); err != nil {
				return err
			}
			if err := tx.DeleteCredentialPolicy(ctx, org, ""); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("second delete: %v", err)
			}
			// A project's policy goes with the project.
			if err := tx.InsertProject(ctx, org, newProject("proj_p", "p")); err != nil {
				return err
			}
			if err := tx.PutCredentialPolicy(ctx, org, api.CredentialPolicy{ProjectID: "proj_p", AllowedProviders: []string{}, Version: 1, UpdatedAt: at(2)}, 0); err != nil {
				return err
			}
			if err := tx.DeleteProject(ctx, org, "proj_p"); err != nil {
				return err
			}
			if _, err := tx.GetCredentialPolicy(ctx, org, "proj_p"); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("policy of a deleted project: %v", err)
			}
			return nil
		})
	})
}

// TestCredentialInScope: one read gives a credential, its connection ids and the credential policies
// stored for its scope, the project's only for a project's credential, and nothing of another
// organisation's.
func TestCredentialInScope(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		org := ensureOrg(t, s, "acme")
		other := ensureOrg(t, s, "other")
		orgPol := api.CredentialPolicy{AllowedProviders: []string{"openai"}, MaxRotationPeriod: "90d", ExpiryWarning: "14d",
			RequireVerification: true, Version: 3, UpdatedAt: at(5)}
		projPol := api.CredentialPolicy{ProjectID: "proj_p", AllowedProviders: []string{}, MaxRotationPeriod: "30d", Version: 1, UpdatedAt: at(6)}
		inTx(t, s, func(tx store.Tx) error {
			if err := tx.InsertProject(ctx, org, newProject("proj_p", "p")); err != nil {
				return err
			}
			for _, c := range []api.Credential{newCredential("cred_o", "o", ""), newCredential("cred_p", "p", "proj_p")} {
				if err := tx.InsertCredential(ctx, org, c); err != nil {
					return err
				}
			}
			got, pols, err := tx.GetCredentialInScope(ctx, org, "cred_p")
			if err != nil {
				return err
			}
			if pols.Organization != nil || pols.Project != nil || got.ID != "cred_p" || len(got.ConnectionIDs) != 0 || got.ConnectionIDs == nil {
				return fmt.Errorf("no policies, no connections: %+v %+v", pols, got)
			}
			for _, c := range []api.Connection{newConnection("conn_b", "b", "cred_p", "proj_p"), newConnection("conn_a", "a", "cred_p", "proj_p")} {
				if err := tx.InsertConnection(ctx, org, c); err != nil {
					return err
				}
			}
			if err := tx.PutCredentialPolicy(ctx, org, orgPol, 0); err != nil {
				return err
			}
			if err := tx.PutCredentialPolicy(ctx, org, projPol, 0); err != nil {
				return err
			}
			if err := tx.PutCredentialPolicy(ctx, other, api.CredentialPolicy{AllowedProviders: []string{"mistral"}, Version: 1, UpdatedAt: at(7)}, 0); err != nil {
				return err
			}
			if got, pols, err = tx.GetCredentialInScope(ctx, org, "cred_p"); err != nil {
				return err
			}
			if !reflect.DeepEqual(got.ConnectionIDs, []string{"conn_a", "conn_b"}) {
				return fmt.Errorf("connection ids %v", got.ConnectionIDs)
			}
			if pols.Organization == nil || !reflect.DeepEqual(*pols.Organization, orgPol) || pols.Project == nil || !reflect.DeepEqual(*pols.Project, projPol) {
				return fmt.Errorf("project credential's policies %+v %+v", pols.Organization, pols.Project)
			}
			plain, err := tx.GetCredential(ctx, org, "cred_p")
			if err != nil || !reflect.DeepEqual(plain, got) {
				return fmt.Errorf("GetCredential disagrees: %+v, %v", plain, err)
			}
			if _, pols, err = tx.GetCredentialInScope(ctx, org, "cred_o"); err != nil {
				return err
			}
			if pols.Organization == nil || !reflect.DeepEqual(*pols.Organization, orgPol) || pols.Project != nil {
				return fmt.Errorf("organisation credential's policies %+v %+v", pols.Organization, pols.Project)
			}
			if _, _, err := tx.GetCredentialInScope(ctx, other, "cred_o"); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("another organisation's credential: %v", err)
			}
			// The same policies without a credential, as a create reads them.
			if scope, err := tx.ScopeCredentialPolicies(ctx, org, "proj_p"); err != nil || scope.Organization == nil || !reflect.DeepEqual(*scope.Organization, orgPol) ||
				scope.Project == nil || !reflect.DeepEqual(*scope.Project, projPol) {
				return fmt.Errorf("ScopeCredentialPolicies of the project: %+v, %v", scope, err)
			}
			if scope, err := tx.ScopeCredentialPolicies(ctx, org, ""); err != nil || scope.Organization == nil || !reflect.DeepEqual(*scope.Organization, orgPol) || scope.Project != nil {
				return fmt.Errorf("ScopeCredentialPolicies of the organisation: %+v, %v", scope, err)
			}
			if scope, err := tx.ScopeCredentialPolicies(ctx, other, "proj_p"); err != nil || scope.Organization == nil || scope.Organization.AllowedProviders[0] != "mistral" || scope.Project != nil {
				return fmt.Errorf("ScopeCredentialPolicies of another organisation: %+v, %v", scope, err)
			}
			if scope, err := tx.ScopeCredentialPolicies(ctx, "org_none", "proj_x"); err != nil || scope.Organization != nil || scope.Project != nil {
				return fmt.Errorf("ScopeCredentialPolicies where none is stored: %+v, %v", scope, err)
			}
			return nil
		})
	})
}
