package service

// Managed rotation (issue 35): the server mints a managed credential's keys through the vendor's admin
// API with the key of an admin credential, verifies the new key, switches to it, keeps the old one
// live for the overlap and then revokes it at the vendor.
//
// Every step is written to the rotation journal (store.RotationJournal) in the transaction that
// records it, before the vendor call that follows, so a process that dies anywhere leaves a row that
// the next sweep (of any replica) resumes or cleans up:
//
//	minting   the new key's name is recorded; the vendor is asked for it. On resume the vendor is
//	          searched for a key of that name (its answer was lost) and any found is revoked, then
//	          the mint starts again: its secret was shown once, to a process that is gone.
//	minted    the new key's id and its secret, sealed by the master key, are recorded. It is verified
//	          with the provider's inference probe; a refusal (or no verdict) fails the rotation.
//	verified  the switch: in one transaction the credential takes the new secret (a new
//	          secret_version, fingerprint, hint and rotated_at) and the row records the old key's id
//	          and when to revoke it (now + overlap).
//	switched  the old key stays live until revoke_at; then it is revoked and the row deleted.
//	failed    the new key is revoked (found by name when its id was never recorded) and the row
//	          deleted: the old key stays, untouched.
//
// A row is driven by one process at a time: it claims a lease (a compare-and-swap on the row, so two
// replicas cannot both win), extends it at each step, and releases it when it stops short of the end
// (waiting for the overlap, or a vendor outage). A crashed holder's lease expires after rotationLease.
// The credential's key is replaced only by the switch, in one transaction, so there is always exactly
// one current key that worked when it was switched to, and at most two live keys per credential (the
// current and, during the overlap, the previous). A deleted managed credential leaves a "retire" row
// that revokes its key.

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/idgen"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/secrets"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// AdminAPI is the vendors' admin APIs (internal/verify implements it on its Verifier): the service
// finds it on Config.Verifier, so a server with a verifier can rotate keys.
type AdminAPI interface {
	// VerifyAdmin checks an admin key with a cheap admin read.
	VerifyAdmin(ctx context.Context, p api.Provider, settings, secrets map[string]string) api.VerifyResult
	// MintKey makes a new inference key named r.Name.
	MintKey(ctx context.Context, r api.AdminKeyRequest) (api.MintedKey, error)
	// FindKey returns the id of the key named r.Name, if the vendor has one.
	FindKey(ctx context.Context, r api.AdminKeyRequest) (string, bool, error)
	// RevokeKey deletes the key r.KeyID; a key already gone is not an error.
	RevokeKey(ctx context.Context, r api.AdminKeyRequest) error
}

// Rotation triggers, as the journal and the audit log name them.
const (
	TriggerSchedule  = "schedule"
	TriggerAPI       = "api"
	TriggerCreate    = "create"
	rotationActor    = "modelkeys-rotation"
	rotationLease    = 2 * time.Minute
	stepRevoking     = "revoking" // a retire row's only step
	maxFindRevokes   = 5
	rotationAuditObj = "credential"
)

// Rotation outcomes counted by RotationCounts (the modelkeys_rotations_total metric).
const (
	RotationSucceeded = "succeeded" // switched to a verified new key
	RotationFailed    = "failed"    // the new key was refused or could not be made; the old one stays
	RotationResumed   = "resumed"   // a rotation a stopped process left was taken up
	RotationRevoked   = "revoked"   // an old key was revoked at the vendor
)

// RotationOutcomes lists the outcomes RotationCounts reports.
var RotationOutcomes = []string{RotationSucceeded, RotationFailed, RotationResumed, RotationRevoked}

// rotationState is the service's part of managed rotation.
type rotationState struct {
	once  sync.Once
	owner string // this process's lease owner id
	// counts by outcome
	succeeded, failed, resumed, revoked atomic.Int64
	// afterStep, set by tests, runs after each step is recorded; an error stops the drive there as a
	// crash would (the lease stays held).
	afterStep func(step string) error
	// verifyAttempts and verifyDelay: a new key is probed up to verifyAttempts times, verifyDelay
	// apart, since some vendors take a moment before a new key works everywhere.
	verifyAttempts int
	verifyDelay    time.Duration
}

var errCrashed = errors.New("stopped by a test at a journal step")

func (s *Service) rotOwner() string {
	s.rot.once.Do(func() {
		s.rot.owner = idgen.New("proc")
		if s.rot.verifyAttempts == 0 {
			s.rot.verifyAttempts, s.rot.verifyDelay = 3, 2*time.Second
		}
	})
	return s.rot.owner
}

// RotationCounts are the rotations of this process by outcome.
func (s *Service) RotationCounts() map[string]int64 {
	return map[string]int64{
		RotationSucceeded: s.rot.succeeded.Load(), RotationFailed: s.rot.failed.Load(),
		RotationResumed: s.rot.resumed.Load(), RotationRevoked: s.rot.revoked.Load(),
	}
}

func (s *Service) adminAPI() AdminAPI {
	a, _ := s.cfg.Verifier.(AdminAPI)
	return a
}

func rotationUnavailable() *Error {
	return &Error{Status: StatusUnavailable, Title: "Managed rotation is unavailable",
		Detail: "This server has no verifier, so it cannot reach the vendors' admin APIs; managed rotation needs modelkeys-server (or the embedded provider) with verification."}
}

// checkManagedCredential checks, for p's create or change, that a managed credential's admin
// credential exists, is an admin credential of the same provider, and sends its key to the same
// destination. prevAdminID is the admin credential the credential already used ("" on a create).
//
// Which admin credentials a managed credential may use: one of its own project, or one of the
// organisation. A principal confined to a project may newly bind only an admin credential of its
// project: the organisation's admin credentials are out of its reach, as everything of the
// organisation is (project_scope.go), so to it one is "does not exist", named only by the id it
// sent, and no check after that one describes it. Otherwise a token of a project could have keys
// minted with the organisation's admin key. A binding someone of the organisation made (an
// unconfined editor or admin, who sees the admin credential) stays usable by the project: rotating
// it mints where the organisation chose, and a confined principal keeping it (a patch of the
// overlap) learns nothing of it either.
func (s *Service) checkManagedCredential(ctx context.Context, p Principal, c api.Credential, prevAdminID string) error {
	if !catalog.IsManaged(c.Rotation) {
		return nil
	}
	id := c.Rotation.AdminCredentialID
	var admin api.Credential
	err := s.readOne(ctx, func(tx store.Tx) error {
		var err error
		admin, err = tx.GetCredential(ctx, p.OrgID, id)
		return err
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	visible := err == nil && p.sees(admin.ProjectID)
	if errors.Is(err, store.ErrNotFound) || (!visible && id != prevAdminID) {
		// The same words whether it is missing or hidden from p.
		return InvalidField("rotation.admin_credential_id", "credential %q does not exist; set rotation.admin_credential_id to the id of a %s credential of purpose \"admin\" in the credential's project or, for a token of the whole organisation, of the organisation.", id, c.Provider)
	}
	name := admin.Name
	if !visible {
		name = id
	}
	switch {
	case admin.Purpose != api.PurposeAdmin:
		return InvalidField("rotation.admin_credential_id", "credential %q has purpose %q; managed rotation needs a credential of purpose \"admin\" holding the vendor's admin key.", name, admin.Purpose)
	case admin.Provider != c.Provider:
		return InvalidField("rotation.admin_credential_id", "admin credential %q is for provider %q, not %q; use an admin credential of the same provider.", name, admin.Provider, c.Provider)
	case admin.ProjectID != "" && admin.ProjectID != c.ProjectID:
		return InvalidField("rotation.admin_credential_id", "admin credential %q belongs to project %s; a managed credential may use an admin credential of its own project or of the organisation.", name, admin.ProjectID)
	}
	prov, _ := catalog.Provider(c.Provider)
	if !catalog.ManagedAdminApart(c.Provider) && !maps.Equal(catalog.Destination(prov, admin.Settings), catalog.Destination(prov, c.Settings)) {
		if !visible {
			return InvalidField("settings", "credential %q would send its keys to %s, which is not where its admin credential %q sends its key: keys are minted where the admin key goes, so keep the destination settings as they are.",
				c.Name, catalog.DescribeDestination(prov, c.Settings), id)
		}
		return InvalidField("settings", "credential %q sends its keys to %s but its admin credential %q to %s: keys are minted where the admin key goes, so the two must have the same destination settings.",
			c.Name, catalog.DescribeDestination(prov, c.Settings), admin.Name, catalog.DescribeDestination(prov, admin.Settings))
	}
	return nil
}

// RotateCredential rotates a managed credential's key now: mint, verify and switch happen before it
// answers; the old key is revoked when the overlap ends. trigger names who asked (api, console,
// terraform).
func (s *Service) RotateCredential(ctx context.Context, p Principal, id, trigger string) (api.Credential, error) {
	if err := requireWrite(p); err != nil {
		return api.Credential{}, err
	}
	if trigger == "" {
		trigger = TriggerAPI
	}
	c, err := s.GetCredential(ctx, p, id)
	if err != nil {
		return api.Credential{}, err
	}
	if !catalog.IsManaged(c.Rotation) {
		return api.Credential{}, conflict(fmt.Sprintf("Credential %q is not managed: its key is set by hand. Set rotation = { mode = \"managed\", admin_credential_id = ... } to have modelkeys rotate it, or set a new api_key.", c.Name))
	}
	if err := s.startRotation(ctx, p.OrgID, c, trigger, p.Actor); err != nil {
		return api.Credential{}, err
	}
	return s.GetCredential(ctx, p, id)
}

// startRotation records a new rotation of c and drives it as far as it goes now (to the overlap).
func (s *Service) startRotation(ctx context.Context, orgID string, c api.Credential, trigger, actor string) error {
	if s.adminAPI() == nil {
		return rotationUnavailable()
	}
	now := s.now()
	r := store.RotationEntry{
		ID: idgen.New("rot"), OrgID: orgID, CredentialID: c.ID, Kind: store.RotationKindRotate, Provider: c.Provider,
		Settings: maps.Clone(c.Settings), AdminCredentialID: c.Rotation.AdminCredentialID, Step: api.RotationMinting,
		Overlap: c.Rotation.Overlap, Trigger: trigger, Actor: actor, OldKeyID: c.Rotation.KeyID, // the switch records it again
		LeaseOwner: s.rotOwner(), LeaseUntil: now.Add(rotationLease), CreatedAt: now, UpdatedAt: now,
	}
	r.NewKeyName = vendorKeyName(c.Name, r.ID)
	err := s.tx(ctx, func(tx store.Tx) error {
		err := tx.InsertRotation(ctx, r)
		if errors.Is(err, store.ErrDuplicate) {
			cur, gerr := tx.ActiveRotation(ctx, orgID, c.ID)
			if gerr != nil {
				return gerr
			}
			return rotationInProgress(c, cur)
		}
		return err
	})
	if err != nil {
		return err
	}
	_, err = s.driveRotation(ctx, r.ID, true)
	return err
}

func rotationInProgress(c api.Credential, cur store.RotationEntry) *Error {
	if cur.Step == api.RotationSwitched && cur.RevokeAt != nil {
		return conflict(fmt.Sprintf("Credential %q was rotated at %s and its previous key (%s) stays live until %s, the end of the overlap; rotate again after that.",
			c.Name, cur.UpdatedAt.Format(time.RFC3339), cur.OldKeyID, cur.RevokeAt.Format(time.RFC3339)))
	}
	return conflict(fmt.Sprintf("Credential %q is being rotated (step %s, started %s by %s); wait for it to finish.", c.Name, cur.Step, cur.CreatedAt.Format(time.RFC3339), cur.Actor))
}

// vendorKeyName is the name a minted key gets at the vendor: it names the credential and the rotation,
// so a key whose mint answer was lost is found again.
func vendorKeyName(credName, rotationID string) string {
	return "modelkeys-" + credName + "-" + strings.TrimPrefix(rotationID, "rot_")
}

// errRotationBusy: another process holds the row's lease.
var errRotationBusy = errors.New("another process is driving this rotation")

// driveRotation moves the journal row id on as far as it can go now. fresh says the caller has just
// inserted it, so no vendor call can have been made for it yet. It returns the row as last seen (Step
// "" when it is finished and gone).
func (s *Service) driveRotation(ctx context.Context, id string, fresh bool) (store.RotationEntry, error) {
	owner := s.rotOwner()
	now := s.now()
	var claimed bool
	if err := s.tx(ctx, func(tx store.Tx) error {
		var err error
		claimed, err = tx.ClaimRotation(ctx, id, owner, now, now.Add(rotationLease))
		return err
	}); err != nil {
		return store.RotationEntry{}, err
	}
	if !claimed {
		return store.RotationEntry{}, errRotationBusy
	}
	var last store.RotationEntry
	failMsg := ""
	for {
		var r store.RotationEntry
		err := s.readOne(ctx, func(tx store.Tx) error {
			var err error
			r, err = tx.GetRotation(ctx, id)
			return err
		})
		if errors.Is(err, store.ErrNotFound) {
			last.Step = ""
			if failMsg != "" {
				return last, InvalidField("rotation", "The rotation failed and the old key stays in use: %s. The new key was revoked.", failMsg)
			}
			return last, nil
		}
		if err != nil {
			return r, err
		}
		r.LeaseOwner = owner
		// Taken up where a stopped process (or an outage) left it; the revoke at the end of an overlap
		// is the rotation's ordinary last step, not a resumption.
		if !fresh && last.ID == "" && r.Kind == store.RotationKindRotate && r.Step != api.RotationSwitched {
			s.rot.resumed.Add(1)
			_ = s.auditRotation(ctx, nil, r, "rotation.resumed", nil)
		}
		next, wait, err := s.rotationStep(ctx, r, fresh)
		fresh = false
		last = next
		if next.Step == api.RotationFailed {
			failMsg = next.Message
		}
		if errors.Is(err, errCrashed) {
			return next, err
		}
		if err != nil || wait {
			s.releaseRotation(ctx, next)
			return next, err
		}
		if s.rot.afterStep != nil {
			if err := s.rot.afterStep(next.Step); err != nil {
				return next, err
			}
		}
	}
}

// releaseRotation gives up the lease so the next sweep of any replica may take the row.
func (s *Service) releaseRotation(ctx context.Context, r store.RotationEntry) {
	if r.ID == "" || r.Step == "" {
		return
	}
	step := r.Step
	r.LeaseUntil = s.now().Add(-time.Nanosecond)
	if err := s.tx(ctx, func(tx store.Tx) error { _, err := tx.UpdateRotation(ctx, r, step); return err }); err != nil {
		s.log.Warn("could not release a rotation's lease; it expires by itself", "rotation", r.ID, "error", err)
	}
}

// advance records r at its new step if the row is still at from and ours; the audit event, if any,
// is written in the same transaction.
func (s *Service) advance(ctx context.Context, r store.RotationEntry, from, action string, changes []api.AuditChange, also func(store.Tx) error) (store.RotationEntry, error) {
	now := s.now()
	r.UpdatedAt, r.LeaseUntil = now, now.Add(rotationLease)
	err := s.tx(ctx, func(tx store.Tx) error {
		if also != nil {
			if err := also(tx); err != nil {
				return err
			}
		}
		ok, err := tx.UpdateRotation(ctx, r, from)
		if err != nil {
			return err
		}
		if !ok {
			return errRotationBusy
		}
		if action != "" {
			return s.auditRotation(ctx, tx, r, action, changes)
		}
		return nil
	})
	return r, err
}

// finish deletes a row that has nothing left to do.
func (s *Service) finish(ctx context.Context, r store.RotationEntry, action string, changes []api.AuditChange) (store.RotationEntry, error) {
	err := s.tx(ctx, func(tx store.Tx) error {
		if err := tx.DeleteRotation(ctx, r.ID, r.LeaseOwner); err != nil {
			return err
		}
		if action != "" {
			return s.auditRotation(ctx, tx, r, action, changes)
		}
		return nil
	})
	r.Step = ""
	return r, err
}

// auditRotation records a step: the vendor's key ids in changes, never a key. tx nil: its own.
func (s *Service) auditRotation(ctx context.Context, tx store.Tx, r store.RotationEntry, action string, changes []api.AuditChange) error {
	actor := r.Actor
	if actor == "" || r.Trigger == TriggerSchedule {
		actor = rotationActor
	}
	p := Principal{OrgID: r.OrgID, Actor: actor}
	fields := []string{"rotation." + r.Trigger}
	if r.Message != "" && action == "rotation.failed" {
		changes = append(changes, api.AuditChange{Field: "rotation.last_error", To: trimMessage(r.Message)})
	}
	if tx != nil {
		return s.auditChanges(ctx, tx, p, action, rotationAuditObj, r.CredentialID, fields, changes)
	}
	return s.tx(ctx, func(tx store.Tx) error {
		return s.auditChanges(ctx, tx, p, action, rotationAuditObj, r.CredentialID, fields, changes)
	})
}

func trimMessage(m string) string {
	if len(m) > 300 {
		return m[:300]
	}
	return m
}

// adminRequest builds the vendor request for r with its admin credential's key.
func (s *Service) adminRequest(ctx context.Context, r store.RotationEntry) (api.AdminKeyRequest, error) {
	admin, plain, err := s.readCredentialWithSecrets(ctx, Principal{OrgID: r.OrgID}, r.AdminCredentialID)
	if err != nil {
		return api.AdminKeyRequest{}, fmt.Errorf("admin credential %s: %w", r.AdminCredentialID, err)
	}
	prov, ok := catalog.Provider(r.Provider)
	if !ok {
		return api.AdminKeyRequest{}, fmt.Errorf("provider %q is not in this server's catalog", r.Provider)
	}
	return api.AdminKeyRequest{Provider: prov, Settings: r.Settings, AdminSettings: admin.Settings, AdminSecrets: plain, Name: r.NewKeyName, CurrentKeyID: r.OldKeyID, Since: r.CreatedAt}, nil
}

// rotationStep makes one step of r. wait is true when r must wait (the overlap) or a vendor call
// failed in a way worth retrying later (an outage on revoke).
func (s *Service) rotationStep(ctx context.Context, r store.RotationEntry, fresh bool) (store.RotationEntry, bool, error) {
	adm := s.adminAPI()
	if adm == nil {
		return r, true, rotationUnavailable()
	}
	now := s.now()
	switch r.Step {
	case stepRevoking: // a deleted credential's key, by id or (one being minted) by name
		req, err := s.adminRequest(ctx, r)
		if err != nil {
			return r, true, err
		}
		if r.OldKeyID == "" {
			if err := s.revokeByName(ctx, adm, req, r); err != nil {
				return r, true, err
			}
			next, err := s.finish(ctx, r, "", nil)
			return next, false, err
		}
		req.KeyID = r.OldKeyID
		if err := adm.RevokeKey(ctx, req); err != nil {
			return r, true, fmt.Errorf("revoke key %s of deleted credential %s: %w", r.OldKeyID, r.CredentialID, err)
		}
		s.rot.revoked.Add(1)
		next, err := s.finish(ctx, r, "rotation.revoked", []api.AuditChange{{Field: "rotation.key_id", From: r.OldKeyID}})
		return next, false, err

	case api.RotationMinting:
		req, err := s.adminRequest(ctx, r)
		if err != nil {
			return s.failRotation(ctx, r, err.Error())
		}
		if !fresh {
			// The process that wrote this step may have been answered a key it never recorded: find
			// keys of this rotation's name and revoke them before minting again.
			if err := s.revokeByName(ctx, adm, req, r); err != nil {
				return r, true, err
			}
		}
		minted, err := adm.MintKey(ctx, req)
		if err != nil {
			return s.failRotation(ctx, r, "the vendor did not make a new key: "+err.Error())
		}
		if s.rot.afterStep != nil {
			if err := s.rot.afterStep("mint-answered"); err != nil {
				return r, false, err // a test stops here: the key exists at the vendor, unrecorded
			}
		}
		sealed, err := s.keys.Seal([]byte(minted.Secret), rotationBinding(r))
		if err != nil {
			return r, true, err
		}
		next := r
		next.Step, next.NewKeyID = api.RotationMinted, minted.KeyID
		next.SealedKeyID, next.SealedWrappedKey, next.SealedCiphertext = sealed.KeyID, sealed.WrappedKey, sealed.Ciphertext
		next, err = s.advance(ctx, next, r.Step, "rotation.minted", []api.AuditChange{{Field: "rotation.key_id", To: minted.KeyID}}, nil)
		if err != nil {
			// Not recorded: the next sweep finds the key by name and revokes it.
			return r, true, err
		}
		return next, false, nil

	case api.RotationMinted:
		secret, err := s.openRotationSecret(r)
		if err != nil {
			return s.failRotation(ctx, r, err.Error())
		}
		prov, _ := catalog.Provider(r.Provider)
		var res api.VerifyResult
		for attempt := range max(1, s.rot.verifyAttempts) {
			if attempt > 0 {
				select {
				case <-ctx.Done():
					return r, true, ctx.Err()
				case <-time.After(s.rot.verifyDelay):
				}
			}
			if err := s.probe(context.WithValue(ctx, patientProbes{}, true), r.OrgID, func() {
				res = s.cfg.Verifier.Verify(ctx, prov, r.Settings, map[string]string{api.SecretAPIKey: secret})
			}); err != nil {
				return r, true, err
			}
			if res.OK || res.Blocked {
				break
			}
		}
		if !res.OK {
			return s.failRotation(ctx, r, "the new key failed verification: "+res.Message)
		}
		next := r
		next.Step = api.RotationVerified
		next, err = s.advance(ctx, next, r.Step, "rotation.verified", []api.AuditChange{{Field: "rotation.key_id", To: r.NewKeyID}}, nil)
		return next, false, err

	case api.RotationVerified:
		return s.switchRotation(ctx, r)

	case api.RotationSwitched:
		if r.RevokeAt != nil && now.Before(*r.RevokeAt) {
			return r, true, nil // the overlap: the old key stays live
		}
		if r.OldKeyID != "" {
			req, err := s.adminRequest(ctx, r)
			if err != nil {
				return r, true, err
			}
			req.KeyID = r.OldKeyID
			if err := adm.RevokeKey(ctx, req); err != nil {
				return r, true, fmt.Errorf("revoke the previous key %s: %w", r.OldKeyID, err)
			}
			s.rot.revoked.Add(1)
			next, err := s.finish(ctx, r, "rotation.revoked", []api.AuditChange{{Field: "rotation.key_id", From: r.OldKeyID}})
			return next, false, err
		}
		next, err := s.finish(ctx, r, "", nil)
		return next, false, err

	case api.RotationFailed:
		if r.NewKeyID == "" {
			// The key may exist without our knowing its id (a lost answer): look for it by name.
			req, err := s.adminRequest(ctx, r)
			if err != nil {
				return r, true, err
			}
			if err := s.revokeByName(ctx, adm, req, r); err != nil {
				return r, true, err
			}
			next, err := s.finish(ctx, r, "", nil)
			return next, false, err
		}
		req, err := s.adminRequest(ctx, r)
		if err != nil {
			return r, true, err
		}
		req.KeyID = r.NewKeyID
		if err := adm.RevokeKey(ctx, req); err != nil {
			return r, true, fmt.Errorf("revoke the new key %s that failed: %w", r.NewKeyID, err)
		}
		s.rot.revoked.Add(1)
		next, err := s.finish(ctx, r, "rotation.revoked", []api.AuditChange{{Field: "rotation.key_id", From: r.NewKeyID}})
		return next, false, err
	}
	return r, true, fmt.Errorf("rotation %s: unknown step %q", r.ID, r.Step)
}

// revokeByName revokes every key of the rotation's name at the vendor (a mint whose answer was lost).
func (s *Service) revokeByName(ctx context.Context, adm AdminAPI, req api.AdminKeyRequest, r store.RotationEntry) error {
	req.Name = r.NewKeyName
	for range maxFindRevokes {
		keyID, found, err := adm.FindKey(ctx, req)
		if err != nil || !found {
			return err
		}
		req.KeyID = keyID
		if err := adm.RevokeKey(ctx, req); err != nil {
			return err
		}
		s.rot.revoked.Add(1)
		_ = s.auditRotation(ctx, nil, r, "rotation.revoked", []api.AuditChange{{Field: "rotation.key_id", From: keyID}})
	}
	return nil
}

// failRotation records that the rotation failed (the next step revokes the new key).
func (s *Service) failRotation(ctx context.Context, r store.RotationEntry, why string) (store.RotationEntry, bool, error) {
	next := r
	next.Step, next.Message = api.RotationFailed, why
	next.SealedKeyID, next.SealedWrappedKey, next.SealedCiphertext = "", nil, nil
	next, err := s.advance(ctx, next, r.Step, "rotation.failed", nil, nil)
	if err != nil {
		return r, true, err
	}
	s.rot.failed.Add(1)
	return next, false, nil
}

func rotationBinding(r store.RotationEntry) secrets.Binding {
	return secrets.Binding{OrgID: r.OrgID, CredentialID: r.CredentialID, Field: "rotation:" + r.ID}
}

func (s *Service) openRotationSecret(r store.RotationEntry) (string, error) {
	pt, err := s.keys.Open(secrets.Sealed{KeyID: r.SealedKeyID, WrappedKey: r.SealedWrappedKey, Ciphertext: r.SealedCiphertext}, rotationBinding(r))
	if err != nil {
		return "", fmt.Errorf("the new key of rotation %s does not decrypt with this server's master key", r.ID)
	}
	return string(pt), nil
}

// switchRotation makes the verified new key the credential's key, in one transaction with the
// journal's switched step.
func (s *Service) switchRotation(ctx context.Context, r store.RotationEntry) (store.RotationEntry, bool, error) {
	secret, err := s.openRotationSecret(r)
	if err != nil {
		return s.failRotation(ctx, r, err.Error())
	}
	var gone string
	now := s.now()
	next := r
	next.Step, next.UpdatedAt, next.LeaseUntil = api.RotationSwitched, now, now.Add(rotationLease)
	next.SealedKeyID, next.SealedWrappedKey, next.SealedCiphertext = "", nil, nil
	err = s.tx(ctx, func(tx store.Tx) error {
		cur, err := tx.GetCredential(ctx, r.OrgID, r.CredentialID)
		if errors.Is(err, store.ErrNotFound) {
			gone = "the credential was deleted during the rotation"
			return errStop
		} else if err != nil {
			return err
		}
		if !catalog.IsManaged(cur.Rotation) {
			gone = "the credential stopped being managed during the rotation"
			return errStop
		}
		oldKeyID := cur.Rotation.KeyID
		plain := map[string]string{api.SecretAPIKey: secret}
		upd := cur
		rot := *cur.Rotation
		rot.KeyID, rot.LastError = r.NewKeyID, ""
		upd.Rotation = &rot
		upd.HasAPIKey, upd.HasAuthToken = true, false
		upd.SecretHint = hintOf(plain)
		upd.SecretFingerprint = s.fp.Fingerprint(r.OrgID, plain)
		upd.SecretVersion = cur.SecretVersion + 1
		upd.RotatedAt, upd.UpdatedAt = now, now
		upd.Status, upd.StatusMessage, upd.VerifiedAt = api.StatusVerified, "The provider accepted the key minted by managed rotation.", &now
		upd.ExpiresAt = nil
		upd.Version = cur.Version + 1
		if err := tx.UpdateCredential(ctx, r.OrgID, upd, cur.Version); err != nil {
			return err
		}
		if err := s.putSecrets(ctx, tx, r.OrgID, r.CredentialID, plain); err != nil {
			return err
		}
		// The old key and when it goes are recorded with the switch: nothing can come between.
		at := now
		if oldKeyID != "" {
			overlap, _ := catalog.ParseDuration(orDefault(r.Overlap, api.DefaultRotationOverlap))
			at = now.Add(overlap)
		}
		next.OldKeyID, next.RevokeAt = oldKeyID, &at
		ok, err := tx.UpdateRotation(ctx, next, r.Step)
		if err != nil {
			return err
		}
		if !ok {
			return errRotationBusy
		}
		return s.auditRotation(ctx, tx, r, "rotation.switched", []api.AuditChange{{Field: "rotation.key_id", From: oldKeyID, To: r.NewKeyID}})
	})
	if errors.Is(err, errStop) {
		return s.failRotation(ctx, r, gone)
	}
	if err != nil {
		return r, true, err
	}
	s.rot.succeeded.Add(1)
	return next, false, nil
}

var errStop = errors.New("stop")

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

// adminIDOf is the admin credential c's managed rotation uses ("" when it is not managed).
func adminIDOf(c api.Credential) string {
	if c.Rotation == nil {
		return ""
	}
	return c.Rotation.AdminCredentialID
}
