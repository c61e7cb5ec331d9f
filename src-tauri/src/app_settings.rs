//! The user's media settings ([`AppSettings`]): which microphone, camera and
//! speaker, audio processing, video quality, how to join. Kept as JSON in
//! the app's config directory; never holds secrets (the session token lives
//! in the OS keyring, see `credentials.rs`).
//!
//! Loading never fails the app: a missing file means defaults, and a file
//! that does not parse or validate is set aside as `settings.json.bad` (so a
//! hand edit is not lost) and defaults are used.

use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::models::{AppSettings, VideoQuality};

/// The settings file's name inside the config directory.
pub(crate) const FILE_NAME: &str = "settings.json";

/// The synthetic microphone: a 440 Hz tone.
pub(crate) const TONE: &str = "tone";
/// The synthetic camera: a moving test pattern.
pub(crate) const PATTERN: &str = "pattern";
/// The system's default microphone, as the capture opens it.
pub(crate) const DEFAULT_MIC: &str = "mic:default";
/// The speaker choice that plays nothing.
pub(crate) const NO_SPEAKER: &str = "none";
/// The speaker choice for the system's default output.
pub(crate) const DEFAULT_SPEAKER: &str = "default";
/// Id prefix of real speakers (`speaker:` and the sound server's id), as
/// the media engine lists them.
pub(crate) const SPEAKER_PREFIX: &str = confer_media::playout::SPEAKER_PREFIX;

/// Longest device id accepted (ids are short; this bounds a hostile file).
const MAX_ID_LEN: usize = 512;

/// The frequency of the test tone.
const TONE_HZ: f32 = 440.0;

/// Camera frame rate we capture at.
pub(crate) const CAMERA_FPS: u32 = 30;

impl VideoQuality {
    /// The top simulcast layer's size for this quality.
    pub(crate) fn size(self) -> (u32, u32) {
        match self {
            VideoQuality::Low => (320, 180),
            VideoQuality::Medium => (640, 360),
            VideoQuality::High => (1280, 720),
        }
    }
}

/// Checks settings before they are saved; trims ids and turns empty ones
/// into "system default".
pub(crate) fn validate(mut settings: AppSettings) -> Result<AppSettings, Error> {
    for (what, slot, prefixes) in [
        ("microphone", &mut settings.microphone, &["mic:", TONE][..]),
        ("camera", &mut settings.camera, &["camera:", PATTERN][..]),
        (
            "speaker",
            &mut settings.speaker,
            &[DEFAULT_SPEAKER, NO_SPEAKER, SPEAKER_PREFIX][..],
        ),
    ] {
        let id = slot.take().map(|s| s.trim().to_owned());
        *slot = match id {
            None => None,
            Some(id) if id.is_empty() => None,
            Some(id) if id.len() > MAX_ID_LEN => {
                return Err(Error::InvalidInput(format!("the {what} id is too long")));
            }
            // Entries ending in ':' are prefixes of device ids; the rest
            // (`tone`, `none`, …) are whole ids, so `nonesuch` is refused.
            Some(id)
                if prefixes
                    .iter()
                    .any(|p| id == *p || (p.ends_with(':') && id.starts_with(p))) =>
            {
                Some(id)
            }
            Some(id) => {
                return Err(Error::InvalidInput(format!(
                    "{id:?} is not a {what} this app knows"
                )));
            }
        };
    }
    Ok(settings)
}

/// Where the settings live under `config_dir`.
pub(crate) fn path_in(config_dir: &Path) -> PathBuf {
    config_dir.join(FILE_NAME)
}

/// Reads the settings at `path`: defaults when there is no file; a file
/// that does not parse or validate is renamed to `*.bad` and defaults are
/// returned (with a note for the log).
pub(crate) fn load(path: &Path) -> (AppSettings, Option<String>) {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return (AppSettings::default(), None);
        }
        Err(e) => {
            return (
                AppSettings::default(),
                Some(format!("cannot read {}: {e}", path.display())),
            );
        }
    };
    let parsed = serde_json::from_str::<AppSettings>(&text)
        .map_err(|e| e.to_string())
        .and_then(|s| validate(s).map_err(|e| e.to_string()));
    match parsed {
        Ok(s) => (s, None),
        Err(why) => {
            let bad = path.with_extension("json.bad");
            let _ = std::fs::rename(path, &bad);
            (
                AppSettings::default(),
                Some(format!(
                    "settings file {} was unusable ({why}); kept as {} and using defaults",
                    path.display(),
                    bad.display()
                )),
            )
        }
    }
}

/// Validates and writes the settings to `path` (atomically: a temporary
/// file renamed over the old one), returning what was saved.
pub(crate) fn save(path: &Path, settings: AppSettings) -> Result<AppSettings, Error> {
    let settings = validate(settings)?;
    let failed = |e: std::io::Error| {
        Error::Settings(format!("cannot save settings to {}: {e}", path.display()))
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(failed)?;
    }
    let json = serde_json::to_vec_pretty(&settings)
        .map_err(|e| Error::Settings(format!("cannot encode settings: {e}")))?;
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, json).map_err(failed)?;
    std::fs::rename(&tmp, path).map_err(failed)?;
    Ok(settings)
}

/// The microphone source for a settings choice: `None` means the system
/// default device (the first microphone listed), `tone` the test tone.
/// Returns `None` when no microphone exists at all.
pub(crate) fn microphone_spec(choice: Option<&str>, first_device: Option<&str>) -> Option<String> {
    match choice {
        Some(TONE) => Some(tone_spec()),
        Some(id) => Some(id.to_owned()),
        None => first_device.map(str::to_owned),
    }
}

/// The camera source for a settings choice, at `quality`'s size.
/// `None` means the first camera, or nothing when there is none.
pub(crate) fn camera_spec(
    choice: Option<&str>,
    first_device: Option<&str>,
    quality: VideoQuality,
) -> Option<String> {
    match choice {
        Some(PATTERN) => Some(pattern_spec(quality)),
        Some(id) => Some(id.to_owned()),
        None => first_device.map(str::to_owned),
    }
}

/// The output device a speaker setting plays on: `None` for the system
/// default (no setting, or `default`), else the device's id. The caller
/// handles [`NO_SPEAKER`] (play nothing) before asking.
pub(crate) fn speaker_device(choice: Option<&str>) -> Option<&str> {
    match choice {
        None | Some(DEFAULT_SPEAKER) => None,
        Some(id) => Some(id),
    }
}

/// The test tone as a source.
pub(crate) fn tone_spec() -> String {
    format!("tone:{TONE_HZ}")
}

/// The test pattern as a source, at `quality`'s size.
pub(crate) fn pattern_spec(quality: VideoQuality) -> String {
    let (w, h) = quality.size();
    format!("pattern:{w}x{h}@{CAMERA_FPS}")
}

/// Whether a source text parses as one the client can open.
#[cfg(test)]
fn parses(spec: &str) -> bool {
    spec.parse::<confer_client::media::SourceSpec>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_gives_defaults_with_processing_on() {
        let dir = tempfile::tempdir().unwrap();
        let (s, note) = load(&path_in(dir.path()));
        assert_eq!(s, AppSettings::default());
        assert!(note.is_none());
        assert!(s.noise_suppression && s.echo_cancellation && s.auto_gain);
        assert_eq!(s.video_quality, VideoQuality::Medium);
        assert!(!s.join_muted && !s.join_video_off);
    }

    #[test]
    fn saved_settings_load_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = path_in(&dir.path().join("nested"));
        let wanted = AppSettings {
            microphone: Some(" tone ".into()),
            camera: Some("pattern".into()),
            speaker: Some("none".into()),
            noise_suppression: false,
            echo_cancellation: true,
            auto_gain: false,
            video_quality: VideoQuality::High,
            join_muted: true,
            join_video_off: true,
        };
        let saved = save(&path, wanted.clone()).unwrap();
        assert_eq!(saved.microphone.as_deref(), Some("tone"), "ids are trimmed");
        let (loaded, note) = load(&path);
        assert!(note.is_none());
        assert_eq!(loaded, saved);
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(json["videoQuality"], "high");
        assert_eq!(json["joinMuted"], true);
    }

    #[test]
    fn unknown_devices_and_huge_ids_are_refused() {
        let bad = AppSettings {
            camera: Some("/dev/video0; rm -rf".into()),
            ..AppSettings::default()
        };
        assert!(matches!(validate(bad), Err(Error::InvalidInput(_))));
        let bad = AppSettings {
            microphone: Some(format!("mic:{}", "x".repeat(600))),
            ..AppSettings::default()
        };
        assert!(matches!(validate(bad), Err(Error::InvalidInput(_))));
        for speaker in [
            "camera:0",
            "mic:pulseaudio:vsink.monitor",
            "defaultx",
            "/dev/dsp",
        ] {
            let bad = AppSettings {
                speaker: Some(speaker.into()),
                ..AppSettings::default()
            };
            assert!(
                matches!(validate(bad), Err(Error::InvalidInput(_))),
                "{speaker:?} is not a speaker"
            );
        }
        let empty = validate(AppSettings {
            microphone: Some("  ".into()),
            ..AppSettings::default()
        })
        .unwrap();
        assert_eq!(empty.microphone, None, "blank means system default");
    }

    #[test]
    fn a_damaged_file_is_set_aside_and_defaults_used() {
        let dir = tempfile::tempdir().unwrap();
        let path = path_in(dir.path());
        std::fs::write(&path, "{ not json").unwrap();
        let (s, note) = load(&path);
        assert_eq!(s, AppSettings::default());
        assert!(note.unwrap().contains("unusable"));
        assert!(dir.path().join("settings.json.bad").exists());
        // Partial files fill the rest with defaults.
        std::fs::write(&path, r#"{"videoQuality":"low"}"#).unwrap();
        let (s, note) = load(&path);
        assert!(note.is_none());
        assert_eq!(s.video_quality, VideoQuality::Low);
        assert!(s.echo_cancellation);
    }

    #[test]
    fn a_chosen_speaker_is_kept_and_played_on() {
        let chosen = validate(AppSettings {
            speaker: Some(" speaker:pulseaudio:alsa_output.usb ".into()),
            ..AppSettings::default()
        })
        .unwrap();
        assert_eq!(
            chosen.speaker.as_deref(),
            Some("speaker:pulseaudio:alsa_output.usb")
        );
        assert_eq!(
            speaker_device(chosen.speaker.as_deref()),
            Some("speaker:pulseaudio:alsa_output.usb")
        );
        assert_eq!(speaker_device(None), None, "no setting: the default");
        assert_eq!(speaker_device(Some(DEFAULT_SPEAKER)), None);
    }

    #[test]
    fn synthetic_choices_become_sources_that_parse() {
        assert_eq!(
            camera_spec(Some(PATTERN), None, VideoQuality::Low).as_deref(),
            Some("pattern:320x180@30")
        );
        assert_eq!(
            camera_spec(None, None, VideoQuality::High),
            None,
            "no camera, no default"
        );
        assert_eq!(
            camera_spec(None, Some("camera:0"), VideoQuality::High).as_deref(),
            Some("camera:0")
        );
        let tone = microphone_spec(Some(TONE), Some("mic:x")).unwrap();
        assert!(parses(&tone));
        assert!(parses(&pattern_spec(VideoQuality::High)));
        assert!(parses("mic:default"));
        assert!(!parses("pattern"));
    }
}
