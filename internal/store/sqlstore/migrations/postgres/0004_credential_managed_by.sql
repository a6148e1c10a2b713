-- The tool that owns a credential ("terraform" when the provider wrote it), so the web console can say
-- that a change made there shows as drift in the next plan. '' when nothing claimed it.

ALTER TABLE credentials ADD COLUMN managed_by TEXT NOT NULL DEFAULT '';
