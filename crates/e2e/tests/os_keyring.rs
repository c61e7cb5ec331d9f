//! Device identity in the real OS keyring (the Secret Service on Linux).
//!
//! Needs a session bus with an unlocked Secret Service. In CI:
//!
//! ```sh
//! CONFER_REQUIRE_KEYRING=1 dbus-run-session -- sh -c \
//!   'printf ci-pass | gnome-keyring-daemon --unlock --components=secrets >/dev/null; \
//!    cargo test -p confer-e2e --test os_keyring'
//! ```
//!
//! Without one it prints why and passes, unless `CONFER_REQUIRE_KEYRING=1`,
//! when it fails.

use confer_e2e::device::{
    DeviceError, DeviceIdentity, FixedMachineId, OsKeyring, OsMachineId, SecretStore, StoreError,
};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn require_keyring() -> bool {
    std::env::var("CONFER_REQUIRE_KEYRING").is_ok_and(|value| value == "1")
}

/// A service name no other run uses, so parallel runs and leftovers from a
/// crashed run cannot interfere.
fn throwaway_service() -> Result<String, getrandom::Error> {
    let mut nonce = [0u8; 8];
    getrandom::fill(&mut nonce)?;
    let hex: String = nonce.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("dev.confer.test.{hex}"))
}

#[test]
fn device_identity_round_trips_through_the_os_keyring() -> TestResult {
    let store = OsKeyring::with_service(throwaway_service()?);
    match store.load("probe") {
        Ok(_) => {}
        Err(StoreError::Unavailable { detail }) if !require_keyring() => {
            println!(
                "SKIPPED device_identity_round_trips_through_the_os_keyring: no OS keyring \
                 reachable ({detail}); run under dbus-run-session with gnome-keyring-daemon, \
                 and set CONFER_REQUIRE_KEYRING=1 to make this a failure"
            );
            return Ok(());
        }
        Err(err) => return Err(format!("OS keyring required but unusable: {err}").into()),
    }

    let result = exercise(&store);
    // Clean up whatever happened, then report.
    let _ = DeviceIdentity::delete(&store);
    result
}

fn exercise(store: &OsKeyring) -> TestResult {
    let machine = OsMachineId;
    let created = DeviceIdentity::load_or_create(store, &machine)?;

    // A fresh handle on the same service sees the stored entry: this is the
    // real backend, not keyring's per-entry mock.
    let service_twin = store.clone();
    let loaded = DeviceIdentity::load(&service_twin, &machine)?;
    assert_eq!(created.public_keys(), loaded.public_keys());
    let signature = loaded.sign(b"keyring test");
    created.public_keys().verify(b"keyring test", &signature)?;

    let elsewhere = DeviceIdentity::load(store, &FixedMachineId::new("another machine"));
    assert!(
        matches!(elsewhere, Err(DeviceError::WrongMachine)),
        "{elsewhere:?}"
    );

    assert!(DeviceIdentity::delete(store)?);
    let gone = DeviceIdentity::load(store, &machine);
    assert!(matches!(gone, Err(DeviceError::NotFound)), "{gone:?}");
    Ok(())
}
