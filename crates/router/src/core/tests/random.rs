//! Seeded random traffic from many clients, good and bad, checked against
//! invariants after every step: the core never sends media back to its
//! sender or across meetings, never talks to a connection after closing it,
//! closes after every fatal error, and its gauges match what it announced.

use std::collections::{HashMap, HashSet};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::*;

/// What the test has learned about a connection from the core's outputs.
#[derive(Debug, Clone, Copy)]
struct Known {
    meeting: MeetingId,
    participant: ParticipantId,
}

#[test]
fn random_traffic_keeps_the_invariants() {
    for seed in 0..20u64 {
        run(seed);
    }
}

fn run(seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut h = Harness::new();
    let mut open: Vec<ConnectionId> = Vec::new();
    let mut joined: HashMap<ConnectionId, Known> = HashMap::new();
    let mut closed: HashSet<ConnectionId> = HashSet::new();
    let mut ids_seen: HashSet<(MeetingId, ParticipantId)> = HashSet::new();
    let meetings = [MeetingId(1), MeetingId(2), MeetingId(3)];

    for step in 0..2000 {
        let mut media_sender = None;
        let pick = |rng: &mut StdRng, open: &[ConnectionId]| -> Option<ConnectionId> {
            (!open.is_empty()).then(|| open[rng.random_range(0..open.len())])
        };
        match rng.random_range(0..100) {
            0..10 => open.push(h.connect()),
            10..25 => {
                if let Some(conn) = pick(&mut rng, &open) {
                    let meeting = meetings[rng.random_range(0..meetings.len())];
                    let claims = match rng.random_range(0..10) {
                        0 => Err(TokenError::Expired),
                        1 => Ok(h.claims(MeetingId(99), "Wrong", Role::Participant)),
                        _ => Ok(h.claims(meeting, "P", Role::Participant)),
                    };
                    h.send_join(conn, meeting, claims);
                }
            }
            25..35 => {
                if let Some(conn) = pick(&mut rng, &open) {
                    let to = rng
                        .random_bool(0.3)
                        .then(|| ParticipantId(rng.random_range(1..6)));
                    h.send(
                        conn,
                        ClientMessage::Chat {
                            to,
                            text: "hi".into(),
                        },
                    );
                }
            }
            35..75 => {
                if let Some(conn) = pick(&mut rng, &open) {
                    let owner = match joined.get(&conn) {
                        Some(k) if rng.random_bool(0.8) => k.participant,
                        _ => ParticipantId(rng.random_range(0..6)),
                    };
                    h.media(conn, rtp(ssrc_for(owner, 0), step as u16));
                    media_sender = Some(conn);
                }
            }
            75..80 => {
                if let Some(conn) = pick(&mut rng, &open) {
                    h.send(conn, ClientMessage::Leave);
                }
            }
            80..85 => {
                if let Some(conn) = pick(&mut rng, &open) {
                    h.router.handle_disconnect(h.now, conn);
                    open.retain(|c| *c != conn);
                    joined.remove(&conn);
                    closed.insert(conn);
                }
            }
            85..88 => {
                if let Some(conn) = pick(&mut rng, &open) {
                    let e = DecodeError::Malformed("fuzz".into());
                    h.router
                        .handle_control(h.now, conn, ControlInput::Malformed(e));
                }
            }
            88..92 => {
                if let Some(conn) = pick(&mut rng, &open) {
                    h.send(conn, ClientMessage::Ping { nonce: step });
                }
            }
            _ => h.advance(Duration::from_millis(rng.random_range(0..3000))),
        }

        let out = h.drain();
        // Learn joins first: a join and media in one batch cannot happen,
        // but announcements and closes can.
        for o in &out {
            if let Output::Control {
                to,
                message:
                    ServerMessage::Joined {
                        participant_id,
                        meeting_id,
                        ..
                    },
            } = o
            {
                assert!(ids_seen.insert((*meeting_id, *participant_id)), "id reused");
                joined.insert(
                    *to,
                    Known {
                        meeting: *meeting_id,
                        participant: *participant_id,
                    },
                );
            }
        }
        let mut fatal = HashSet::new();
        for o in &out {
            match o {
                Output::Control { to, message } => {
                    assert!(!closed.contains(to), "seed {seed}: message to closed {to}");
                    if let ServerMessage::Error { fatal: true, .. } = message {
                        fatal.insert(*to);
                    }
                }
                Output::Media { to, .. } => {
                    let sender = media_sender.expect("media only when someone sent some");
                    let meeting = joined[&sender].meeting;
                    let recipients: Vec<_> = to.iter().collect();
                    assert!(!recipients.is_empty());
                    assert!(!recipients.contains(&sender), "seed {seed}: media echoed");
                    for r in &recipients {
                        assert!(!closed.contains(r), "seed {seed}: media to closed {r}");
                        assert_eq!(
                            joined[r].meeting, meeting,
                            "seed {seed}: media across meetings"
                        );
                    }
                }
                Output::Close { conn, .. } => {
                    fatal.remove(conn);
                    assert!(closed.insert(*conn), "seed {seed}: closed twice");
                    open.retain(|c| c != conn);
                    joined.remove(conn);
                }
            }
        }
        assert!(fatal.is_empty(), "seed {seed}: fatal error without close");
        // An emptied meeting is forgotten, and starts afresh (ids from 1)
        // if someone joins it again.
        let live: HashSet<_> = joined.values().map(|k| k.meeting).collect();
        ids_seen.retain(|(m, _)| live.contains(m));
        let stats = h.router.stats();
        assert_eq!(
            stats.participants,
            joined.len() as u64,
            "seed {seed} step {step}"
        );
        assert_eq!(
            stats.connections,
            open.len() as u64,
            "seed {seed} step {step}"
        );
        assert_eq!(stats.meetings, live.len() as u64);
    }
    // The traffic did exercise the paths it is meant to.
    let stats = h.router.stats();
    assert!(
        stats.joins_admitted > 20 && stats.joins_refused > 5,
        "seed {seed}: {stats:?}"
    );
    assert!(
        stats.media_forwarded > 20 && stats.media_dropped_spoofed > 5,
        "seed {seed}: {stats:?}"
    );
}
