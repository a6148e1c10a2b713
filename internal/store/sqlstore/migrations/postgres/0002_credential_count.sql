-- Each organisation keeps its number of credentials, so that the per-organisation limit is checked
-- without counting the credentials table on every create (which grew with the organisation). The
-- trigger keeps the number right whatever statement inserts or deletes a credential. Its update
-- holds the organisation's row to the commit, so the credential creates and deletes of one
-- organisation take turns; creates did already whenever a limit is set (LockOrganization), which is
-- the default.

ALTER TABLE organizations ADD COLUMN credential_count BIGINT NOT NULL DEFAULT 0;

UPDATE organizations
   SET credential_count = (SELECT COUNT(*) FROM credentials WHERE credentials.org_id = organizations.id);

CREATE FUNCTION modelkeys_count_credentials() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE organizations SET credential_count = credential_count + 1 WHERE id = NEW.org_id;
    ELSE
        UPDATE organizations SET credential_count = credential_count - 1 WHERE id = OLD.org_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER credentials_counted AFTER INSERT OR DELETE ON credentials
    FOR EACH ROW EXECUTE FUNCTION modelkeys_count_credentials();
