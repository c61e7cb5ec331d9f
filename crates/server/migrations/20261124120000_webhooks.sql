-- Webhook endpoints and the durable delivery queue. Plain SQL that SQLite
-- and PostgreSQL both accept. Queue times are milliseconds since the epoch.

CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    -- The HMAC key. Kept as is (not hashed) because every delivery is
    -- signed with it; it never leaves the server after registration.
    secret TEXT NOT NULL,
    -- Space-separated event names this endpoint wants.
    events TEXT NOT NULL,
    -- 1 once the URL answered the validation challenge; 0 receives nothing.
    validated BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

CREATE INDEX webhook_endpoints_org_id ON webhook_endpoints (org_id);

CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event TEXT NOT NULL,
    -- The exact JSON body sent (and signed) on every attempt.
    body TEXT NOT NULL,
    -- 'pending', 'delivered' or 'failed' (gave up).
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    -- When the next attempt is due; a worker that takes a delivery pushes
    -- this forward first (a lease), so two workers never send it at once.
    next_attempt_ms BIGINT NOT NULL,
    last_error TEXT,
    created_ms BIGINT NOT NULL,
    delivered_ms BIGINT
);

CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_ms);
