-- Each organisation keeps its number of credentials, so that the per-organisation limit is checked
-- without counting the credentials table on every create (which grew with the organisation). The
-- triggers keep the number right whatever statement inserts or deletes a credential.

ALTER TABLE organizations ADD COLUMN credential_count INTEGER NOT NULL DEFAULT 0;

UPDATE organizations
   SET credential_count = (SELECT COUNT(*) FROM credentials WHERE credentials.org_id = organizations.id);

CREATE TRIGGER credentials_counted_on_insert AFTER INSERT ON credentials
BEGIN
    UPDATE organizations SET credential_count = credential_count + 1 WHERE id = NEW.org_id;
END;

CREATE TRIGGER credentials_counted_on_delete AFTER DELETE ON credentials
BEGIN
    UPDATE organizations SET credential_count = credential_count - 1 WHERE id = OLD.org_id;
END;
