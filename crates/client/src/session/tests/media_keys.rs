//! Media keys in the session: frames sealed by one session open in another
//! holding the same epoch; after a rotation the removed participant's
//! session can no longer open them, and the failure is counted.

use base64::Engine as _;
use confer_wire::keys::{KeyBytes, MediaKey};

use super::*;
use crate::session::{Encryption, FrameCryptoError, standard_key_id};

const BO: ParticipantId = ParticipantId(3);
const META: &[u8] = b"ssrc";

/// A session admitted as `id` with `token`.
fn admitted(id: ParticipantId, token: &str) -> Session {
    let t0 = Instant::now();
    let mut s = Session::new(SessionConfig::new(MEETING, token), t0);
    let mut msg = joined_msg();
    if let ServerMessage::Joined { participant_id, .. } = &mut msg {
        *participant_id = id;
    }
    s.handle_message(t0, msg);
    drain(&mut s);
    s
}

fn key(epoch: u64, byte: u8) -> ServerMessage {
    ServerMessage::MediaKey(MediaKey {
        epoch,
        key: KeyBytes(vec![byte; 32]),
    })
}

fn give(s: &mut Session, msg: ServerMessage) -> Vec<Output> {
    s.handle_message(Instant::now(), msg);
    drain(s)
}

fn violations(out: &[Output]) -> usize {
    events(out)
        .iter()
        .filter(|e| matches!(e, Event::ProtocolViolation(_)))
        .count()
}

fn frame_error(result: Result<Vec<u8>, SessionError>) -> FrameCryptoError {
    match result {
        Err(SessionError::FrameCrypto(e)) => e,
        other => panic!("expected a frame crypto error, got {other:?}"),
    }
}

#[test]
fn nothing_is_sealed_before_the_first_key() {
    let mut ada = admitted(ADA, "t");
    let refused = ada.seal_frame(0, META, b"opus frame");
    assert_eq!(frame_error(refused), FrameCryptoError::NoKey);
    let stats = ada.encryption_stats();
    assert_eq!(stats.frames_without_key, 1);
    assert_eq!(stats.frames_sealed, 0);
    assert_eq!(stats.key_epochs_seen, 0);
    assert_eq!(stats.encryption, Encryption::Standard);
}

#[test]
fn a_frame_opens_in_another_session_holding_the_same_epoch() {
    let mut ada = admitted(ADA, "t");
    let mut bo = admitted(BO, "t");
    assert_eq!(violations(&give(&mut ada, key(1, 7))), 0);
    give(&mut bo, key(1, 7));
    let sealed = ada.seal_frame(0, META, b"opus frame").unwrap();
    assert_ne!(&sealed[..], b"opus frame");
    assert!(
        !sealed.windows(10).any(|w| w == b"opus frame"),
        "the frame travels encrypted"
    );
    assert_eq!(bo.open_frame(ADA, META, &sealed).unwrap(), b"opus frame");
    // The metadata is authenticated: another SSRC does not open it.
    let sealed = ada.seal_frame(0, META, b"second").unwrap();
    assert!(matches!(
        frame_error(bo.open_frame(ADA, b"other", &sealed)),
        FrameCryptoError::Sframe(_)
    ));
    let stats = bo.encryption_stats();
    assert_eq!(stats.frames_opened, 1);
    assert_eq!(stats.decrypt_failures, 1);
    assert_eq!(stats.key_epochs_seen, 1);
    assert_eq!(stats.current_epoch, Some(1));
}

#[test]
fn after_a_rotation_the_removed_participant_cannot_open_new_frames() {
    let mut ada = admitted(ADA, "t");
    let mut bo = admitted(BO, "t");
    let mut cy = admitted(ParticipantId(4), "t");
    for s in [&mut ada, &mut bo, &mut cy] {
        give(s, key(1, 1));
    }
    let before = ada.seal_frame(0, META, b"before").unwrap();
    assert_eq!(cy.open_frame(ADA, META, &before).unwrap(), b"before");
    // Cy is expelled: the router sends epoch 2 to Ada and Bo only.
    give(&mut ada, key(2, 2));
    give(&mut bo, key(2, 2));
    let after = ada.seal_frame(0, META, b"after").unwrap();
    assert_eq!(bo.open_frame(ADA, META, &after).unwrap(), b"after");
    let refused = frame_error(cy.open_frame(ADA, META, &after));
    assert_eq!(
        refused,
        FrameCryptoError::Sframe(confer_e2e::sframe::SframeError::UnknownKeyId {
            key_id: standard_key_id(2, ADA)
        })
    );
    assert_eq!(cy.encryption_stats().decrypt_failures, 1);
    assert_eq!(bo.encryption_stats().key_epochs_seen, 2);
    assert_eq!(cy.encryption_stats().key_epochs_seen, 1);
    // A frame sealed just before the rotation still opens for Bo.
    assert_eq!(bo.open_frame(ADA, META, &before).unwrap(), b"before");
}

#[test]
fn only_the_two_newest_epochs_open() {
    let mut ada = admitted(ADA, "t");
    let mut bo = admitted(BO, "t");
    give(&mut ada, key(1, 1));
    let epoch1 = ada.seal_frame(0, META, b"one").unwrap();
    give(&mut ada, key(2, 2));
    let epoch2 = ada.seal_frame(0, META, b"two").unwrap();
    for (epoch, byte) in [(1, 1), (2, 2), (3, 3)] {
        give(&mut bo, key(epoch, byte));
    }
    assert_eq!(bo.open_frame(ADA, META, &epoch2).unwrap(), b"two");
    assert!(matches!(
        frame_error(bo.open_frame(ADA, META, &epoch1)),
        FrameCryptoError::Sframe(confer_e2e::sframe::SframeError::UnknownKeyId { .. })
    ));
}

#[test]
fn tampered_replayed_and_misattributed_frames_are_refused_and_counted() {
    let mut ada = admitted(ADA, "t");
    let mut bo = admitted(BO, "t");
    give(&mut ada, key(1, 9));
    give(&mut bo, key(1, 9));
    let sealed = ada.seal_frame(0, META, b"frame").unwrap();
    let mut tampered = sealed.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert!(matches!(
        frame_error(bo.open_frame(ADA, META, &tampered)),
        FrameCryptoError::Sframe(confer_e2e::sframe::SframeError::AuthenticationFailed { .. })
    ));
    assert_eq!(bo.open_frame(ADA, META, &sealed).unwrap(), b"frame");
    assert!(matches!(
        frame_error(bo.open_frame(ADA, META, &sealed)),
        FrameCryptoError::Sframe(confer_e2e::sframe::SframeError::Replayed { .. })
    ));
    // Ada's frame presented as someone else's stream.
    let sealed = ada.seal_frame(0, META, b"frame").unwrap();
    assert_eq!(
        frame_error(bo.open_frame(ParticipantId(9), META, &sealed)),
        FrameCryptoError::WrongSender {
            sender: ParticipantId(9),
            claimed: ADA
        }
    );
    assert_eq!(bo.encryption_stats().decrypt_failures, 3);
    assert_eq!(bo.encryption_stats().frames_opened, 1);
}

#[test]
fn stale_and_malformed_keys_are_violations_and_change_nothing() {
    let mut ada = admitted(ADA, "t");
    give(&mut ada, key(2, 2));
    for bad in [
        key(2, 3),
        key(1, 1),
        ServerMessage::MediaKey(MediaKey {
            epoch: 3,
            key: KeyBytes(vec![1; 16]),
        }),
        key(0, 1),
        key(1 << 40, 1),
    ] {
        assert_eq!(violations(&give(&mut ada, bad.clone())), 1, "{bad:?}");
    }
    assert_eq!(ada.encryption_stats().current_epoch, Some(2));
    assert_eq!(ada.encryption_stats().key_epochs_seen, 1);
}

#[test]
fn an_e2e_meeting_refuses_router_keys() {
    let claims = serde_json::json!({"sub": "u", "policy": {"e2e": true}});
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims.to_string());
    let mut ada = admitted(ADA, &format!("e30.{payload}.sig"));
    assert_eq!(ada.encryption_stats().encryption, Encryption::E2e);
    assert_eq!(violations(&give(&mut ada, key(1, 1))), 1);
    assert_eq!(
        frame_error(ada.seal_frame(0, META, b"x")),
        FrameCryptoError::NoKey
    );
    assert_eq!(ada.encryption_stats().key_epochs_seen, 0);
}

#[test]
fn a_key_before_joined_is_not_taken() {
    let t0 = Instant::now();
    let mut s = Session::new(SessionConfig::new(MEETING, "t"), t0);
    drain(&mut s);
    s.handle_message(t0, key(1, 1));
    assert_eq!(s.encryption_stats().key_epochs_seen, 0);
}
