//! What the shell remembers between commands: the settings, who is signed
//! in, and the meeting in progress. Managed by Tauri (`app.manage`).

use confer_client::api::ApiClient;
use confer_client::driver::Command;
use tokio::sync::{Mutex, mpsc};

use crate::credentials::StoredSession;
use crate::error::Error;
use crate::settings::Settings;
use crate::web_meetings::WebMeetings;

/// The signed-in account.
#[derive(Clone)]
pub(crate) struct SignedIn {
    /// The account's email.
    pub(crate) email: String,
    /// The web service bearer token.
    pub(crate) token: String,
    /// Whether the token is also in the OS keyring.
    pub(crate) remembered: bool,
}

/// A meeting in progress: where to send commands. The driver drops the
/// receiving end when the session ends, which is how a finished meeting is
/// told from a running one.
pub(crate) struct MeetingHandle {
    /// Requests to the running session.
    pub(crate) commands: mpsc::Sender<Command>,
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

    /// Where to send requests for the running meeting.
    pub(crate) async fn meeting_commands(&self) -> Result<mpsc::Sender<Command>, Error> {
        match self.meeting.lock().await.as_ref() {
            Some(h) if !h.commands.is_closed() => Ok(h.commands.clone()),
            _ => Err(Error::NotInMeeting),
        }
    }
}
