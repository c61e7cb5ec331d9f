//! `confer identity`: this device's identity keys (in the OS keyring, under
//! the service `confer` or `$CONFER_KEYRING_SERVICE`) and the devices
//! registered for the account in the server's device directory.
//!
//! `--json` output:
//! - `show`: `{"device_id", "ed25519", "x25519", "keyring_service"}`;
//! - `register`: the device record
//!   `{"device_id", "ed25519", "x25519", "name", "created_at", "revoked_at"}`;
//! - `list`: `{"devices": [record + "this_device": bool]}`;
//! - `revoke`: `{"revoked": DEVICE_ID, "this_device": bool}`.

use std::process::ExitCode;

use anyhow::Context as _;
use confer_client::api::{ApiClient, DeviceRecord};
use confer_client::device_keys::{DeviceId, DeviceIdentity, DeviceKeyStore};
use serde_json::json;

use crate::args::{Cli, IdentityCommand};
use crate::config::Target;

use super::print_json;

/// Runs one `confer identity` subcommand.
pub(crate) async fn run(
    cli: &Cli,
    target: &Target,
    command: &IdentityCommand,
) -> anyhow::Result<ExitCode> {
    let store = DeviceKeyStore::from_env();
    match command {
        IdentityCommand::Show => {
            let identity = load_or_create(&store)?;
            let keys = identity.public_keys();
            if cli.json {
                let mut value = serde_json::to_value(keys)?;
                value["keyring_service"] = json!(store.service());
                print_json(&value);
            } else {
                let value = serde_json::to_value(keys)?;
                println!("device id: {}", keys.device_id);
                println!("ed25519:   {}", value["ed25519"].as_str().unwrap_or(""));
                println!("x25519:    {}", value["x25519"].as_str().unwrap_or(""));
                println!("keyring:   service {:?}", store.service());
            }
        }
        IdentityCommand::Register { name } => {
            target.require_login()?;
            let identity = load_or_create(&store)?;
            let record = target
                .api()?
                .register_device(identity.public_keys(), name.as_deref())
                .await
                .context("cannot register this device")?;
            if cli.json {
                print_json(&serde_json::to_value(&record)?);
            } else {
                println!("registered device {}", record.keys.device_id);
            }
        }
        IdentityCommand::List => {
            target.require_login()?;
            let devices = target.api()?.list_devices().await?;
            // Marking this device is a nicety: never create an identity or
            // fail for it.
            let mine = store.load().ok().flatten().map(|i| i.device_id());
            print_list(cli.json, &devices, mine)?;
        }
        IdentityCommand::Revoke { device_id } => {
            target.require_login()?;
            let id: DeviceId = device_id
                .parse()
                .with_context(|| format!("{device_id:?} is not a device id"))?;
            target.api()?.revoke_device(id).await?;
            // A revoked id is revoked for good, so this device's keys are of
            // no more use: forget them, and the next use makes fresh ones.
            let this_device = store.load().ok().flatten().map(|i| i.device_id()) == Some(id);
            if this_device && let Err(e) = store.delete() {
                eprintln!("warning: cannot delete the revoked identity from the keyring: {e}");
            }
            if cli.json {
                print_json(&json!({ "revoked": id.to_string(), "this_device": this_device }));
            } else if this_device {
                println!("revoked device {id} (this device; its keys were deleted)");
            } else {
                println!("revoked device {id}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_list(json: bool, devices: &[DeviceRecord], mine: Option<DeviceId>) -> anyhow::Result<()> {
    if json {
        let list = devices
            .iter()
            .map(|d| {
                let mut value = serde_json::to_value(d)?;
                value["this_device"] = json!(Some(d.keys.device_id) == mine);
                Ok(value)
            })
            .collect::<Result<Vec<_>, serde_json::Error>>()?;
        print_json(&json!({ "devices": list }));
        return Ok(());
    }
    if devices.is_empty() {
        println!("no devices registered");
    }
    for d in devices {
        let status = match d.revoked_at {
            Some(at) => format!("revoked at {at}"),
            None => "active".to_owned(),
        };
        let here = if Some(d.keys.device_id) == mine {
            "  (this device)"
        } else {
            ""
        };
        println!(
            "{}  {:<20}  registered at {}  {status}{here}",
            d.keys.device_id,
            d.name.as_deref().unwrap_or("-"),
            d.created_at,
        );
    }
    Ok(())
}

/// This device's identity, created on first use, with an error that says
/// what to do when there is no keyring.
pub(crate) fn load_or_create(store: &DeviceKeyStore) -> anyhow::Result<DeviceIdentity> {
    store.load_or_create().with_context(|| {
        format!(
            "cannot load this device's identity (keyring service {:?})",
            store.service()
        )
    })
}

/// After a login: creates this device's identity if needed and registers
/// it, so others can send it messages at once. Best effort: a machine
/// without a keyring still logs in, with a warning. Returns the device id
/// when registered.
pub(crate) async fn enroll_after_login(api: &ApiClient) -> Option<DeviceId> {
    let store = DeviceKeyStore::from_env();
    let identity = match store.load_or_create() {
        Ok(identity) => identity,
        Err(e) => {
            eprintln!("warning: this device has no identity keys, so end-to-end chat is off: {e}");
            return None;
        }
    };
    match api.register_device(identity.public_keys(), None).await {
        Ok(record) => Some(record.keys.device_id),
        Err(e) => {
            eprintln!(
                "warning: cannot register this device ({}): {e}",
                identity.device_id()
            );
            None
        }
    }
}
