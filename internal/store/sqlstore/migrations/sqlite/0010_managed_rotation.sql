-- Managed rotation (issue 35). A credential's purpose (inference, or admin: a vendor admin key that
-- mints the keys of managed credentials) and its managed rotation as JSON (mode, admin_credential_id,
-- overlap, the vendor's id of the current key, the last failure); '' when its key is set by hand.

ALTER TABLE credentials ADD COLUMN purpose TEXT NOT NULL DEFAULT 'inference';
ALTER TABLE credentials ADD COLUMN rotation TEXT NOT NULL DEFAULT '';

-- The rotation journal: one row per rotation under way (kind rotate) or per vendor key still to be
-- revoked after its credential was deleted (kind retire). Each step is written before the vendor call
-- that follows it, so a process that dies anywhere leaves enough to resume or clean up: the name the
-- new key gets at the vendor (found and revoked if the process died before recording its id), the new
-- key's id and its secret sealed by the master key (bound to the row), and the old key's id with when
-- to revoke it. A row is claimed by a lease (owner, until), so one process drives a rotation at a
-- time across replicas; the unique index keeps one rotation per credential. Rows outlive their
-- credential on purpose (no foreign key): a deleted credential's keys are still revoked.
CREATE TABLE credential_rotations (
    id                  TEXT NOT NULL PRIMARY KEY,
    org_id              TEXT NOT NULL,
    credential_id       TEXT NOT NULL,
    kind                TEXT NOT NULL,
    provider            TEXT NOT NULL,
    settings            TEXT NOT NULL DEFAULT '{}',
    admin_credential_id TEXT NOT NULL,
    step                TEXT NOT NULL,
    new_key_name        TEXT NOT NULL DEFAULT '',
    new_key_id          TEXT NOT NULL DEFAULT '',
    old_key_id          TEXT NOT NULL DEFAULT '',
    sealed_key_id       TEXT NOT NULL DEFAULT '',
    sealed_wrapped_key  BLOB,
    sealed_ciphertext   BLOB,
    revoke_at           TEXT,
    overlap             TEXT NOT NULL DEFAULT '',
    trigger_kind        TEXT NOT NULL DEFAULT '',
    actor               TEXT NOT NULL DEFAULT '',
    message             TEXT NOT NULL DEFAULT '',
    lease_owner         TEXT NOT NULL DEFAULT '',
    lease_until         TEXT NOT NULL DEFAULT '',
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);
CREATE UNIQUE INDEX credential_rotations_one ON credential_rotations (credential_id) WHERE kind = 'rotate';
CREATE INDEX credential_rotations_admin ON credential_rotations (org_id, admin_credential_id);
