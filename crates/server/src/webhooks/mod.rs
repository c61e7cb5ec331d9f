//! Webhooks: meeting events POSTed as JSON to endpoints an organisation
//! registers, signed so the receiver can tell they came from us.
//!
//! - `signature`: `x-confer-signature: v0=HEX(HMAC-SHA256(secret,
//!   "v0:" + timestamp + ":" + raw body))` and the URL-validation answer
//!   `HEX(HMAC-SHA256(secret, plainToken))`.
//! - `queue`: enqueueing events and the background worker that delivers
//!   them from the database with exponential backoff.
//!
//! Registration is `routes/webhooks.rs`.

pub(crate) mod queue;
pub(crate) mod signature;

/// Every event an endpoint can subscribe to.
pub(crate) const EVENTS: [&str; 5] = [
    "meeting.started",
    "meeting.ended",
    "meeting.participant_joined",
    "meeting.participant_left",
    "meeting.participant_expelled",
];
