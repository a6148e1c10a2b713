-- Audit paging by "after=ID" must never skip an event. On PostgreSQL, concurrent transactions take
-- sequence ids in one order and may commit in another: a reader that has seen id 11 would never see
-- id 10 if its transaction committed later. Each event now records its transaction id, and ListAudit
-- returns only events whose transaction is older than every transaction still running
-- (pg_snapshot_xmin), in transaction order: any event committed later belongs to a transaction that
-- was still running then, so it sorts after everything already returned.

ALTER TABLE audit_events ADD COLUMN xid xid8 NOT NULL DEFAULT pg_current_xact_id();

CREATE INDEX audit_events_org_xid ON audit_events (org_id, xid, id);
