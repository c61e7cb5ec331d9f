//! Device identity: stored wrapped in a keyring, bound to the machine.

use confer_e2e::device::{
    DeviceError, DeviceIdentity, DevicePublicKeys, FixedMachineId, KEYRING_ENTRY, MemoryStore,
    SecretStore,
};

type TestResult = Result<(), Box<dyn std::error::Error>>;

#[test]
fn create_then_load_round_trips() -> TestResult {
    let store = MemoryStore::new();
    let machine = FixedMachineId::new("machine-a");
    let created = DeviceIdentity::load_or_create(&store, &machine)?;
    let loaded = DeviceIdentity::load(&store, &machine)?;
    assert_eq!(created.public_keys(), loaded.public_keys());
    assert_eq!(created.device_id(), loaded.device_id());
    // A second load_or_create loads, it does not replace.
    let again = DeviceIdentity::load_or_create(&store, &machine)?;
    assert_eq!(again.device_id(), created.device_id());
    // Keys loaded from the store sign for the created identity.
    let signature = loaded.sign(b"confer test message");
    created
        .public_keys()
        .verify(b"confer test message", &signature)?;
    Ok(())
}

#[test]
fn load_without_identity_is_not_found() {
    let store = MemoryStore::new();
    let result = DeviceIdentity::load(&store, &FixedMachineId::new("m"));
    assert!(matches!(result, Err(DeviceError::NotFound)), "{result:?}");
}

#[test]
fn other_machine_id_is_a_distinct_error() -> TestResult {
    let store = MemoryStore::new();
    DeviceIdentity::load_or_create(&store, &FixedMachineId::new("machine-a"))?;
    let result = DeviceIdentity::load(&store, &FixedMachineId::new("machine-b"));
    assert!(
        matches!(result, Err(DeviceError::WrongMachine)),
        "{result:?}"
    );
    // load_or_create must not silently replace the identity either.
    let result = DeviceIdentity::load_or_create(&store, &FixedMachineId::new("machine-b"));
    assert!(
        matches!(result, Err(DeviceError::WrongMachine)),
        "{result:?}"
    );
    assert!(DeviceIdentity::load(&store, &FixedMachineId::new("machine-a")).is_ok());
    Ok(())
}

#[test]
fn corrupted_entry_is_an_error() -> TestResult {
    let machine = FixedMachineId::new("machine-a");
    let store = MemoryStore::new();
    DeviceIdentity::load_or_create(&store, &machine)?;
    let entry = store.load(KEYRING_ENTRY)?.ok_or("entry missing")?.to_vec();

    // Every single-bit flip is refused; none panics.
    for byte in 0..entry.len() {
        let mut bad = entry.clone();
        bad[byte] ^= 0x01;
        store.save(KEYRING_ENTRY, &bad)?;
        let result = DeviceIdentity::load(&store, &machine);
        assert!(
            matches!(
                result,
                Err(DeviceError::CorruptEntry { .. } | DeviceError::WrongMachine)
            ),
            "byte {byte}: {result:?}"
        );
    }
    // Ciphertext and tag flips are corruption, not a machine mismatch.
    let mut bad = entry.clone();
    let last = bad.len() - 1;
    bad[last] ^= 0x80;
    store.save(KEYRING_ENTRY, &bad)?;
    assert!(matches!(
        DeviceIdentity::load(&store, &machine),
        Err(DeviceError::CorruptEntry { .. })
    ));
    // Truncated, extended, empty.
    for bad in [
        &entry[..entry.len() - 1],
        &[][..],
        &[entry.as_slice(), &[0]].concat()[..],
    ] {
        store.save(KEYRING_ENTRY, bad)?;
        assert!(matches!(
            DeviceIdentity::load(&store, &machine),
            Err(DeviceError::CorruptEntry { .. })
        ));
    }
    Ok(())
}

#[test]
fn delete_removes_the_identity() -> TestResult {
    let store = MemoryStore::new();
    let machine = FixedMachineId::new("machine-a");
    let first = DeviceIdentity::load_or_create(&store, &machine)?;
    assert!(DeviceIdentity::delete(&store)?);
    assert!(!DeviceIdentity::delete(&store)?);
    assert!(matches!(
        DeviceIdentity::load(&store, &machine),
        Err(DeviceError::NotFound)
    ));
    let second = DeviceIdentity::load_or_create(&store, &machine)?;
    assert_ne!(first.device_id(), second.device_id());
    Ok(())
}

#[test]
fn public_keys_serialise_as_base64url_and_check() -> TestResult {
    let device = DeviceIdentity::generate()?;
    let json = serde_json::to_value(device.public_keys())?;
    let object = json.as_object().ok_or("not an object")?;
    assert_eq!(object.len(), 3);
    for (field, len) in [("device_id", 22), ("ed25519", 43), ("x25519", 43)] {
        let text = object[field].as_str().ok_or("not a string")?;
        assert_eq!(text.len(), len, "{field}");
        assert!(
            text.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
    }
    let back: DevicePublicKeys = serde_json::from_value(json)?;
    assert_eq!(&back, device.public_keys());
    back.check()?;

    // A record whose key was swapped no longer matches its id.
    let other = DeviceIdentity::generate()?;
    let mut forged = back.clone();
    forged.x25519 = other.public_keys().x25519;
    assert!(matches!(forged.check(), Err(DeviceError::DeviceIdMismatch)));

    // Bad base64 / wrong length are deserialisation errors, not panics.
    for bad in [
        r#"{"device_id":"!!","ed25519":"AA","x25519":"AA"}"#,
        r#"{"device_id":"AAAAAAAAAAAAAAAAAAAAAA","ed25519":"AA","x25519":"AA"}"#,
    ] {
        assert!(serde_json::from_str::<DevicePublicKeys>(bad).is_err());
    }
    Ok(())
}

#[test]
fn signatures_verify_only_for_the_signed_message_and_key() -> TestResult {
    let device = DeviceIdentity::generate()?;
    let other = DeviceIdentity::generate()?;
    let signature = device.sign(b"message");
    device.public_keys().verify(b"message", &signature)?;
    assert!(matches!(
        device.public_keys().verify(b"messagE", &signature),
        Err(DeviceError::BadSignature)
    ));
    assert!(matches!(
        other.public_keys().verify(b"message", &signature),
        Err(DeviceError::BadSignature)
    ));
    Ok(())
}

#[test]
fn debug_output_shows_no_key_bytes() -> TestResult {
    let device = DeviceIdentity::generate()?;
    let debug = format!("{device:?}");
    assert!(debug.contains("device_id"));
    assert!(!debug.contains("signing"));
    assert!(!debug.contains("x25519"));
    Ok(())
}
