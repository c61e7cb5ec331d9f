//! Devices and settings: what microphones, cameras and speakers there are
//! (synthetic choices included, so the app works without hardware), the
//! user's settings, and a speaker test.

use std::path::PathBuf;
use std::time::Duration;

use confer_media::source::{DeviceInfo, DeviceKind, ToneSource, list_devices};
use tauri::{AppHandle, Manager, Runtime};

use crate::app_settings::{self, DEFAULT_SPEAKER, NO_SPEAKER, PATTERN, TONE};
use crate::error::Error;
use crate::models::{AppSettings, DeviceChoice, MediaDevices};

/// How long the speaker test plays.
const TEST_TONE: Duration = Duration::from_secs(1);

/// Every microphone, camera and speaker to choose from.
#[tauri::command]
pub(crate) async fn media_devices() -> Result<MediaDevices, Error> {
    Ok(device_choices(&capture_devices().await))
}

/// The capture devices present, listed on a blocking thread (enumerating
/// sound servers and displays blocks). Backends that fail contribute
/// nothing: "no camera here" is an answer, not an error.
pub(crate) async fn capture_devices() -> Vec<DeviceInfo> {
    tokio::task::spawn_blocking(|| list_devices().0)
        .await
        .unwrap_or_default()
}

/// The choices for `devices`, each list ending with its synthetic choice.
/// The first real device of a kind is marked as the default (it is what a
/// `null` setting uses).
pub(crate) fn device_choices(devices: &[DeviceInfo]) -> MediaDevices {
    let of = |kind: DeviceKind, synthetic: (&str, &str)| {
        let mut out: Vec<DeviceChoice> = devices
            .iter()
            .filter(|d| d.kind == kind)
            .enumerate()
            .map(|(i, d)| DeviceChoice {
                id: d.id.clone(),
                name: d.name.clone(),
                is_default: i == 0,
            })
            .collect();
        let none_real = out.is_empty();
        out.push(DeviceChoice {
            id: synthetic.0.into(),
            name: synthetic.1.into(),
            is_default: none_real,
        });
        out
    };
    MediaDevices {
        microphones: of(DeviceKind::Microphone, (TONE, "Test tone")),
        cameras: of(DeviceKind::Camera, (PATTERN, "Test pattern")),
        speakers: vec![
            DeviceChoice {
                id: DEFAULT_SPEAKER.into(),
                name: "System default".into(),
                is_default: true,
            },
            DeviceChoice {
                id: NO_SPEAKER.into(),
                name: "No sound".into(),
                is_default: false,
            },
        ],
    }
}

/// Where the settings file is.
fn settings_path<R: Runtime>(app: &AppHandle<R>) -> Result<PathBuf, Error> {
    let dir = app
        .path()
        .app_config_dir()
        .map_err(|e| Error::Settings(format!("no config directory: {e}")))?;
    Ok(app_settings::path_in(&dir))
}

/// The saved settings, or defaults (a damaged file is set aside and
/// reported on stderr).
pub(crate) fn load_settings<R: Runtime>(app: &AppHandle<R>) -> AppSettings {
    match settings_path(app) {
        Ok(path) => {
            let (settings, note) = app_settings::load(&path);
            if let Some(note) = note {
                eprintln!("confer-desktop: {note}");
            }
            settings
        }
        Err(e) => {
            eprintln!("confer-desktop: {e}");
            AppSettings::default()
        }
    }
}

/// The user's settings.
#[tauri::command]
pub(crate) async fn get_settings<R: Runtime>(app: AppHandle<R>) -> Result<AppSettings, Error> {
    Ok(load_settings(&app))
}

/// Validates and saves the settings; returns what was saved.
#[tauri::command]
pub(crate) async fn save_settings<R: Runtime>(
    app: AppHandle<R>,
    settings: AppSettings,
) -> Result<AppSettings, Error> {
    let path = settings_path(&app)?;
    tokio::task::spawn_blocking(move || app_settings::save(&path, settings))
        .await
        .map_err(|e| Error::Settings(format!("saving settings stopped: {e}")))?
}

/// Plays a one-second tone on the speaker (`null` or `default`: the system
/// default). `none` plays nothing.
#[tauri::command]
pub(crate) async fn test_speaker(speaker: Option<String>) -> Result<(), Error> {
    match speaker.as_deref() {
        Some(NO_SPEAKER) => return Ok(()),
        None | Some(DEFAULT_SPEAKER) => {}
        Some(other) => {
            return Err(Error::InvalidInput(format!(
                "{other:?} is not a speaker this app knows"
            )));
        }
    }
    tokio::task::spawn_blocking(play_test_tone)
        .await
        .map_err(|e| Error::Settings(format!("the speaker test stopped: {e}")))?
}

/// Opens the default speaker, plays [`TEST_TONE`] of a 440 Hz tone and
/// waits for it to finish (on this blocking thread: the cpal stream must
/// stay on the thread that opened it).
fn play_test_tone() -> Result<(), Error> {
    let speaker = confer_media::playout::Speaker::open_default()
        .map_err(|e| Error::Settings(format!("cannot open the speaker: {e}")))?;
    let n = (TEST_TONE.as_millis() as u64) * u64::from(confer_media::frame::SAMPLE_RATE) / 1000;
    speaker.play(&ToneSource::samples(440.0, n));
    std::thread::sleep(TEST_TONE + Duration::from_millis(100));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev(id: &str, kind: DeviceKind) -> DeviceInfo {
        DeviceInfo {
            id: id.into(),
            name: id.to_uppercase(),
            kind,
        }
    }

    #[test]
    fn synthetic_choices_are_always_there() {
        let none = device_choices(&[]);
        assert_eq!(none.microphones.len(), 1);
        assert_eq!(none.microphones[0].id, "tone");
        assert!(none.microphones[0].is_default, "the only choice");
        assert_eq!(none.cameras[0].id, "pattern");
        assert_eq!(none.cameras[0].name, "Test pattern");
        assert!(none.speakers.iter().any(|s| s.id == "none"));
        let json = serde_json::to_value(&none).unwrap();
        assert_eq!(json["cameras"][0]["isDefault"], true);
    }

    #[test]
    fn real_devices_come_first_and_the_first_is_default() {
        let devices = [
            dev("screen:1", DeviceKind::Screen),
            dev("mic:a", DeviceKind::Microphone),
            dev("mic:b", DeviceKind::Microphone),
            dev("camera:0", DeviceKind::Camera),
        ];
        let c = device_choices(&devices);
        let mics: Vec<_> = c.microphones.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(mics, ["mic:a", "mic:b", "tone"]);
        assert!(c.microphones[0].is_default && !c.microphones[2].is_default);
        assert_eq!(c.cameras.len(), 2);
        assert!(
            c.cameras.iter().all(|d| !d.id.starts_with("screen:")),
            "screens are share sources, not cameras"
        );
        // Every id a list offers is one the settings accept.
        for d in &c.microphones {
            app_settings::validate(AppSettings {
                microphone: Some(d.id.clone()),
                ..AppSettings::default()
            })
            .unwrap();
        }
        for d in &c.cameras {
            app_settings::validate(AppSettings {
                camera: Some(d.id.clone()),
                ..AppSettings::default()
            })
            .unwrap();
        }
        for s in &c.speakers {
            app_settings::validate(AppSettings {
                speaker: Some(s.id.clone()),
                ..AppSettings::default()
            })
            .unwrap();
        }
    }
}
