//! Simulcast layers: the descriptor a sender puts on every video packet and
//! the selector a router uses to forward one layer per receiver.
//!
//! The code lives in [`confer_wire::simulcast`], because the router reads the
//! same descriptor and runs the same selector; this module re-exports it so
//! the media engine's paths stay as they were. The wire layout is documented
//! there.

pub use confer_wire::simulcast::*;
