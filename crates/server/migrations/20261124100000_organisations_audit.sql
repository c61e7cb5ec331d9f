-- Organisations (tenants), richer profiles, login lockout, meeting settings,
-- meeting events and the audit trail. Plain SQL that SQLite and PostgreSQL
-- both accept. Booleans are BIGINT 0/1 (see store/mod.rs for why).

CREATE TABLE organisations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- An email domain an organisation manages: anyone signing up with an
-- address there joins that organisation.
CREATE TABLE managed_domains (
    domain TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL
);

ALTER TABLE users ADD COLUMN org_id TEXT REFERENCES organisations (id);
-- 'owner', 'admin' or 'member'.
ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'member';
ALTER TABLE users ADD COLUMN plan TEXT NOT NULL DEFAULT 'basic';
ALTER TABLE users ADD COLUMN first_name TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN last_name TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN company TEXT;
ALTER TABLE users ADD COLUMN phone TEXT;
ALTER TABLE users ADD COLUMN picture_url TEXT;
-- Consecutive failed logins, and until when the account refuses logins.
ALTER TABLE users ADD COLUMN failed_logins BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until BIGINT NOT NULL DEFAULT 0;

-- Accounts made before organisations existed each become the owner of an
-- organisation of their own.
INSERT INTO organisations (id, name, created_at)
    SELECT 'o' || id, email, created_at FROM users;
UPDATE users SET org_id = 'o' || id, role = 'owner', first_name = display_name;

CREATE INDEX users_org_id ON users (org_id);

ALTER TABLE meetings ADD COLUMN org_id TEXT REFERENCES organisations (id);
-- Scheduled start (Unix seconds) and length; NULL for an instant meeting.
ALTER TABLE meetings ADD COLUMN start_time BIGINT;
ALTER TABLE meetings ADD COLUMN duration_minutes BIGINT;
-- JSON {"frequency": "daily"|"weekly"|"monthly", "interval", "count"?,
-- "until"?}; NULL for a one-time meeting.
ALTER TABLE meetings ADD COLUMN recurrence TEXT;
ALTER TABLE meetings ADD COLUMN waiting_room BIGINT NOT NULL DEFAULT 0;
ALTER TABLE meetings ADD COLUMN join_before_host BIGINT NOT NULL DEFAULT 1;
ALTER TABLE meetings ADD COLUMN e2e BIGINT NOT NULL DEFAULT 0;
ALTER TABLE meetings ADD COLUMN signed_in_only BIGINT NOT NULL DEFAULT 0;
-- Space-separated email domains allowed to join; empty means any.
ALTER TABLE meetings ADD COLUMN allowed_domains TEXT NOT NULL DEFAULT '';
-- The random code in the meeting's invitation link.
ALTER TABLE meetings ADD COLUMN invite_code TEXT;
ALTER TABLE meetings ADD COLUMN updated_at BIGINT;

UPDATE meetings SET org_id = (SELECT org_id FROM users WHERE users.id = meetings.host_user_id),
    updated_at = created_at;

CREATE INDEX meetings_org_id ON meetings (org_id);
CREATE UNIQUE INDEX meetings_invite_code ON meetings (invite_code);

-- Who was in a meeting when, for reports. Reported by the router.
CREATE TABLE meeting_events (
    id TEXT PRIMARY KEY,
    meeting_id BIGINT NOT NULL,
    org_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    name TEXT NOT NULL,
    -- 'joined' or 'left'.
    kind TEXT NOT NULL,
    at BIGINT NOT NULL
);

CREATE INDEX meeting_events_meeting ON meeting_events (meeting_id, at);

-- The audit trail: one row per security-relevant action. Names are copied
-- in, so the trail still reads correctly after a user or meeting is deleted.
CREATE TABLE audit_events (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    -- Milliseconds since the Unix epoch: orders events within a second.
    at_ms BIGINT NOT NULL,
    -- Orders events that share a millisecond: microseconds since the epoch,
    -- made strictly increasing within one server process.
    seq BIGINT NOT NULL,
    actor_id TEXT,
    actor_name TEXT NOT NULL,
    actor_company TEXT,
    -- A dotted name such as 'meeting.created' or 'login.failed'.
    action TEXT NOT NULL,
    target_kind TEXT,
    target_id TEXT,
    target_label TEXT,
    -- A JSON object with anything else worth keeping (never a secret).
    detail TEXT NOT NULL DEFAULT '{}'
);

CREATE INDEX audit_events_org_seq ON audit_events (org_id, seq);
