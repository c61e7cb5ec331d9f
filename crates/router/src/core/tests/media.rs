//! The media fast path: who gets a packet, and what is dropped — including
//! what host controls stop (muted audio, stopped video, screen share not on).
//! Simulcast layer selection is in `simulcast.rs`, RTCP feedback relaying
//! in `feedback.rs`; the helpers here serve all three.

use confer_wire::host::{SharePolicy, ShareState};
use confer_wire::ids::track;
use confer_wire::simulcast::{LayerDescriptor, LayerId};

use super::*;

/// The media outputs among `outputs`: (recipients, sorted; packet).
pub(super) fn media_out(outputs: &[Output]) -> Vec<(Vec<ConnectionId>, Bytes)> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Media { to, packet } => {
                let mut list: Vec<_> = to.iter().collect();
                list.sort();
                assert_eq!(list.len(), to.len(), "Recipients::len agrees with iter");
                Some((list, packet.clone()))
            }
            _ => None,
        })
        .collect()
}

/// The media packets `conn` was sent among `outputs`.
pub(super) fn media_to(conn: ConnectionId, outputs: &[Output]) -> Vec<Bytes> {
    media_out(outputs)
        .into_iter()
        .filter(|(to, _)| to.contains(&conn))
        .map(|(_, p)| p)
        .collect()
}

/// A camera video packet of `sender`'s simulcast `layer` carrying the RFC
/// 8285 layer descriptor, as `confer-media` sends it.
pub(super) fn video(
    sender: ParticipantId,
    layer: LayerId,
    seq: u16,
    keyframe: bool,
    start: bool,
) -> Bytes {
    let d = LayerDescriptor {
        layer,
        keyframe,
        start_of_frame: start,
        end_of_frame: false,
        top_layer: false,
    };
    let ssrc = ssrc_for(sender, track::VIDEO_BASE + layer.as_u8());
    let mut out = vec![0x90, 102];
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(&0u32.to_be_bytes());
    out.extend_from_slice(&ssrc.to_be_bytes());
    out.extend_from_slice(&d.extension_block());
    out.extend_from_slice(b"sealed frame");
    Bytes::from(out)
}

/// The SSRC a packet names (RTP: its own; RTCP feedback: the media SSRC).
pub(super) fn ssrc_of(packet: &[u8]) -> u32 {
    u32::from_be_bytes([packet[8], packet[9], packet[10], packet[11]])
}

#[test]
fn media_goes_unchanged_to_everyone_else_never_back_to_sender() {
    let mut h = Harness::new();
    let (a, pa) = h.join("A");
    let (b, _) = h.join("B");
    let (c, _) = h.join("C");
    let (elsewhere, _) = h.join_meeting(MeetingId(9), "D", Role::Participant);
    h.drain();
    let packet = rtp(ssrc_for(pa, track::AUDIO), 1);
    h.media(a, packet.clone());
    let out = h.drain();
    let [Output::Media { to, packet: sent }] = out.as_slice() else {
        panic!("{out:?}")
    };
    let mut recipients: Vec<_> = to.iter().collect();
    recipients.sort();
    assert_eq!(recipients, vec![b, c]);
    assert_eq!(to.len(), 2);
    assert!(!recipients.contains(&a) && !recipients.contains(&elsewhere));
    assert_eq!(sent, &packet);
    assert_eq!(sent.as_ptr(), packet.as_ptr(), "forwarded without copying");
    let stats = h.router.stats();
    assert_eq!((stats.media_forwarded, stats.media_copies), (1, 2));
}

#[test]
fn alone_in_a_meeting_media_goes_nowhere() {
    let mut h = Harness::new();
    let (a, pa) = h.join("A");
    h.drain();
    h.media(a, rtp(ssrc_for(pa, 0), 1));
    assert!(h.drain().is_empty());
}

#[test]
fn spoofed_malformed_and_unjoined_media_is_dropped_and_counted() {
    let mut h = Harness::new();
    let (a, _) = h.join("A");
    let (_, pb) = h.join("B");
    h.drain();
    h.media(a, rtp(ssrc_for(pb, 0), 1)); // B's SSRC from A
    h.media(a, Bytes::from_static(&[0x40; 20])); // RTP version 1
    h.media(a, Bytes::from_static(&[0x80; 5])); // truncated
    let mut big = rtp(ssrc_for(ParticipantId(1), 0), 1).to_vec();
    big.resize(confer_wire::frame::MAX_MEDIA_LEN + 1, 0);
    h.media(a, Bytes::from(big));
    let pending = h.connect();
    h.media(pending, rtp(ssrc_for(ParticipantId(3), 0), 1)); // before join
    h.media(ConnectionId(999), rtp(0x100, 1)); // unknown connection
    assert!(h.drain().is_empty());
    let stats = h.router.stats();
    assert_eq!(stats.media_dropped_spoofed, 1);
    assert_eq!(stats.media_dropped_malformed, 3);
    assert_eq!(stats.media_dropped_not_joined, 2);
    assert_eq!(stats.media_forwarded, 0);
}

#[test]
fn muted_audio_is_not_forwarded_and_unmuting_resumes() {
    let mut h = Harness::new();
    let (host, _) = h.join_as("Host", Role::Host);
    let (a, pa) = h.join("A");
    let (b, _) = h.join("B");
    h.drain();
    let audio = |seq| rtp(ssrc_for(pa, track::AUDIO), seq);

    h.media(a, audio(1));
    assert_eq!(media_to(b, &h.drain()).len(), 1, "unmuted audio flows");

    // Muted by themselves.
    h.send(a, ClientMessage::SetAudio { muted: true });
    h.drain();
    h.media(a, audio(2));
    assert!(media_out(&h.drain()).is_empty(), "self-muted audio dropped");
    h.send(a, ClientMessage::SetAudio { muted: false });
    h.drain();
    h.media(a, audio(3));
    let out = h.drain();
    assert_eq!(media_to(b, &out), vec![audio(3)], "unmuting resumes");
    assert_eq!(media_to(host, &out).len(), 1);

    // Muted by the host: stays dropped until they unmute again.
    h.host(
        host,
        HostAction::Mute {
            participant_id: Some(pa),
        },
    );
    h.media(a, audio(4));
    h.media(a, audio(5));
    assert!(media_out(&h.drain()).is_empty(), "host-muted audio dropped");
    let stats = h.router.stats();
    assert_eq!(stats.media_dropped_muted, 3);
    assert_eq!(stats.media_forwarded, 2);
    h.send(a, ClientMessage::SetAudio { muted: false });
    h.drain();
    h.media(a, audio(6));
    assert_eq!(media_to(b, &h.drain()), vec![audio(6)]);
}

#[test]
fn stopped_video_and_screen_share_and_unknown_tracks_are_dropped() {
    let mut h = Harness::new();
    let (host, _) = h.join_as("Host", Role::Host);
    let (a, pa) = h.join("A");
    let (b, _) = h.join("B");
    h.drain();
    let screen = |seq| rtp(ssrc_for(pa, track::SCREEN), seq);
    let camera = |seq| video(pa, LayerId::Low, seq, true, true);

    // Nothing started yet: camera and screen are both dropped.
    h.media(a, camera(1));
    h.media(a, screen(1));
    h.media(a, rtp(ssrc_for(pa, 5), 1));
    h.media(a, rtp(ssrc_for(pa, 255), 1));
    assert!(media_out(&h.drain()).is_empty());

    h.send(a, ClientMessage::SetVideo { on: true });
    h.send(
        a,
        ClientMessage::SetShare {
            state: ShareState::On,
        },
    );
    h.drain();
    h.media(a, camera(2));
    h.media(a, screen(2));
    let out = h.drain();
    assert_eq!(media_to(b, &out), vec![camera(2), screen(2)]);
    assert_eq!(media_to(host, &out).len(), 2);

    // Paused share: screen dropped, camera still flows.
    h.send(
        a,
        ClientMessage::SetShare {
            state: ShareState::Paused,
        },
    );
    h.drain();
    h.media(a, screen(3));
    h.media(a, camera(3));
    assert_eq!(media_to(b, &h.drain()), vec![camera(3)]);

    // The host stops A's video, then makes sharing host-only.
    h.host(
        host,
        HostAction::StopVideo {
            participant_id: Some(pa),
        },
    );
    h.media(a, camera(4));
    h.send(
        a,
        ClientMessage::SetShare {
            state: ShareState::On,
        },
    );
    h.drain();
    h.media(a, screen(4));
    assert_eq!(
        media_to(b, &h.drain()),
        vec![screen(4)],
        "resumed share flows"
    );
    h.host(
        host,
        HostAction::SetScreenShare {
            share: SharePolicy::HostOnly,
        },
    );
    h.media(a, screen(5));
    assert!(media_out(&h.drain()).is_empty());

    let stats = h.router.stats();
    assert_eq!(stats.media_dropped_video_off, 2);
    assert_eq!(stats.media_dropped_screen_off, 3);
    assert_eq!(stats.media_dropped_unknown_track, 2);
}

#[test]
fn video_without_a_matching_layer_descriptor_is_dropped() {
    let mut h = Harness::new();
    let (a, pa) = h.join("A");
    let (_, _) = h.join("B");
    h.send(a, ClientMessage::SetVideo { on: true });
    h.drain();
    // No extension at all on a camera track.
    h.media(a, rtp(ssrc_for(pa, track::VIDEO_BASE), 1));
    // A descriptor saying layer 2 on the layer-0 track.
    let mut lying = video(pa, LayerId::High, 1, true, true).to_vec();
    lying[8..12].copy_from_slice(&ssrc_for(pa, track::VIDEO_BASE).to_be_bytes());
    h.media(a, Bytes::from(lying));
    assert!(media_out(&h.drain()).is_empty());
    assert_eq!(h.router.stats().media_dropped_no_layer, 2);
}

/// Seeded random and mangled packets, RTP and RTCP, from joined and
/// unjoined connections: the router never panics and every packet is
/// either forwarded or counted as dropped.
#[test]
fn malformed_packets_never_panic() {
    let mut h = Harness::new();
    let (a, pa) = h.join("A");
    let (b, pb) = h.join("B");
    let pending = h.connect();
    h.send(a, ClientMessage::SetVideo { on: true });
    h.drain();
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let templates = [
        video(pa, LayerId::Low, 7, true, true).to_vec(),
        rtp(ssrc_for(pa, 0), 1).to_vec(),
        confer_wire::rtcp::pli(ssrc_for(pb, 0), ssrc_for(pa, 1)).to_vec(),
    ];
    let rounds = 30_000u64;
    for i in 0..rounds {
        let r = next();
        let mut bytes = if r % 4 == 0 {
            (0..next() % 64).map(|_| next() as u8).collect()
        } else {
            templates[(r % 3) as usize].clone()
        };
        // Flip a few bytes and maybe cut the packet short.
        for _ in 0..(next() % 4) {
            if !bytes.is_empty() {
                let at = (next() as usize) % bytes.len();
                bytes[at] ^= next() as u8;
            }
        }
        if next() % 3 == 0 {
            let keep = (next() as usize) % (bytes.len() + 1);
            bytes.truncate(keep);
        }
        let from = match i % 5 {
            0 => b,
            1 => pending,
            _ => a,
        };
        h.media(from, Bytes::from(bytes));
        h.drain();
    }
    let s = h.router.stats();
    let accounted = s.media_forwarded
        + s.media_dropped_not_joined
        + s.media_dropped_malformed
        + s.media_dropped_spoofed
        + s.media_dropped_muted
        + s.media_dropped_video_off
        + s.media_dropped_screen_off
        + s.media_dropped_unknown_track
        + s.media_dropped_no_layer
        + s.feedback_relayed
        + s.feedback_dropped_not_joined
        + s.feedback_dropped_malformed
        + s.feedback_dropped_spoofed
        + s.feedback_dropped_unknown_ssrc
        + s.feedback_dropped_rate_limited;
    assert_eq!(accounted, rounds, "{s:?}");
    assert!(h.router.is_open(a) && h.router.is_open(b));
}
