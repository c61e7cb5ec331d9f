//! Confer's end-to-end security: SFrame (RFC 9605) sealing of every media
//! frame, the meeting key schedule, MLS (RFC 9420) group state for E2E
//! meetings, device identity keys kept in the OS keyring, and E2E chat.
//!
//! This crate does no I/O and reads no clock. Its contents arrive with the
//! "End-to-end security" issue; until then it is empty by design, and the
//! dependency check in CI (`scripts/check-deps.sh`) already holds the rule
//! that matters most: `confer-router` never depends on it.
