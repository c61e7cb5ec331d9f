//! The media fast path of the meeting core: one sender, 10 or 100
//! receivers. Each iteration feeds one RTP packet, drains the outputs and
//! takes the per-recipient reference-count clone a driver would enqueue, so
//! the figure is packets in per second through the sans-IO core.
//!
//! - `1_sender_to`: audio, which goes to everyone (host controls checked).
//! - `simulcast_1_sender_to`: camera video in three simulcast layers, the
//!   receivers subscribed a third to each, so every packet passes one
//!   layer selector per receiver and goes to a third of them.

// Benchmark setup that fails is a broken benchmark: stop loudly.
#![allow(clippy::expect_used)]

use std::hint::black_box;
use std::time::Instant;

use bytes::Bytes;
use confer_router::core::{ControlInput, CoreConfig, Output, Router};
use confer_wire::PROTOCOL_VERSION;
use confer_wire::control::{ClientMessage, ServerMessage, Subscription};
use confer_wire::ids::{MeetingId, ParticipantId, Role, ssrc_for, track};
use confer_wire::rtp::{PT_SYNTHETIC, RtpHeader};
use confer_wire::simulcast::{LayerDescriptor, LayerId};
use confer_wire::token::{JOIN_TOKEN_AUDIENCE, JoinClaims};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_main};

const MEETING: MeetingId = MeetingId(1);

type Conn = confer_router::core::ConnectionId;

/// A router with `1 + receivers` participants in one meeting; returns it
/// with the sender's connection and participant id, and the receivers'
/// connections.
fn meeting_of(receivers: usize) -> (Router, Conn, ParticipantId, Vec<Conn>) {
    let now = Instant::now();
    let mut router = Router::new(CoreConfig::default());
    let mut first = None;
    let mut others = Vec::new();
    for i in 0..=receivers {
        let conn = router.handle_connect(now);
        let claims = JoinClaims {
            iss: "bench".into(),
            aud: JOIN_TOKEN_AUDIENCE.into(),
            sub: format!("u{i}"),
            exp: 2_000_000_000,
            iat: 1_999_999_000,
            jti: format!("j{i}"),
            mid: MEETING,
            sid: format!("s{i}"),
            role: Role::Participant,
            name: format!("P{i}"),
            guest: false,
            policy: Default::default(),
        };
        let join = ControlInput::Join {
            version: PROTOCOL_VERSION,
            meeting_id: MEETING,
            claims: Ok(claims),
            verified_at_unix: 1_999_999_000,
        };
        router.handle_control(now, conn, join);
        if i > 0 {
            others.push(conn);
        }
        while let Some(out) = router.poll_output() {
            if let Output::Control {
                to,
                message: ServerMessage::Joined { participant_id, .. },
            } = out
                && first.is_none()
            {
                first = Some((to, participant_id));
            }
        }
    }
    let (conn, id) = first.expect("the first join is admitted");
    (router, conn, id, others)
}

/// Drains the router as a driver would: one reference-count clone per copy.
fn drain(router: &mut Router) {
    while let Some(out) = router.poll_output() {
        if let Output::Media { to, packet } = out {
            for conn in to.iter() {
                black_box((conn, packet.clone()));
            }
        }
    }
}

/// A 1000-byte camera video packet of `layer` with its layer descriptor.
fn video_packet(id: ParticipantId, layer: LayerId, keyframe: bool) -> Bytes {
    let mut raw = Vec::new();
    RtpHeader {
        marker: false,
        payload_type: 102,
        sequence: 1,
        timestamp: 0,
        ssrc: ssrc_for(id, track::VIDEO_BASE + layer.as_u8()),
    }
    .write(&[0xab; 1000], &mut raw);
    let d = LayerDescriptor {
        layer,
        keyframe,
        start_of_frame: true,
        end_of_frame: true,
        top_layer: false,
    };
    // The extension goes between the fixed header and the payload; set X.
    raw.splice(12..12, d.extension_block());
    raw[0] |= 0x10;
    Bytes::from(raw)
}

fn simulcast(c: &mut Criterion) {
    let mut group = c.benchmark_group("core_forwarding");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(std::time::Duration::from_secs(3));
    group.warm_up_time(std::time::Duration::from_secs(1));
    for receivers in [10usize, 100] {
        let (mut router, sender, id, others) = meeting_of(receivers);
        let now = Instant::now();
        let control = |m| ControlInput::Message(m);
        router.handle_control(now, sender, control(ClientMessage::SetVideo { on: true }));
        for (i, r) in others.iter().enumerate() {
            let layer = LayerId::ALL[i % 3];
            let sub = ClientMessage::Subscribe(Subscription::layer(id, layer));
            router.handle_control(now, *r, control(sub));
        }
        // One keyframe per layer so every selector has switched.
        for layer in LayerId::ALL {
            router.handle_media(now, sender, video_packet(id, layer, true));
        }
        drain(&mut router);
        let packets = LayerId::ALL.map(|l| video_packet(id, l, false));
        let mut i = 0usize;
        group.bench_with_input(
            BenchmarkId::new("simulcast_1_sender_to", receivers),
            &receivers,
            |b, _| {
                b.iter(|| {
                    i = (i + 1) % 3;
                    router.handle_media(now, sender, black_box(packets[i].clone()));
                    drain(&mut router);
                });
            },
        );
        let stats = router.stats();
        assert_eq!(
            stats.media_dropped_no_layer + stats.media_dropped_video_off,
            0
        );
        assert!(stats.media_copies > 0);
    }
    group.finish();
}

fn forwarding(c: &mut Criterion) {
    let mut group = c.benchmark_group("core_forwarding");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(std::time::Duration::from_secs(3));
    group.warm_up_time(std::time::Duration::from_secs(1));
    for receivers in [10usize, 100] {
        let (mut router, sender, id, _) = meeting_of(receivers);
        let mut raw = Vec::new();
        RtpHeader {
            marker: false,
            payload_type: PT_SYNTHETIC,
            sequence: 1,
            timestamp: 0,
            ssrc: ssrc_for(id, 0),
        }
        .write(&[0xab; 1000], &mut raw);
        let packet = Bytes::from(raw);
        let now = Instant::now();
        group.bench_with_input(
            BenchmarkId::new("1_sender_to", receivers),
            &receivers,
            |b, _| {
                b.iter(|| {
                    router.handle_media(now, sender, black_box(packet.clone()));
                    drain(&mut router);
                });
            },
        );
        let stats = router.stats();
        assert_eq!(stats.media_dropped_spoofed + stats.media_dropped_muted, 0);
    }
    group.finish();
}

/// The benchmark group; `criterion_group!` generates an undocumented
/// `pub fn`, which the workspace's `missing_docs` lint would flag.
#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(benches, super::forwarding, super::simulcast);
}

criterion_main!(group::benches);
