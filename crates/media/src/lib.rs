//! Confer's media engine.
//!
//! Today it holds only [`synthetic`]: a sans-IO generator of test media that
//! the command-line client streams with `confer join --send-media synthetic`,
//! so the router, the transports and the statistics can be exercised without
//! a camera, a microphone or a codec. Capture backends, Opus and H.264, the
//! packetiser, the jitter buffer and playout arrive with the real media
//! pipeline; they follow the same pattern (state machines that take `now`
//! and never own a clock or a socket).

pub mod synthetic;
