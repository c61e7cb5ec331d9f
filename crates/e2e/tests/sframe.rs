//! Behaviour of the SFrame sender and receiver: round trips, each kind of
//! rejected frame and its count, key changes, counter limits, and garbage.

// Helpers outside #[test] fns fail loudly by design.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use confer_e2e::sframe::{
    MAX_OVERHEAD, OpenedFrame, ReceiverStats, SframeError, SframeReceiver, SframeSender, TAG_LEN,
};

const ALICE: u64 = 0x10;
const BOB: u64 = 0x11;
const ALICE_KEY: &[u8] = &[0xa1; 32];
const BOB_KEY: &[u8] = &[0xb0; 32];
const RTP: &[u8] = b"\x80\x6f\x12\x34\x00\x00\x10\x00\xde\xad\xbe\xef";

fn frame(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 + 7) as u8).collect()
}

fn pair() -> (SframeSender, SframeReceiver) {
    let sender = SframeSender::new(ALICE, ALICE_KEY).unwrap();
    let mut receiver = SframeReceiver::new();
    receiver.add_key(ALICE, ALICE_KEY).unwrap();
    (sender, receiver)
}

#[test]
fn round_trip_of_media_sized_frames() {
    let (mut sender, mut receiver) = pair();
    for (i, len) in [0, 1, 15, 16, 17, 160, 1200, 6250, 65_536]
        .into_iter()
        .enumerate()
    {
        let plain = frame(len);
        let sealed = sender.seal(RTP, &plain).unwrap();
        assert!(sealed.len() <= len + MAX_OVERHEAD);
        if len > 0 {
            let body = &sealed[sealed.len() - TAG_LEN - len..sealed.len() - TAG_LEN];
            assert_ne!(body, &plain[..], "the frame is encrypted");
        }
        let mut out = Vec::new();
        let opened = receiver.open_into(RTP, &sealed, &mut out).unwrap();
        assert_eq!(out, plain);
        assert_eq!(
            opened,
            OpenedFrame {
                key_id: ALICE,
                counter: i as u64
            }
        );
    }
    assert_eq!(receiver.stats().opened, 9);
    assert_eq!(receiver.stats().rejected(), 0);
}

#[test]
fn buffers_are_reused() {
    let (mut sender, mut receiver) = pair();
    let (mut sealed, mut opened) = (Vec::new(), Vec::new());
    for n in 0..100u64 {
        let plain = frame(100 + n as usize);
        assert_eq!(sender.seal_into(RTP, &plain, &mut sealed).unwrap(), n);
        receiver.open_into(RTP, &sealed, &mut opened).unwrap();
        assert_eq!(opened, plain);
    }
}

#[test]
fn tampered_ciphertext_tag_header_or_metadata_fails_authentication() {
    let (mut sender, mut receiver) = pair();
    // Counter 300 makes a two-byte counter field to tamper with.
    let mut sender_at_300 = SframeSender::with_first_counter(ALICE, ALICE_KEY, 300).unwrap();
    let sealed = sender_at_300.seal(RTP, &frame(1200)).unwrap();
    let header_len = 1 + 1 + 2; // config byte, KID 0x10, CTR 0x012c

    // Every single-bit flip in the counter bytes, body and tag.
    let mut flips = 0;
    for byte in (2..sealed.len()).step_by(7).chain([2, 3, sealed.len() - 1]) {
        for bit in [0, 3, 7] {
            let mut bad = sealed.clone();
            bad[byte] ^= 1 << bit;
            let mut out = vec![0xee; 8];
            let err = receiver.open_into(RTP, &bad, &mut out).unwrap_err();
            assert!(
                matches!(err, SframeError::AuthenticationFailed { key_id: ALICE, .. }),
                "byte {byte} bit {bit}: {err:?}"
            );
            assert!(out.is_empty(), "no unauthenticated bytes are handed out");
            flips += 1;
        }
    }

    // Metadata is authenticated too.
    let mut rtp = RTP.to_vec();
    rtp[3] ^= 1;
    assert_eq!(
        receiver.open(&rtp, &sealed),
        Err(SframeError::AuthenticationFailed {
            key_id: ALICE,
            counter: 300
        })
    );
    assert!(matches!(
        receiver.open(b"", &sealed),
        Err(SframeError::AuthenticationFailed { .. })
    ));
    flips += 2;

    // Failed frames did not touch the replay window: the genuine one opens.
    assert_eq!(receiver.open(RTP, &sealed).unwrap(), frame(1200));
    assert!(sealed.len() > header_len);
    assert_eq!(receiver.stats().auth_failed, flips);
    assert_eq!(receiver.stats().opened, 1);
    // The untouched sender is unaffected by all this.
    let first = sender.seal(RTP, b"x").unwrap();
    assert_eq!(receiver.open(RTP, &first).unwrap(), b"x");
}

#[test]
fn wrong_key_under_a_known_kid_fails_authentication() {
    let mut impostor = SframeSender::new(ALICE, BOB_KEY).unwrap();
    let (_, mut receiver) = pair();
    let sealed = impostor.seal(RTP, b"hello").unwrap();
    assert_eq!(
        receiver.open(RTP, &sealed),
        Err(SframeError::AuthenticationFailed {
            key_id: ALICE,
            counter: 0
        })
    );
}

#[test]
fn unknown_and_removed_key_ids_are_rejected() {
    let (mut alice, mut receiver) = pair();
    let mut bob = SframeSender::new(BOB, BOB_KEY).unwrap();

    let from_bob = bob.seal(RTP, b"hi").unwrap();
    assert_eq!(
        receiver.open(RTP, &from_bob),
        Err(SframeError::UnknownKeyId { key_id: BOB })
    );

    receiver.add_key(BOB, BOB_KEY).unwrap();
    assert_eq!(receiver.open(RTP, &from_bob).unwrap(), b"hi");

    let from_alice = alice.seal(RTP, b"bye").unwrap();
    assert!(receiver.remove_key(ALICE));
    assert!(!receiver.remove_key(ALICE));
    assert!(!receiver.has_key(ALICE));
    assert_eq!(receiver.key_ids().collect::<Vec<_>>(), vec![BOB]);
    assert_eq!(
        receiver.open(RTP, &from_alice),
        Err(SframeError::UnknownKeyId { key_id: ALICE })
    );
    assert_eq!(receiver.stats().unknown_key_id, 2);
    assert_eq!(receiver.stats().opened, 1);
}

#[test]
fn a_key_id_cannot_be_installed_twice() {
    let (_, mut receiver) = pair();
    assert_eq!(
        receiver.add_key(ALICE, BOB_KEY),
        Err(SframeError::DuplicateKeyId { key_id: ALICE })
    );
}

#[test]
fn replayed_frames_are_rejected_and_counted() {
    let (mut sender, mut receiver) = pair();
    let first = sender.seal(RTP, b"one").unwrap();
    let second = sender.seal(RTP, b"two").unwrap();
    receiver.open(RTP, &first).unwrap();
    receiver.open(RTP, &second).unwrap();
    for _ in 0..3 {
        assert_eq!(
            receiver.open(RTP, &first),
            Err(SframeError::Replayed {
                key_id: ALICE,
                counter: 0
            })
        );
    }
    assert_eq!(
        receiver.open(RTP, &second),
        Err(SframeError::Replayed {
            key_id: ALICE,
            counter: 1
        })
    );
    assert_eq!(receiver.stats().replayed, 4);
}

#[test]
fn reordering_inside_the_window_is_accepted_once_and_older_is_too_old() {
    let mut sender = SframeSender::new(ALICE, ALICE_KEY).unwrap();
    let mut receiver = SframeReceiver::with_replay_window(64).unwrap();
    receiver.add_key(ALICE, ALICE_KEY).unwrap();
    let frames: Vec<Vec<u8>> = (0..200).map(|_| sender.seal(RTP, b"f").unwrap()).collect();

    // Newest first, then late ones inside the window: all accepted once.
    receiver.open(RTP, &frames[150]).unwrap();
    for late in [149, 120, 100, 87] {
        receiver.open(RTP, &frames[late]).unwrap();
        assert!(matches!(
            receiver.open(RTP, &frames[late]),
            Err(SframeError::Replayed { .. })
        ));
    }
    // 150 - 64 = 86 has slid out of the window.
    assert_eq!(
        receiver.open(RTP, &frames[86]),
        Err(SframeError::TooOld {
            key_id: ALICE,
            counter: 86
        })
    );
    assert_eq!(
        receiver.open(RTP, &frames[3]),
        Err(SframeError::TooOld {
            key_id: ALICE,
            counter: 3
        })
    );
    // A jump forward clears the window.
    receiver.open(RTP, &frames[199]).unwrap();
    assert!(matches!(
        receiver.open(RTP, &frames[150]),
        Err(SframeError::Replayed { .. })
    ));
    assert!(matches!(
        receiver.open(RTP, &frames[120]),
        Err(SframeError::TooOld { .. })
    ));

    let stats = receiver.stats();
    assert_eq!((stats.opened, stats.replayed, stats.too_old), (6, 5, 3));
}

#[test]
fn replay_windows_are_per_key_id() {
    let (mut alice, mut receiver) = pair();
    let mut bob = SframeSender::new(BOB, BOB_KEY).unwrap();
    receiver.add_key(BOB, BOB_KEY).unwrap();
    // Both senders use counter 0: neither is a replay of the other.
    let a = alice.seal(RTP, b"a").unwrap();
    let b = bob.seal(RTP, b"b").unwrap();
    assert_eq!(
        receiver.open_into(RTP, &a, &mut Vec::new()).unwrap().key_id,
        ALICE
    );
    assert_eq!(
        receiver.open_into(RTP, &b, &mut Vec::new()).unwrap().key_id,
        BOB
    );
}

#[test]
fn sender_counters_never_wrap() {
    let mut sender = SframeSender::with_first_counter(ALICE, ALICE_KEY, u64::MAX - 1).unwrap();
    let (_, mut receiver) = pair();
    let a = sender.seal(RTP, b"a").unwrap();
    let b = sender.seal(RTP, b"b").unwrap();
    assert_eq!(sender.next_counter(), None);
    let mut out = Vec::from(&b"stale"[..]);
    assert_eq!(
        sender.seal_into(RTP, b"c", &mut out),
        Err(SframeError::CounterExhausted { key_id: ALICE })
    );
    assert!(out.is_empty());
    assert_eq!(
        receiver.open_into(RTP, &a, &mut out).unwrap().counter,
        u64::MAX - 1
    );
    assert_eq!(
        receiver.open_into(RTP, &b, &mut out).unwrap().counter,
        u64::MAX
    );
    // A frame from counter 0 is far behind u64::MAX now: stale, not "newer".
    let mut fresh = SframeSender::new(ALICE, ALICE_KEY).unwrap();
    let zero = fresh.seal(RTP, b"z").unwrap();
    assert!(matches!(
        receiver.open(RTP, &zero),
        Err(SframeError::TooOld { .. })
    ));

    // Rekeying under a new KID starts over at 0.
    sender.rekey(BOB, BOB_KEY).unwrap();
    assert_eq!((sender.key_id(), sender.next_counter()), (BOB, Some(0)));
    receiver.add_key(BOB, BOB_KEY).unwrap();
    let c = sender.seal(RTP, b"c").unwrap();
    assert_eq!(receiver.open(RTP, &c).unwrap(), b"c");
}

#[test]
fn replay_window_size_is_checked() {
    assert_eq!(
        SframeReceiver::with_replay_window(0).unwrap_err(),
        SframeError::InvalidReplayWindow {
            size: 0,
            max: SframeReceiver::MAX_REPLAY_WINDOW
        }
    );
    assert!(SframeReceiver::with_replay_window(SframeReceiver::MAX_REPLAY_WINDOW + 1).is_err());
    assert!(SframeReceiver::with_replay_window(1).is_ok());
    assert!(SframeReceiver::with_replay_window(SframeReceiver::MAX_REPLAY_WINDOW).is_ok());
}

#[test]
fn window_of_one_accepts_only_newer_counters() {
    let mut sender = SframeSender::new(ALICE, ALICE_KEY).unwrap();
    let mut receiver = SframeReceiver::with_replay_window(1).unwrap();
    receiver.add_key(ALICE, ALICE_KEY).unwrap();
    let f0 = sender.seal(RTP, b"0").unwrap();
    let f1 = sender.seal(RTP, b"1").unwrap();
    receiver.open(RTP, &f1).unwrap();
    assert!(matches!(
        receiver.open(RTP, &f0),
        Err(SframeError::TooOld { .. })
    ));
    assert!(matches!(
        receiver.open(RTP, &f1),
        Err(SframeError::Replayed { .. })
    ));
}

#[test]
fn every_outcome_is_counted_separately() {
    let (mut sender, mut receiver) = pair();
    let good = sender.seal(RTP, b"payload").unwrap();
    let mut tampered = sender.seal(RTP, b"payload").unwrap();
    *tampered.last_mut().unwrap() ^= 0x80;
    let unknown = SframeSender::new(BOB, BOB_KEY)
        .unwrap()
        .seal(RTP, b"x")
        .unwrap();

    receiver.open(RTP, &good).unwrap();
    receiver.open(RTP, &good).unwrap_err();
    receiver.open(RTP, &tampered).unwrap_err();
    receiver.open(RTP, &unknown).unwrap_err();
    receiver.open(RTP, &[0x88]).unwrap_err();
    receiver.open(RTP, &[]).unwrap_err();

    let stats = receiver.stats();
    let mut expected = ReceiverStats::default();
    expected.opened = 1;
    expected.replayed = 1;
    expected.auth_failed = 1;
    expected.unknown_key_id = 1;
    expected.malformed = 2;
    assert_eq!(stats, expected);
    assert_eq!(stats.rejected(), 5);
    // Key management errors are not frame outcomes and are not counted.
    receiver.add_key(ALICE, ALICE_KEY).unwrap_err();
    assert_eq!(receiver.stats(), expected);
}

#[test]
fn garbage_never_panics() {
    let (mut sender, mut receiver) = pair();
    let genuine = sender.seal(RTP, &frame(300)).unwrap();
    // A fixed-seed xorshift keeps this deterministic.
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut out = Vec::new();
    for _ in 0..20_000 {
        let len = (next() % 64) as usize;
        let mut bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        if next() % 2 == 0 {
            // Genuine header, random rest.
            bytes = [&genuine[..2], &bytes[..]].concat();
        }
        if receiver.open_into(RTP, &bytes, &mut out).is_ok() {
            panic!("random bytes opened: {bytes:02x?}");
        }
        assert!(out.is_empty());
    }
    assert_eq!(receiver.stats().rejected(), 20_000);
    assert_eq!(receiver.stats().opened, 0);
}

#[test]
fn debug_output_shows_no_key_material() {
    let (sender, mut receiver) = pair();
    receiver.add_key(BOB, BOB_KEY).unwrap();
    let text = format!("{sender:?} {receiver:?}");
    assert!(!text.contains("161, 161"), "{text}"); // 0xa1 bytes of ALICE_KEY
    assert!(text.contains("key_ids: [16, 17]"), "{text}");
}
