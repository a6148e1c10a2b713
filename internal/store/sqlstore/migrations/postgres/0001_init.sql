-- modelkeys schema, version 1 (PostgreSQL).
--
-- Conventions, shared with the PostgreSQL schema so one set of queries serves both:
--   * timestamps are UTC text in a fixed-width RFC 3339 form with nanoseconds
--     (2006-01-02T15:04:05.000000000Z): exact round trips, readable in psql, and they sort;
--   * project_id '' is the organisation scope (not NULL, so UNIQUE (org_id, project_id, name) also
--     holds for organisation-wide objects; NULLs would never collide);
--   * maps and lists are JSON text;
--   * every child carries org_id and references its parent by (org_id, id), so a row can never point
--     at another organisation's object, whatever the caller passes.

CREATE TABLE organizations (
    id         TEXT NOT NULL PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

CREATE TABLE tokens (
    id         TEXT NOT NULL PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES organizations (id),
    name       TEXT NOT NULL,
    role       TEXT NOT NULL,
    hash       TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX tokens_org ON tokens (org_id);

CREATE TABLE projects (
    id                               TEXT    NOT NULL PRIMARY KEY,
    org_id                           TEXT    NOT NULL REFERENCES organizations (id),
    name                             TEXT    NOT NULL,
    description                      TEXT    NOT NULL DEFAULT '',
    inherit_organization_credentials BOOLEAN NOT NULL DEFAULT FALSE,
    version                          BIGINT  NOT NULL,
    created_at                       TEXT    NOT NULL,
    updated_at                       TEXT    NOT NULL,
    UNIQUE (org_id, name),
    UNIQUE (org_id, id)
);

CREATE TABLE credentials (
    id                 TEXT    NOT NULL PRIMARY KEY,
    org_id             TEXT    NOT NULL REFERENCES organizations (id),
    project_id         TEXT    NOT NULL DEFAULT '',
    name               TEXT    NOT NULL,
    description        TEXT    NOT NULL DEFAULT '',
    provider           TEXT    NOT NULL,
    settings           TEXT    NOT NULL DEFAULT '{}',
    labels             TEXT    NOT NULL DEFAULT '{}',
    secret_hint        TEXT    NOT NULL DEFAULT '',
    secret_fingerprint TEXT    NOT NULL DEFAULT '',
    secret_version     BIGINT  NOT NULL DEFAULT 0,
    status             TEXT    NOT NULL,
    status_message     TEXT    NOT NULL DEFAULT '',
    verified_at        TEXT,
    verify             BOOLEAN NOT NULL DEFAULT TRUE,
    version            BIGINT  NOT NULL,
    created_at         TEXT    NOT NULL,
    updated_at         TEXT    NOT NULL,
    UNIQUE (org_id, project_id, name),
    -- Lists page by (org_id, id); this index serves them and is the target of the children's keys.
    UNIQUE (org_id, id)
);
CREATE INDEX credentials_org_provider ON credentials (org_id, provider, id);

CREATE TABLE credential_secrets (
    org_id        TEXT NOT NULL,
    credential_id TEXT NOT NULL,
    field         TEXT NOT NULL,
    key_id        TEXT NOT NULL,
    wrapped_key   BYTEA NOT NULL,
    ciphertext    BYTEA NOT NULL,
    PRIMARY KEY (credential_id, field),
    FOREIGN KEY (org_id, credential_id) REFERENCES credentials (org_id, id) ON DELETE CASCADE
);
-- The cascade looks children up by the foreign key's columns.
CREATE INDEX credential_secrets_parent ON credential_secrets (org_id, credential_id);

CREATE TABLE connections (
    id             TEXT    NOT NULL PRIMARY KEY,
    org_id         TEXT    NOT NULL,
    project_id     TEXT    NOT NULL DEFAULT '',
    name           TEXT    NOT NULL,
    credential_id  TEXT    NOT NULL,
    model          TEXT    NOT NULL,
    parameters     TEXT    NOT NULL DEFAULT '',
    enabled        BOOLEAN NOT NULL DEFAULT TRUE,
    status         TEXT    NOT NULL,
    status_message TEXT    NOT NULL DEFAULT '',
    version        BIGINT  NOT NULL,
    created_at     TEXT    NOT NULL,
    updated_at     TEXT    NOT NULL,
    UNIQUE (org_id, project_id, name),
    UNIQUE (org_id, id),
    -- RESTRICT: a credential that connections use cannot be deleted underneath them.
    FOREIGN KEY (org_id, credential_id) REFERENCES credentials (org_id, id) ON DELETE RESTRICT
);
CREATE INDEX connections_credential ON connections (org_id, credential_id, id);

CREATE TABLE model_policies (
    org_id     TEXT    NOT NULL REFERENCES organizations (id),
    project_id TEXT    NOT NULL DEFAULT '',
    mode       TEXT    NOT NULL,
    models     TEXT    NOT NULL DEFAULT '[]',
    publishers TEXT    NOT NULL DEFAULT '[]',
    version    BIGINT  NOT NULL,
    updated_at TEXT    NOT NULL,
    PRIMARY KEY (org_id, project_id)
);

CREATE TABLE idempotency_keys (
    org_id       TEXT NOT NULL REFERENCES organizations (id),
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    object_type  TEXT NOT NULL,
    object_id    TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (org_id, key)
);
-- For pruning old keys.
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

CREATE TABLE audit_events (
    -- A sequence never reuses ids, so "after=N" paging stays correct even after deletions.
    id          BIGSERIAL PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations (id),
    time        TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id   TEXT NOT NULL,
    fields      TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX audit_events_org ON audit_events (org_id, id);

CREATE TABLE meta (
    key   TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
);
