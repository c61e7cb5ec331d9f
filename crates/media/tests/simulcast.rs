//! Simulcast end to end: a three-layer sender, a router-side selector that
//! sees only RTP headers (the payload would be sealed), and a receiver that
//! decodes whatever layer it is given, switching only at keyframes.

// Test helpers outside #[test] fns: failing loudly is what a test wants.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use confer_media::feedback::Feedback;
use confer_media::packet::MediaPacket;
use confer_media::simulcast::{Forwarding, LayerDescriptor, LayerId, LayerSelector};
use confer_media::source::PatternSource;
use confer_media::video_track::{VideoReceiver, VideoSender};
use confer_wire::ids::ParticipantId;

#[test]
fn the_selector_forwards_one_layer_and_switches_at_a_keyframe() {
    let t0 = Instant::now();
    let mut sender = VideoSender::new(ParticipantId(3), 8, &LayerId::ALL).unwrap();
    let mut selector = LayerSelector::new(LayerId::Medium);
    let mut receiver = VideoReceiver::new(0x0400).unwrap();
    let mut sizes = Vec::new();
    let mut forwarded_layers = Vec::new();
    let mut seen_layers = std::collections::BTreeSet::new();
    let frames = 40u64;
    for n in 0..frames {
        let now = t0 + Duration::from_millis(n * 33);
        if n == 15 {
            selector.request_layer(LayerId::High);
        }
        // The router asks the sender for a keyframe of the wanted layer.
        if let Some(layer) = selector.poll_keyframe_request(now)
            && let Some(ssrc) = sender.ssrc(layer)
        {
            sender.handle_feedback(&Feedback::KeyframeRequest {
                sender_ssrc: 0,
                media_ssrc: ssrc,
            });
        }
        let mut f = PatternSource::picture(1280, 720, n);
        f.timestamp = (n * 3000) as u32;
        for p in sender.send_frame(&f).unwrap() {
            let bytes = p.to_bytes();
            // The router reads only the header extension.
            let d =
                LayerDescriptor::find_in_rtp(&bytes).expect("every video packet has a descriptor");
            seen_layers.insert(d.layer);
            if selector.handle_packet(d, now) == Forwarding::Forward {
                forwarded_layers.push((n, d.layer));
                receiver.handle_packet(now, MediaPacket::parse(&bytes).unwrap());
            }
        }
        // Deliver instantly, play out after the buffer's delay.
        while let Some(pic) = receiver.poll_frame(now + Duration::from_millis(500)) {
            sizes.push((pic.timestamp / 3000, pic.width, pic.height));
        }
    }
    assert_eq!(seen_layers.len(), 3, "the sender produced three layers");
    // Before the switch only Medium, after it only High. In the switch frame
    // the sender emits Medium before High, so both go out for that one frame.
    let switch = forwarded_layers
        .iter()
        .find(|(_, l)| *l == LayerId::High)
        .map(|(n, _)| *n)
        .unwrap();
    assert!((15..=17).contains(&switch), "switched at frame {switch}");
    for (n, l) in &forwarded_layers {
        match n.cmp(&switch) {
            std::cmp::Ordering::Less => assert_eq!(*l, LayerId::Medium, "frame {n}"),
            std::cmp::Ordering::Greater => assert_eq!(*l, LayerId::High, "frame {n}"),
            std::cmp::Ordering::Equal => {}
        }
    }
    // Every frame was decoded, at the size of the layer forwarded for it.
    assert!(sizes.len() >= frames as usize, "{sizes:?}");
    for (n, w, h) in sizes {
        let n = u64::from(n);
        if n != switch {
            let want = if n < switch { (640, 360) } else { (1280, 720) };
            assert_eq!((w, h), want, "frame {n}");
        }
    }
}
