-- OAuth 2.0 API clients (client_credentials grant) and the client
-- assertion ids seen, for replay protection (RFC 7523). Plain SQL that
-- SQLite and PostgreSQL both accept.

CREATE TABLE oauth_clients (
    -- The client_id.
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    -- The user the client acts as: the admin who registered it. Its tokens
    -- can do at most what this user can, narrowed by the scopes.
    acting_user_id TEXT NOT NULL,
    -- 'client_secret' or 'private_key_jwt'.
    auth_method TEXT NOT NULL,
    -- SHA-256 (hex) of the client secret; NULL for private_key_jwt.
    secret_hash TEXT,
    -- The client's public keys as a JWKS (JSON): registered inline, or the
    -- last copy fetched from jwks_uri.
    jwks TEXT,
    jwks_uri TEXT,
    jwks_fetched_at BIGINT NOT NULL DEFAULT 0,
    -- Space-separated scopes the client may ask for.
    scopes TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE INDEX oauth_clients_org_id ON oauth_clients (org_id);

CREATE TABLE client_assertion_jtis (
    client_id TEXT NOT NULL,
    jti TEXT NOT NULL,
    -- The assertion's exp: the row may go once the assertion is dead anyway.
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (client_id, jti)
);
