//! Rekeying an E2E meeting of 100 members when one leaves: the remover's
//! remove + commit, and one other member processing that commit and
//! exporting the new SFrame base key. The group is topped up (untimed)
//! after each removal so it stays at 100.
//!
//! `cargo bench -p confer-e2e --bench mls_rekey`

// A benchmark whose setup is broken should stop loudly, not measure nothing.
#![allow(clippy::expect_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use confer_e2e::device::{DeviceIdentity, DevicePublicKeys};
use confer_e2e::mls::{MeetingGroup, PendingJoin};
use criterion::{Criterion, criterion_main};

const MEMBERS: usize = 100;

fn rekey(c: &mut Criterion) {
    // Alice and Bob hold real group state; the other 98 are key packages
    // whose owners never need to act for the cost measured here.
    let devices: Vec<DeviceIdentity> = (0..MEMBERS)
        .map(|_| DeviceIdentity::generate().expect("device keys"))
        .collect();
    let mut alice = MeetingGroup::create(&devices[0]).expect("group creation");
    let joiners: Vec<PendingJoin> = devices[1..]
        .iter()
        .map(|device| PendingJoin::new(device).expect("key package"))
        .collect();
    let packages: Vec<(&[u8], &DevicePublicKeys)> = joiners
        .iter()
        .zip(&devices[1..])
        .map(|(joiner, device)| (joiner.key_package(), device.public_keys()))
        .collect();
    let added = alice.add_members(&packages).expect("adding 99 members");
    let bob = joiners.into_iter().next().expect("a second member");
    let mut bob = bob.join(&added.welcome).expect("joining");
    assert_eq!(alice.members().len(), MEMBERS);

    let mut group = c.benchmark_group("mls_rekey");
    group.sample_size(10);
    group.bench_function("remove_commit_process_100_members", |b| {
        b.iter_custom(|iters| {
            let mut timed = Duration::ZERO;
            for _ in 0..iters {
                let leaving = alice
                    .members()
                    .iter()
                    .map(|m| m.index)
                    .find(|&i| i != alice.own_index() && i != bob.own_index())
                    .expect("a third member to remove");
                let start = Instant::now();
                let commit = alice.remove_members(&[leaving]).expect("remove commit");
                black_box(bob.process_message(&commit).expect("processing the commit"));
                black_box(bob.sframe_base_key().expect("new epoch key"));
                timed += start.elapsed();
                // Untimed: someone new joins, keeping the group at 100.
                let device = DeviceIdentity::generate().expect("device keys");
                let newcomer = PendingJoin::new(&device).expect("key package");
                let added = alice
                    .add_members(&[(newcomer.key_package(), device.public_keys())])
                    .expect("re-adding");
                bob.process_message(&added.commit)
                    .expect("processing the add");
            }
            timed
        });
    });
    group.finish();
}

/// The benchmark group; `criterion_group!` generates an undocumented
/// `pub fn`, which the workspace's `missing_docs` lint would flag.
#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(benches, super::rekey);
}

criterion_main!(group::benches);
