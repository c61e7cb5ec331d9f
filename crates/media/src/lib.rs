//! Confer's media engine: capture, codecs, packetisation, jitter buffering,
//! mixing and playout for one client.
//!
//! # How the modules fit
//!
//! Send side, top to bottom:
//!
//! - [`source`]: where frames come from, behind one trait
//!   ([`source::MediaSource`]): a tone or a WAV file, a moving test pattern
//!   or a Y4M file, or a device (microphone via cpal, screen or window via
//!   xcap, camera via nokhwa), chosen at run time with [`source::SourceSpec`].
//! - [`opus_codec`] and [`h264_codec`]: thin wrappers over libopus and
//!   openh264 with Confer's settings (Opus VoIP + FEC + DTX; H.264 camera or
//!   screen-content mode, three simulcast layers).
//! - [`audio_track`] / [`video_track`]: a track's sender (encode, then —
//!   after the caller has sealed the frame end to end — RTP packets; for
//!   video with the opaque-frame packetiser of [`frame_rtp`], the
//!   [`simulcast`] layer descriptor and a [`nack`] retransmission history)
//!   and receiver (the reverse, below).
//!
//! Receive side: [`jitter`] (sans-IO reorder/deadline buffer per stream) →
//! [`frame_rtp`] reassembler (video; the caller opens the sealed frame) or
//! Opus FEC/concealment → decoder → [`mixer`]
//! for the speakers ([`playout`] with the `mic` feature), or a frame sink
//! for the screen (the caller's renderer, or [`y4m::Y4mWriter`]). [`lipsync`] places video
//! frames against the audio being played; [`level`] gives RFC 6464 levels and
//! the active speaker; [`feedback`] is the RTCP PLI/NACK the receiver sends.
//!
//! Files: [`wav`] and [`y4m`] read test input and save what was received;
//! [`ogg`] wraps Opus packets so standard tools can play them.
//!
//! [`simulcast`] depends on nothing but `std`, so the router can reuse its
//! [`simulcast::LayerSelector`]. [`synthetic`] is the codec-less test stream
//! that the command-line client sends today.
//!
//! Everything that decides (jitter buffer, packetiser, NACK history,
//! simulcast selector, receivers) is a state machine driven with `now`; it
//! owns no clock, thread or socket. Codec and device wrappers are thin.

pub mod audio_track;
pub mod error;
pub mod feedback;
pub mod frame;
pub mod frame_rtp;
pub mod h264_codec;
pub mod h264_rtp;
pub mod jitter;
pub mod level;
pub mod lipsync;

pub mod mixer;
pub mod nack;
pub mod ogg;
pub mod opus_codec;
pub mod packet;
#[cfg(feature = "mic")]
pub mod playout;
#[cfg(feature = "processing")]
pub mod processing;
pub mod simulcast;
pub mod source;

pub mod synthetic;
pub mod video_track;

pub mod wav;
pub mod y4m;

pub use error::MediaError;
