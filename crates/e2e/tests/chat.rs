//! E2E chat: HPKE to each recipient device, signed by the sender device.

use confer_e2e::chat::{self, ChatEnvelope, ChatError, MessageId, OpenedMessage};
use confer_e2e::device::{DeviceIdentity, DevicePublicKeys};

type TestResult = Result<(), Box<dyn std::error::Error>>;

struct People {
    alice: DeviceIdentity,
    bob_laptop: DeviceIdentity,
    bob_phone: DeviceIdentity,
    carol: DeviceIdentity,
}

fn people() -> Result<People, Box<dyn std::error::Error>> {
    Ok(People {
        alice: DeviceIdentity::generate()?,
        bob_laptop: DeviceIdentity::generate()?,
        bob_phone: DeviceIdentity::generate()?,
        carol: DeviceIdentity::generate()?,
    })
}

fn seal_to_bob(p: &People, text: &[u8]) -> Result<Vec<ChatEnvelope>, ChatError> {
    let bob_devices = [
        p.bob_laptop.public_keys().clone(),
        p.bob_phone.public_keys().clone(),
    ];
    chat::seal(&p.alice, &bob_devices, MessageId::random()?, text)
}

#[test]
fn every_device_of_the_recipient_gets_its_own_copy() -> TestResult {
    let p = people()?;
    let envelopes = seal_to_bob(&p, b"hello bob")?;
    assert_eq!(envelopes.len(), 2);
    assert_eq!(envelopes[0].recipient, p.bob_laptop.device_id());
    assert_eq!(envelopes[1].recipient, p.bob_phone.device_id());
    assert_eq!(envelopes[0].message_id, envelopes[1].message_id);
    assert_ne!(envelopes[0].ciphertext, envelopes[1].ciphertext);

    for (device, envelope) in [
        (&p.bob_laptop, &envelopes[0]),
        (&p.bob_phone, &envelopes[1]),
    ] {
        let OpenedMessage {
            message_id,
            sender,
            plaintext,
        } = chat::open(device, p.alice.public_keys(), envelope)?;
        assert_eq!(plaintext, b"hello bob");
        assert_eq!(sender, p.alice.device_id());
        assert_eq!(message_id, envelope.message_id);
    }
    Ok(())
}

#[test]
fn envelope_survives_json_relay() -> TestResult {
    let p = people()?;
    let envelopes = seal_to_bob(&p, b"via the server")?;
    let stored = serde_json::to_string(&envelopes[1])?;
    // What the server sees: ids and base64url blobs, no plaintext.
    assert!(!stored.contains("via the server"));
    let relayed: ChatEnvelope = serde_json::from_str(&stored)?;
    assert_eq!(relayed, envelopes[1]);
    let opened = chat::open(&p.bob_phone, p.alice.public_keys(), &relayed)?;
    assert_eq!(opened.plaintext, b"via the server");
    Ok(())
}

#[test]
fn nothing_the_server_holds_opens_the_envelope() -> TestResult {
    let p = people()?;
    let envelopes = seal_to_bob(&p, b"secret")?;
    let envelope = &envelopes[0];

    // The server holds every device's public record. Treat each public key
    // as if it were a private key (the only way public material could be
    // fed to the decryption side) and try the HPKE open directly.
    use hpke::{Deserializable, Kem, OpModeR, aead::AesGcm256, kdf::HkdfSha256};
    type K = hpke::kem::X25519HkdfSha256;
    let records: Vec<&DevicePublicKeys> = vec![
        p.alice.public_keys(),
        p.bob_laptop.public_keys(),
        p.bob_phone.public_keys(),
        p.carol.public_keys(),
    ];
    let enc = <K as Kem>::EncappedKey::from_bytes(&envelope.enc)?;
    for record in &records {
        for candidate in [record.x25519, record.ed25519, envelope.enc] {
            let Ok(private) = <K as Kem>::PrivateKey::from_bytes(&candidate) else {
                continue;
            };
            for aad in [&b""[..], b"confer chat v1"] {
                let opened = hpke::single_shot_open::<AesGcm256, HkdfSha256, K>(
                    &OpModeR::Base,
                    &private,
                    &enc,
                    b"confer chat v1",
                    &envelope.ciphertext,
                    aad,
                );
                assert!(opened.is_err());
            }
        }
    }
    // And a device that is not the recipient cannot open it, even if the
    // envelope is readdressed to it (the signature covers the recipient).
    let result = chat::open(&p.carol, p.alice.public_keys(), envelope);
    assert!(
        matches!(result, Err(ChatError::WrongRecipient { .. })),
        "{result:?}"
    );
    let mut readdressed = envelope.clone();
    readdressed.recipient = p.carol.device_id();
    let result = chat::open(&p.carol, p.alice.public_keys(), &readdressed);
    assert!(matches!(result, Err(ChatError::BadSignature)), "{result:?}");
    Ok(())
}

#[test]
fn tampering_with_any_field_is_detected() -> TestResult {
    let p = people()?;
    let envelope = seal_to_bob(&p, b"do not touch")?.remove(0);
    let alice = p.alice.public_keys();
    let open = |e: &ChatEnvelope| chat::open(&p.bob_laptop, alice, e);

    let mut e = envelope.clone();
    e.ciphertext[0] ^= 1;
    assert!(matches!(open(&e), Err(ChatError::BadSignature)));

    let mut e = envelope.clone();
    let last = e.ciphertext.len() - 1;
    e.ciphertext[last] ^= 1;
    assert!(matches!(open(&e), Err(ChatError::BadSignature)));

    let mut e = envelope.clone();
    e.ciphertext.push(0);
    assert!(matches!(open(&e), Err(ChatError::BadSignature)));

    let mut e = envelope.clone();
    e.enc[3] ^= 1;
    assert!(matches!(open(&e), Err(ChatError::BadSignature)));

    let mut e = envelope.clone();
    e.message_id = MessageId::random()?;
    assert!(matches!(open(&e), Err(ChatError::BadSignature)));

    let mut e = envelope.clone();
    e.signature[10] ^= 1;
    assert!(matches!(open(&e), Err(ChatError::BadSignature)));

    let mut e = envelope.clone();
    e.version = 2;
    assert!(matches!(open(&e), Err(ChatError::Malformed { .. })));

    let mut e = envelope.clone();
    e.ciphertext.truncate(3);
    assert!(matches!(open(&e), Err(ChatError::Malformed { .. })));

    // Claiming another sender: the keys given must be the claimed sender's.
    let mut e = envelope.clone();
    e.sender = p.carol.device_id();
    assert!(matches!(open(&e), Err(ChatError::SenderMismatch { .. })));
    assert!(matches!(
        chat::open(&p.bob_laptop, p.carol.public_keys(), &e),
        Err(ChatError::BadSignature)
    ));

    // A sender record whose keys do not match its id is refused.
    let mut forged = alice.clone();
    forged.ed25519 = p.carol.public_keys().ed25519;
    assert!(matches!(
        chat::open(&p.bob_laptop, &forged, &envelope),
        Err(ChatError::Device(_))
    ));

    // The untouched envelope still opens.
    assert_eq!(open(&envelope)?.plaintext, b"do not touch");
    Ok(())
}

/// The canonical signed encoding, written out from the module docs: if the
/// code and the docs disagree, the tests using this fail.
fn documented_signed_bytes(e: &ChatEnvelope) -> Vec<u8> {
    let mut bytes = b"confer chat signature v1".to_vec();
    bytes.push(e.version);
    bytes.extend_from_slice(e.sender.as_bytes());
    bytes.extend_from_slice(e.recipient.as_bytes());
    bytes.extend_from_slice(e.message_id.as_bytes());
    bytes.extend_from_slice(&e.enc);
    bytes.extend_from_slice(&(e.ciphertext.len() as u64).to_be_bytes());
    bytes.extend_from_slice(&e.ciphertext);
    bytes
}

#[test]
fn signature_covers_the_documented_encoding() -> TestResult {
    let p = people()?;
    let envelope = seal_to_bob(&p, b"z")?.remove(0);
    p.alice
        .public_keys()
        .verify(&documented_signed_bytes(&envelope), &envelope.signature)?;
    Ok(())
}

#[test]
fn signed_ciphertext_for_another_key_is_tampered() -> TestResult {
    // A broken or malicious sender: puts Carol's ciphertext in an envelope
    // addressed to Bob and signs it properly. The signature verifies; the
    // decryption does not.
    let p = people()?;
    let carols = chat::seal(
        &p.alice,
        &[p.carol.public_keys().clone()],
        MessageId::random()?,
        b"x",
    )?
    .remove(0);
    let mut mixed = seal_to_bob(&p, b"y")?.remove(0);
    mixed.enc = carols.enc;
    mixed.ciphertext = carols.ciphertext.clone();
    assert!(matches!(
        chat::open(&p.bob_laptop, p.alice.public_keys(), &mixed),
        Err(ChatError::BadSignature)
    ));
    mixed.signature = p.alice.sign(&documented_signed_bytes(&mixed));
    let result = chat::open(&p.bob_laptop, p.alice.public_keys(), &mixed);
    assert!(matches!(result, Err(ChatError::Tampered)), "{result:?}");

    // seal() refuses an inconsistent recipient record outright.
    let mut bob_record_with_carols_key = p.bob_laptop.public_keys().clone();
    bob_record_with_carols_key.x25519 = p.carol.public_keys().x25519;
    let refused = chat::seal(
        &p.alice,
        &[bob_record_with_carols_key],
        MessageId::random()?,
        b"x",
    );
    assert!(matches!(refused, Err(ChatError::Device(_))));
    Ok(())
}

#[test]
fn oversize_messages_are_refused() -> TestResult {
    let p = people()?;
    let big = vec![0u8; chat::MAX_MESSAGE_LEN + 1];
    let result = chat::seal(
        &p.alice,
        &[p.carol.public_keys().clone()],
        MessageId::random()?,
        &big,
    );
    assert!(matches!(result, Err(ChatError::TooLarge { .. })));
    let max = vec![7u8; chat::MAX_MESSAGE_LEN];
    let envelope = chat::seal(
        &p.alice,
        &[p.carol.public_keys().clone()],
        MessageId::random()?,
        &max,
    )?
    .remove(0);
    assert_eq!(
        chat::open(&p.carol, p.alice.public_keys(), &envelope)?.plaintext,
        max
    );
    Ok(())
}

#[test]
fn malformed_json_envelopes_are_errors() {
    for bad in [
        "{}",
        r#"{"version":1,"message_id":"x","sender":"x","recipient":"x","enc":"x","ciphertext":"x","signature":"x"}"#,
    ] {
        assert!(serde_json::from_str::<ChatEnvelope>(bad).is_err());
    }
}
