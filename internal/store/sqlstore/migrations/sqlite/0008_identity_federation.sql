-- Identity providers, federation rules and the tokens exchanged under them (issue 33).
--
-- identity_providers are OpenID issuers an organisation trusts; their OAuth client secret (for console
-- sign-in) is sealed like a credential's secret, in identity_provider_secrets, and re-wrapped by
-- rotate-master-key with the others. federation_rules say which tokens of a provider are trusted, as
-- whom; a provider with rules is not deleted (RESTRICT: the service answers 409 naming them).
-- exchanged_tokens keep only the SHA-256 of each token issued, with the rule and the rule's version it
-- was issued under and the provider's version it was verified with: a token is valid only while that
-- rule and that provider exist at those versions (a changed or deleted rule ends it, and so does a
-- change of the provider's trust: its keys, audiences). Deleting a rule deletes its tokens (CASCADE).
-- audit_events gain the actor's federation rule and identity claims, and a detail (why a token
-- exchange was refused).

CREATE TABLE identity_providers (
    id         TEXT    NOT NULL PRIMARY KEY,
    org_id     TEXT    NOT NULL REFERENCES organizations (id),
    name       TEXT    NOT NULL,
    issuer     TEXT    NOT NULL,
    audiences  TEXT    NOT NULL DEFAULT '[]',
    jwks_json  TEXT    NOT NULL DEFAULT '',
    client_id  TEXT    NOT NULL DEFAULT '',
    version    INTEGER NOT NULL,
    created_at TEXT    NOT NULL,
    updated_at TEXT    NOT NULL,
    UNIQUE (org_id, name),
    UNIQUE (org_id, id)
);

CREATE TABLE identity_provider_secrets (
    org_id      TEXT NOT NULL,
    provider_id TEXT NOT NULL PRIMARY KEY,
    key_id      TEXT NOT NULL,
    wrapped_key BLOB NOT NULL,
    ciphertext  BLOB NOT NULL,
    FOREIGN KEY (org_id, provider_id) REFERENCES identity_providers (org_id, id) ON DELETE CASCADE
);
CREATE INDEX identity_provider_secrets_parent ON identity_provider_secrets (org_id, provider_id);

CREATE TABLE federation_rules (
    id                   TEXT    NOT NULL PRIMARY KEY,
    org_id               TEXT    NOT NULL,
    name                 TEXT    NOT NULL,
    identity_provider_id TEXT    NOT NULL,
    kind                 TEXT    NOT NULL,
    conditions           TEXT    NOT NULL DEFAULT '{}',
    role                 TEXT    NOT NULL,
    project_id           TEXT    NOT NULL DEFAULT '',
    token_ttl            TEXT    NOT NULL,
    credentials          TEXT    NOT NULL DEFAULT '[]',
    version              INTEGER NOT NULL,
    created_at           TEXT    NOT NULL,
    updated_at           TEXT    NOT NULL,
    UNIQUE (org_id, name),
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, identity_provider_id) REFERENCES identity_providers (org_id, id) ON DELETE RESTRICT
);
CREATE INDEX federation_rules_provider ON federation_rules (org_id, identity_provider_id, id);

CREATE TABLE exchanged_tokens (
    hash         TEXT    NOT NULL PRIMARY KEY,
    org_id       TEXT    NOT NULL,
    rule_id      TEXT    NOT NULL,
    rule_version INTEGER NOT NULL,
    provider_version INTEGER NOT NULL,
    claims       TEXT    NOT NULL DEFAULT '{}',
    created_at   TEXT    NOT NULL,
    expires_at   TEXT    NOT NULL,
    FOREIGN KEY (org_id, rule_id) REFERENCES federation_rules (org_id, id) ON DELETE CASCADE
);
-- The cascade and the pruning of expired tokens look tokens up by rule.
CREATE INDEX exchanged_tokens_rule ON exchanged_tokens (org_id, rule_id, expires_at);

ALTER TABLE audit_events ADD COLUMN actor_federation_rule TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN actor_claims TEXT NOT NULL DEFAULT '{}';
ALTER TABLE audit_events ADD COLUMN detail TEXT NOT NULL DEFAULT '';
