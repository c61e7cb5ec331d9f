//! Standard meetings' media keys: handed out on admission, rotated on every
//! departure, never sent in E2E meetings (on the virtual clock).

use confer_wire::keys::{KeyBytes, MEDIA_KEY_LEN, MediaKey, MlsClientMessage, MlsServerMessage};

use super::*;
use crate::core::config::MediaKeySeed;

fn seeded(seed: u8) -> Harness {
    Harness::with_config(CoreConfig {
        media_key_seed: MediaKeySeed([seed; 32]),
        ..CoreConfig::default()
    })
}

/// The media keys `conn` got, in order.
fn keys(conn: ConnectionId, outputs: &[Output]) -> Vec<MediaKey> {
    to_with_keys(conn, outputs)
        .into_iter()
        .filter_map(|m| match m {
            ServerMessage::MediaKey(key) => Some(key),
            _ => None,
        })
        .collect()
}

/// Every media key in `outputs`, whoever it went to.
fn any_keys(outputs: &[Output]) -> usize {
    outputs
        .iter()
        .filter(|o| {
            matches!(
                o,
                Output::Control {
                    message: ServerMessage::MediaKey(_),
                    ..
                }
            )
        })
        .count()
}

/// Joins `MEETING` with `claims` and returns the connection and the key it
/// was handed.
fn join_with_key(h: &mut Harness, claims: JoinClaims) -> (ConnectionId, MediaKey) {
    let (conn, out) = h.join_claims(claims);
    let mut got = keys(conn, &out);
    assert_eq!(got.len(), 1, "one key on admission: {out:?}");
    let position =
        |want: fn(&ServerMessage) -> bool| to_with_keys(conn, &out).iter().position(want);
    assert!(
        position(|m| matches!(m, ServerMessage::Joined { .. }))
            < position(|m| matches!(m, ServerMessage::MediaKey(_))),
        "the key follows `joined`"
    );
    (conn, got.remove(0))
}

#[test]
fn every_admitted_participant_gets_the_current_epoch() {
    let mut h = seeded(1);
    let claims = h.claims(MEETING, "Ada", Role::Host);
    let (_, ada) = join_with_key(&mut h, claims);
    let claims = h.claims(MEETING, "Bo", Role::Participant);
    let (_, bo) = join_with_key(&mut h, claims);
    assert_eq!(ada.epoch, 1);
    assert_eq!(ada.key.as_bytes().len(), MEDIA_KEY_LEN);
    assert_eq!(bo, ada, "a newcomer joins the current epoch");
    assert_ne!(ada.key.as_bytes(), &[0u8; MEDIA_KEY_LEN]);
}

#[test]
fn a_departure_rotates_the_key_for_everyone_remaining_only() {
    for how in ["leave", "disconnect", "expel", "silence"] {
        let mut h = seeded(2);
        let claims = h.claims(MEETING, "Ada", Role::Host);
        let (ada, first) = join_with_key(&mut h, claims);
        let claims = h.claims(MEETING, "Bo", Role::Participant);
        let (bo, _) = join_with_key(&mut h, claims);
        let claims = h.claims(MEETING, "Cy", Role::Participant);
        let (cy, _) = join_with_key(&mut h, claims);
        let out = match how {
            "leave" => {
                h.send(cy, ClientMessage::Leave);
                h.drain()
            }
            "disconnect" => {
                h.router.handle_disconnect(h.now, cy);
                h.drain()
            }
            "expel" => h.host(
                ada,
                HostAction::Expel {
                    participant_id: Some(ParticipantId(3)),
                },
            ),
            _ => {
                // Ada and Bo keep talking; Cy falls silent.
                let mut out = Vec::new();
                for _ in 0..8 {
                    h.now += Duration::from_secs(1);
                    h.send(ada, ClientMessage::Ping { nonce: 1 });
                    h.send(bo, ClientMessage::Ping { nonce: 1 });
                    h.router.handle_timeout(h.now);
                    out.extend(h.drain());
                }
                out
            }
        };
        let for_ada = keys(ada, &out);
        let for_bo = keys(bo, &out);
        assert_eq!(for_ada.len(), 1, "{how}: {out:?}");
        assert_eq!(for_ada, for_bo, "{how}");
        assert_eq!(for_ada[0].epoch, 2, "{how}");
        assert_ne!(for_ada[0].key, first.key, "{how}: fresh key material");
        assert!(
            keys(cy, &out).is_empty(),
            "{how}: the leaver gets no new key"
        );
    }
}

#[test]
fn epochs_keep_advancing_and_newcomers_get_the_latest() {
    let mut h = seeded(3);
    let claims = h.claims(MEETING, "Ada", Role::Host);
    let (ada, _) = join_with_key(&mut h, claims);
    let mut seen = vec![];
    for round in 0..3u64 {
        let claims = h.claims(MEETING, &format!("guest{round}"), Role::Participant);
        let (guest, key) = join_with_key(&mut h, claims);
        assert_eq!(key.epoch, round + 1);
        seen.push(key.key);
        h.send(guest, ClientMessage::Leave);
        let out = h.drain();
        assert_eq!(keys(ada, &out)[0].epoch, round + 2);
    }
    seen.dedup();
    assert_eq!(seen.len(), 3, "every epoch has its own key");
}

#[test]
fn e2e_meetings_never_get_a_router_key() {
    let mut h = seeded(4);
    let mut claims = h.claims(MEETING, "Ada", Role::Host);
    claims.policy.e2e = true;
    let (ada, out) = h.join_claims(claims);
    let mut all = out;
    let mut claims = h.claims(MEETING, "Bo", Role::Participant);
    claims.policy.e2e = true;
    let (bo, out) = h.join_claims(claims);
    all.extend(out);
    h.send(bo, ClientMessage::Leave);
    all.extend(h.drain());
    h.router.handle_disconnect(h.now, ada);
    all.extend(h.drain());
    assert_eq!(any_keys(&all), 0, "{all:?}");
}

#[test]
fn a_meeting_is_e2e_if_its_first_token_says_so() {
    // Every token of a meeting carries its settings; a later token that
    // disagrees (settings changed mid-meeting) cannot turn keys on.
    let mut h = seeded(5);
    let mut claims = h.claims(MEETING, "Ada", Role::Host);
    claims.policy.e2e = true;
    let (_, mut all) = h.join_claims(claims);
    let claims = h.claims(MEETING, "Bo", Role::Participant);
    let (_, out) = h.join_claims(claims);
    all.extend(out);
    assert_eq!(any_keys(&all), 0, "{all:?}");
}

#[test]
fn the_waiting_room_gets_no_key_until_admitted() {
    let mut h = seeded(6);
    let mut claims = h.claims(MEETING, "Ada", Role::Host);
    claims.policy.waiting_room = true;
    let (ada, _) = join_with_key(&mut h, claims);
    let mut claims = h.claims(MEETING, "Bo", Role::Participant);
    claims.policy.waiting_room = true;
    let (bo, out) = h.join_claims(claims);
    assert!(keys(bo, &out).is_empty(), "held: {out:?}");
    // Someone else leaves while Bo waits: Bo must not learn the new epoch
    // before being let in, but gets the newest one then.
    let claims = h.claims(MEETING, "Cy", Role::CoHost);
    let (cy, _) = join_with_key(&mut h, claims);
    h.send(cy, ClientMessage::Leave);
    let out = h.drain();
    assert!(keys(bo, &out).is_empty());
    let latest = keys(ada, &out).remove(0);
    let out = h.host(
        ada,
        HostAction::Admit {
            participant_id: Some(ParticipantId(2)),
        },
    );
    assert_eq!(keys(bo, &out), vec![latest]);
    // A denied waiter never got a key and causes no rotation.
    let mut claims = h.claims(MEETING, "Di", Role::Participant);
    claims.policy.waiting_room = true;
    let (di, out) = h.join_claims(claims);
    assert!(keys(di, &out).is_empty());
    let out = h.host(
        ada,
        HostAction::Deny {
            participant_id: ParticipantId(4),
        },
    );
    assert_eq!(any_keys(&out), 0, "{out:?}");
}

#[test]
fn keys_follow_the_seed_and_only_the_seed() {
    let run = |seed| {
        let mut h = seeded(seed);
        let claims = h.claims(MEETING, "Ada", Role::Host);
        join_with_key(&mut h, claims).1
    };
    assert_eq!(run(7), run(7), "deterministic under a fixed seed");
    assert_ne!(run(7).key, run(8).key);
    // The default seed comes from the OS generator.
    assert_ne!(
        CoreConfig::default().media_key_seed,
        CoreConfig::default().media_key_seed
    );
    assert_eq!(
        format!("{:?}", MediaKeySeed([9; 32])),
        "MediaKeySeed(..)",
        "the seed never reaches a log"
    );
}

#[test]
fn a_meeting_used_again_after_it_emptied_starts_fresh_and_state_is_dropped() {
    let mut h = seeded(10);
    let claims = h.claims(MEETING, "Ada", Role::Host);
    let (ada, first) = join_with_key(&mut h, claims);
    h.send(ada, ClientMessage::Leave);
    h.drain();
    assert_eq!(
        h.router.media_key_meetings(),
        0,
        "an empty meeting's keys go"
    );
    // Same id again, now E2E: no router key, whatever the old state was.
    let mut claims = h.claims(MEETING, "Ada", Role::Host);
    claims.policy.e2e = true;
    let (_, out) = h.join_claims(claims);
    assert_eq!(any_keys(&out), 0);
    let other = MeetingId(77);
    let claims = h.claims(other, "Bo", Role::Host);
    let conn = h.connect();
    h.send_join(conn, other, Ok(claims));
    let out = h.drain();
    let key = keys(conn, &out).remove(0);
    assert_eq!(key.epoch, 1);
    assert_ne!(key.key, first.key);
    // A host ending the meeting drops its key state too.
    h.send(conn, ClientMessage::Host(HostAction::End));
    let out = h.drain();
    assert_eq!(any_keys(&out), 0, "no rotation while everyone is sent away");
    assert_eq!(
        h.router.media_key_meetings(),
        1,
        "only the E2E meeting is left"
    );
}

/// E2E claims for `name`.
fn e2e_claims(h: &mut Harness, name: &str, role: Role) -> JoinClaims {
    let mut claims = h.claims(MEETING, name, role);
    claims.policy.e2e = true;
    claims
}

/// The MLS messages `conn` got, in order.
fn mls(conn: ConnectionId, outputs: &[Output]) -> Vec<MlsServerMessage> {
    to_with_keys(conn, outputs)
        .into_iter()
        .filter_map(|m| match m {
            ServerMessage::Mls(m) => Some(m),
            _ => None,
        })
        .collect()
}

fn key_package(h: &mut Harness, conn: ConnectionId, tag: u8) -> Vec<Output> {
    h.send(
        conn,
        ClientMessage::Mls(MlsClientMessage::KeyPackage {
            key_package: KeyBytes(vec![tag]),
            device: KeyBytes(vec![tag, tag]),
        }),
    );
    h.drain()
}

fn commit(h: &mut Harness, conn: ConnectionId, tag: u8, welcome: bool) -> Vec<Output> {
    h.send(
        conn,
        ClientMessage::Mls(MlsClientMessage::Commit {
            commit: KeyBytes(vec![tag]),
            welcome: welcome.then(|| KeyBytes(vec![tag, 0])),
        }),
    );
    h.drain()
}

#[test]
fn the_router_delivers_mls_in_order_and_asks_the_lowest_id_to_commit() {
    let mut h = seeded(11);
    let claims = e2e_claims(&mut h, "Ada", Role::Host);
    let (ada, _) = h.join_claims(claims);
    let out = key_package(&mut h, ada, 1);
    assert_eq!(mls(ada, &out), vec![MlsServerMessage::Create {}]);

    let claims = e2e_claims(&mut h, "Bo", Role::Participant);
    let (bo, _) = h.join_claims(claims);
    let out = key_package(&mut h, bo, 2);
    assert_eq!(
        mls(ada, &out),
        vec![MlsServerMessage::Add {
            participant_id: ParticipantId(2),
            key_package: KeyBytes(vec![2]),
            device: KeyBytes(vec![2, 2]),
        }]
    );
    // Cy's key package waits while Ada's add of Bo is outstanding.
    let claims = e2e_claims(&mut h, "Cy", Role::Participant);
    let (cy, _) = h.join_claims(claims);
    assert!(mls(ada, &key_package(&mut h, cy, 3)).is_empty());
    // Only the member asked may commit.
    let out = commit(&mut h, bo, 9, false);
    assert!(to(bo, &out).iter().any(error(ErrorCode::NotAllowed, false)));
    assert!(mls(ada, &out).is_empty() && mls(cy, &out).is_empty());

    let out = commit(&mut h, ada, 20, true);
    assert_eq!(
        mls(bo, &out),
        vec![MlsServerMessage::Welcome {
            from: ParticipantId(1),
            welcome: KeyBytes(vec![20, 0]),
        }]
    );
    assert!(mls(cy, &out).is_empty(), "Cy is not in the group yet");
    // The next change follows at once.
    assert!(matches!(
        mls(ada, &out)[..],
        [MlsServerMessage::Add {
            participant_id: ParticipantId(3),
            ..
        }]
    ));
    let out = commit(&mut h, ada, 30, true);
    assert_eq!(
        mls(bo, &out),
        vec![MlsServerMessage::Commit {
            from: ParticipantId(1),
            commit: KeyBytes(vec![30]),
        }]
    );
    assert!(matches!(
        mls(cy, &out)[..],
        [MlsServerMessage::Welcome { .. }]
    ));

    // Ada expels Cy: Ada (still the lowest id) commits the removal, Bo applies it.
    let out = h.host(
        ada,
        HostAction::Expel {
            participant_id: Some(ParticipantId(3)),
        },
    );
    assert_eq!(
        mls(ada, &out),
        vec![MlsServerMessage::Remove {
            participant_id: ParticipantId(3),
            device: KeyBytes(vec![3, 3]),
        }]
    );
    assert!(mls(cy, &out).is_empty());
    let out = commit(&mut h, ada, 40, false);
    assert_eq!(mls(bo, &out).len(), 1);
    assert_eq!(any_keys(&out), 0, "never a router key in an E2E meeting");
}

#[test]
fn a_departed_committer_is_replaced_and_a_lone_joiner_founds_afresh() {
    let mut h = seeded(12);
    let claims = e2e_claims(&mut h, "Ada", Role::Host);
    let (ada, _) = h.join_claims(claims);
    key_package(&mut h, ada, 1);
    let claims = e2e_claims(&mut h, "Bo", Role::Participant);
    let (bo, _) = h.join_claims(claims);
    key_package(&mut h, bo, 2);
    commit(&mut h, ada, 20, true);
    let claims = e2e_claims(&mut h, "Cy", Role::Participant);
    let (cy, _) = h.join_claims(claims);
    let out = key_package(&mut h, cy, 3);
    assert_eq!(mls(ada, &out).len(), 1, "Ada is asked to add Cy");
    // Ada leaves before committing: Bo is asked to remove Ada, then add Cy.
    h.send(ada, ClientMessage::Leave);
    let out = h.drain();
    assert!(matches!(
        mls(bo, &out)[..],
        [MlsServerMessage::Add {
            participant_id: ParticipantId(3),
            ..
        }]
    ));
    let out = commit(&mut h, bo, 30, true);
    assert!(matches!(
        mls(cy, &out)[..],
        [MlsServerMessage::Welcome { .. }]
    ));
    assert!(matches!(
        mls(bo, &out)[..],
        [MlsServerMessage::Remove {
            participant_id: ParticipantId(1),
            ..
        }]
    ));
    // Everyone leaves but a newcomer: it founds a new group.
    commit(&mut h, bo, 40, false);
    h.send(bo, ClientMessage::Leave);
    h.send(cy, ClientMessage::Leave);
    h.drain();
    let claims = e2e_claims(&mut h, "Di", Role::Host);
    let (di, _) = h.join_claims(claims);
    let out = key_package(&mut h, di, 4);
    assert_eq!(mls(di, &out), vec![MlsServerMessage::Create {}]);
}

#[test]
fn mls_messages_are_refused_in_standard_meetings_and_key_packages_taken_once() {
    let mut h = seeded(13);
    let claims = h.claims(MEETING, "Ada", Role::Host);
    let (ada, _) = h.join_claims(claims);
    let out = key_package(&mut h, ada, 1);
    assert!(
        to(ada, &out)
            .iter()
            .any(error(ErrorCode::NotAllowed, false))
    );
    assert!(mls(ada, &out).is_empty());

    let mut h = seeded(14);
    let claims = e2e_claims(&mut h, "Ada", Role::Host);
    let (ada, _) = h.join_claims(claims);
    key_package(&mut h, ada, 1);
    let out = key_package(&mut h, ada, 1);
    assert!(
        to(ada, &out)
            .iter()
            .any(error(ErrorCode::NotAllowed, false))
    );
    assert!(mls(ada, &out).is_empty());
}
