//! A host's "mute all" over real TLS connections on loopback: the router
//! driver and 101 clients (the host and 100 participants) in this process.
//! The time measured runs from the host sending `mute` until the last
//! participant has read the `participant_updated` showing itself muted.
//! Between rounds each participant unmutes itself (allowed by default) and
//! the next round starts only once every client has read every unmute, so
//! rounds do not overlap. The router, the clients and their TLS share the
//! machine's cores.

// Benchmark setup that fails is a broken benchmark: stop loudly.
#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use confer_wire::control::{ClientMessage, ServerMessage};
use confer_wire::host::HostAction;
use confer_wire::ids::{MeetingId, Role};
use criterion::{Criterion, criterion_main};
use tokio::sync::{Notify, mpsc};

use support::{TestRouter, Transport};

const PARTICIPANTS: u64 = 100;

/// Counters the client tasks share with the benchmark loop.
#[derive(Default)]
struct Shared {
    /// Participants that saw themselves muted, over all rounds.
    acks: AtomicU64,
    /// Unmute updates read by participants, over all rounds.
    unmutes: AtomicU64,
    /// Wakes the benchmark loop on progress.
    progress: Notify,
}

impl Shared {
    async fn wait(&self, counter: &AtomicU64, target: u64) {
        while counter.load(Ordering::Acquire) < target {
            self.progress.notified().await;
        }
    }
}

/// Runs one participant: acknowledges its own mute by unmuting, counts
/// unmutes, pings every 2 s so the router keeps it.
fn participant(
    mut client: support::Client,
    me: confer_wire::ids::ParticipantId,
    shared: Arc<Shared>,
) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(2));
        loop {
            tokio::select! {
                _ = tick.tick() => client.send(&ClientMessage::Ping { nonce: 0 }).await,
                msg = client.next_control() => match msg {
                    Some(ServerMessage::ParticipantUpdated { participant }) => {
                        if participant.muted {
                            if participant.participant_id == me {
                                shared.acks.fetch_add(1, Ordering::AcqRel);
                                shared.progress.notify_one();
                                client.send(&ClientMessage::SetAudio { muted: false }).await;
                            }
                        } else {
                            shared.unmutes.fetch_add(1, Ordering::AcqRel);
                            shared.progress.notify_one();
                        }
                    }
                    Some(_) => {}
                    None => return,
                },
            }
        }
    });
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let shared = Arc::new(Shared::default());
    let (router, commands) = runtime.block_on(async {
        let router = TestRouter::start().await;
        let meeting = MeetingId(1);
        let mut host = router.connect(Transport::Tls).await;
        let mut claims = support::claims(meeting, "Host", support::unix_now());
        claims.role = Role::Host;
        let token = router.signer.sign(&claims);
        assert!(matches!(
            host.join(meeting, &token).await,
            ServerMessage::Joined { .. }
        ));
        let (commands, mut rx) = mpsc::channel::<ClientMessage>(4);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(2));
            loop {
                tokio::select! {
                    _ = tick.tick() => host.send(&ClientMessage::Ping { nonce: 0 }).await,
                    cmd = rx.recv() => match cmd {
                        Some(msg) => host.send(&msg).await,
                        None => return,
                    },
                    msg = host.next_control() => if msg.is_none() { return },
                }
            }
        });
        for i in 0..PARTICIPANTS {
            let (client, id) = router.join(Transport::Tls, meeting, &format!("P{i}")).await;
            participant(client, id, Arc::clone(&shared));
        }
        (router, commands)
    });

    let mut rounds = 0u64;
    let mut group = c.benchmark_group("host_mute_all_e2e");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.warm_up_time(Duration::from_secs(2));
    group.bench_function("tls_loopback_action_to_last_ack_100", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    // The previous round's unmutes have all been read.
                    shared
                        .wait(&shared.unmutes, rounds * PARTICIPANTS * PARTICIPANTS)
                        .await;
                    let t0 = Instant::now();
                    let mute = ClientMessage::Host(HostAction::Mute {
                        participant_id: None,
                    });
                    commands.send(mute).await.expect("the host task runs");
                    rounds += 1;
                    shared.wait(&shared.acks, rounds * PARTICIPANTS).await;
                    total += t0.elapsed();
                }
                total
            })
        });
    });
    group.finish();
    drop(commands);
    runtime.block_on(router.handle.shutdown());
}

/// The benchmark group; `criterion_group!` generates an undocumented
/// `pub fn`, which the workspace's `missing_docs` lint would flag.
#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(benches, super::bench);
}

criterion_main!(group::benches);
