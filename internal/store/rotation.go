package store

import (
	"context"
	"time"
)

// Rotation journal kinds.
const (
	// RotationKindRotate is a rotation under way (or a managed credential's first key): at most one
	// per credential.
	RotationKindRotate = "rotate"
	// RotationKindRetire is a vendor key still to revoke after its credential was deleted.
	RotationKindRetire = "retire"
)

// RotationEntry is one row of the rotation journal (migration 0010).
type RotationEntry struct {
	ID                string
	OrgID             string
	CredentialID      string
	Kind              string
	Provider          string
	Settings          map[string]string // the managed credential's settings when the rotation began
	AdminCredentialID string
	Step              string // api.RotationMinting, ...; "revoking" for a retire row
	NewKeyName        string
	NewKeyID          string
	OldKeyID          string
	// Sealed is the new key's secret, sealed by the master key (bound to org, credential and
	// "rotation:"+ID), between mint and switch; empty otherwise.
	SealedKeyID      string
	SealedWrappedKey []byte
	SealedCiphertext []byte
	RevokeAt         *time.Time // when the old key is revoked (after the switch)
	Overlap          string
	Trigger          string // schedule, api, console, terraform, create, resume
	Actor            string
	Message          string // why it failed, when it did
	LeaseOwner       string
	LeaseUntil       time.Time
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// RotationJournal is the store of managed rotations.
type RotationJournal interface {
	// InsertRotation adds a row; ErrDuplicate when the credential already has a rotation under way.
	InsertRotation(ctx context.Context, r RotationEntry) error
	// ActiveRotation is the credential's rotation under way (kind rotate); ErrNotFound when none.
	ActiveRotation(ctx context.Context, orgID, credentialID string) (RotationEntry, error)
	// GetRotation reads one row by id; ErrNotFound when it is gone.
	GetRotation(ctx context.Context, id string) (RotationEntry, error)
	// ListRotations lists every row of the journal, oldest first (the sweep resumes them).
	ListRotations(ctx context.Context) ([]RotationEntry, error)
	// ClaimRotation takes the row's lease for owner until `until` if it is free (no owner, expired at
	// now, or already owner's); false when another process holds it.
	ClaimRotation(ctx context.Context, id, owner string, now, until time.Time) (bool, error)
	// UpdateRotation writes r if the row is still at expectStep and leased to r.LeaseOwner; false
	// when it is not (another process moved it on, or took it over).
	UpdateRotation(ctx context.Context, r RotationEntry, expectStep string) (bool, error)
	// DeleteRotation removes a finished row if it is still leased to owner.
	DeleteRotation(ctx context.Context, id, owner string) error
	// ManagedCredentialRefs lists every managed credential (rotation set), across organisations.
	ManagedCredentialRefs(ctx context.Context) ([]CredentialRef, error)
	// CredentialsUsingAdmin lists the ids of the organisation's credentials and journal rows whose
	// managed rotation goes through the admin credential adminID.
	CredentialsUsingAdmin(ctx context.Context, orgID, adminID string) ([]string, error)
}
