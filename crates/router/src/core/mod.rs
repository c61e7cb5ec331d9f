//! The sans-IO meeting core: every meeting on this router as one state
//! machine ([`Router`]) that takes inputs stamped with `now` and returns
//! outputs, owning no socket, clock, thread or channel.
//!
//! - [`router`](Router): connections, joins, chat, liveness and the media
//!   fast path; its type doc states the driving contract.
//! - `meeting`: one meeting's participants, id allocation and the
//!   precomputed member list media is forwarded to.
//! - `permissions`: the role table deciding who may take which host action.
//! - `sessions`: which join-token session ids were already admitted.
//! - `bans`: who was expelled, kept for a while after a meeting empties.
//! - `token_bucket`: the rate limit on NACKs relayed to a sender.
//! - [`ControlInput`]: control messages as the core takes them, with the
//!   join token already verified by the driver.
//! - [`Output`]: what the core asks the driver to send or close.
//! - [`RouterEvent`]: what happened in meetings (start, end, joins, leaves,
//!   host actions), for observers such as the web service's audit trail.
//! - [`RouterStats`] and [`CoreConfig`]: counters and tunables.

mod bans;
mod config;
mod event;
mod input;
mod meeting;
mod output;
mod permissions;
mod router;
mod sessions;
mod stats;
mod token_bucket;

#[cfg(test)]
mod tests;

pub use config::CoreConfig;
pub use event::{EventParticipant, MeetingEndReason, RouterEvent};
pub use input::ControlInput;
pub use output::{CloseReason, ConnectionId, Output, Recipients};
pub use router::Router;
pub use router::forwarding::{NACK_BURST, NACK_INTERVAL};
pub use stats::RouterStats;
