-- Who last set a credential's destination (the settings that decide where its secrets are sent,
-- catalog.Destination) and when: a new key that comes without the destination and without If-Match
-- is refused when someone else set it, so a key goes only to a destination its sender saw.
-- destination_set_by_token is the token's id (compared), destination_set_by its name (shown).
-- Existing rows have no record: the empty token id is nobody's, so their next such key needs If-Match.

ALTER TABLE credentials ADD COLUMN destination_set_by_token TEXT NOT NULL DEFAULT '';
ALTER TABLE credentials ADD COLUMN destination_set_by TEXT NOT NULL DEFAULT '';
ALTER TABLE credentials ADD COLUMN destination_set_at TEXT;
