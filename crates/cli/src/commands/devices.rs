//! `confer devices`: the capture devices this machine offers (microphones,
//! cameras, screens, windows), each with the stable id that `confer join
//! --audio-in/--video-in/--screen-in` takes and a human name.
//!
//! A backend that cannot enumerate (no sound server, no X display, no V4L2)
//! is listed as an error line naming it; the command still succeeds, since
//! "no camera here" is an answer, not a failure.
//!
//! `--json` prints one object:
//! `{"devices": [{"id", "name", "kind"}], "errors": [{"backend", "message"}]}`
//! with `kind` one of `microphone`, `camera`, `screen`, `window`.

use std::process::ExitCode;

use confer_media::MediaError;
use confer_media::source::{DeviceInfo, DeviceKind, list_devices};
use serde_json::json;

use crate::args::Cli;

use super::print_json;

/// Lists the devices as a table, or as JSON with `--json`.
pub(crate) fn devices(cli: &Cli) -> anyhow::Result<ExitCode> {
    let (mut devices, errors) = list_devices();
    devices.sort_by_key(|d| (kind_order(d.kind), d.id.clone()));
    if cli.json {
        print_json(&devices_json(&devices, &errors));
        return Ok(ExitCode::SUCCESS);
    }
    if devices.is_empty() {
        println!("no capture devices found");
    } else {
        let id_width = devices.iter().map(|d| d.id.len()).max().unwrap_or(2).max(2);
        println!("{:<10}  {:<id_width$}  NAME", "KIND", "ID");
        for d in &devices {
            println!("{:<10}  {:<id_width$}  {}", kind_name(d.kind), d.id, d.name);
        }
    }
    for e in &errors {
        println!("error: {}: {e}", backend_name(e));
    }
    Ok(ExitCode::SUCCESS)
}

/// The JSON form; a function of its inputs so it is testable without devices.
fn devices_json(devices: &[DeviceInfo], errors: &[MediaError]) -> serde_json::Value {
    json!({
        "devices": devices
            .iter()
            .map(|d| json!({ "id": d.id, "name": d.name, "kind": kind_name(d.kind) }))
            .collect::<Vec<_>>(),
        "errors": errors
            .iter()
            .map(|e| json!({ "backend": backend_name(e), "message": e.to_string() }))
            .collect::<Vec<_>>(),
    })
}

/// Table order: what people pick most often first.
fn kind_order(kind: DeviceKind) -> u8 {
    match kind {
        DeviceKind::Microphone => 0,
        DeviceKind::Camera => 1,
        DeviceKind::Screen => 2,
        DeviceKind::Window => 3,
    }
}

/// The word used in the table and in JSON.
fn kind_name(kind: DeviceKind) -> &'static str {
    match kind {
        DeviceKind::Microphone => "microphone",
        DeviceKind::Camera => "camera",
        DeviceKind::Screen => "screen",
        DeviceKind::Window => "window",
    }
}

/// Which backend an enumeration error came from, as the error names it.
fn backend_name(e: &MediaError) -> &'static str {
    match e {
        MediaError::DeviceUnavailable { kind, .. } | MediaError::DeviceNotFound { kind, .. } => {
            kind
        }
        MediaError::BackendDisabled(kind) => kind,
        _ => "capture",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_names_devices_and_failed_backends() {
        let devices = vec![DeviceInfo {
            id: "screen:1".into(),
            name: "Screen 1".into(),
            kind: DeviceKind::Screen,
        }];
        let errors = vec![MediaError::DeviceUnavailable {
            kind: "camera",
            name: "V4L2".into(),
            reason: "no /dev/video*".into(),
        }];
        let v = devices_json(&devices, &errors);
        assert_eq!(v["devices"][0]["id"], "screen:1");
        assert_eq!(v["devices"][0]["kind"], "screen");
        assert_eq!(v["devices"][0]["name"], "Screen 1");
        assert_eq!(v["errors"][0]["backend"], "camera");
        assert!(
            v["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("V4L2"))
        );
    }
}
