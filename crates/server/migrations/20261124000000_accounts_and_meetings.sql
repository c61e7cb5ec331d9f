-- The first cut of Confer's schema: accounts and meetings.
-- Plain SQL that SQLite and PostgreSQL both accept, so one set of migrations
-- serves both stores. Times are Unix seconds; secrets are stored only as
-- Argon2id PHC strings.

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    -- Normalised to lower case before it gets here, so UNIQUE is enough.
    email TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE meetings (
    -- The public 10-digit meeting id.
    id BIGINT PRIMARY KEY,
    topic TEXT,
    -- NULL when the meeting has no passcode.
    passcode_hash TEXT,
    host_user_id TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL
);

CREATE INDEX meetings_host_user_id ON meetings (host_user_id);
