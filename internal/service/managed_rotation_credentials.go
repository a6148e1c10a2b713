package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/idgen"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// How admin and managed credentials change the rules of credentials (credentials.go calls these).

// adminPurpose marks a context whose verification is of an admin key (VerifyAdmin, not the
// inference probe).
type adminPurpose struct{}

// withPurpose makes s.verify probe an admin key with the vendor's admin read.
func withPurpose(ctx context.Context, purpose string) context.Context {
	if purpose == api.PurposeAdmin {
		return context.WithValue(ctx, adminPurpose{}, true)
	}
	return ctx
}

// adminVerifier adapts AdminAPI.VerifyAdmin to Verifier.
type adminVerifier struct{ a AdminAPI }

func (v adminVerifier) Verify(ctx context.Context, p api.Provider, settings, secrets map[string]string) api.VerifyResult {
	return v.a.VerifyAdmin(ctx, p, settings, secrets)
}

// verifierFor is the verifier of ctx's purpose.
func (s *Service) verifierFor(ctx context.Context) Verifier {
	if ctx.Value(adminPurpose{}) != nil {
		if a := s.adminAPI(); a != nil {
			return adminVerifier{a}
		}
		return refuseAdmin{}
	}
	return s.cfg.Verifier
}

type refuseAdmin struct{}

func (refuseAdmin) Verify(context.Context, api.Provider, map[string]string, map[string]string) api.VerifyResult {
	return api.VerifyResult{Message: "this server's verifier cannot check admin keys"}
}

// createRotationRules checks a create's purpose and rotation; it returns the rotation to store (nil
// for none) and whether the credential is managed.
func createRotationRules(p Principal, in api.CredentialCreate, hasKey bool) (*api.CredentialRotation, []api.FieldError, error) {
	overlap, fields := catalog.ValidatePurposeAndRotation(in.Provider, in.Purpose, in.Rotation, in.Settings, hasKey)
	if catalog.PurposeOrDefault(in.Purpose) == api.PurposeAdmin {
		if err := requireAdmin(p); err != nil {
			return nil, nil, forbidden(fmt.Sprintf("token %q has role %s; an admin credential (purpose \"admin\") holds a vendor admin key and only admins may create or change one.", p.Actor, p.Role))
		}
	}
	if len(fields) > 0 || !catalog.IsManaged(in.Rotation) {
		return nil, fields, nil
	}
	return &api.CredentialRotation{Mode: api.RotationModeManaged, AdminCredentialID: in.Rotation.AdminCredentialID, Overlap: overlap}, nil, nil
}

// patchRotationRules applies a patch's rotation to next and checks the rules of admin and managed
// credentials for the patch; keySent says whether the patch brings a new key.
func patchRotationRules(p Principal, cur api.Credential, next *api.Credential, in api.CredentialPatch, keySent bool) ([]string, []api.FieldError, error) {
	if cur.Purpose == api.PurposeAdmin {
		if err := requireAdmin(p); err != nil {
			return nil, nil, forbidden(fmt.Sprintf("token %q has role %s; credential %q is an admin credential (purpose \"admin\") and only admins may change it.", p.Actor, p.Role, cur.Name))
		}
	}
	var changed []string
	if in.Rotation != nil {
		overlap, fields := catalog.ValidatePurposeAndRotation(cur.Provider, cur.Purpose, in.Rotation, next.Settings, keySent && catalog.IsManaged(in.Rotation))
		if len(fields) > 0 {
			return nil, fields, nil
		}
		var want *api.CredentialRotation
		if catalog.IsManaged(in.Rotation) {
			want = &api.CredentialRotation{Mode: api.RotationModeManaged, AdminCredentialID: in.Rotation.AdminCredentialID, Overlap: overlap}
			if cur.Rotation != nil {
				want.KeyID = cur.Rotation.KeyID
			}
		}
		if !sameRotation(cur.Rotation, want) {
			next.Rotation = want
			changed = append(changed, "rotation")
		}
	}
	if catalog.IsManaged(next.Rotation) && keySent {
		return nil, []api.FieldError{{Field: api.SecretAPIKey, Message: fmt.Sprintf("credential %q is managed: modelkeys mints its keys. Rotate it with POST /v1/credentials/%s/rotate (Terraform: the modelkeys_credential_rotate action), or end managed rotation in the same change to set a key by hand.", cur.Name, cur.ID)}}, nil
	}
	return changed, nil, nil
}

func sameRotation(a, b *api.CredentialRotation) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Mode == b.Mode && a.AdminCredentialID == b.AdminCredentialID && a.Overlap == b.Overlap
}

// deleteRotationRules runs in a credential's delete transaction: an admin credential that managed
// credentials use is refused; a managed credential's key gets a retire row, so it is revoked at the
// vendor. It returns the ids of the retire rows.
func (s *Service) deleteRotationRules(ctx context.Context, tx store.Tx, p Principal, c api.Credential) ([]string, error) {
	if c.Purpose == api.PurposeAdmin {
		if err := requireAdmin(p); err != nil {
			return nil, forbidden(fmt.Sprintf("token %q has role %s; credential %q is an admin credential and only admins may delete it.", p.Actor, p.Role, c.Name))
		}
		users, err := tx.CredentialsUsingAdmin(ctx, p.OrgID, c.ID)
		if err != nil {
			return nil, err
		}
		if len(users) > 0 {
			return nil, conflict(fmt.Sprintf("Admin credential %q mints the keys of %d managed credential(s) (or has rotations under way): %v. End their managed rotation or delete them first; their keys would otherwise be left at the vendor with nothing to revoke them.", c.Name, len(users), users), users...)
		}
		return nil, nil
	}
	// A rotation under way goes with its credential: its keys (the previous one in its overlap, a new
	// one not yet switched to, or one being minted, found by name) are retired with the current one.
	var keyIDs, names []string
	adminID := ""
	if c.Rotation != nil {
		adminID = c.Rotation.AdminCredentialID
		if c.Rotation.KeyID != "" {
			keyIDs = append(keyIDs, c.Rotation.KeyID)
		}
	}
	active, err := tx.ActiveRotation(ctx, p.OrgID, c.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, err
	default:
		adminID = active.AdminCredentialID
		switch active.Step {
		case api.RotationSwitched:
			keyIDs = append(keyIDs, active.OldKeyID)
		case api.RotationMinting:
			names = append(names, active.NewKeyName)
		default:
			if active.NewKeyID != "" {
				keyIDs = append(keyIDs, active.NewKeyID)
			} else {
				names = append(names, active.NewKeyName)
			}
		}
		if err := tx.DeleteRotation(ctx, active.ID, active.LeaseOwner); err != nil {
			return nil, err
		}
	}
	if adminID == "" || (len(keyIDs) == 0 && len(names) == 0) {
		return nil, nil
	}
	now := s.now()
	var ids []string
	add := func(keyID, name string) error {
		r := store.RotationEntry{ID: idgen.New("rot"), OrgID: p.OrgID, CredentialID: c.ID, Kind: store.RotationKindRetire,
			Provider: c.Provider, Settings: c.Settings, AdminCredentialID: adminID, Step: stepRevoking,
			OldKeyID: keyID, NewKeyName: name, Trigger: "delete", Actor: p.Actor, CreatedAt: now, UpdatedAt: now}
		ids = append(ids, r.ID)
		return tx.InsertRotation(ctx, r)
	}
	for _, id := range keyIDs {
		if err := add(id, ""); err != nil {
			return nil, err
		}
	}
	for _, n := range names {
		if err := add("", n); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// revealRule refuses to reveal an admin key.
func revealRule(c api.Credential) error {
	if c.Purpose == api.PurposeAdmin {
		return forbidden(fmt.Sprintf("Credential %q is an admin credential: its key (a vendor admin key) is never revealed.", c.Name))
	}
	return nil
}
