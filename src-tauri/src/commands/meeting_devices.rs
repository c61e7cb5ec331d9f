//! Device changes during a meeting: a microphone, camera or speaker picked
//! in the settings while the meeting runs is used at once, as people who
//! plug in a headset mid-call expect.
//!
//! - The microphone and camera are capture sources: when the user picks
//!   another one (or, for the camera, another video quality) the new
//!   source replaces the old on its track (`Command::Capture`), unless the
//!   track is muted or off, in which case it is used when the user turns
//!   it back on. The meeting's `LocalMedia` keeps it, so a reconnect sends
//!   it too. What changed is judged on the picks ([`DevicePicks`]), not on
//!   what is sent: a microphone that failed and was replaced by the test
//!   tone is not tried again just because other settings were saved.
//! - The speaker plays in the meeting's media sink, inside the session
//!   driver. Opening a device blocks (the sound server answers), so the
//!   settings command opens it on a blocking thread and leaves it in the
//!   meeting's [`SpeakerSlot`]; the sink swaps it in at its next audio
//!   frame or status report (about once a second at most). A reconnect
//!   opens the slot's choice.
//!
//! - Noise suppression, echo cancellation and gain control run in the
//!   media engine: every save sends it what should run now
//!   (`Command::Processing`, from the switches and the microphone in use:
//!   nothing runs on the test tone).
//!
//! The meeting keeps the saved settings, so a reconnect uses them too.

use std::sync::{Arc, Mutex as SyncMutex};

use confer_client::driver::Command;
use confer_client::media::CaptureTrack;
use confer_client::media::playout::SpeakerSink;
use tauri::{AppHandle, Emitter, Manager, Runtime};

use crate::app_settings::{self, NO_SPEAKER};
use crate::models::{AppSettings, MEETING_EVENT, MeetingUpdate, VideoQuality};
use crate::state::{AppState, LocalMedia};

/// The capture devices the user picked in the settings, before any
/// fallback: what a change is judged on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DevicePicks {
    microphone: Option<String>,
    camera: Option<String>,
    /// The camera's size when it is the test pattern.
    video_quality: VideoQuality,
}

impl DevicePicks {
    /// The picks in `settings`.
    pub(crate) fn of(settings: &AppSettings) -> Self {
        Self {
            microphone: settings.microphone.clone(),
            camera: settings.camera.clone(),
            video_quality: settings.video_quality,
        }
    }
}

/// The tracks whose source the change from `before` to `after` affects.
pub(crate) fn changed_tracks(before: &DevicePicks, after: &DevicePicks) -> Vec<CaptureTrack> {
    let mut tracks = Vec::new();
    if before.microphone != after.microphone {
        tracks.push(CaptureTrack::Audio);
    }
    if before.camera != after.camera || before.video_quality != after.video_quality {
        tracks.push(CaptureTrack::Camera);
    }
    tracks
}

/// Uses the devices in freshly saved `settings` in the running meeting, if
/// one runs, and tells the meeting screen what the user must know (a
/// device that could not be used, and what plays or is sent instead).
pub(crate) async fn apply_to_running_meeting<R: Runtime>(
    app: &AppHandle<R>,
    settings: &AppSettings,
) {
    let Some((commands, local, kept, speaker)) = app.state::<AppState>().meeting_devices().await
    else {
        return;
    };
    let tracks = match kept.lock() {
        Ok(mut before) => {
            let tracks = changed_tracks(&DevicePicks::of(&before), &DevicePicks::of(settings));
            *before = settings.clone();
            tracks
        }
        Err(_) => return,
    };
    let mut notices = Vec::new();
    if !tracks.is_empty() {
        let Some((muted, video_off)) = local.lock().ok().map(|l| (l.muted, l.video_off)) else {
            return;
        };
        let (wanted, fallbacks) =
            super::meeting_session::choose_local_media(settings, muted, video_off).await;
        let changes = match local.lock() {
            Ok(mut l) => capture_changes(&mut l, &wanted, &tracks),
            Err(_) => return,
        };
        // What stands in for a device that is not there, said when the
        // user picks it.
        notices.extend(
            fallbacks
                .into_iter()
                .filter(|(track, _)| tracks.contains(track))
                .map(|(_, text)| text),
        );
        for (track, source) in changes {
            if commands
                .send(Command::Capture { track, source })
                .await
                .is_err()
            {
                return; // The meeting ended meanwhile.
            }
        }
    }
    // The audio switches, for the microphone now in use. Whether we play
    // the others is judged on the choice (a speaker that failed to open
    // only leaves the echo canceller without a reference).
    let Some(now_sent) = local.lock().ok().map(|l| l.clone()) else {
        return;
    };
    let playing = settings.speaker.as_deref() != Some(NO_SPEAKER);
    let processing = super::meeting_session::processing_for(settings, &now_sent, playing);
    if commands
        .send(Command::Processing(processing))
        .await
        .is_err()
    {
        return;
    }
    if speaker.choice() != settings.speaker {
        let choice = settings.speaker.clone();
        let opened = tokio::task::spawn_blocking(move || open_speaker(choice.as_deref())).await;
        if let Ok((sink, notice)) = opened {
            speaker.offer(settings.speaker.clone(), sink);
            notices.extend(notice);
        }
    }
    for text in notices {
        let _ = app.emit(MEETING_EVENT, MeetingUpdate::Notice { text });
    }
}

/// The meeting's speaker: the user's choice, which the meeting opens at
/// each (re)join, and a replacement opened mid-meeting for the media sink
/// to take. Shared by the meeting task, its sinks and the settings command.
#[derive(Clone, Default)]
pub(crate) struct SpeakerSlot(Arc<SyncMutex<SpeakerState>>);

#[derive(Default)]
struct SpeakerState {
    /// The speaker setting (`None`: the system default).
    choice: Option<String>,
    /// Opened for the sink to take: `Some(None)` means play nothing.
    replacement: Option<Option<SpeakerSink>>,
}

impl SpeakerSlot {
    /// A slot for a meeting that starts with `choice`.
    pub(crate) fn new(choice: Option<String>) -> Self {
        Self(Arc::new(SyncMutex::new(SpeakerState {
            choice,
            replacement: None,
        })))
    }

    /// The speaker setting now.
    pub(crate) fn choice(&self) -> Option<String> {
        self.0.lock().ok().and_then(|s| s.choice.clone())
    }

    /// Leaves `speaker`, opened for `choice`, for the sink to take (and
    /// for the next (re)join to open again).
    pub(crate) fn offer(&self, choice: Option<String>, speaker: Option<SpeakerSink>) {
        if let Ok(mut s) = self.0.lock() {
            s.choice = choice;
            // An earlier replacement not taken yet is dropped (closed).
            s.replacement = Some(speaker);
        }
    }

    /// The replacement, if one waits. Never blocks: the media sink calls
    /// it on the driver's task, and a busy slot is tried again next time.
    pub(crate) fn take(&self) -> Option<Option<SpeakerSink>> {
        self.0
            .try_lock()
            .ok()
            .and_then(|mut s| s.replacement.take())
    }

    /// Forgets a replacement opened before a (re)join, which opens the
    /// choice itself.
    pub(crate) fn clear_replacement(&self) {
        if let Ok(mut s) = self.0.lock() {
            s.replacement = None;
        }
    }
}

/// Opens the speaker for a setting: nothing for [`NO_SPEAKER`], else the
/// chosen device or, when it cannot be opened, the default. The second
/// value is what to tell the user, if anything. Blocks while the sound
/// server answers.
pub(crate) fn open_speaker(choice: Option<&str>) -> (Option<SpeakerSink>, Option<String>) {
    match choice {
        Some(NO_SPEAKER) => (None, None),
        chosen => match SpeakerSink::open_or_default(app_settings::speaker_device(chosen)) {
            // The chosen speaker is gone: the default plays, and we say so.
            Ok((s, Some(why))) => {
                let notice = super::devices::speaker_fallback_notice(&why, s.name());
                (Some(s), Some(notice))
            }
            Ok((s, None)) => (Some(s), None),
            Err(e) => (
                None,
                Some(format!(
                    "No speaker to play the meeting on ({e}); you will not hear the others."
                )),
            ),
        },
    }
}

/// Takes the sources of `tracks` (the microphone, the camera) from
/// `wanted` into `local` and returns the capture changes to make now: each
/// of those tracks whose source changed and that is on (a muted microphone
/// or a camera that is off changes when it is turned back on, from
/// `local`).
pub(crate) fn capture_changes(
    local: &mut LocalMedia,
    wanted: &LocalMedia,
    tracks: &[CaptureTrack],
) -> Vec<(CaptureTrack, Option<String>)> {
    let mut changes = Vec::new();
    if tracks.contains(&CaptureTrack::Audio) && local.microphone != wanted.microphone {
        local.microphone.clone_from(&wanted.microphone);
        if !local.muted {
            changes.push((
                CaptureTrack::Audio,
                local.source(CaptureTrack::Audio).map(str::to_owned),
            ));
        }
    }
    if tracks.contains(&CaptureTrack::Camera) && local.camera != wanted.camera {
        local.camera.clone_from(&wanted.camera);
        if !local.video_off {
            changes.push((
                CaptureTrack::Camera,
                local.source(CaptureTrack::Camera).map(str::to_owned),
            ));
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn media(mic: &str, cam: &str) -> LocalMedia {
        LocalMedia {
            microphone: Some(mic.into()),
            camera: Some(cam.into()),
            ..LocalMedia::default()
        }
    }

    const BOTH: &[CaptureTrack] = &[CaptureTrack::Audio, CaptureTrack::Camera];

    #[test]
    fn a_changed_device_is_captured_at_once() {
        let mut local = media("mic:default", "pattern:640x360@30");
        let changes = capture_changes(&mut local, &media("tone:440", "camera:0"), BOTH);
        assert_eq!(
            changes,
            vec![
                (CaptureTrack::Audio, Some("tone:440".into())),
                (CaptureTrack::Camera, Some("camera:0".into())),
            ]
        );
        assert_eq!(local, media("tone:440", "camera:0"));
    }

    #[test]
    fn the_same_devices_change_nothing() {
        let mut local = media("mic:default", "camera:0");
        assert!(capture_changes(&mut local, &media("mic:default", "camera:0"), BOTH).is_empty());
    }

    #[test]
    fn only_the_tracks_whose_pick_changed_are_touched() {
        // The microphone failed and the tone stands in; the camera's
        // quality changed. The tone stays.
        let mut local = media("tone:440", "pattern:640x360@30");
        let changes = capture_changes(
            &mut local,
            &media("mic:default", "pattern:320x180@30"),
            &[CaptureTrack::Camera],
        );
        assert_eq!(
            changes,
            vec![(CaptureTrack::Camera, Some("pattern:320x180@30".into()))]
        );
        assert_eq!(local.microphone.as_deref(), Some("tone:440"));
    }

    #[test]
    fn picks_say_which_tracks_changed() {
        let before = DevicePicks::of(&AppSettings::default());
        assert!(changed_tracks(&before, &before).is_empty());
        let quality = DevicePicks::of(&AppSettings {
            video_quality: VideoQuality::Low,
            ..AppSettings::default()
        });
        assert_eq!(
            changed_tracks(&before, &quality),
            vec![CaptureTrack::Camera]
        );
        let mic = DevicePicks::of(&AppSettings {
            microphone: Some("tone".into()),
            speaker: Some("none".into()),
            noise_suppression: false,
            ..AppSettings::default()
        });
        assert_eq!(changed_tracks(&before, &mic), vec![CaptureTrack::Audio]);
    }

    #[test]
    fn a_muted_microphone_or_stopped_camera_waits_to_be_turned_on() {
        let mut local = LocalMedia {
            muted: true,
            video_off: true,
            share: Some("screen:0".into()),
            ..media("mic:default", "pattern:640x360@30")
        };
        let changes = capture_changes(&mut local, &media("tone:440", "pattern:1280x720@30"), BOTH);
        assert!(changes.is_empty(), "{changes:?}");
        // Kept for when they are turned on; the rest is untouched.
        assert_eq!(local.microphone.as_deref(), Some("tone:440"));
        assert_eq!(local.camera.as_deref(), Some("pattern:1280x720@30"));
        assert!(local.muted && local.video_off);
        assert_eq!(local.share.as_deref(), Some("screen:0"));
    }

    #[test]
    fn the_slot_hands_over_one_replacement() {
        let slot = SpeakerSlot::new(None);
        assert_eq!(slot.choice(), None);
        assert!(slot.take().is_none());
        // "none": play nothing, which is a replacement too.
        slot.offer(Some(NO_SPEAKER.into()), None);
        assert_eq!(slot.choice().as_deref(), Some(NO_SPEAKER));
        assert!(matches!(slot.take(), Some(None)));
        assert!(slot.take().is_none(), "taken once");
        slot.offer(None, None);
        slot.clear_replacement();
        assert!(slot.take().is_none());
        assert_eq!(slot.choice(), None);
    }

    #[test]
    fn no_speaker_opens_nothing_and_says_nothing() {
        let (speaker, notice) = open_speaker(Some(NO_SPEAKER));
        assert!(speaker.is_none());
        assert!(notice.is_none());
    }
}
