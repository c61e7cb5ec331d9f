//! Sealed chat in E2E meetings: sessions form a real MLS group (this test
//! plays the router's delivery), chat goes out sealed, waits for the group
//! when needed, opens at the others as `e2e`, and bad input is counted,
//! never shown and never a panic. Plus reactions.

use base64::Engine as _;
use confer_wire::keys::{KeyBytes, MlsClientMessage, MlsServerMessage};

use super::*;
use crate::session::SessionError;

const BO: ParticipantId = ParticipantId(3);

fn e2e_token() -> String {
    let claims = serde_json::json!({"sub": "u", "policy": {"e2e": true}});
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("e30.{payload}.sig")
}

/// An E2E session admitted as `id`, and the key package it sent.
fn admitted(id: ParticipantId) -> (Session, KeyBytes, KeyBytes) {
    let t0 = Instant::now();
    let mut s = Session::new(SessionConfig::new(MEETING, e2e_token()), t0);
    let mut msg = joined_msg();
    if let ServerMessage::Joined { participant_id, .. } = &mut msg {
        *participant_id = id;
    }
    s.handle_message(t0, msg);
    let out = drain(&mut s);
    let sent = controls(&out).into_iter().find_map(|m| match m {
        ClientMessage::Mls(MlsClientMessage::KeyPackage {
            key_package,
            device,
        }) => Some((key_package.clone(), device.clone())),
        _ => None,
    });
    let (key_package, device) = sent.expect("an E2E session sends its key package");
    (s, key_package, device)
}

fn give(s: &mut Session, msg: ServerMessage) -> Vec<Output> {
    s.handle_message(Instant::now(), msg);
    drain(s)
}

/// `founder` creates the group and adds `joiner` (not yet welcomed);
/// returns the welcome.
fn add(founder: &mut Session, joiner: ParticipantId, kp: KeyBytes, device: KeyBytes) -> KeyBytes {
    let out = give(
        founder,
        ServerMessage::Mls(MlsServerMessage::Add {
            participant_id: joiner,
            key_package: kp,
            device,
        }),
    );
    let welcome = controls(&out).into_iter().find_map(|m| match m {
        ClientMessage::Mls(MlsClientMessage::Commit {
            welcome: Some(w), ..
        }) => Some(w.clone()),
        _ => None,
    });
    welcome.expect("the add commit carries a welcome")
}

fn sealed_out(out: &[Output]) -> Vec<(Option<ParticipantId>, KeyBytes)> {
    controls(out)
        .into_iter()
        .filter_map(|m| match m {
            ClientMessage::SealedChat { to, ciphertext } => Some((*to, ciphertext.clone())),
            _ => None,
        })
        .collect()
}

fn relayed(id: u64, from: ParticipantId, to: Option<ParticipantId>, c: &KeyBytes) -> ServerMessage {
    ServerMessage::SealedChat {
        id,
        from,
        to,
        ciphertext: c.clone(),
    }
}

/// Ada founds the group; "me" (ME) queues chat before its welcome.
fn two_in_a_group() -> (Session, Session) {
    let (mut ada, _, _) = admitted(ADA);
    give(&mut ada, ServerMessage::Mls(MlsServerMessage::Create {}));
    let (mut me, kp, device) = admitted(ME);
    let welcome = add(&mut ada, ME, kp, device);
    give(
        &mut me,
        ServerMessage::Mls(MlsServerMessage::Welcome { from: ADA, welcome }),
    );
    (ada, me)
}

#[test]
fn chat_waits_for_the_group_then_goes_out_sealed_and_opens_as_e2e() -> Result<(), SessionError> {
    let (mut ada, _, _) = admitted(ADA);
    give(&mut ada, ServerMessage::Mls(MlsServerMessage::Create {}));
    let (mut me, kp, device) = admitted(ME);
    // Not in the group yet: nothing goes out, in clear or otherwise.
    me.send_chat(None, "first, queued")?;
    me.send_chat(Some(ADA), "second, private")?;
    assert!(controls(&drain(&mut me)).is_empty());

    let welcome = add(&mut ada, ME, kp, device);
    let out = give(
        &mut me,
        ServerMessage::Mls(MlsServerMessage::Welcome { from: ADA, welcome }),
    );
    let sent = sealed_out(&out);
    assert_eq!(sent.len(), 2, "{out:?}");
    assert_eq!(sent[1].0, Some(ADA));
    for (_, ciphertext) in &sent {
        let bytes = ciphertext.as_bytes();
        assert!(!bytes.windows(6).any(|w| w == b"queued" || w == b"privat"));
    }
    assert!(
        !controls(&out)
            .iter()
            .any(|m| matches!(m, ClientMessage::Chat { .. }))
    );

    // Ada opens both; the router's echo shows as our own.
    let out = give(&mut ada, relayed(1, ME, None, &sent[0].1));
    assert!(matches!(
        events(&out)[..],
        [Event::Chat { own: false, e2e: true, from, text, .. }] if *from == ME && text == "first, queued"
    ));
    let out = give(&mut ada, relayed(2, ME, Some(ADA), &sent[1].1));
    assert!(matches!(
        events(&out)[..],
        [Event::Chat { e2e: true, to: Some(to), text, .. }] if *to == ADA && text == "second, private"
    ));
    assert_eq!(ada.chat_received().len(), 2);
    assert!(ada.chat_received().iter().all(|r| r.e2e));
    let out = give(&mut me, relayed(1, ME, None, &sent[0].1));
    assert!(matches!(
        events(&out)[..],
        [Event::Chat { own: true, e2e: true, text, .. }] if text == "first, queued"
    ));
    assert_eq!(me.chat_sent(), 2);
    assert_eq!(ada.encryption_stats().decrypt_failures, 0);
    Ok(())
}

#[test]
fn tampered_misattributed_or_redirected_sealed_chat_is_counted_not_shown()
-> Result<(), SessionError> {
    let (mut ada, mut me) = two_in_a_group();
    drain(&mut ada);
    me.send_chat(None, "authentic")?;
    let sent = sealed_out(&drain(&mut me));
    let ciphertext = &sent[0].1;

    let mut tampered = ciphertext.clone();
    if let Some(last) = tampered.0.last_mut() {
        *last ^= 1;
    }
    let attempts = [
        relayed(1, ME, None, &tampered),
        // The router claims someone else sent it.
        relayed(2, BO, None, ciphertext),
        // The router passes a message to everyone off as private.
        relayed(3, ME, Some(ADA), ciphertext),
        relayed(4, ME, None, &KeyBytes(vec![0xff; 40])),
        relayed(5, ME, None, &KeyBytes(Vec::new())),
    ];
    let count = attempts.len() as u64;
    for msg in attempts {
        let out = give(&mut ada, msg);
        assert!(events(&out).is_empty(), "{out:?}");
    }
    assert_eq!(ada.encryption_stats().decrypt_failures, count);
    assert!(ada.chat_received().is_empty());
    assert!(!ada.is_ended());
    Ok(())
}

#[test]
fn the_queue_is_bounded_and_plain_chat_is_refused_in_e2e() {
    let (mut me, _, _) = admitted(ME);
    for n in 0..32 {
        assert_eq!(me.send_chat(None, &format!("m{n}")), Ok(()));
    }
    assert_eq!(
        me.send_chat(None, "one too many"),
        Err(SessionError::ChatQueueFull(32))
    );
    // The router relaying plain text in an E2E meeting is a violation.
    let out = give(
        &mut me,
        ServerMessage::Chat {
            id: 1,
            from: ADA,
            to: None,
            text: "in clear".into(),
        },
    );
    assert!(
        events(&out)
            .iter()
            .any(|e| matches!(e, Event::ProtocolViolation(_)))
    );
    assert!(me.chat_received().is_empty());
}

#[test]
fn a_standard_meeting_sends_plain_chat_and_refuses_sealed() -> Result<(), SessionError> {
    let t0 = Instant::now();
    let mut s = Session::new(SessionConfig::new(MEETING, "t"), t0);
    s.handle_message(t0, joined_msg());
    drain(&mut s);
    s.send_chat(None, "hi")?;
    let out = drain(&mut s);
    assert!(matches!(controls(&out)[..], [ClientMessage::Chat { .. }]));
    let out = give(&mut s, relayed(1, ADA, None, &KeyBytes(vec![1, 2, 3])));
    assert!(matches!(events(&out)[..], [Event::ProtocolViolation(_)]));
    Ok(())
}

#[test]
fn reactions_go_out_and_come_back_as_events() -> Result<(), SessionError> {
    let t0 = Instant::now();
    let mut s = Session::new(SessionConfig::new(MEETING, "t"), t0);
    assert!(matches!(s.react("👍"), Err(SessionError::NotJoined(_))));
    s.handle_message(t0, joined_msg());
    drain(&mut s);
    s.react("🎉")?;
    assert_eq!(
        controls(&drain(&mut s)),
        vec![&ClientMessage::React {
            emoji: "🎉".into()
        }]
    );
    assert_eq!(
        s.react("👎"),
        Err(SessionError::InvalidReaction("👎".into()))
    );
    assert!(controls(&drain(&mut s)).is_empty());
    let out = give(
        &mut s,
        ServerMessage::Reaction {
            from: ADA,
            emoji: "👏".into(),
        },
    );
    assert!(matches!(
        events(&out)[..],
        [Event::Reaction { from, from_name: Some(name), emoji }]
            if *from == ADA && name == "Ada" && emoji == "👏"
    ));
    assert_eq!(s.reactions().len(), 1);
    assert_eq!(s.reactions()[0].emoji, "👏");
    Ok(())
}
