-- Audit events of a credential whose secrets now go elsewhere (a changed base_url, endpoint, host,
-- region or location) record the old and new values: a JSON list of {"field","from","to"}. These
-- settings are never secret.

ALTER TABLE audit_events ADD COLUMN changes TEXT NOT NULL DEFAULT '[]';
