package sqlstore

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

func TestModelPolicy(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		org := ensureOrg(t, s, "acme")
		inTx(t, s, func(tx store.Tx) error {
			if _, err := tx.GetModelPolicy(ctx, org, ""); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("policy never set: %v", err)
			}
			p := api.ModelPolicy{Mode: api.PolicyAll, Version: 1, UpdatedAt: at(0)} // nil lists
			if err := tx.PutModelPolicy(ctx, org, p, 3); !errors.Is(err, store.ErrVersionMismatch) {
				return fmt.Errorf("If-Match on a scope with no policy: %v", err)
			}
			if err := tx.PutModelPolicy(ctx, org, p, 0); err != nil {
				return err
			}
			got, err := tx.GetModelPolicy(ctx, org, "")
			if err != nil {
				return err
			}
			p.Models, p.Publishers = []string{}, []string{}
			if !reflect.DeepEqual(got, p) {
				return fmt.Errorf("GetModelPolicy\n got %+v\nwant %+v", got, p)
			}
			p2 := api.ModelPolicy{Mode: api.PolicyAllowlist, Models: []string{"openai/gpt-4o", "anthropic/claude"},
				Publishers: []string{"meta"}, Version: 2, UpdatedAt: at(5)}
			if err := tx.PutModelPolicy(ctx, org, p2, 1); err != nil {
				return err
			}
			if err := tx.PutModelPolicy(ctx, org, p2, 1); !errors.Is(err, store.ErrVersionMismatch) {
				return fmt.Errorf("stale policy put: %v", err)
			}
			proj := api.ModelPolicy{ProjectID: "proj_1", Mode: api.PolicyDenylist, Models: []string{"x/y"}, Version: 1, UpdatedAt: at(6)}
			if err := tx.PutModelPolicy(ctx, org, proj, 0); err != nil {
				return err
			}
			got, err = tx.GetModelPolicy(ctx, org, "")
			if err != nil || !reflect.DeepEqual(got, p2) {
				return fmt.Errorf("organisation policy = %+v, %v; want %+v", got, err, p2)
			}
			got, err = tx.GetModelPolicy(ctx, org, "proj_1")
			proj.Publishers = []string{}
			if err != nil || !reflect.DeepEqual(got, proj) {
				return fmt.Errorf("project policy = %+v, %v; want %+v", got, err, proj)
			}
			// An unconditional put replaces whatever is there.
			p3 := api.ModelPolicy{Mode: api.PolicyAll, Models: []string{}, Publishers: []string{}, Version: 3, UpdatedAt: at(7)}
			if err := tx.PutModelPolicy(ctx, org, p3, 0); err != nil {
				return err
			}
			if got, err := tx.GetModelPolicy(ctx, org, ""); err != nil || !reflect.DeepEqual(got, p3) {
				return fmt.Errorf("after unconditional put = %+v, %v", got, err)
			}
			if err := tx.DeleteModelPolicy(ctx, org, ""); err != nil {
				return err
			}
			if err := tx.DeleteModelPolicy(ctx, org, ""); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("second policy delete: %v", err)
			}
			if _, err := tx.GetModelPolicy(ctx, org, "proj_1"); err != nil {
				return fmt.Errorf("project policy after organisation policy delete: %v", err)
			}
			return nil
		})
	})
}
