-- The console's bounded reads (issue 36): the audit log filtered by object, actor or action, newest
-- first, and each object's newest event; credentials sorted by name or by the age of their key. Each
-- index ends in id, the keyset the pages continue from.
CREATE INDEX audit_events_object ON audit_events (org_id, object_id, id);
CREATE INDEX audit_events_actor ON audit_events (org_id, actor, id);
CREATE INDEX audit_events_action ON audit_events (org_id, action, id);
CREATE INDEX credentials_org_name ON credentials (org_id, name, id);
CREATE INDEX credentials_org_rotated ON credentials (org_id, rotated_at, id);
