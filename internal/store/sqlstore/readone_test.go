package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// readInScope reads credential id with its scope's policies through read (ReadTx or ReadOne).
func readInScope(read func(context.Context, func(store.Tx) error) error, org, id string) (api.Credential, store.ScopeCredentialPolicies, error) {
	var c api.Credential
	var pols store.ScopeCredentialPolicies
	err := read(ctx, func(tx store.Tx) error {
		var err error
		c, pols, err = tx.GetCredentialInScope(ctx, org, id)
		return err
	})
	return c, pols, err
}

// TestReadOne: a one-statement read outside a transaction gives what the same read in ReadTx gives,
// before and after its statement is prepared, and refuses a second statement and any write.
func TestReadOne(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		org := ensureOrg(t, s, "acme")
		inTx(t, s, func(tx store.Tx) error {
			if err := tx.InsertProject(ctx, org, newProject("proj_p", "p")); err != nil {
				return err
			}
			if err := tx.InsertCredential(ctx, org, newCredential("cred_p", "p", "proj_p")); err != nil {
				return err
			}
			if err := tx.InsertConnection(ctx, org, newConnection("conn_a", "a", "cred_p", "proj_p")); err != nil {
				return err
			}
			return tx.PutCredentialPolicy(ctx, org, api.CredentialPolicy{AllowedProviders: []string{"openai"}, MaxRotationPeriod: "90d", Version: 1, UpdatedAt: at(5)}, 0)
		})
		want, wantPols, err := readInScope(s.ReadTx, org, "cred_p")
		if err != nil {
			t.Fatal(err)
		}
		// The first runs are unprepared; the statement cache prepares the query in the background and
		// later runs use it. Both must read the same thing.
		deadline := time.Now().Add(5 * time.Second)
		for i := 0; ; i++ {
			got, pols, err := readInScope(s.ReadOne, org, "cred_p")
			if err != nil {
				t.Fatalf("ReadOne, run %d: %v", i, err)
			}
			if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(pols, wantPols) {
				t.Fatalf("ReadOne, run %d, read %+v %+v; ReadTx read %+v %+v", i, got, pols, want, wantPols)
			}
			if s.rstmts == nil || s.rstmts.stmt(s.d.rebind(credentialInScopeSelect)) != nil {
				break // PostgreSQL (its driver prepares) or prepared
			}
			if time.Now().After(deadline) {
				t.Fatal("the credential read was never prepared")
			}
			time.Sleep(5 * time.Millisecond)
		}
		if _, _, err := readInScope(s.ReadOne, org, "cred_missing"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("ReadOne of a missing credential: %v, want ErrNotFound", err)
		}

		err = s.ReadOne(ctx, func(tx store.Tx) error {
			if _, _, err := tx.GetCredentialInScope(ctx, org, "cred_p"); err != nil {
				return err
			}
			_, _, err := tx.GetCredentialInScope(ctx, org, "cred_p")
			return err
		})
		if !errors.Is(err, errSecondStatement) {
			t.Fatalf("a second single-row statement in ReadOne: %v, want it refused", err)
		}
		err = s.ReadOne(ctx, func(tx store.Tx) error {
			if _, err := tx.ListCredentials(ctx, org, store.CredentialFilter{}); err != nil {
				return err
			}
			_, err := tx.ListCredentials(ctx, org, store.CredentialFilter{})
			return err
		})
		if !errors.Is(err, errSecondStatement) {
			t.Fatalf("a second query in ReadOne: %v, want it refused", err)
		}

		err = s.ReadOne(ctx, func(tx store.Tx) error { return tx.InsertCredential(ctx, org, newCredential("cred_w", "w", "")) })
		if !errors.Is(err, errReadOne) {
			t.Fatalf("a write in ReadOne: %v, want it refused", err)
		}
		err = s.ReadOne(ctx, func(tx store.Tx) error { return tx.DeleteCredential(ctx, org, "cred_p") })
		if !errors.Is(err, errReadOne) {
			t.Fatalf("a delete in ReadOne: %v, want it refused", err)
		}
		err = s.ReadTx(ctx, func(tx store.Tx) error {
			n, err := tx.CountCredentials(ctx, org)
			if err == nil && n != 1 {
				err = fmt.Errorf("%d credentials after the refused writes, want 1", n)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
