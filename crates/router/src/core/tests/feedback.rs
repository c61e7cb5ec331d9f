//! RTCP feedback on the media path: PLIs and NACKs go only to the owner of
//! the stream they name; spoofed, foreign and malformed feedback is dropped
//! and counted; receivers cannot make a sender encode keyframes without
//! pause; retransmissions pass the same layer rules as the originals.

use confer_wire::ids::track;
use confer_wire::rtcp::{self, FMT_NACK, PT_RTPFB, write_feedback_header};
use confer_wire::simulcast::LayerId;

use super::media::{media_out, media_to, video};
use super::*;
use crate::core::router::forwarding::PLI_MIN_INTERVAL;
use crate::core::{NACK_BURST, NACK_INTERVAL};

/// A generic NACK from `sender_ssrc` for `pid` (and the next 16 per `blp`)
/// of `media_ssrc`.
fn nack(sender_ssrc: u32, media_ssrc: u32, pid: u16, blp: u16) -> Bytes {
    let mut out = Vec::new();
    write_feedback_header(PT_RTPFB, FMT_NACK, sender_ssrc, media_ssrc, 4, &mut out);
    out.extend_from_slice(&pid.to_be_bytes());
    out.extend_from_slice(&blp.to_be_bytes());
    Bytes::from(out)
}

fn pli(sender_ssrc: u32, media_ssrc: u32) -> Bytes {
    Bytes::copy_from_slice(&rtcp::pli(sender_ssrc, media_ssrc))
}

#[test]
fn nacks_and_plis_go_only_to_the_streams_owner_unchanged() {
    let mut h = Harness::new();
    let (a, pa) = h.join("A");
    let (b, pb) = h.join("B");
    let (c, _) = h.join("C");
    h.drain();
    let n = nack(
        ssrc_for(pb, 0),
        ssrc_for(pa, track::VIDEO_BASE + 1),
        40,
        0b101,
    );
    h.media(b, n.clone());
    let p = pli(ssrc_for(pb, 0), ssrc_for(pa, track::SCREEN));
    h.media(b, p.clone());
    let a_nack = nack(ssrc_for(pb, 0), ssrc_for(pa, track::AUDIO), 7, 0);
    h.media(b, a_nack.clone());
    let out = h.drain();
    assert_eq!(
        media_out(&out),
        vec![(vec![a], n), (vec![a], p), (vec![a], a_nack)],
        "only A, never C or B itself"
    );
    assert!(media_to(c, &out).is_empty());
    assert_eq!(h.router.stats().feedback_relayed, 3);
}

#[test]
fn spoofed_foreign_and_malformed_feedback_is_dropped_and_counted() {
    let mut h = Harness::new();
    let (a, pa) = h.join("A");
    let (b, pb) = h.join("B");
    let (_, pd) = h.join_meeting(MeetingId(9), "D", Role::Participant);
    let pending = h.connect();
    h.drain();
    let video_of = |p| ssrc_for(p, track::VIDEO_BASE);
    let me = ssrc_for(pb, 0);
    // Unknown SSRCs: an id nobody has in this meeting (ids are per meeting,
    // so D's stream in meeting 9 cannot be named from here); the router's
    // own SSRC 0; B's own stream; a track outside the layout.
    assert_eq!(pd, ParticipantId(1), "D's id means A in B's meeting");
    h.media(b, pli(me, video_of(ParticipantId(40))));
    h.media(b, nack(me, 0, 1, 0));
    h.media(b, pli(me, video_of(pb)));
    h.media(b, nack(me, ssrc_for(pa, 9), 1, 0));
    // Spoofed: naming A (or nobody) as the feedback's sender.
    h.media(b, pli(ssrc_for(pa, 0), video_of(pa)));
    h.media(b, nack(0, video_of(pa), 1, 0));
    // Malformed: a PLI for audio, a sender report, trailing bytes, truncated.
    h.media(b, pli(me, ssrc_for(pa, track::AUDIO)));
    h.media(
        b,
        Bytes::from_static(&[0x80, 200, 0, 2, 0, 0, 1, 0, 0, 0, 1, 1]),
    );
    let mut long = pli(me, video_of(pa)).to_vec();
    long.extend_from_slice(&[0x81, 206, 0, 2]);
    h.media(b, Bytes::from(long));
    h.media(b, pli(me, video_of(pa)).slice(..10));
    // Not joined.
    h.media(pending, pli(me, video_of(pa)));
    let out = h.drain();
    assert!(media_out(&out).is_empty(), "{out:?}");
    let s = h.router.stats();
    assert_eq!(s.feedback_dropped_unknown_ssrc, 4);
    assert_eq!(s.feedback_dropped_spoofed, 2);
    assert_eq!(s.feedback_dropped_malformed, 4);
    assert_eq!(s.feedback_dropped_not_joined, 1);
    assert_eq!(s.feedback_relayed, 0);
    assert!(h.router.is_open(a) && h.router.is_open(b));
}

#[test]
fn a_receiver_cannot_make_a_sender_encode_keyframes_without_pause() {
    let mut h = Harness::new();
    let (a, pa) = h.join("A");
    let (b, pb) = h.join("B");
    h.drain();
    let high = ssrc_for(pa, track::VIDEO_BASE + 2);
    let low = ssrc_for(pa, track::VIDEO_BASE);
    let mut to_a = 0;
    // A PLI every 10 ms for one second, on one layer.
    for _ in 0..100 {
        h.media(b, pli(ssrc_for(pb, 0), high));
        to_a += media_to(a, &h.drain()).len();
        h.now += Duration::from_millis(10);
    }
    let max = 1 + (1000 / PLI_MIN_INTERVAL.as_millis()) as usize;
    assert!((2..=max).contains(&to_a), "{to_a} PLIs reached A in 1 s");
    // Another layer has its own allowance.
    h.media(b, pli(ssrc_for(pb, 0), low));
    assert_eq!(media_to(a, &h.drain()).len(), 1);
    let s = h.router.stats();
    assert_eq!(s.feedback_relayed, to_a as u64 + 1);
    assert_eq!(s.feedback_dropped_rate_limited, 100 - to_a as u64);
}

#[test]
fn retransmissions_follow_the_receivers_layer() {
    let mut h = Harness::new();
    let (a, pa) = h.join("A");
    let (b, pb) = h.join("B");
    h.send(a, ClientMessage::SetVideo { on: true });
    h.drain();
    for l in LayerId::ALL {
        h.media(a, video(pa, l, 10, true, true));
    }
    h.media(a, video(pa, LayerId::Low, 11, false, true));
    h.media(a, video(pa, LayerId::Low, 12, false, true));
    let got = media_to(b, &h.drain());
    assert_eq!(got.len(), 3, "B gets the low layer by default");
    // B lost 11 and asks again; A resends the original on its own SSRC.
    let low = ssrc_for(pa, track::VIDEO_BASE);
    h.media(b, nack(ssrc_for(pb, 0), low, 11, 0));
    assert_eq!(media_to(a, &h.drain()).len(), 1, "NACK reached A");
    let resent = video(pa, LayerId::Low, 11, false, true);
    h.media(a, resent.clone());
    assert_eq!(media_to(b, &h.drain()), vec![resent]);
    // A retransmission on a layer B does not take is not forwarded to it.
    h.media(a, video(pa, LayerId::High, 10, true, true));
    assert!(media_to(b, &h.drain()).is_empty());
    // Nor is one after A's video was stopped.
    h.send(a, ClientMessage::SetVideo { on: false });
    h.drain();
    h.media(a, video(pa, LayerId::Low, 12, false, true));
    assert!(media_out(&h.drain()).is_empty());
}

#[test]
fn a_receivers_nack_storm_reaches_the_sender_only_up_to_its_budget() {
    let mut h = Harness::new();
    let (a, pa) = h.join("A");
    let (b, pb) = h.join("B");
    let (c, pc) = h.join("C");
    h.drain();
    let low = ssrc_for(pa, track::VIDEO_BASE);
    let audio = ssrc_for(pa, track::AUDIO);
    // A burst of 1000 single-entry NACKs from B about one track, all at once.
    let mut to_a = 0;
    for i in 0..1000u16 {
        h.media(b, nack(ssrc_for(pb, 0), low, i, 0));
        to_a += media_to(a, &h.drain()).len();
    }
    assert_eq!(to_a, NACK_BURST as usize);
    let s = h.router.stats();
    assert_eq!(s.feedback_relayed, u64::from(NACK_BURST));
    assert_eq!(
        s.feedback_dropped_nack_limited,
        1000 - u64::from(NACK_BURST)
    );
    // The budget is per receiver and per track: C, and B about A's audio,
    // still get through.
    h.media(c, nack(ssrc_for(pc, 0), low, 1, 0));
    h.media(b, nack(ssrc_for(pb, 0), audio, 1, 0));
    assert_eq!(media_to(a, &h.drain()).len(), 2);
    // A NACK with many entries costs one token per entry.
    h.now += NACK_INTERVAL * 3;
    let mut three = nack(ssrc_for(pb, 0), low, 1, 0).to_vec();
    three[3] = 5; // Length field: 6 words (header and 3 entries), less one.
    three.extend_from_slice(&[0, 5, 0, 0, 0, 9, 0, 0]);
    h.media(b, Bytes::from(three.clone()));
    assert_eq!(media_to(a, &h.drain()).len(), 1, "3 tokens earned, 3 spent");
    h.media(b, nack(ssrc_for(pb, 0), low, 2, 0));
    assert!(media_to(a, &h.drain()).is_empty(), "budget spent again");
    // After a pause the budget is back, but only up to the burst.
    h.now += Duration::from_secs(10);
    let mut again = 0;
    for i in 0..1000u16 {
        h.media(b, nack(ssrc_for(pb, 0), low, i, 0));
        again += media_to(a, &h.drain()).len();
    }
    assert_eq!(again, NACK_BURST as usize);
    assert!(h.router.is_open(a) && h.router.is_open(b));
}
