//! RTCP feedback (PLI, generic NACK) on arbitrary bytes: parsing never
//! panics, and anything accepted is written and parsed back to the same
//! request (for a NACK: the same set of sequence numbers; a hostile NACK
//! may list one twice or out of order, which the writer normalises).
#![no_main]

use confer_media::feedback::Feedback;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(fb) = Feedback::parse(data) else {
        return;
    };
    if let Feedback::Nack { sequences, .. } = &fb {
        // Each 4-byte FCI entry names at most 17 sequence numbers.
        assert!(sequences.len() <= data.len() / 4 * 17);
    }
    let again = Feedback::parse(&fb.to_bytes()).expect("our feedback parses");
    assert_eq!(normalised(again), normalised(fb));
});

/// The message with its NACK list as a sorted set.
fn normalised(fb: Feedback) -> Feedback {
    match fb {
        Feedback::Nack {
            sender_ssrc,
            media_ssrc,
            mut sequences,
        } => {
            sequences.sort_unstable();
            sequences.dedup();
            Feedback::Nack {
                sender_ssrc,
                media_ssrc,
                sequences,
            }
        }
        other => other,
    }
}
