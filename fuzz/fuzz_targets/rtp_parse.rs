//! RTP packets from arbitrary bytes: `RtpPacket::parse` never panics, agrees
//! with the router's fast path `rtp::ssrc`, returns a payload that lies inside
//! the packet, and a parsed header written back out parses to the same thing.
#![no_main]

use confer_wire::rtp::{RTP_HEADER_LEN, RtpPacket, ssrc};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let parsed = RtpPacket::parse(data);
    let fast = ssrc(data);
    match &parsed {
        Ok(packet) => {
            // The fast path accepts everything the full parser accepts, and
            // reads the same SSRC.
            assert_eq!(fast, Ok(packet.header.ssrc));

            // The payload is a slice of the input after the fixed header.
            let start = packet.payload.as_ptr() as usize - data.as_ptr() as usize;
            assert!(start >= RTP_HEADER_LEN);
            assert!(start + packet.payload.len() <= data.len());

            // Header and payload survive being written and parsed again.
            let mut out = Vec::new();
            packet.header.write(packet.payload, &mut out);
            let again = RtpPacket::parse(&out).expect("a written packet parses");
            assert_eq!(again, *packet);
            // With no CSRCs, extension or padding, writing is the identity.
            if data[0] & 0x3f == 0 {
                assert_eq!(out, data);
            }
        }
        Err(_) => {
            // The fast path may accept more (it skips lengths), but must
            // refuse what fails the checks it shares with the full parser.
            if data.len() < RTP_HEADER_LEN || data[0] >> 6 != 2 {
                assert_eq!(fast.err(), parsed.err());
            }
        }
    }
});
