-- A credential deleted with force=true leaves the connections that used it without one: their
-- credential_id becomes NULL and they stay invalid until they are pointed at another credential.
-- SQLite cannot drop NOT NULL in place, so the table is rebuilt with the same columns, keys and
-- index. The foreign key stays: a NULL credential_id is not checked, any other must exist.

CREATE TABLE connections_rebuilt (
    id             TEXT    NOT NULL PRIMARY KEY,
    org_id         TEXT    NOT NULL,
    project_id     TEXT    NOT NULL DEFAULT '',
    name           TEXT    NOT NULL,
    credential_id  TEXT,
    model          TEXT    NOT NULL,
    parameters     TEXT    NOT NULL DEFAULT '',
    enabled        BOOLEAN NOT NULL DEFAULT 1,
    status         TEXT    NOT NULL,
    status_message TEXT    NOT NULL DEFAULT '',
    version        INTEGER NOT NULL,
    created_at     TEXT    NOT NULL,
    updated_at     TEXT    NOT NULL,
    UNIQUE (org_id, project_id, name),
    UNIQUE (org_id, id),
    -- RESTRICT: only a forced delete, which clears credential_id first, removes a credential in use.
    FOREIGN KEY (org_id, credential_id) REFERENCES credentials (org_id, id) ON DELETE RESTRICT
);

INSERT INTO connections_rebuilt (id, org_id, project_id, name, credential_id, model, parameters, enabled,
        status, status_message, version, created_at, updated_at)
    SELECT id, org_id, project_id, name, credential_id, model, parameters, enabled,
        status, status_message, version, created_at, updated_at
    FROM connections;

DROP TABLE connections;
ALTER TABLE connections_rebuilt RENAME TO connections;
CREATE INDEX connections_credential ON connections (org_id, credential_id, id);
