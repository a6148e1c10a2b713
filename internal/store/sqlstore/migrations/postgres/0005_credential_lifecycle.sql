-- Key lifecycle: a credential's rotation period and expiry, when its secret last changed, and the
-- lifecycle status the server last recorded (the periodic sweep audits each change of it); and one
-- credential policy per scope (the organisation, project_id '', or a project).

ALTER TABLE credentials ADD COLUMN rotation_period TEXT NOT NULL DEFAULT '';
ALTER TABLE credentials ADD COLUMN expires_at TEXT;
ALTER TABLE credentials ADD COLUMN rotated_at TEXT NOT NULL DEFAULT '';
ALTER TABLE credentials ADD COLUMN lifecycle_status TEXT NOT NULL DEFAULT 'ok';

-- The last change of the secret of existing rows: their creation when the secret never changed,
-- otherwise the last update (which may have changed something else: the closest record there is).
UPDATE credentials SET rotated_at = CASE WHEN secret_version <= 1 THEN created_at ELSE updated_at END;

CREATE TABLE credential_policies (
    org_id               TEXT    NOT NULL REFERENCES organizations (id),
    project_id           TEXT    NOT NULL DEFAULT '',
    allowed_providers    TEXT    NOT NULL DEFAULT '[]',
    max_rotation_period  TEXT    NOT NULL DEFAULT '',
    expiry_warning       TEXT    NOT NULL DEFAULT '',
    require_verification BOOLEAN NOT NULL DEFAULT FALSE,
    version              BIGINT  NOT NULL,
    updated_at           TEXT    NOT NULL,
    PRIMARY KEY (org_id, project_id)
);
