-- A credential deleted with force=true leaves the connections that used it without one: their
-- credential_id becomes NULL and they stay invalid until they are pointed at another credential. The
-- foreign key stays: a NULL credential_id is not checked, any other must exist.

ALTER TABLE connections ALTER COLUMN credential_id DROP NOT NULL;
