//! RFC 9605 Appendix C test vectors, from `tests/data/rfc9605-test-vectors.json`
//! (see its `comment` for the source): every header encoding vector (C.1),
//! and the encryption vector of AES_256_GCM_SHA512_128 (C.5), checked through
//! the public sender and receiver, with the vector's intermediate values
//! (sframe_key, sframe_salt, nonce, aad) checked independently.

// Helpers outside #[test] fns fail loudly by design.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use aes_gcm::{
    Aes256Gcm, KeyInit,
    aead::{AeadInOut, Nonce},
};
use confer_e2e::sframe::{
    CIPHER_SUITE_ID, OpenedFrame, SframeError, SframeReceiver, SframeSender, TAG_LEN,
};
use hkdf::Hkdf;
use serde::Deserialize;
use sha2::Sha512;

#[derive(Deserialize)]
struct Vectors {
    header: Vec<HeaderVector>,
    sframe: Vec<SframeVector>,
}

#[derive(Deserialize)]
struct HeaderVector {
    kid: u64,
    ctr: u64,
    encoded: String,
}

#[derive(Deserialize)]
struct SframeVector {
    cipher_suite: u16,
    kid: u64,
    ctr: u64,
    base_key: String,
    sframe_key_label: String,
    sframe_salt_label: String,
    sframe_secret: String,
    sframe_key: String,
    sframe_salt: String,
    metadata: String,
    nonce: String,
    aad: String,
    pt: String,
    ct: String,
}

fn vectors() -> Vectors {
    let text = include_str!("data/rfc9605-test-vectors.json");
    serde_json::from_str(text).expect("test vector file parses")
}

fn hex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex length: {s}");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digit"))
        .collect()
}

const ANY_KEY: &[u8] = b"header vectors need some base key";

#[test]
fn header_vectors_encode() {
    let vectors = vectors().header;
    assert_eq!(vectors.len(), 289);
    for v in &vectors {
        let mut sender = SframeSender::with_first_counter(v.kid, ANY_KEY, v.ctr).unwrap();
        let sealed = sender.seal(b"", b"").unwrap();
        let encoded = hex(&v.encoded);
        assert_eq!(
            sealed.len(),
            encoded.len() + TAG_LEN,
            "kid {} ctr {}",
            v.kid,
            v.ctr
        );
        assert_eq!(
            &sealed[..encoded.len()],
            encoded,
            "kid {} ctr {}",
            v.kid,
            v.ctr
        );
    }
}

#[test]
fn header_vectors_decode() {
    for v in &vectors().header {
        let mut receiver = SframeReceiver::new();
        receiver.add_key(v.kid, ANY_KEY).unwrap();
        let sealed = SframeSender::with_first_counter(v.kid, ANY_KEY, v.ctr)
            .unwrap()
            .seal(b"", b"")
            .unwrap();
        let mut out = Vec::new();
        let opened = receiver.open_into(b"", &sealed, &mut out).unwrap();
        assert_eq!(
            opened,
            OpenedFrame {
                key_id: v.kid,
                counter: v.ctr
            }
        );
        assert!(out.is_empty());
    }
}

#[test]
fn truncated_header_vectors_are_malformed() {
    let mut receiver = SframeReceiver::new();
    let mut rejected = 0;
    for v in &vectors().header {
        let encoded = hex(&v.encoded);
        for cut in 0..encoded.len() {
            let err = receiver.open(b"", &encoded[..cut]).unwrap_err();
            assert_eq!(err, SframeError::Malformed { len: cut });
            rejected += 1;
        }
        // A whole header with no room for the tag is malformed too.
        let err = receiver.open(b"", &encoded).unwrap_err();
        assert_eq!(err, SframeError::Malformed { len: encoded.len() });
        rejected += 1;
    }
    assert_eq!(receiver.stats().malformed, rejected);
    assert_eq!(receiver.stats().rejected(), rejected);
}

#[test]
fn aes_256_gcm_sha512_128_vectors() {
    let vectors: Vec<SframeVector> = vectors()
        .sframe
        .into_iter()
        .filter(|v| v.cipher_suite == CIPHER_SUITE_ID)
        .collect();
    assert_eq!(vectors.len(), 1, "RFC 9605 has one vector per suite");

    for v in &vectors {
        let base_key = hex(&v.base_key);
        let metadata = hex(&v.metadata);
        let pt = hex(&v.pt);
        let ct = hex(&v.ct);

        // Seal: the code under test reproduces the ciphertext bit for bit.
        let mut sender = SframeSender::with_first_counter(v.kid, &base_key, v.ctr).unwrap();
        assert_eq!(sender.seal(&metadata, &pt).unwrap(), ct);
        assert_eq!(sender.next_counter(), Some(v.ctr + 1));

        // Open: and the receiver gets the plaintext, KID and counter back.
        let mut receiver = SframeReceiver::new();
        receiver.add_key(v.kid, &base_key).unwrap();
        let mut out = Vec::new();
        let opened = receiver.open_into(&metadata, &ct, &mut out).unwrap();
        assert_eq!(out, pt);
        assert_eq!(
            opened,
            OpenedFrame {
                key_id: v.kid,
                counter: v.ctr
            }
        );

        // The intermediate values, independently (§4.4.2-§4.4.3): they pin
        // down that the ciphertext above came from the right key, salt,
        // nonce and AAD.
        let (secret, hkdf) = Hkdf::<Sha512>::extract(Some(b""), &base_key);
        assert_eq!(secret.as_slice(), hex(&v.sframe_secret));
        let mut key_label = b"SFrame 1.0 Secret key ".to_vec();
        key_label.extend_from_slice(&v.kid.to_be_bytes());
        key_label.extend_from_slice(&CIPHER_SUITE_ID.to_be_bytes());
        assert_eq!(key_label, hex(&v.sframe_key_label));
        let mut salt_label = b"SFrame 1.0 Secret salt ".to_vec();
        salt_label.extend_from_slice(&v.kid.to_be_bytes());
        salt_label.extend_from_slice(&CIPHER_SUITE_ID.to_be_bytes());
        assert_eq!(salt_label, hex(&v.sframe_salt_label));
        let mut sframe_key = [0u8; 32];
        hkdf.expand(&key_label, &mut sframe_key).unwrap();
        assert_eq!(sframe_key.to_vec(), hex(&v.sframe_key));
        let mut sframe_salt = [0u8; 12];
        hkdf.expand(&salt_label, &mut sframe_salt).unwrap();
        assert_eq!(sframe_salt.to_vec(), hex(&v.sframe_salt));

        let mut nonce = sframe_salt;
        for (n, c) in nonce[4..].iter_mut().zip(v.ctr.to_be_bytes()) {
            *n ^= c;
        }
        assert_eq!(nonce.to_vec(), hex(&v.nonce));

        let header_len = ct.len() - pt.len() - TAG_LEN;
        let aad = [&ct[..header_len], &metadata[..]].concat();
        assert_eq!(aad, hex(&v.aad));

        let cipher = Aes256Gcm::new_from_slice(&sframe_key).unwrap();
        let nonce = Nonce::<Aes256Gcm>::try_from(&nonce[..]).unwrap();
        let mut body = pt.clone();
        let tag = cipher
            .encrypt_inout_detached(&nonce, &aad, body.as_mut_slice().into())
            .unwrap();
        body.extend_from_slice(&tag);
        assert_eq!(body, ct[header_len..]);
    }
}
