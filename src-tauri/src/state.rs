//! What the shell remembers between commands: the settings, who is signed
//! in, and the meeting in progress. Managed by Tauri (`app.manage`).

use std::sync::Arc;

use confer_client::api::ApiClient;
use confer_client::driver::Command;
use confer_client::media::{CaptureTrack, SourceSpec};
use tokio::sync::{Mutex, mpsc};

use crate::commands::meeting_devices::SpeakerSlot;
use crate::credentials::StoredSession;
use crate::error::Error;
use crate::models::AppSettings;
use crate::settings::Settings;
use crate::web_meetings::WebMeetings;

/// The signed-in account.
#[derive(Clone)]
pub(crate) struct SignedIn {
    /// The account's email.
    pub(crate) email: String,
    /// The name others see, when the server said it.
    pub(crate) display_name: Option<String>,
    /// The web service bearer token.
    pub(crate) token: String,
    /// Whether the token is also in the OS keyring.
    pub(crate) remembered: bool,
}

/// What changing devices mid-meeting needs: see [`AppState::meeting_devices`].
pub(crate) type MeetingDevices = (
    mpsc::Sender<Command>,
    Arc<std::sync::Mutex<LocalMedia>>,
    Arc<std::sync::Mutex<AppSettings>>,
    SpeakerSlot,
);

/// A meeting in progress: where to send commands. The driver drops the
/// receiving end when the session ends, which is how a finished meeting is
/// told from a running one.
pub(crate) struct MeetingHandle {
    /// Requests to the running session.
    pub(crate) commands: mpsc::Sender<Command>,
    /// What we send; outlives one connection (a reconnect starts from it).
    pub(crate) local: Arc<std::sync::Mutex<LocalMedia>>,
    /// The settings the meeting runs with (saving them mid-meeting
    /// updates them; a reconnect reads them).
    pub(crate) settings: Arc<std::sync::Mutex<AppSettings>>,
    /// The speaker the meeting plays on, which the settings can change.
    pub(crate) speaker: SpeakerSlot,
}

/// What we send in the meeting, as the user last set it. The sources are
/// `SourceSpec` texts (`mic:…`, `tone:440`, `pattern:640x360@30`, …).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LocalMedia {
    /// The microphone, when there is one to send.
    pub(crate) microphone: Option<String>,
    /// The camera, when there is one to send.
    pub(crate) camera: Option<String>,
    /// Muted: no audio is captured or sent.
    pub(crate) muted: bool,
    /// Video off: no camera is captured or sent.
    pub(crate) video_off: bool,
    /// The screen or window being shared.
    pub(crate) share: Option<String>,
}

impl LocalMedia {
    /// The source each track captures now, if any.
    pub(crate) fn source(&self, track: CaptureTrack) -> Option<&str> {
        match track {
            CaptureTrack::Audio if !self.muted => self.microphone.as_deref(),
            CaptureTrack::Camera if !self.video_off => self.camera.as_deref(),
            CaptureTrack::Screen => self.share.as_deref(),
            _ => None,
        }
    }

    /// Every track's source, for a session that is about to start.
    pub(crate) fn sources(&self) -> Vec<(CaptureTrack, SourceSpec)> {
        [
            CaptureTrack::Audio,
            CaptureTrack::Camera,
            CaptureTrack::Screen,
        ]
        .into_iter()
        .filter_map(|t| Some((t, self.source(t)?.parse().ok()?)))
        .collect()
    }
}

/// A running device preview (settings screen); dropping it stops it.
pub(crate) struct PreviewHandle {
    /// Set to stop the preview's threads.
    pub(crate) stop: Arc<std::sync::atomic::AtomicBool>,
}

impl Drop for PreviewHandle {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// The shell's state.
pub(crate) struct AppState {
    /// Where the web service is.
    pub(crate) settings: Settings,
    /// Who is signed in; `None` until sign-in or a restored keyring entry.
    pub(crate) auth: Mutex<Option<SignedIn>>,
    /// Whether the keyring was already consulted at start.
    pub(crate) restored: Mutex<bool>,
    /// A session handed over by a launcher (`sign_in_handoff`), used by the
    /// first `auth_state` in place of the keyring's.
    pub(crate) handoff: Mutex<Option<StoredSession>>,
    /// The meeting in progress, if any.
    pub(crate) meeting: Mutex<Option<MeetingHandle>>,
    /// The device preview running, if any.
    pub(crate) preview: Mutex<Option<PreviewHandle>>,
}

impl AppState {
    /// Fresh state for `settings`.
    pub(crate) fn new(settings: Settings) -> Self {
        AppState {
            settings,
            auth: Mutex::new(None),
            restored: Mutex::new(false),
            handoff: Mutex::new(None),
            meeting: Mutex::new(None),
            preview: Mutex::new(None),
        }
    }

    /// A web API client, signed in when someone is.
    pub(crate) async fn api(&self) -> Result<ApiClient, Error> {
        let ca = self.settings.ca_pem()?;
        let api = ApiClient::new(&self.settings.server_url, ca.as_deref())?;
        Ok(match self.auth.lock().await.as_ref() {
            Some(signed_in) => api.with_access_token(signed_in.token.clone()),
            None => api,
        })
    }

    /// The scheduling client for the signed-in account.
    pub(crate) async fn web(&self) -> Result<WebMeetings, Error> {
        let token = self
            .auth
            .lock()
            .await
            .as_ref()
            .map(|s| s.token.clone())
            .ok_or(Error::NotSignedIn)?;
        self.web_with(&token)
    }

    /// A scheduling client sending `token` (empty for public calls).
    pub(crate) fn web_with(&self, token: &str) -> Result<WebMeetings, Error> {
        let ca = self.settings.ca_pem()?;
        Ok(WebMeetings::new(
            &self.settings.server_url,
            ca.as_deref(),
            token,
        )?)
    }

    /// The running meeting's commands and local media.
    pub(crate) async fn meeting_local(
        &self,
    ) -> Result<(mpsc::Sender<Command>, Arc<std::sync::Mutex<LocalMedia>>), Error> {
        match self.meeting.lock().await.as_ref() {
            Some(h) if !h.commands.is_closed() => Ok((h.commands.clone(), h.local.clone())),
            _ => Err(Error::NotInMeeting),
        }
    }

    /// The running meeting's commands, local media, settings and speaker,
    /// if one runs.
    pub(crate) async fn meeting_devices(&self) -> Option<MeetingDevices> {
        match self.meeting.lock().await.as_ref() {
            Some(h) if !h.commands.is_closed() => Some((
                h.commands.clone(),
                h.local.clone(),
                h.settings.clone(),
                h.speaker.clone(),
            )),
            _ => None,
        }
    }

    /// Where to send requests for the running meeting.
    pub(crate) async fn meeting_commands(&self) -> Result<mpsc::Sender<Command>, Error> {
        match self.meeting.lock().await.as_ref() {
            Some(h) if !h.commands.is_closed() => Ok(h.commands.clone()),
            _ => Err(Error::NotInMeeting),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn muted_and_video_off_send_nothing_of_those_tracks() {
        let mut local = LocalMedia {
            microphone: Some("tone:440".into()),
            camera: Some("pattern:640x360@30".into()),
            muted: false,
            video_off: false,
            share: None,
        };
        let tracks = |l: &LocalMedia| l.sources().into_iter().map(|(t, _)| t).collect::<Vec<_>>();
        assert_eq!(tracks(&local), [CaptureTrack::Audio, CaptureTrack::Camera]);
        local.muted = true;
        assert_eq!(tracks(&local), [CaptureTrack::Camera]);
        assert_eq!(local.source(CaptureTrack::Audio), None);
        local.video_off = true;
        local.share = Some("screen:1".into());
        assert_eq!(tracks(&local), [CaptureTrack::Screen]);
        // A source that does not parse is left out rather than failing.
        local.share = Some("nonsense".into());
        assert!(tracks(&local).is_empty());
    }
}
