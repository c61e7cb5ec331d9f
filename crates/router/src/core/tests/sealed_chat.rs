//! Sealed chat (E2E meetings): relayed under the chat rules, never read;
//! plain chat refused in E2E meetings and sealed chat in standard ones.

use confer_wire::control::MAX_SEALED_CHAT_LEN;
use confer_wire::host::ChatPolicy;
use confer_wire::keys::KeyBytes;

use super::*;

/// Joins `name` to the E2E meeting `MEETING`.
fn join_e2e(h: &mut Harness, name: &str, role: Role) -> (ConnectionId, ParticipantId) {
    let mut claims = h.claims(MEETING, name, role);
    claims.policy.e2e = true;
    let (conn, out) = h.join_claims(claims);
    let id = to(conn, &out).iter().find_map(|m| match m {
        ServerMessage::Joined { participant_id, .. } => Some(*participant_id),
        _ => None,
    });
    (conn, id.expect("join admitted"))
}

fn sealed(to: Option<ParticipantId>, bytes: &[u8]) -> ClientMessage {
    ClientMessage::SealedChat {
        to,
        ciphertext: KeyBytes(bytes.to_vec()),
    }
}

#[test]
fn sealed_chat_reaches_everyone_unchanged_with_the_chat_ids() {
    let mut h = Harness::new();
    let (a, pa) = join_e2e(&mut h, "A", Role::Host);
    let (b, _) = join_e2e(&mut h, "B", Role::Participant);
    let (c, _) = join_e2e(&mut h, "C", Role::Participant);
    h.drain();
    for round in 1..=2u64 {
        let bytes = [0xc0, 0xff, 0xee, round as u8];
        h.send(a, sealed(None, &bytes));
        let out = h.drain();
        let expected = ServerMessage::SealedChat {
            id: round,
            from: pa,
            to: None,
            ciphertext: KeyBytes(bytes.to_vec()),
        };
        for conn in [a, b, c] {
            assert_eq!(to(conn, &out), vec![expected.clone()], "{conn}");
        }
        assert_eq!(out.len(), 3);
    }
    assert_eq!(h.router.stats().chat_messages, 2);
}

#[test]
fn private_sealed_chat_goes_to_the_recipient_and_back_to_the_sender_only() {
    let mut h = Harness::new();
    let (a, pa) = join_e2e(&mut h, "A", Role::Host);
    let (b, pb) = join_e2e(&mut h, "B", Role::Participant);
    let (c, _) = join_e2e(&mut h, "C", Role::Participant);
    h.drain();
    h.send(b, sealed(Some(pa), b"opaque"));
    let out = h.drain();
    let expected = ServerMessage::SealedChat {
        id: 1,
        from: pb,
        to: Some(pa),
        ciphertext: KeyBytes(b"opaque".to_vec()),
    };
    assert_eq!(to(a, &out), vec![expected.clone()]);
    assert_eq!(to(b, &out), vec![expected]);
    assert!(to(c, &out).is_empty());
    // To someone not in the meeting: refused, nobody hears it.
    h.send(b, sealed(Some(ParticipantId(99)), b"opaque"));
    let out = h.drain();
    assert_eq!(out.len(), 1);
    assert!(
        to(b, &out)
            .iter()
            .any(error(ErrorCode::UnknownParticipant, false))
    );
}

#[test]
fn an_e2e_meeting_refuses_plain_chat_and_a_standard_one_sealed_chat() {
    let mut h = Harness::new();
    let (a, _) = join_e2e(&mut h, "A", Role::Host);
    let (b, _) = join_e2e(&mut h, "B", Role::Participant);
    h.drain();
    h.send(
        b,
        ClientMessage::Chat {
            to: None,
            text: "in clear".into(),
        },
    );
    let out = h.drain();
    assert!(refused_quietly(b, &out), "{out:?}");
    let said = format!("{:?}", to(b, &out));
    assert!(said.contains("must be sealed"), "{said}");
    assert!(to(a, &out).is_empty());
    // The host is no exception.
    h.send(
        a,
        ClientMessage::Chat {
            to: None,
            text: "in clear".into(),
        },
    );
    assert!(refused_quietly(a, &h.drain()));

    let other = MeetingId(7);
    let (s, _) = h.join_meeting(other, "S", Role::Host);
    let (t, _) = h.join_meeting(other, "T", Role::Participant);
    h.drain();
    h.send(s, sealed(None, b"opaque"));
    let out = h.drain();
    assert!(refused_quietly(s, &out), "{out:?}");
    assert!(to(t, &out).is_empty());
    assert_eq!(h.router.stats().chat_messages, 0);
}

#[test]
fn sealed_chat_follows_the_host_chat_rule() {
    let mut h = Harness::new();
    let (a, pa) = join_e2e(&mut h, "A", Role::Host);
    let (b, _) = join_e2e(&mut h, "B", Role::Participant);
    let (c, pc) = join_e2e(&mut h, "C", Role::Participant);
    h.host(
        a,
        HostAction::SetChat {
            chat: ChatPolicy::HostOnly,
        },
    );
    // To everyone, or privately to another participant: refused.
    h.send(b, sealed(None, b"x"));
    assert!(refused_quietly(b, &h.drain()));
    h.send(b, sealed(Some(pc), b"x"));
    assert!(refused_quietly(b, &h.drain()));
    // Privately to the host: relayed.
    h.send(b, sealed(Some(pa), b"x"));
    let out = h.drain();
    assert_eq!(to(a, &out).len(), 1);
    assert!(to(c, &out).is_empty());
    h.host(
        a,
        HostAction::SetChat {
            chat: ChatPolicy::Nobody,
        },
    );
    h.send(b, sealed(Some(pa), b"x"));
    assert!(refused_quietly(b, &h.drain()));
    // The host still may.
    h.send(a, sealed(None, b"x"));
    assert_eq!(h.drain().len(), 3);
}

#[test]
fn empty_or_oversized_sealed_chat_is_refused_without_closing() {
    let mut h = Harness::new();
    let (a, _) = join_e2e(&mut h, "A", Role::Host);
    let (b, _) = join_e2e(&mut h, "B", Role::Participant);
    h.drain();
    h.send(a, sealed(None, b""));
    h.send(a, sealed(None, &vec![7u8; MAX_SEALED_CHAT_LEN + 1]));
    let out = h.drain();
    let errors = to(a, &out);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors.iter().all(error(ErrorCode::InvalidChat, false)));
    assert!(to(b, &out).is_empty());
    // The largest allowed one still goes through.
    h.send(a, sealed(None, &vec![7u8; MAX_SEALED_CHAT_LEN]));
    assert_eq!(to(b, &h.drain()).len(), 1);
    assert!(h.router.is_open(a));
}
