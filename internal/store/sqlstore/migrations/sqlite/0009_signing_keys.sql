-- The issuer's JWT signing keys (modelkeys-server serve --issuer-url): the private key sealed under
-- the master key like every secret (key_id, wrapped_key, ciphertext; see credential_secrets), the
-- public key as a JWK for /.well-known/jwks.json. A key signs from not_before on; a rotation sets
-- retire_after on the keys it replaces, when every token they signed has expired, and the key leaves
-- the JWKS then. kid is the RFC 7638 thumbprint of the public key.

CREATE TABLE signing_keys (
    kid          TEXT  NOT NULL PRIMARY KEY,
    alg          TEXT  NOT NULL,
    key_id       TEXT  NOT NULL,
    wrapped_key  BLOB  NOT NULL,
    ciphertext   BLOB  NOT NULL,
    public_jwk   TEXT  NOT NULL,
    created_at   TEXT  NOT NULL,
    not_before   TEXT  NOT NULL,
    retire_after TEXT
);
