//! End to end over real QUIC on loopback: one sender, ten receiving quinn
//! clients, all in this process with the router. Each iteration sends one
//! RTP packet as a datagram; a sample ends when every receiver has its
//! copies (or nothing more arrived for 200 ms, which counts as loss), so the
//! throughput reported is datagrams delivered per second. The router, the
//! eleven clients and their crypto share the machine's cores.

// Benchmark setup that fails is a broken benchmark: stop loudly.
#![allow(clippy::expect_used)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use confer_wire::control::ClientMessage;
use confer_wire::ids::{MeetingId, ssrc_for};
use confer_wire::rtp::{PT_SYNTHETIC, RtpHeader};
use criterion::{Criterion, Throughput, criterion_main};

use support::{TestRouter, Transport};

const RECEIVERS: u64 = 10;
/// Payload bytes per packet: a typical video packet that fits an initial
/// QUIC datagram.
const PAYLOAD: usize = 1000;
/// A sample that makes no progress for this long is over.
const QUIET: Duration = Duration::from_millis(200);

/// Keeps a client's session alive (the router drops participants silent
/// for 6 s), as a real client would.
fn keep_alive(mut client: support::Client) {
    tokio::spawn(async move {
        loop {
            client.send(&ClientMessage::Ping { nonce: 0 }).await;
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    });
}

fn quic_e2e(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let received = Arc::new(AtomicU64::new(0));
    let (router, sender, packet) = runtime.block_on(async {
        let router = TestRouter::start().await;
        let meeting = MeetingId(1);
        let (sender, sender_id) = router.join(Transport::Quic, meeting, "Sender").await;
        for i in 0..RECEIVERS {
            let (client, _) = router
                .join(Transport::Quic, meeting, &format!("R{i}"))
                .await;
            let connection = client.quic.clone().expect("a QUIC client");
            let received = Arc::clone(&received);
            tokio::spawn(async move {
                while connection.read_datagram().await.is_ok() {
                    received.fetch_add(1, Ordering::Relaxed);
                }
            });
            keep_alive(client);
        }
        let connection = sender.quic.clone().expect("a QUIC client");
        keep_alive(sender);
        let mut raw = Vec::new();
        let header = RtpHeader {
            marker: false,
            payload_type: PT_SYNTHETIC,
            sequence: 0,
            timestamp: 0,
            ssrc: ssrc_for(sender_id, 0),
        };
        header.write(&[0x5a; PAYLOAD], &mut raw);
        (router, connection, Bytes::from(raw))
    });

    let mut expected_total = 0;
    let mut received_total = 0;
    let mut group = c.benchmark_group("quic_e2e");
    group.throughput(Throughput::Elements(RECEIVERS));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));
    group.warm_up_time(Duration::from_secs(1));
    group.bench_function("1_sender_10_receivers", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let start = received.load(Ordering::Relaxed);
                let target = start + iters * RECEIVERS;
                let t0 = Instant::now();
                for _ in 0..iters {
                    if sender.send_datagram_wait(packet.clone()).await.is_err() {
                        break;
                    }
                }
                let mut last = received.load(Ordering::Relaxed);
                let mut last_progress = Instant::now();
                while last < target && last_progress.elapsed() < QUIET {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    let now = received.load(Ordering::Relaxed);
                    if now != last {
                        last = now;
                        last_progress = Instant::now();
                    }
                }
                expected_total += iters * RECEIVERS;
                received_total += last - start;
                last_progress.max(t0) - t0
            })
        });
    });
    group.finish();
    let stats = router.handle.stats();
    eprintln!(
        "quic_e2e: {received_total} of {expected_total} datagrams delivered ({:.2}% lost); router forwarded {} packets, {} copies, {} dropped on full queues",
        100.0 * (expected_total - received_total.min(expected_total)) as f64
            / expected_total.max(1) as f64,
        stats.media_forwarded,
        stats.media_copies,
        stats.media_dropped_queue_full,
    );
    runtime.block_on(router.handle.shutdown());
}

/// The benchmark group; `criterion_group!` generates an undocumented
/// `pub fn`, which the workspace's `missing_docs` lint would flag.
#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(benches, super::quic_e2e);
}

criterion_main!(group::benches);
