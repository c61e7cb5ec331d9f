//! Chat relaying and ping.

use super::*;

#[test]
fn chat_reaches_everyone_exactly_once_with_increasing_ids() {
    let mut h = Harness::new();
    let (a, pa) = h.join("A");
    let (b, _) = h.join("B");
    let (c, _) = h.join("C");
    for round in 1..=2u64 {
        h.send(
            a,
            ClientMessage::Chat {
                to: None,
                text: format!("hello {round}"),
            },
        );
        let out = h.drain();
        let expected = ServerMessage::Chat {
            id: round,
            from: pa,
            to: None,
            text: format!("hello {round}"),
        };
        for conn in [a, b, c] {
            assert_eq!(
                to(conn, &out),
                vec![expected.clone()],
                "{conn} round {round}"
            );
        }
        assert_eq!(out.len(), 3);
    }
}

#[test]
fn private_chat_goes_to_recipient_and_back_to_sender_only() {
    let mut h = Harness::new();
    let (a, pa) = h.join("A");
    let (b, pb) = h.join("B");
    let (c, _) = h.join("C");
    h.send(
        a,
        ClientMessage::Chat {
            to: Some(pb),
            text: "psst".into(),
        },
    );
    let out = h.drain();
    let expected = ServerMessage::Chat {
        id: 1,
        from: pa,
        to: Some(pb),
        text: "psst".into(),
    };
    assert_eq!(to(a, &out), vec![expected.clone()]);
    assert_eq!(to(b, &out), vec![expected]);
    assert!(to(c, &out).is_empty());
    // To oneself: one copy, not two.
    h.send(
        a,
        ClientMessage::Chat {
            to: Some(pa),
            text: "note".into(),
        },
    );
    assert_eq!(h.drain().len(), 1);
}

#[test]
fn bad_chat_is_refused_without_closing() {
    let mut h = Harness::new();
    let (a, _) = h.join("A");
    let (b, _) = h.join("B");
    h.send(
        a,
        ClientMessage::Chat {
            to: Some(ParticipantId(99)),
            text: "hi".into(),
        },
    );
    h.send(
        a,
        ClientMessage::Chat {
            to: None,
            text: String::new(),
        },
    );
    h.send(
        a,
        ClientMessage::Chat {
            to: None,
            text: "x".repeat(confer_wire::control::MAX_CHAT_LEN + 1),
        },
    );
    let out = h.drain();
    let msgs = to(a, &out);
    assert!(error(ErrorCode::UnknownParticipant, false)(&msgs[0]));
    assert!(error(ErrorCode::InvalidChat, false)(&msgs[1]));
    assert!(error(ErrorCode::InvalidChat, false)(&msgs[2]));
    assert!(to(b, &out).is_empty());
    assert!(closes(&out).is_empty());
    // The longest allowed message goes through.
    h.send(
        a,
        ClientMessage::Chat {
            to: None,
            text: "x".repeat(confer_wire::control::MAX_CHAT_LEN),
        },
    );
    assert_eq!(h.drain().len(), 2);
}

#[test]
fn ping_is_answered_with_pong() {
    let mut h = Harness::new();
    let (a, _) = h.join("A");
    h.send(a, ClientMessage::Ping { nonce: 42 });
    assert_eq!(to(a, &h.drain()), vec![ServerMessage::Pong { nonce: 42 }]);
}
