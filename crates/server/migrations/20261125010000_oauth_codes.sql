-- The OAuth 2.0 authorization_code grant (RFC 6749 §4.1, PKCE RFC 7636):
-- the redirect URIs each API client registered, and the codes in flight.
-- Plain SQL that SQLite and PostgreSQL both accept.

-- Space-separated; a redirect_uri must equal one of them exactly.
ALTER TABLE oauth_clients ADD COLUMN redirect_uris TEXT NOT NULL DEFAULT '';

CREATE TABLE oauth_authorization_codes (
    -- SHA-256 (hex) of the code: a database reader cannot redeem it.
    code_hash TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri TEXT NOT NULL,
    -- Space-separated scopes the user approved.
    scopes TEXT NOT NULL,
    -- The PKCE S256 challenge the verifier must match.
    code_challenge TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
