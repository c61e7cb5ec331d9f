-- Single sign-on with OpenID Connect: each organisation's connections to
-- an identity provider, the sign-ins in flight, the one-time codes that
-- hand a finished sign-in to the desktop app or CLI, and which provider
-- identity is which account. Plain SQL that SQLite and PostgreSQL both
-- accept. Times are Unix seconds.

CREATE TABLE sso_connections (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    -- The name in /sso/{slug}/start, unique across the server.
    slug TEXT NOT NULL UNIQUE,
    -- The provider's issuer URL; discovery is {issuer}/.well-known/openid-configuration.
    issuer TEXT NOT NULL,
    client_id TEXT NOT NULL,
    -- Kept as is (not hashed): we send it to the provider. It never leaves
    -- the server after registration.
    client_secret TEXT NOT NULL,
    -- 'email_domain' (the verified email's domain must be one the
    -- organisation manages) or 'claim' (claim_name must equal claim_value).
    mapping TEXT NOT NULL,
    claim_name TEXT,
    claim_value TEXT,
    created_at BIGINT NOT NULL
);

CREATE INDEX sso_connections_org_id ON sso_connections (org_id);

-- A sign-in sent to the provider and not yet back. Keyed by the `state`
-- sent to the provider; taken (deleted) exactly once by the callback.
CREATE TABLE sso_logins (
    state TEXT PRIMARY KEY,
    connection_id TEXT NOT NULL REFERENCES sso_connections (id) ON DELETE CASCADE,
    nonce TEXT NOT NULL,
    -- Our PKCE verifier towards the provider.
    pkce_verifier TEXT NOT NULL,
    -- Where the desktop app or CLI waits (loopback, RFC 8252), its state,
    -- and its own PKCE challenge towards us.
    client_redirect_uri TEXT NOT NULL,
    client_state TEXT,
    client_code_challenge TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- A finished sign-in waiting for the app to exchange its one-time code.
CREATE TABLE sso_handoffs (
    -- SHA-256 (hex) of the code: a database reader cannot redeem it.
    code_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_redirect_uri TEXT NOT NULL,
    client_code_challenge TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- Which account a provider's subject is. (issuer, sub) is the only stable
-- identity OIDC promises; emails change.
CREATE TABLE sso_identities (
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    connection_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (issuer, subject)
);
