//! The media fast path of the meeting core: one sender, 10 or 100
//! receivers. Each iteration feeds one RTP packet, drains the outputs and
//! takes the per-recipient reference-count clone a driver would enqueue, so
//! the figure is packets in per second through the sans-IO core.

// Benchmark setup that fails is a broken benchmark: stop loudly.
#![allow(clippy::expect_used)]

use std::hint::black_box;
use std::time::Instant;

use bytes::Bytes;
use confer_router::core::{ControlInput, CoreConfig, Output, Router};
use confer_wire::PROTOCOL_VERSION;
use confer_wire::control::ServerMessage;
use confer_wire::ids::{MeetingId, ParticipantId, Role, ssrc_for};
use confer_wire::rtp::{PT_SYNTHETIC, RtpHeader};
use confer_wire::token::{JOIN_TOKEN_AUDIENCE, JoinClaims};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_main};

const MEETING: MeetingId = MeetingId(1);

/// A router with `1 + receivers` participants in one meeting; returns it
/// with the sender's connection and participant id.
fn meeting_of(receivers: usize) -> (Router, confer_router::core::ConnectionId, ParticipantId) {
    let now = Instant::now();
    let mut router = Router::new(CoreConfig::default());
    let mut first = None;
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
    (router, conn, id)
}

fn forwarding(c: &mut Criterion) {
    let mut group = c.benchmark_group("core_forwarding");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(std::time::Duration::from_secs(3));
    group.warm_up_time(std::time::Duration::from_secs(1));
    for receivers in [10usize, 100] {
        let (mut router, sender, id) = meeting_of(receivers);
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
                    while let Some(out) = router.poll_output() {
                        if let Output::Media { to, packet } = out {
                            for conn in to.iter() {
                                black_box((conn, packet.clone()));
                            }
                        }
                    }
                });
            },
        );
        assert_eq!(router.stats().media_dropped_spoofed, 0);
    }
    group.finish();
}

/// The benchmark group; `criterion_group!` generates an undocumented
/// `pub fn`, which the workspace's `missing_docs` lint would flag.
#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(benches, super::forwarding);
}

criterion_main!(group::benches);
