//! MLS meeting groups: membership, agreement on keys and security codes,
//! and what a removed member can no longer do.

use confer_e2e::device::{DeviceIdentity, DevicePublicKeys};
use confer_e2e::mls::{GroupEvent, MeetingGroup, MlsError, PendingJoin};
use confer_e2e::sframe::{SframeError, SframeReceiver};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Alice creates; Bob and Carol join in one commit.
fn three_members() -> Result<([MeetingGroup; 3], [DeviceIdentity; 3]), Box<dyn std::error::Error>> {
    let devices = [
        DeviceIdentity::generate()?,
        DeviceIdentity::generate()?,
        DeviceIdentity::generate()?,
    ];
    let [a, b, c] = &devices;
    let mut alice = MeetingGroup::create(a)?;
    let bob = PendingJoin::new(b)?;
    let carol = PendingJoin::new(c)?;
    let added = alice.add_members(&[
        (bob.key_package(), b.public_keys()),
        (carol.key_package(), c.public_keys()),
    ])?;
    let bob = bob.join(&added.welcome)?;
    let carol = carol.join(&added.welcome)?;
    Ok(([alice, bob, carol], devices))
}

fn joiner(device: &DeviceIdentity) -> Result<(PendingJoin, DevicePublicKeys), MlsError> {
    Ok((PendingJoin::new(device)?, device.public_keys().clone()))
}

#[test]
fn three_members_agree_on_epoch_code_and_keys() -> TestResult {
    let ([alice, bob, carol], devices) = three_members()?;
    assert_eq!(alice.epoch(), 1);
    assert_eq!(bob.epoch(), 1);
    assert_eq!(carol.epoch(), 1);
    let code = alice.security_code()?;
    assert_eq!(bob.security_code()?, code);
    assert_eq!(carol.security_code()?, code);
    assert_eq!(code.to_string().len(), 14);
    assert_eq!(*alice.sframe_base_key()?, *bob.sframe_base_key()?);
    assert_eq!(*alice.sframe_base_key()?, *carol.sframe_base_key()?);

    // Everyone's view of the roster verifies against the device directory.
    let members = bob.members();
    assert_eq!(members.len(), 3);
    for (member, device) in members.iter().zip(&devices) {
        assert_eq!(member.device_id, Some(device.device_id()));
        for group in [&alice, &bob, &carol] {
            group.verify_member(member.index, device.public_keys())?;
        }
    }
    assert!(matches!(
        carol.verify_member(0, devices[1].public_keys()),
        Err(MlsError::CredentialMismatch { .. })
    ));
    // Distinct key ids per sender.
    let ids = [alice.own_index(), bob.own_index(), carol.own_index()]
        .into_iter()
        .map(|index| alice.sframe_key_id(index))
        .collect::<Result<Vec<_>, _>>()?;
    assert_ne!(ids[0], ids[1]);
    assert_ne!(ids[1], ids[2]);

    // Each member's frames open at the other two.
    let members = [&alice, &bob, &carol];
    for (i, sender) in members.iter().enumerate() {
        let mut sealer = sender.sframe_sender()?;
        let frame = sealer.seal(b"rtp", format!("frame from {i}").as_bytes())?;
        for (j, receiver_member) in members.iter().enumerate() {
            if i == j {
                continue;
            }
            let mut receiver = SframeReceiver::new();
            let installed = receiver_member.install_sframe_keys(&mut receiver)?;
            assert_eq!(installed.len(), 2);
            assert_eq!(
                receiver.open(b"rtp", &frame)?,
                format!("frame from {i}").as_bytes()
            );
        }
    }
    Ok(())
}

#[test]
fn after_removal_the_rest_advance_and_the_removed_member_is_locked_out() -> TestResult {
    let ([mut alice, mut bob, mut carol], _devices) = three_members()?;
    let old_code = alice.security_code()?;
    // Carol's receiver, keyed for epoch 1 as she leaves.
    let mut carol_receiver = SframeReceiver::new();
    carol.install_sframe_keys(&mut carol_receiver)?;
    let carol_old_base_key = carol.sframe_base_key()?;

    let commit = alice.remove_members(&[carol.own_index()])?;
    assert_eq!(
        bob.process_message(&commit)?,
        GroupEvent::NewEpoch { epoch: 2 }
    );
    assert_eq!(carol.process_message(&commit)?, GroupEvent::Removed);

    assert_eq!(alice.epoch(), 2);
    assert_eq!(bob.epoch(), 2);
    assert_eq!(alice.members().len(), 2);
    let code = alice.security_code()?;
    assert_eq!(bob.security_code()?, code);
    assert_ne!(code, old_code);
    assert_eq!(*alice.sframe_base_key()?, *bob.sframe_base_key()?);
    assert_ne!(*alice.sframe_base_key()?, *carol_old_base_key);

    // Carol can derive nothing new.
    assert!(!carol.is_active());
    assert!(matches!(carol.sframe_base_key(), Err(MlsError::Removed)));
    assert!(matches!(carol.security_code(), Err(MlsError::Removed)));
    assert!(matches!(carol.sframe_sender(), Err(MlsError::Removed)));

    // Alice's new-epoch frames open at Bob but not at Carol: her receiver
    // has no key for the new KID, and her last base key under that KID
    // fails authentication.
    let mut bob_receiver = SframeReceiver::new();
    bob.install_sframe_keys(&mut bob_receiver)?;
    let mut sealer = alice.sframe_sender()?;
    let frame = sealer.seal(b"rtp", b"after carol left")?;
    assert_eq!(bob_receiver.open(b"rtp", &frame)?, b"after carol left");

    let result = carol_receiver.open(b"rtp", &frame);
    assert!(
        matches!(result, Err(SframeError::UnknownKeyId { .. })),
        "{result:?}"
    );
    let new_kid = alice.sframe_key_id(alice.own_index())?;
    carol_receiver.add_key(new_kid, &carol_old_base_key)?;
    let result = carol_receiver.open(b"rtp", &frame);
    assert!(
        matches!(result, Err(SframeError::AuthenticationFailed { .. })),
        "{result:?}"
    );

    // And her messages are no longer accepted by the group.
    assert!(matches!(carol.remove_members(&[0]), Err(MlsError::Removed)));
    Ok(())
}

#[test]
fn a_joiner_after_a_removal_gets_the_current_keys() -> TestResult {
    let ([mut alice, mut bob, carol], _devices) = three_members()?;
    let commit = alice.remove_members(&[carol.own_index()])?;
    bob.process_message(&commit)?;
    let (dave, dave_record) = joiner(&DeviceIdentity::generate()?)?;
    let added = alice.add_members(&[(dave.key_package(), &dave_record)])?;
    assert!(matches!(
        bob.process_message(&added.commit)?,
        GroupEvent::NewEpoch { epoch: 3 }
    ));
    let dave = dave.join(&added.welcome)?;
    assert_eq!(dave.epoch(), 3);
    assert_eq!(dave.security_code()?, alice.security_code()?);
    assert_eq!(dave.security_code()?, bob.security_code()?);
    // Dave took the free leaf.
    assert_eq!(dave.own_index(), carol.own_index());
    Ok(())
}

#[test]
fn bad_input_is_an_error_not_a_panic() -> TestResult {
    let ([mut alice, mut bob, _carol], devices) = three_members()?;
    let record = devices[0].public_keys();
    let stranger = DeviceIdentity::generate()?;
    for junk in [&[][..], &[0u8; 3], &[0xff; 64]] {
        assert!(matches!(
            bob.process_message(junk),
            Err(MlsError::Malformed { .. })
        ));
        assert!(matches!(
            alice.add_members(&[(junk, record)]),
            Err(MlsError::Malformed { .. })
        ));
        assert!(PendingJoin::new(&stranger)?.join(junk).is_err());
    }
    // A key package is not a handshake message, and a welcome is not a key
    // package.
    let (eve, eve_record) = joiner(&DeviceIdentity::generate()?)?;
    assert!(bob.process_message(eve.key_package()).is_err());
    // A key package offered under someone else's directory record.
    assert!(matches!(
        alice.add_members(&[(eve.key_package(), stranger.public_keys())]),
        Err(MlsError::CredentialMismatch { .. })
    ));
    let added = alice.add_members(&[(eve.key_package(), &eve_record)])?;
    assert!(matches!(
        alice.add_members(&[(&added.welcome, &eve_record)]),
        Err(MlsError::Malformed { .. })
    ));
    // A commit for an epoch Bob has already left behind.
    bob.process_message(&added.commit)?;
    assert!(matches!(
        bob.process_message(&added.commit),
        Err(MlsError::Rejected { .. })
    ));
    // A tampered commit.
    let commit = alice.remove_members(&[1])?;
    let mut bad = commit.clone();
    let middle = bad.len() / 2;
    bad[middle] ^= 1;
    assert!(bob.process_message(&bad).is_err());
    // A welcome for someone else.
    assert!(matches!(
        PendingJoin::new(&stranger)?.join(&added.welcome),
        Err(MlsError::InvalidWelcome { .. })
    ));
    assert!(matches!(
        alice.remove_members(&[99]),
        Err(MlsError::UnknownMember { index: 99 })
    ));
    assert!(matches!(
        alice.remove_members(&[]),
        Err(MlsError::EmptyInput { .. })
    ));
    assert!(matches!(
        alice.add_members(&[]),
        Err(MlsError::EmptyInput { .. })
    ));
    Ok(())
}

#[test]
fn chat_sealed_by_one_member_opens_at_the_other_two() -> TestResult {
    let ([mut alice, mut bob, mut carol], _devices) = three_members()?;
    let sealed = bob.seal_chat(b"hello, sealed")?;
    // Nothing of the text shows in the ciphertext the router relays.
    assert!(!sealed.windows(6).any(|w| w == b"sealed"));
    for receiver in [&mut alice, &mut carol] {
        assert_eq!(
            receiver.process_message(&sealed)?,
            GroupEvent::Application {
                sender_index: bob.own_index(),
                plaintext: b"hello, sealed".to_vec(),
            }
        );
    }
    // Replies the other way round, in the same epoch.
    let reply = carol.seal_chat(b"hi bob")?;
    assert!(matches!(
        bob.process_message(&reply)?,
        GroupEvent::Application { sender_index, .. } if sender_index == carol.own_index()
    ));
    // A replayed message does not open twice (its generation's key is gone).
    assert!(matches!(
        alice.process_message(&sealed),
        Err(MlsError::Rejected { .. })
    ));
    // The sender cannot open its own message: it keeps its own copy.
    assert!(bob.process_message(&sealed).is_err());
    Ok(())
}

#[test]
fn a_removed_member_cannot_open_chat_sent_after_its_removal() -> TestResult {
    let ([mut alice, mut bob, mut carol], _devices) = three_members()?;
    // Carol, before hearing of her removal, keeps her epoch-1 state.
    let commit = alice.remove_members(&[carol.own_index()])?;
    bob.process_message(&commit)?;
    let sealed = alice.seal_chat(b"after carol left")?;
    assert!(matches!(
        bob.process_message(&sealed)?,
        GroupEvent::Application { ref plaintext, .. } if plaintext == b"after carol left"
    ));
    // Still in epoch 1, she has no secret of epoch 2.
    assert!(matches!(
        carol.process_message(&sealed),
        Err(MlsError::Rejected { .. })
    ));
    // Once she applies the removal she is locked out altogether.
    assert_eq!(carol.process_message(&commit)?, GroupEvent::Removed);
    assert!(matches!(
        carol.process_message(&sealed),
        Err(MlsError::Removed)
    ));
    assert!(matches!(
        carol.seal_chat(b"still here?"),
        Err(MlsError::Removed)
    ));
    Ok(())
}

#[test]
fn a_tampered_chat_ciphertext_fails_to_open() -> TestResult {
    let ([mut alice, mut bob, _carol], _devices) = three_members()?;
    let sealed = alice.seal_chat(b"do not touch")?;
    // Flip one bit in each of the last bytes (the AEAD ciphertext and tag).
    for back in 1..=8 {
        let mut tampered = sealed.clone();
        let at = tampered.len() - back;
        tampered[at] ^= 0x01;
        assert!(bob.process_message(&tampered).is_err(), "byte -{back}");
    }
    // Cut short: malformed, not a panic.
    assert!(bob.process_message(&sealed[..sealed.len() / 2]).is_err());
    // The untouched message still opens.
    assert!(matches!(
        bob.process_message(&sealed)?,
        GroupEvent::Application { ref plaintext, .. } if plaintext == b"do not touch"
    ));
    Ok(())
}

#[test]
fn chat_sealed_just_before_a_commit_still_opens_after_it() -> TestResult {
    let ([mut alice, mut bob, mut carol], _devices) = three_members()?;
    let sealed = bob.seal_chat(b"racing a commit")?;
    let (dave, dave_record) = joiner(&DeviceIdentity::generate()?)?;
    let added = alice.add_members(&[(dave.key_package(), &dave_record)])?;
    carol.process_message(&added.commit)?;
    // Alice and Carol are in epoch 2; Bob's epoch-1 message still opens.
    for receiver in [&mut alice, &mut carol] {
        assert!(matches!(
            receiver.process_message(&sealed)?,
            GroupEvent::Application { ref plaintext, .. } if plaintext == b"racing a commit"
        ));
    }
    Ok(())
}

#[test]
fn open_chat_refuses_a_commit_without_applying_it() -> TestResult {
    let ([mut alice, mut bob, carol], _devices) = three_members()?;
    let commit = alice.remove_members(&[carol.own_index()])?;
    assert!(matches!(
        bob.open_chat(&commit),
        Err(MlsError::Rejected { .. })
    ));
    // Bob's group did not move: the commit still applies in order.
    assert_eq!(bob.epoch(), 1);
    assert_eq!(
        bob.process_message(&commit)?,
        GroupEvent::NewEpoch { epoch: 2 }
    );
    let sealed = alice.seal_chat(b"ok")?;
    assert_eq!(bob.open_chat(&sealed)?, (alice.own_index(), b"ok".to_vec()));
    assert!(bob.open_chat(b"junk").is_err());
    Ok(())
}
