//! Tunables of the meeting core. The defaults are the protocol's numbers
//! (`docs/protocol.md`, "Liveness"); tests and benchmarks may change them.

use std::fmt;
use std::time::Duration;

/// Limits and timers of a [`crate::core::Router`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreConfig {
    /// How long a new connection has to send `join` before it is refused
    /// with `join_timeout` (protocol: 5 s).
    pub join_timeout: Duration,
    /// How long a joined participant may stay silent before it is dropped
    /// with `timed_out` (protocol: 6 s).
    pub silence_timeout: Duration,
    /// How often clients are told to send something when idle (protocol:
    /// 2 s). Announced in `joined`; the router itself only enforces
    /// [`CoreConfig::silence_timeout`].
    pub keepalive_interval: Duration,
    /// Most participants one meeting may hold at once; the next `join` is
    /// refused with `meeting_full`. Bounds the cost of a roster and of
    /// forwarding one packet.
    pub max_participants_per_meeting: usize,
    /// How long a meeting may run with participants but no host or co-host
    /// before it ends (issue rule: 30 min).
    pub hostless_limit: Duration,
    /// How long before [`CoreConfig::hostless_limit`] everyone is warned
    /// (issue rule: at 25 min, so 5 min before).
    pub hostless_warning: Duration,
    /// Seeds the generator of standard meetings' media keys
    /// (`router/media_keys.rs`). The core reads no OS randomness itself, so
    /// it stays deterministic: [`Default`] draws a fresh seed from the OS
    /// random number generator (what the driver uses), tests give a fixed one.
    pub media_key_seed: MediaKeySeed,
}

/// The 32-byte seed of the router's media key generator. Every media key
/// the router hands out follows from it, so it is as secret as they are:
/// `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct MediaKeySeed(pub [u8; 32]);

impl MediaKeySeed {
    /// A fresh seed from the operating system's random number generator.
    pub fn from_os_rng() -> Self {
        MediaKeySeed(rand::random())
    }
}

impl fmt::Debug for MediaKeySeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MediaKeySeed(..)")
    }
}

impl Default for CoreConfig {
    fn default() -> Self {
        Self {
            join_timeout: Duration::from_secs(5),
            silence_timeout: Duration::from_secs(6),
            keepalive_interval: Duration::from_secs(2),
            max_participants_per_meeting: 1000,
            hostless_limit: Duration::from_secs(30 * 60),
            hostless_warning: Duration::from_secs(5 * 60),
            media_key_seed: MediaKeySeed::from_os_rng(),
        }
    }
}
