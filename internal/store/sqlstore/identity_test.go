package sqlstore

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

func newIdentityProvider(id, name string) api.IdentityProvider {
	return api.IdentityProvider{ID: id, Name: name, Issuer: "https://token.actions.example.test",
		Audiences: []string{"modelkeys"}, Version: 1, CreatedAt: at(3), UpdatedAt: at(3)}
}

func newFederationRule(id, name, providerID string) api.FederationRule {
	return api.FederationRule{ID: id, Name: name, IdentityProviderID: providerID, Kind: api.FederationWorkload,
		Conditions: map[string]string{"repository": "acme/infra"}, Role: api.RoleEditor, TokenTTL: "15m",
		Credentials: []string{"*"}, Version: 1, CreatedAt: at(4), UpdatedAt: at(4)}
}

func TestIdentityProviders(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		org := ensureOrg(t, s, "acme")
		other := ensureOrg(t, s, "globex")
		inTx(t, s, func(tx store.Tx) error {
			p := newIdentityProvider("idp_1", "github")
			if err := tx.InsertIdentityProvider(ctx, org, p); err != nil {
				return err
			}
			if err := tx.InsertIdentityProvider(ctx, org, newIdentityProvider("idp_2", "github")); !errors.Is(err, store.ErrDuplicate) {
				return fmt.Errorf("second provider of the same name: %v", err)
			}
			// Names are per organisation.
			if err := tx.InsertIdentityProvider(ctx, other, newIdentityProvider("idp_3", "github")); err != nil {
				return err
			}
			got, err := tx.GetIdentityProvider(ctx, org, "idp_1")
			if err != nil || !reflect.DeepEqual(got, p) {
				return fmt.Errorf("GetIdentityProvider = %+v, %v; want %+v", got, err, p)
			}
			if _, err := tx.GetIdentityProvider(ctx, other, "idp_1"); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("another organisation's provider: %v", err)
			}
			gotOrg, got, err := tx.IdentityProviderByID(ctx, "idp_3")
			if err != nil || gotOrg != other || got.ID != "idp_3" {
				return fmt.Errorf("IdentityProviderByID = %s %+v, %v", gotOrg, got, err)
			}
			if _, _, err := tx.IdentityProviderByID(ctx, "idp_none"); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("IdentityProviderByID of nothing: %v", err)
			}

			// The client secret: has_client_secret follows the secret table; another organisation
			// cannot put one on this provider.
			sec := store.SealedSecret{OrgID: org, CredentialID: "idp_1", KeyID: "k1", WrappedKey: []byte("w1"), Ciphertext: []byte("c1")}
			if err := tx.PutIdentityProviderSecret(ctx, sec); err != nil {
				return err
			}
			if err := tx.PutIdentityProviderSecret(ctx, store.SealedSecret{OrgID: other, CredentialID: "idp_1", KeyID: "k", WrappedKey: []byte("w"), Ciphertext: []byte("c")}); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("secret put by another organisation: %v", err)
			}
			if got, _ := tx.GetIdentityProvider(ctx, org, "idp_1"); !got.HasClientSecret {
				return errors.New("has_client_secret false with a secret stored")
			}
			gs, err := tx.GetIdentityProviderSecret(ctx, org, "idp_1")
			if err != nil || gs.KeyID != "k1" || !bytes.Equal(gs.Ciphertext, []byte("c1")) || gs.Field != IdentityProviderSecretField {
				return fmt.Errorf("GetIdentityProviderSecret = %+v, %v", gs, err)
			}
			if _, err := tx.GetIdentityProviderSecret(ctx, other, "idp_1"); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("secret read by another organisation: %v", err)
			}

			p.Name, p.Audiences, p.ClientID, p.Version, p.UpdatedAt = "gh", []string{"a", "b"}, "client", 2, at(40)
			if err := tx.UpdateIdentityProvider(ctx, org, p, 1); err != nil {
				return err
			}
			if err := tx.UpdateIdentityProvider(ctx, org, p, 1); !errors.Is(err, store.ErrVersionMismatch) {
				return fmt.Errorf("stale provider update: %v", err)
			}
			p.HasClientSecret = true
			if got, err := tx.GetIdentityProvider(ctx, org, "idp_1"); err != nil || !reflect.DeepEqual(got, p) {
				return fmt.Errorf("after update = %+v, %v; want %+v", got, err, p)
			}
			list, err := tx.ListIdentityProviders(ctx, org, "", "", 0)
			if err != nil || len(list) != 1 || list[0].ID != "idp_1" {
				return fmt.Errorf("ListIdentityProviders = %+v, %v", list, err)
			}
			if list, err := tx.ListIdentityProviders(ctx, org, "nope", "", 0); err != nil || len(list) != 0 {
				return fmt.Errorf("ListIdentityProviders(name) = %+v, %v", list, err)
			}
			if err := tx.DeleteIdentityProviderSecret(ctx, org, "idp_1"); err != nil {
				return err
			}
			if got, _ := tx.GetIdentityProvider(ctx, org, "idp_1"); got.HasClientSecret {
				return errors.New("has_client_secret true after the secret was deleted")
			}
			return nil
		})
	})
}

func TestIdentityProviderSecretRewrap(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		org := ensureOrg(t, s, "acme")
		inTx(t, s, func(tx store.Tx) error {
			if err := tx.InsertIdentityProvider(ctx, org, newIdentityProvider("idp_1", "sso")); err != nil {
				return err
			}
			if err := tx.PutIdentityProviderSecret(ctx, store.SealedSecret{OrgID: org, CredentialID: "idp_1", KeyID: "old", WrappedKey: []byte("w-old"), Ciphertext: []byte("c")}); err != nil {
				return err
			}
			all, err := tx.ListAllIdentityProviderSecrets(ctx)
			if err != nil || len(all) != 1 {
				return fmt.Errorf("ListAllIdentityProviderSecrets = %+v, %v", all, err)
			}
			if n, err := tx.CountIdentityProviderSecretsNotWrappedBy(ctx, "new"); err != nil || n != 1 {
				return fmt.Errorf("not wrapped by new = %d, %v", n, err)
			}
			ss := all[0]
			ss.KeyID, ss.WrappedKey = "new", []byte("w-new")
			if ok, err := tx.RewrapIdentityProviderSecret(ctx, ss, []byte("w-stale")); err != nil || ok {
				return fmt.Errorf("rewrap against a stale wrapped key = %v, %v", ok, err)
			}
			if ok, err := tx.RewrapIdentityProviderSecret(ctx, ss, []byte("w-old")); err != nil || !ok {
				return fmt.Errorf("rewrap = %v, %v", ok, err)
			}
			if n, err := tx.CountIdentityProviderSecretsNotWrappedBy(ctx, "new"); err != nil || n != 0 {
				return fmt.Errorf("after rewrap, not wrapped by new = %d, %v", n, err)
			}
			got, err := tx.GetIdentityProviderSecret(ctx, org, "idp_1")
			if err != nil || got.KeyID != "new" || string(got.WrappedKey) != "w-new" || string(got.Ciphertext) != "c" {
				return fmt.Errorf("after rewrap = %+v, %v", got, err)
			}
			return nil
		})
	})
}

func TestFederationRules(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		org := ensureOrg(t, s, "acme")
		other := ensureOrg(t, s, "globex")
		inTx(t, s, func(tx store.Tx) error {
			if err := tx.InsertIdentityProvider(ctx, org, newIdentityProvider("idp_1", "github")); err != nil {
				return err
			}
			if err := tx.InsertIdentityProvider(ctx, other, newIdentityProvider("idp_9", "github")); err != nil {
				return err
			}
			r := newFederationRule("fr_1", "ci-apply", "idp_1")
			if err := tx.InsertFederationRule(ctx, org, r); err != nil {
				return err
			}
			// A rule cannot trust another organisation's provider, nor one that does not exist.
			if err := tx.InsertFederationRule(ctx, org, newFederationRule("fr_x", "x", "idp_9")); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("rule on another organisation's provider: %v", err)
			}
			if err := tx.InsertFederationRule(ctx, org, newFederationRule("fr_y", "y", "idp_none")); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("rule on no provider: %v", err)
			}
			if err := tx.InsertFederationRule(ctx, org, newFederationRule("fr_2", "ci-apply", "idp_1")); !errors.Is(err, store.ErrDuplicate) {
				return fmt.Errorf("second rule of the same name: %v", err)
			}
			people := newFederationRule("fr_2", "staff", "idp_1")
			people.Kind, people.Role, people.ProjectID, people.Conditions, people.Credentials = api.FederationPeople, api.RoleAdmin, "proj_1", map[string]string{"groups": "admins"}, []string{}
			if err := tx.InsertFederationRule(ctx, org, people); err != nil {
				return err
			}
			got, err := tx.GetFederationRule(ctx, org, "fr_1")
			if err != nil || !reflect.DeepEqual(got, r) {
				return fmt.Errorf("GetFederationRule = %+v, %v; want %+v", got, err, r)
			}
			if _, err := tx.GetFederationRule(ctx, other, "fr_1"); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("another organisation's rule: %v", err)
			}
			wp, err := tx.FederationRuleByID(ctx, "fr_1")
			if err != nil || wp.OrgID != org || !reflect.DeepEqual(wp.Rule, r) || wp.Provider.ID != "idp_1" || wp.Provider.Audiences[0] != "modelkeys" {
				return fmt.Errorf("FederationRuleByID = %+v, %v", wp, err)
			}
			if _, err := tx.FederationRuleByID(ctx, "fr_none"); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("FederationRuleByID of nothing: %v", err)
			}
			ppl, err := tx.ListFederationRules(ctx, org, store.FederationRuleFilter{IdentityProviderID: "idp_1", Kind: api.FederationPeople})
			if err != nil || len(ppl) != 1 || !reflect.DeepEqual(ppl[0], people) {
				return fmt.Errorf("people rules = %+v, %v", ppl, err)
			}
			page, err := tx.ListFederationRules(ctx, org, store.FederationRuleFilter{AfterID: "fr_1", Limit: 5})
			if err != nil || len(page) != 1 || page[0].ID != "fr_2" {
				return fmt.Errorf("ListFederationRules(after) = %+v, %v", page, err)
			}

			// The provider is not deleted while rules trust it; the error names them.
			if err := tx.DeleteIdentityProvider(ctx, org, "idp_1"); !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), "fr_1, fr_2") {
				return fmt.Errorf("delete of a trusted provider: %v", err)
			}
			// Nor the project a rule confines its tokens to.
			if err := tx.InsertProject(ctx, org, newProject("proj_1", "ml")); err != nil {
				return err
			}
			if err := tx.DeleteProject(ctx, org, "proj_1"); !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), "fr_2") {
				return fmt.Errorf("delete of a project a rule names: %v", err)
			}

			r.Conditions, r.Role, r.TokenTTL, r.Version, r.UpdatedAt = map[string]string{"ref": "refs/heads/main"}, api.RoleViewer, "5m", 2, at(50)
			if err := tx.UpdateFederationRule(ctx, org, r, 1); err != nil {
				return err
			}
			if err := tx.UpdateFederationRule(ctx, org, r, 1); !errors.Is(err, store.ErrVersionMismatch) {
				return fmt.Errorf("stale rule update: %v", err)
			}
			if got, err := tx.GetFederationRule(ctx, org, "fr_1"); err != nil || !reflect.DeepEqual(got, r) {
				return fmt.Errorf("after update = %+v, %v; want %+v", got, err, r)
			}
			if err := tx.DeleteFederationRule(ctx, other, "fr_1"); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("delete by another organisation: %v", err)
			}
			for _, id := range []string{"fr_1", "fr_2"} {
				if err := tx.DeleteFederationRule(ctx, org, id); err != nil {
					return err
				}
			}
			if err := tx.DeleteFederationRule(ctx, org, "fr_1"); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("second delete: %v", err)
			}
			if err := tx.PutIdentityProviderSecret(ctx, store.SealedSecret{OrgID: org, CredentialID: "idp_1", KeyID: "k", WrappedKey: []byte("w"), Ciphertext: []byte("c")}); err != nil {
				return err
			}
			if err := tx.DeleteIdentityProvider(ctx, org, "idp_1"); err != nil {
				return err
			}
			if n, err := tx.CountIdentityProviderSecretsNotWrappedBy(ctx, "z"); err != nil || n != 0 {
				return fmt.Errorf("secret left after its provider: %d, %v", n, err)
			}
			if err := tx.DeleteIdentityProvider(ctx, org, "idp_1"); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("second provider delete: %v", err)
			}
			return nil
		})
	})
}

func TestExchangedTokens(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		org := ensureOrg(t, s, "acme")
		inTx(t, s, func(tx store.Tx) error {
			if err := tx.InsertIdentityProvider(ctx, org, newIdentityProvider("idp_1", "github")); err != nil {
				return err
			}
			r := newFederationRule("fr_1", "ci", "idp_1")
			if err := tx.InsertFederationRule(ctx, org, r); err != nil {
				return err
			}
			et := store.ExchangedToken{Hash: "h1", OrgID: org, RuleID: "fr_1", RuleVersion: 1, ProviderVersion: 1,
				Claims:    map[string]string{"sub": "repo:acme/infra:ref:refs/heads/main", "repository": "acme/infra"},
				CreatedAt: at(5), ExpiresAt: at(5).Add(15 * time.Minute)}
			if err := tx.InsertExchangedToken(ctx, et); err != nil {
				return err
			}
			if err := tx.InsertExchangedToken(ctx, store.ExchangedToken{Hash: "h2", OrgID: org, RuleID: "fr_none", CreatedAt: at(5), ExpiresAt: at(6)}); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("token of no rule: %v", err)
			}
			if err := tx.InsertExchangedToken(ctx, store.ExchangedToken{Hash: "h3", OrgID: org, RuleID: "fr_1", RuleVersion: 1, ProviderVersion: 1, CreatedAt: at(0), ExpiresAt: at(1)}); err != nil {
				return err
			}
			got, rule, err := tx.ExchangedTokenByHash(ctx, "h1")
			if err != nil || !reflect.DeepEqual(got, et) || !reflect.DeepEqual(rule, r) {
				return fmt.Errorf("ExchangedTokenByHash = %+v %+v, %v", got, rule, err)
			}
			if _, _, err := tx.ExchangedTokenByHash(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("unknown hash: %v", err)
			}
			if n, err := tx.DeleteExpiredExchangedTokens(ctx, org, "fr_1", at(10)); err != nil || n != 1 {
				return fmt.Errorf("DeleteExpiredExchangedTokens = %d, %v", n, err)
			}
			if _, _, err := tx.ExchangedTokenByHash(ctx, "h3"); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("pruned token: %v", err)
			}
			// A change of the provider (a new version) ends its tokens.
			p := newIdentityProvider("idp_1", "github")
			p.Audiences, p.Version = []string{"other"}, 2
			if err := tx.UpdateIdentityProvider(ctx, org, p, 1); err != nil {
				return err
			}
			if _, _, err := tx.ExchangedTokenByHash(ctx, "h1"); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("token of a changed provider: %v", err)
			}
			if err := tx.InsertExchangedToken(ctx, store.ExchangedToken{Hash: "h4", OrgID: org, RuleID: "fr_1", RuleVersion: 1, ProviderVersion: 2, CreatedAt: at(5), ExpiresAt: at(900)}); err != nil {
				return err
			}
			if _, _, err := tx.ExchangedTokenByHash(ctx, "h4"); err != nil {
				return fmt.Errorf("token of the provider's new version: %v", err)
			}
			// Deleting the rule ends its tokens.
			if err := tx.DeleteFederationRule(ctx, org, "fr_1"); err != nil {
				return err
			}
			if _, _, err := tx.ExchangedTokenByHash(ctx, "h4"); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("token of a deleted rule: %v", err)
			}
			return nil
		})
	})
}

func TestAuditActorClaims(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		org := ensureOrg(t, s, "acme")
		inTx(t, s, func(tx store.Tx) error {
			e := api.AuditEvent{Time: at(0), Actor: "federation:ci", Action: "update", ObjectType: "credential", ObjectID: "c1",
				Fields: []string{}, ActorFederationRule: "fr_1", ActorClaims: map[string]string{"sub": "repo:a/b", "run_id": "42"}, Detail: "the token expired"}
			if err := tx.InsertAudit(ctx, org, e); err != nil {
				return err
			}
			if err := tx.InsertAudit(ctx, org, api.AuditEvent{Time: at(1), Actor: "tok", Action: "create", ObjectType: "credential", ObjectID: "c2", Fields: []string{}}); err != nil {
				return err
			}
			got, err := tx.ListAudit(ctx, org, 0, 10)
			if err != nil || len(got) != 2 {
				return fmt.Errorf("ListAudit = %+v, %v", got, err)
			}
			if got[0].ActorFederationRule != "fr_1" || !reflect.DeepEqual(got[0].ActorClaims, e.ActorClaims) || got[0].Detail != e.Detail {
				return fmt.Errorf("claims event = %+v", got[0])
			}
			if got[1].ActorFederationRule != "" || got[1].ActorClaims != nil {
				return fmt.Errorf("token event = %+v", got[1])
			}
			return nil
		})
	})
}
