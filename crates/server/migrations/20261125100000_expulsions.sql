-- Who a host expelled from a meeting and has not allowed back. Written from
-- the router's reports (a participant left with reason `expelled`), removed
-- when a host sends `allow_rejoin`; the join-token endpoint refuses a token
-- to a listed user, and to every guest while a listed guest remains (a guest
-- gets a new random subject with each token, so the subject alone would not
-- stop them). Plain SQL that SQLite and PostgreSQL both accept.

CREATE TABLE meeting_expulsions (
    meeting_id BIGINT NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    -- The `sub` of the expelled participant's join token: a user id, or
    -- `guest:…` for a guest.
    subject TEXT NOT NULL,
    -- Their display name when expelled, for the audit trail and hosts.
    name TEXT NOT NULL,
    -- 1 for a guest (no account), else 0.
    guest BIGINT NOT NULL DEFAULT 0,
    -- Unix seconds.
    expelled_at BIGINT NOT NULL,
    PRIMARY KEY (meeting_id, subject)
);
