//! `confer chat`: end-to-end encrypted messages to people in the
//! organisation, outside meetings (`confer_client::direct_chat`).
//!
//! - `send --to EMAIL TEXT` prints `sent MESSAGE_ID to N devices`
//!   (`--json`: `{"message_id", "devices"}`).
//! - `inbox [--wait DURATION]` prints each message as `FROM: TEXT`
//!   (`--json`: one line per message,
//!   `{"message_id", "from", "text", "sent_by_device"}`). Messages that
//!   fail verification are dropped and counted on stderr by reason. With
//!   `--wait` it polls every second until at least one message came or the
//!   time is up. The ids of messages shown are kept in the config
//!   directory (`chat_seen`), so one delivered again later is dropped.
//!
//! Both first make sure this device is registered (registering again is
//! harmless), so a fresh device can take part without a separate step.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail};
use confer_client::api::ApiClient;
use confer_client::device_keys::{DeviceIdentity, DeviceKeyStore};
use confer_client::direct_chat::{self, Inbox, Round};
use serde_json::json;
use tokio::time::Instant;

use crate::args::{ChatCommand, Cli};
use crate::config::Target;

use super::chat_seen;
use super::identity::load_or_create;
use super::print_json;

/// How often `chat inbox --wait` asks again.
const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// Runs one `confer chat` subcommand. `own_email` is the stored login's, to
/// copy sent messages to our other devices.
pub(crate) async fn run(
    cli: &Cli,
    target: &Target,
    own_email: Option<&str>,
    command: &ChatCommand,
) -> anyhow::Result<ExitCode> {
    target.require_login()?;
    let api = target.api()?;
    let identity = load_or_create(&DeviceKeyStore::from_env())?;
    ensure_registered(&api, &identity).await?;
    match command {
        ChatCommand::Send { to, text } => {
            let sent = direct_chat::send(&api, &identity, own_email, to, text)
                .await
                .with_context(|| format!("cannot send to {to}"))?;
            if sent.skipped_devices > 0 {
                eprintln!(
                    "warning: left out {} device record(s) whose keys do not match their id",
                    sent.skipped_devices
                );
            }
            if cli.json {
                print_json(&json!({
                    "message_id": sent.message_id.to_string(),
                    "devices": sent.devices,
                }));
            } else {
                println!("sent {} to {} devices", sent.message_id, sent.devices);
            }
            Ok(ExitCode::SUCCESS)
        }
        ChatCommand::Inbox { wait } => inbox(cli, &api, &identity, *wait).await,
    }
}

/// Registers this device if it is not yet; a revoked device gets a clear
/// message instead of the server's code.
async fn ensure_registered(api: &ApiClient, identity: &DeviceIdentity) -> anyhow::Result<()> {
    match api.register_device(identity.public_keys(), None).await {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some("device_revoked") => bail!(
            "this device ({}) was revoked; delete its keys from the keyring (or use another \
             CONFER_KEYRING_SERVICE) to enrol afresh",
            identity.device_id()
        ),
        Err(e) => Err(e).context("cannot register this device"),
    }
}

async fn inbox(
    cli: &Cli,
    api: &ApiClient,
    identity: &DeviceIdentity,
    wait: Option<Duration>,
) -> anyhow::Result<ExitCode> {
    let deadline = wait.map(|w| Instant::now() + w);
    let config_dir = crate::config::config_dir(cli)?;
    let device = identity.device_id();
    let (remembered, warning) = chat_seen::load(&config_dir, device);
    if let Some(warning) = warning {
        eprintln!("warning: {warning}");
    }
    let mut state = Inbox::with_remembered(remembered);
    let mut shown = 0usize;
    loop {
        let round = direct_chat::receive(api, identity, &mut state)
            .await
            .context("cannot read the inbox")?;
        shown += round.messages.len();
        print_round(cli.json, &round);
        if !round.messages.is_empty()
            && let Err(e) = chat_seen::save(&config_dir, device, state.remembered())
        {
            eprintln!(
                "warning: cannot keep the ids of the messages shown, so a copy delivered \
                 again would show again: {e:#}"
            );
        }
        let troubled = round.interrupted.is_some() || round.ack_failed.is_some();
        match deadline {
            Some(at) if shown == 0 && Instant::now() + POLL_INTERVAL <= at => {
                tokio::time::sleep(POLL_INTERVAL).await;
            }
            // Messages that could not be handled for a passing reason are
            // still on the server; say so with the exit status.
            _ if troubled => return Ok(ExitCode::FAILURE),
            _ => return Ok(ExitCode::SUCCESS),
        }
    }
}

fn print_round(json: bool, round: &Round) {
    for m in &round.messages {
        if json {
            print_json(&json!({
                "message_id": m.message_id.to_string(),
                "from": m.from,
                "text": m.text,
                "sent_by_device": m.sender_device.to_string(),
            }));
        } else {
            println!("{}: {}", m.from, m.text);
        }
    }
    for (reason, count) in &round.dropped {
        eprintln!(
            "warning: dropped {count} message(s) that failed verification: {}",
            reason.as_str()
        );
    }
    if round.duplicates > 0 {
        eprintln!(
            "warning: dropped {} message(s) already shown (delivered again)",
            round.duplicates
        );
    }
    if let Some(e) = &round.interrupted {
        eprintln!("warning: stopped early, the rest stays on the server: {e}");
    }
    if let Some(e) = &round.ack_failed {
        eprintln!("warning: cannot acknowledge the messages read; they will come again: {e}");
    }
}
