//! A host's "mute all" across a 100-participant meeting, through the
//! sans-IO core: the time from the host's action to the last participant's
//! acknowledgement. Each participant "acknowledges" when it has decoded the
//! `participant_updated` that shows itself muted, as a client session does;
//! every control message the core emits is encoded to its wire bytes (as
//! the driver does) and decoded by its recipient, so the figure covers the
//! core's decision, fan-out and the control codec on both sides, but no
//! sockets.

// Benchmark setup that fails is a broken benchmark: stop loudly.
#![allow(clippy::expect_used)]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use confer_router::core::{ConnectionId, ControlInput, CoreConfig, Output, Router};
use confer_wire::PROTOCOL_VERSION;
use confer_wire::control::{ClientMessage, ServerMessage};
use confer_wire::host::HostAction;
use confer_wire::ids::{MeetingId, ParticipantId, Role};
use confer_wire::token::{JOIN_TOKEN_AUDIENCE, JoinClaims};
use criterion::{BenchmarkId, Criterion, criterion_main};

const MEETING: MeetingId = MeetingId(1);

/// A router with a host and `participants` others; returns it, the host's
/// connection and every participant's connection and id.
fn meeting_of(participants: usize) -> (Router, ConnectionId, Vec<(ConnectionId, ParticipantId)>) {
    let now = Instant::now();
    let mut router = Router::new(CoreConfig::default());
    let mut host = None;
    let mut others = Vec::new();
    for i in 0..=participants {
        let conn = router.handle_connect(now);
        let role = if i == 0 {
            Role::Host
        } else {
            Role::Participant
        };
        let claims = JoinClaims {
            iss: "bench".into(),
            aud: JOIN_TOKEN_AUDIENCE.into(),
            sub: format!("u{i}"),
            exp: 2_000_000_000,
            iat: 1_999_999_000,
            jti: format!("j{i}"),
            mid: MEETING,
            sid: format!("s{i}"),
            role,
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
                && to == conn
            {
                if i == 0 {
                    host = Some(conn);
                } else {
                    others.push((conn, participant_id));
                }
            }
        }
    }
    (router, host.expect("the host is admitted"), others)
}

/// Unmutes everyone again (not timed).
fn reset(router: &mut Router, others: &[(ConnectionId, ParticipantId)]) {
    let now = Instant::now();
    for (conn, _) in others {
        let msg = ClientMessage::SetAudio { muted: false };
        router.handle_control(now, *conn, ControlInput::Message(msg));
        while router.poll_output().is_some() {}
    }
}

/// One "mute all": from the host's message to the last acknowledgement.
fn mute_all(
    router: &mut Router,
    host: ConnectionId,
    others: &[(ConnectionId, ParticipantId)],
) -> Duration {
    let me: HashMap<ConnectionId, ParticipantId> = others.iter().copied().collect();
    let mut pending = others.len();
    let started = Instant::now();
    let action = ClientMessage::Host(HostAction::Mute {
        participant_id: None,
    });
    let payload = action.encode();
    let input = ControlInput::decode(&payload, 0, |_, _| unreachable!("not a join"));
    router.handle_control(started, host, input);
    while let Some(out) = router.poll_output() {
        let Output::Control { to, message } = out else {
            continue;
        };
        let bytes = message.encode();
        let decoded = ServerMessage::decode(&bytes).expect("the router's messages decode");
        if let ServerMessage::ParticipantUpdated { participant } = decoded
            && participant.muted
            && me.get(&to) == Some(&participant.participant_id)
        {
            pending -= 1;
        }
    }
    assert_eq!(pending, 0, "everyone acknowledged");
    started.elapsed()
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("host_mute_all");
    group.measurement_time(Duration::from_secs(5));
    group.warm_up_time(Duration::from_secs(1));
    group.sample_size(30);
    for participants in [10usize, 100] {
        let (mut router, host, others) = meeting_of(participants);
        group.bench_with_input(
            BenchmarkId::new("core_action_to_last_ack", participants),
            &participants,
            |b, _| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        reset(&mut router, &others);
                        total += mute_all(&mut router, host, &others);
                    }
                    total
                });
            },
        );
    }
    group.finish();
}

/// The benchmark group; `criterion_group!` generates an undocumented
/// `pub fn`, which the workspace's `missing_docs` lint would flag.
#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(benches, super::bench);
}

criterion_main!(group::benches);
