package service

// A credential's secrets: sealed with the keyring on the way in, opened only to verify them, compare
// them or reveal them to an admin.

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/secrets"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// RevealCredential returns the decrypted secrets to an admin on a server that allows it; every reveal
// is audited.
func (s *Service) RevealCredential(ctx context.Context, p Principal, id string) (api.CredentialSecret, error) {
	if !s.cfg.AllowReveal && !s.cfg.Embedded {
		return api.CredentialSecret{}, forbidden("This server does not reveal secrets; start it with --allow-reveal to allow admin tokens to read them.")
	}
	if err := requireAdmin(p); err != nil {
		return api.CredentialSecret{}, err
	}
	c, plain, err := s.readCredentialWithSecrets(ctx, p, id)
	if err != nil {
		return api.CredentialSecret{}, err
	}
	if err := revealRule(c); err != nil {
		return api.CredentialSecret{}, err
	}
	revealed := slices.Sorted(maps.Keys(plain))
	if err := s.tx(ctx, func(tx store.Tx) error {
		return s.audit(ctx, tx, p, "reveal", "credential", id, revealed)
	}); err != nil {
		return api.CredentialSecret{}, err
	}
	return api.CredentialSecret{ID: id, APIKey: plain[api.SecretAPIKey], AuthToken: plain[api.SecretAuthToken]}, nil
}

func (s *Service) readCredentialWithSecrets(ctx context.Context, p Principal, id string) (api.Credential, map[string]string, error) {
	var c api.Credential
	var sealed []store.SealedSecret
	err := s.read(ctx, func(tx store.Tx) error {
		var err error
		if c, err = tx.GetCredential(ctx, p.OrgID, id); err != nil {
			return storeErr(err, "credential", id)
		}
		if err := scopeHides(p, c.ProjectID, "credential", id); err != nil {
			return err
		}
		sealed, err = tx.GetSecrets(ctx, p.OrgID, id)
		return err
	})
	if err != nil {
		return api.Credential{}, nil, err
	}
	plain, err := s.openSecrets(ctx, id, sealed)
	if err != nil {
		return api.Credential{}, nil, err
	}
	return c, plain, nil
}

// openSecrets decrypts a credential's sealed secrets into field name -> value.
func (s *Service) openSecrets(ctx context.Context, id string, sealed []store.SealedSecret) (map[string]string, error) {
	plain := map[string]string{}
	for _, ss := range sealed {
		pt, err := s.keys.Open(secrets.Sealed{KeyID: ss.KeyID, WrappedKey: ss.WrappedKey, Ciphertext: ss.Ciphertext},
			secrets.Binding{OrgID: ss.OrgID, CredentialID: ss.CredentialID, Field: ss.Field})
		if err != nil {
			s.log.ErrorContext(ctx, "secret does not decrypt", "credential_id", id, "field", ss.Field, "key_id", ss.KeyID, "error", err)
			return nil, &Error{Status: StatusInternal, Title: "Secret cannot be decrypted",
				Detail: fmt.Sprintf("The %s of credential %s does not decrypt with this server's master key: the server runs with another key than the one that wrote it, or the row was altered. Start the server with the right master key, or finish rotate-master-key.", ss.Field, id)}
		}
		plain[ss.Field] = string(pt)
	}
	return plain, nil
}

func (s *Service) putSecrets(ctx context.Context, tx store.Tx, orgID, credentialID string, plain map[string]string) error {
	if len(plain) > 0 {
		if err := s.checkMasterKeyCurrent(ctx, tx); err != nil {
			return err
		}
	}
	for _, field := range secretFields {
		v, ok := plain[field]
		if !ok || v == "" {
			continue
		}
		b := secrets.Binding{OrgID: orgID, CredentialID: credentialID, Field: field}
		sealed, err := s.keys.Seal([]byte(v), b)
		if err != nil {
			return err
		}
		if err := tx.PutSecret(ctx, store.SealedSecret{OrgID: orgID, CredentialID: credentialID, Field: field,
			KeyID: sealed.KeyID, WrappedKey: sealed.WrappedKey, Ciphertext: sealed.Ciphertext}); err != nil {
			return err
		}
	}
	return nil
}
