//! Reactions: a fixed set, relayed to everyone, one per participant per
//! interval on the virtual clock.

use confer_wire::control::{REACTION_INTERVAL_MS, REACTIONS};

use super::*;

fn react(emoji: &str) -> ClientMessage {
    ClientMessage::React {
        emoji: emoji.into(),
    }
}

#[test]
fn every_allowed_reaction_reaches_everyone_sender_included() {
    let mut h = Harness::new();
    let (a, pa) = h.join("A");
    let (b, _) = h.join("B");
    let (c, _) = h.join("C");
    h.drain();
    for emoji in REACTIONS {
        h.send(a, react(emoji));
        let out = h.drain();
        let expected = ServerMessage::Reaction {
            from: pa,
            emoji: emoji.to_owned(),
        };
        for conn in [a, b, c] {
            assert_eq!(to(conn, &out), vec![expected.clone()], "{emoji} {conn}");
        }
        h.advance(Duration::from_millis(REACTION_INTERVAL_MS));
    }
    assert_eq!(h.router.stats().reactions, REACTIONS.len() as u64);
}

#[test]
fn anything_outside_the_set_is_refused_and_nobody_hears_it() {
    let mut h = Harness::new();
    let (a, _) = h.join("A");
    let (b, _) = h.join("B");
    h.drain();
    for bad in ["", "👎", "thumbs up", "👍👍", "❤", "<script>"] {
        h.send(a, react(bad));
        let out = h.drain();
        assert_eq!(out.len(), 1, "{bad:?}");
        assert!(
            to(a, &out)
                .iter()
                .any(error(ErrorCode::InvalidReaction, false)),
            "{bad:?}"
        );
        assert!(to(b, &out).is_empty());
    }
    // A refused reaction does not count against the rate limit.
    h.send(a, react("👍"));
    assert_eq!(to(b, &h.drain()).len(), 1);
}

#[test]
fn one_reaction_per_participant_per_interval() {
    let mut h = Harness::new();
    let (a, _) = h.join("A");
    let (b, pb) = h.join("B");
    h.drain();
    h.send(a, react("👏"));
    assert_eq!(to(b, &h.drain()).len(), 1);
    // Too soon: refused, with a clear reason, and not relayed.
    h.advance(Duration::from_millis(REACTION_INTERVAL_MS - 1));
    h.send(a, react("👏"));
    let out = h.drain();
    let refusal = to(a, &out);
    assert!(refusal.iter().any(error(ErrorCode::RateLimited, false)));
    assert!(format!("{refusal:?}").contains("500 ms"), "{refusal:?}");
    assert!(to(b, &out).is_empty());
    // Someone else is not limited by A's reactions.
    h.send(b, react("🎉"));
    let out = h.drain();
    assert!(to(a, &out).contains(&ServerMessage::Reaction {
        from: pb,
        emoji: "🎉".into(),
    }));
    // Once the interval since A's last *relayed* reaction has passed: relayed.
    h.advance(Duration::from_millis(1));
    h.send(a, react("👏"));
    assert_eq!(to(b, &h.drain()).len(), 1);
    assert!(h.router.is_open(a));
    assert_eq!(h.router.stats().reactions, 3);
}
