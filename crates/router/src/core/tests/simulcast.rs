//! Simulcast layer selection: each receiver gets the one layer of each
//! sender's camera it subscribed to, switching only at a keyframe, and the
//! router asks the sender for that keyframe.

use confer_wire::ids::track;
use confer_wire::media_control::{DEFAULT_LAYER, Subscription};
use confer_wire::rtcp::{FeedbackKind, FeedbackPacket};
use confer_wire::simulcast::LayerId;

use super::media::{media_out, media_to, ssrc_of, video};
use super::*;
use crate::core::router::forwarding::{PLI_MIN_INTERVAL, ROUTER_SSRC};

/// A meeting of A (sending camera video), B and C.
fn meeting() -> (Harness, [(ConnectionId, ParticipantId); 3]) {
    let mut h = Harness::new();
    let a = h.join("A");
    let b = h.join("B");
    let c = h.join("C");
    h.send(a.0, ClientMessage::SetVideo { on: true });
    h.drain();
    (h, [a, b, c])
}

/// One frame on every layer: the packets of A's three layers.
fn frame(pa: ParticipantId, seq: u16, keyframe: bool) -> [Bytes; 3] {
    LayerId::ALL.map(|l| video(pa, l, seq, keyframe, true))
}

/// The PLIs among `outputs` sent to `conn`, as the media SSRCs they name.
fn plis_to(conn: ConnectionId, outputs: &[Output]) -> Vec<u32> {
    media_to(conn, outputs)
        .iter()
        .filter_map(|p| FeedbackPacket::parse(p).ok())
        .filter(|fb| fb.kind == FeedbackKind::Pli)
        .map(|fb| {
            assert_eq!(fb.sender_ssrc, ROUTER_SSRC);
            fb.media_ssrc
        })
        .collect()
}

#[test]
fn two_receivers_asking_different_layers_each_get_only_theirs() {
    let (mut h, [(a, pa), (b, _), (c, _)]) = meeting();
    h.send(
        b,
        ClientMessage::Subscribe(Subscription::layer(pa, LayerId::High)),
    );
    h.send(
        c,
        ClientMessage::Subscribe(Subscription::layer(pa, LayerId::Medium)),
    );
    assert!(to(b, &h.drain()).is_empty(), "subscribing is silent");
    let mut b_got = Vec::new();
    let mut c_got = Vec::new();
    for seq in 0..10 {
        for p in frame(pa, seq, seq == 0) {
            h.media(a, p);
        }
        let out = h.drain();
        assert!(media_to(a, &out).is_empty(), "nothing but PLIs back to A");
        b_got.extend(media_to(b, &out));
        c_got.extend(media_to(c, &out));
    }
    let tracks = |got: &[Bytes]| -> Vec<u8> {
        got.iter()
            .map(|p| confer_wire::ids::track_of_ssrc(ssrc_of(p)))
            .collect()
    };
    assert_eq!(tracks(&b_got), vec![track::VIDEO_BASE + 2; 10]);
    assert_eq!(tracks(&c_got), vec![track::VIDEO_BASE + 1; 10]);
    let stats = h.router.stats();
    assert_eq!(stats.media_forwarded, 30);
    assert_eq!(stats.media_copies, 20);
    assert_eq!(stats.media_layer_skipped, 40);
}

#[test]
fn receivers_get_the_lowest_layer_by_default() {
    let (mut h, [(a, pa), (b, _), (c, _)]) = meeting();
    assert_eq!(DEFAULT_LAYER, LayerId::Low);
    for p in frame(pa, 0, true) {
        h.media(a, p);
    }
    let out = h.drain();
    let [(to, packet)] = media_out(&out)
        .try_into()
        .unwrap_or_else(|o| panic!("{o:?}"));
    assert_eq!(to, vec![b, c], "one output shared by both receivers");
    assert_eq!(packet, video(pa, LayerId::Low, 0, true, true));
}

#[test]
fn a_switch_happens_only_at_a_keyframe_and_the_router_asks_for_one() {
    let (mut h, [(a, pa), (b, _), _]) = meeting();
    for p in frame(pa, 0, true) {
        h.media(a, p);
    }
    h.drain();
    // B wants the high layer: the router asks A for a keyframe on it at once.
    h.send(
        b,
        ClientMessage::Subscribe(Subscription::layer(pa, LayerId::High)),
    );
    let out = h.drain();
    assert_eq!(plis_to(a, &out), vec![ssrc_for(pa, track::VIDEO_BASE + 2)]);
    assert!(media_to(b, &out).is_empty(), "PLIs go to the sender only");

    // Until then B keeps getting the low layer, never a high delta frame.
    for seq in 1..4 {
        for p in frame(pa, seq, false) {
            h.media(a, p);
        }
        let got = media_to(b, &h.drain());
        assert_eq!(got, vec![video(pa, LayerId::Low, seq, false, true)]);
    }
    // A keyframe's middle packet is not a switching point either.
    h.media(a, video(pa, LayerId::High, 4, true, false));
    assert!(media_to(b, &h.drain()).is_empty());
    // Its first packet is: from here B gets the high layer only.
    h.media(a, video(pa, LayerId::High, 5, true, true));
    let got = media_to(b, &h.drain());
    assert_eq!(got, vec![video(pa, LayerId::High, 5, true, true)]);
    h.media(a, video(pa, LayerId::Low, 5, true, true));
    assert!(media_to(b, &h.drain()).is_empty(), "low layer no longer");
    for p in frame(pa, 6, false) {
        h.media(a, p);
    }
    let got = media_to(b, &h.drain());
    assert_eq!(got, vec![video(pa, LayerId::High, 6, false, true)]);
}

#[test]
fn a_waiting_switch_asks_for_keyframes_at_a_limited_rate() {
    let (mut h, [(a, pa), (b, _), (c, _)]) = meeting();
    h.send(
        b,
        ClientMessage::Subscribe(Subscription::layer(pa, LayerId::Medium)),
    );
    h.send(
        c,
        ClientMessage::Subscribe(Subscription::layer(pa, LayerId::Medium)),
    );
    let first = plis_to(a, &h.drain());
    assert_eq!(
        first,
        vec![ssrc_for(pa, track::VIDEO_BASE + 1)],
        "one PLI, not two"
    );
    // Two seconds of delta frames at 50 fps and no keyframe: the selectors
    // keep asking, the router passes at most one PLI per interval.
    let mut plis = first.len();
    for seq in 0..100u16 {
        h.now += Duration::from_millis(20);
        for p in frame(pa, seq, false) {
            h.media(a, p);
        }
        let out = h.drain();
        plis += plis_to(a, &out).len();
        assert!(media_to(b, &out).is_empty() && media_to(c, &out).is_empty());
    }
    let max = 1 + (2000 / PLI_MIN_INTERVAL.as_millis()) as usize;
    assert!((2..=max).contains(&plis), "{plis} PLIs in 2 s");
    let stats = h.router.stats();
    assert_eq!(stats.keyframe_requests_sent, plis as u64);
    // The keyframe ends the requests.
    for p in frame(pa, 100, true) {
        h.media(a, p);
    }
    h.drain();
    for seq in 101..150u16 {
        h.now += Duration::from_millis(20);
        for p in frame(pa, seq, false) {
            h.media(a, p);
        }
        assert!(plis_to(a, &h.drain()).is_empty());
    }
}

#[test]
fn video_off_stops_one_senders_camera_but_not_their_audio() {
    let (mut h, [(a, pa), (b, _), (c, _)]) = meeting();
    h.send(b, ClientMessage::Subscribe(Subscription::off(pa)));
    assert!(
        h.drain().is_empty(),
        "no PLI for a receiver that wants nothing"
    );
    for p in frame(pa, 0, true) {
        h.media(a, p);
    }
    h.media(a, rtp(ssrc_for(pa, track::AUDIO), 0));
    let out = h.drain();
    assert_eq!(media_to(b, &out), vec![rtp(ssrc_for(pa, track::AUDIO), 0)]);
    assert_eq!(media_to(c, &out).len(), 2, "C still gets the low layer");
    // Turning it back on waits for a keyframe again.
    h.send(
        b,
        ClientMessage::Subscribe(Subscription::layer(pa, LayerId::Low)),
    );
    h.drain();
    h.media(a, video(pa, LayerId::Low, 1, false, true));
    assert!(media_to(b, &h.drain()).is_empty());
    h.media(a, video(pa, LayerId::Low, 2, true, true));
    assert_eq!(media_to(b, &h.drain()).len(), 1);
}

#[test]
fn bad_subscriptions_are_refused() {
    let (mut h, [(a, pa), (b, _), _]) = meeting();
    for (sub, code) in [
        (
            Subscription::layer(ParticipantId(77), LayerId::Low),
            ErrorCode::UnknownParticipant,
        ),
        (
            Subscription::layer(ParticipantId(0), LayerId::Low),
            ErrorCode::UnknownParticipant,
        ),
        (
            Subscription::off(ParticipantId(2)),
            ErrorCode::UnknownParticipant,
        ),
        (
            Subscription {
                layer: Some(3),
                ..Subscription::layer(pa, LayerId::Low)
            },
            ErrorCode::MalformedMessage,
        ),
    ] {
        h.send(b, ClientMessage::Subscribe(sub));
        let out = h.drain();
        assert!(
            to(b, &out).iter().any(error(code, false)),
            "{sub:?}: {out:?}"
        );
        assert!(media_out(&out).is_empty());
    }
    // B is participant 2: subscribing to yourself is refused too (above).
    assert_eq!(
        h.router.participant(b).map(|(_, p)| p),
        Some(ParticipantId(2))
    );
    assert!(h.router.is_open(a) && h.router.is_open(b));
}

#[test]
fn a_layer_the_sender_does_not_send_is_served_by_the_nearest_one_it_does() {
    // A sends only Low and Medium (a small camera); B asks for High.
    let (mut h, [(a, pa), (b, _), _]) = meeting();
    h.send(
        b,
        ClientMessage::Subscribe(Subscription::layer(pa, LayerId::High)),
    );
    h.drain();
    let mut plis = Vec::new();
    let mut got = Vec::new();
    for seq in 0..40u16 {
        // A keyframe every 10 frames, 20 ms apart: 800 ms in all.
        let keyframe = seq % 10 == 0;
        for layer in [LayerId::Low, LayerId::Medium] {
            h.media(a, video(pa, layer, seq, keyframe, true));
        }
        h.now += Duration::from_millis(20);
        let out = h.drain();
        plis.extend(plis_to(a, &out));
        got.extend(media_to(b, &out));
    }
    // While the router learns A's layers B gets nothing; then Medium from
    // its next keyframe on, never Low.
    let tracks: Vec<u8> = got
        .iter()
        .map(|p| confer_wire::ids::track_of_ssrc(ssrc_of(p)))
        .collect();
    assert!(!tracks.is_empty(), "B was never served");
    assert!(
        tracks.iter().all(|t| *t == track::VIDEO_BASE + 1),
        "{tracks:?}"
    );
    assert_eq!(
        got.first(),
        Some(&video(pa, LayerId::Medium, 30, true, true))
    );
    // And the keyframes asked for became Medium's once A's layers were known.
    assert_eq!(plis.last(), Some(&ssrc_for(pa, track::VIDEO_BASE + 1)));
}
