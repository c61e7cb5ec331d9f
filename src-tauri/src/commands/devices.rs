//! Devices and settings: what microphones, cameras and speakers there are
//! (synthetic choices included, so the app works without hardware), the
//! user's settings, and a speaker test.

use std::path::PathBuf;
use std::time::Duration;

use confer_media::MediaError;
use confer_media::playout::{Speaker, SpeakerInfo, list_speakers};
use confer_media::source::{DeviceInfo, DeviceKind, ToneSource, list_devices};
use tauri::{AppHandle, Manager, Runtime};

use crate::app_settings::{self, NO_SPEAKER, PATTERN, TONE};
use crate::error::Error;
use crate::models::{AppSettings, DeviceChoice, MediaDevices};

/// How long the speaker test plays.
const TEST_TONE: Duration = Duration::from_secs(1);

/// Every microphone, camera and speaker to choose from.
#[tauri::command]
pub(crate) async fn media_devices() -> Result<MediaDevices, Error> {
    let speakers = tokio::task::spawn_blocking(|| list_speakers().unwrap_or_default());
    let devices = capture_devices().await;
    Ok(device_choices(
        &devices,
        &speakers.await.unwrap_or_default(),
    ))
}

/// The capture devices present, listed on a blocking thread (enumerating
/// sound servers and displays blocks). Backends that fail contribute
/// nothing: "no camera here" is an answer, not an error.
pub(crate) async fn capture_devices() -> Vec<DeviceInfo> {
    tokio::task::spawn_blocking(|| list_devices().0)
        .await
        .unwrap_or_default()
}

/// The choices for `devices` and `speakers`, each list ending with its
/// synthetic choice. The first real capture device of a kind is marked as
/// the default (it is what a `null` setting uses); the speaker marked is
/// the one the system plays on.
pub(crate) fn device_choices(devices: &[DeviceInfo], speakers: &[SpeakerInfo]) -> MediaDevices {
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
        speakers: speaker_choices(speakers),
    }
}

/// The speakers to choose from, then "no sound". The picker offers the
/// system default itself (a `null` setting), so it is not listed twice.
/// Sound servers often give several outputs one name ("Null Output",
/// "Built-in Audio"): those get their id added so they can be told apart.
fn speaker_choices(speakers: &[SpeakerInfo]) -> Vec<DeviceChoice> {
    let mut out: Vec<DeviceChoice> = speakers
        .iter()
        .map(|s| {
            let shared = speakers.iter().filter(|o| o.name == s.name).count() > 1;
            let device =
                s.id.strip_prefix(app_settings::SPEAKER_PREFIX)
                    .unwrap_or(&s.id);
            DeviceChoice {
                id: s.id.clone(),
                name: if shared {
                    format!("{} ({device})", s.name)
                } else {
                    s.name.clone()
                },
                is_default: s.is_default,
            }
        })
        .collect();
    out.push(DeviceChoice {
        id: NO_SPEAKER.into(),
        name: "No sound".into(),
        is_default: false,
    });
    out
}

/// What the meeting tells the user when their chosen speaker could not be
/// opened and it plays on the system default (`default_name`) instead.
pub(crate) fn speaker_fallback_notice(why: &MediaError, default_name: &str) -> String {
    let reason = match why {
        MediaError::DeviceNotFound { .. } => "is not connected".to_owned(),
        other => format!("could not be opened ({other})"),
    };
    format!(
        "The speaker you chose {reason}: playing the meeting on the system default, {default_name}, instead."
    )
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

/// Validates and saves the settings, and uses their devices in the
/// running meeting if there is one; returns what was saved.
#[tauri::command]
pub(crate) async fn save_settings<R: Runtime>(
    app: AppHandle<R>,
    settings: AppSettings,
) -> Result<AppSettings, Error> {
    let path = settings_path(&app)?;
    let saved = tokio::task::spawn_blocking(move || app_settings::save(&path, settings))
        .await
        .map_err(|e| Error::Settings(format!("saving settings stopped: {e}")))??;
    super::meeting_devices::apply_to_running_meeting(&app, &saved).await;
    Ok(saved)
}

/// Plays a one-second tone on the speaker (`null` or `default`: the system
/// default; else a speaker's id). `none` plays nothing. A chosen speaker
/// that is gone is an error, not the default: the test is of that speaker.
#[tauri::command]
pub(crate) async fn test_speaker(speaker: Option<String>) -> Result<(), Error> {
    // The same check as saving: the id comes from the web view.
    let checked = app_settings::validate(AppSettings {
        speaker,
        ..AppSettings::default()
    })?;
    let device = match checked.speaker.as_deref() {
        Some(NO_SPEAKER) => return Ok(()),
        chosen => app_settings::speaker_device(chosen).map(str::to_owned),
    };
    tokio::task::spawn_blocking(move || play_test_tone(device.as_deref()))
        .await
        .map_err(|e| Error::Settings(format!("the speaker test stopped: {e}")))?
}

/// Opens the speaker (`None`: the default), plays [`TEST_TONE`] of a 440 Hz
/// tone and waits for it to finish (on this blocking thread: the cpal
/// stream must stay on the thread that opened it).
fn play_test_tone(device: Option<&str>) -> Result<(), Error> {
    let opened = match device {
        Some(id) => Speaker::open(id),
        None => Speaker::open_default(),
    };
    let speaker = opened.map_err(|e| match e {
        MediaError::DeviceNotFound { .. } if device.is_some() => {
            Error::Settings("The speaker you chose is not connected. Pick another one.".to_owned())
        }
        e => Error::Settings(format!("cannot open the speaker: {e}")),
    })?;
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
        let none = device_choices(&[], &[]);
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
        let c = device_choices(&devices, &[]);
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

    fn speaker(id: &str, name: &str, is_default: bool) -> SpeakerInfo {
        SpeakerInfo {
            id: format!("speaker:pulseaudio:{id}"),
            name: name.into(),
            is_default,
        }
    }

    #[test]
    fn speakers_are_listed_with_the_system_default_marked() {
        let speakers = [
            speaker("hdmi", "Null Output", false),
            speaker("usb", "Headset", true),
            speaker("analog", "Null Output", false),
        ];
        let c = device_choices(&[], &speakers);
        let listed: Vec<(&str, &str, bool)> = c
            .speakers
            .iter()
            .map(|s| (s.id.as_str(), s.name.as_str(), s.is_default))
            .collect();
        assert_eq!(
            listed,
            [
                (
                    "speaker:pulseaudio:hdmi",
                    "Null Output (pulseaudio:hdmi)",
                    false
                ),
                ("speaker:pulseaudio:usb", "Headset", true),
                (
                    "speaker:pulseaudio:analog",
                    "Null Output (pulseaudio:analog)",
                    false
                ),
                ("none", "No sound", false),
            ],
            "outputs sharing a name are told apart; no sound comes last"
        );
        for s in &c.speakers {
            app_settings::validate(AppSettings {
                speaker: Some(s.id.clone()),
                ..AppSettings::default()
            })
            .unwrap();
        }
    }

    #[test]
    fn the_fallback_notice_says_where_the_meeting_plays() {
        let gone = MediaError::DeviceNotFound {
            kind: "speaker",
            id: "speaker:pulseaudio:usb".into(),
        };
        let text = speaker_fallback_notice(&gone, "Built-in Audio");
        assert_eq!(
            text,
            "The speaker you chose is not connected: playing the meeting on the system default, Built-in Audio, instead."
        );
        let busy = MediaError::DeviceUnavailable {
            kind: "speaker",
            name: "Headset".into(),
            reason: "busy".into(),
        };
        assert!(speaker_fallback_notice(&busy, "X").contains("could not be opened"));
    }

    #[tokio::test]
    async fn the_speaker_test_refuses_what_is_not_a_speaker_and_reports_a_gone_one() {
        assert!(test_speaker(Some("none".into())).await.is_ok());
        for wrong in ["camera:0", "mic:pulseaudio:vsink.monitor", "nonesuch"] {
            assert!(
                matches!(
                    test_speaker(Some(wrong.into())).await,
                    Err(Error::InvalidInput(_))
                ),
                "{wrong:?}"
            );
        }
        match test_speaker(Some("speaker:pulseaudio:unplugged-confer-test".into())).await {
            Err(Error::Settings(text)) => assert!(text.contains("not connected"), "{text}"),
            other => panic!("a gone speaker gave {other:?}"),
        }
    }
}
