//! Signing in and out, with a password or the organisation's single
//! sign-on (system browser + loopback redirect, `confer_client::sso`). The
//! token goes to the OS keyring so the next start is signed in; the
//! password is never kept. After a sign-in, this device's public keys are
//! registered with the server (best effort).

use std::time::Duration;

use confer_client::api::{ApiClient, ApiError};
use confer_client::device_keys::DeviceKeyStore;
use confer_client::sso::{self, SsoError, SsoSignIn};
use tauri::State;
use tokio::sync::{Mutex, oneshot};

use crate::credentials::{self, StoredSession};
use crate::error::Error;
use crate::models::{AuthState, SignInRequest, SsoSignInStarted};
use crate::state::{AppState, SignedIn};

/// Longest a keyring call may take: a Secret Service that waits on a
/// prompt nobody answers must not hang signing in.
const KEYRING_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs a (blocking) keyring call on a blocking thread, bounded by
/// [`KEYRING_TIMEOUT`].
async fn keyring_call<T: Send + 'static>(
    call: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    let task = tauri::async_runtime::spawn_blocking(call);
    match tokio::time::timeout(KEYRING_TIMEOUT, task).await {
        Ok(Ok(result)) => result,
        Ok(Err(e)) => Err(Error::Keyring(e.to_string())),
        Err(_) => Err(Error::Keyring("the keyring did not answer".into())),
    }
}

async fn auth_view(state: &AppState) -> AuthState {
    let auth = state.auth.lock().await;
    AuthState {
        server_url: state.settings.server_url.clone(),
        email: auth.as_ref().map(|s| s.email.clone()),
        display_name: auth.as_ref().and_then(|s| s.display_name.clone()),
        remembered: auth.as_ref().is_some_and(|s| s.remembered),
    }
}

/// Who is signed in. On the first call, a session kept in the keyring is
/// restored if the server still accepts its token.
#[tauri::command]
pub(crate) async fn auth_state(state: State<'_, AppState>) -> Result<AuthState, Error> {
    let mut restored = state.restored.lock().await;
    if !*restored {
        *restored = true;
        let server = state.settings.server_url.clone();
        let handed = state.handoff.lock().await.take();
        let stored = match handed {
            // A launcher's one-shot sign-in replaces what the keyring held.
            Some(session) => adopt_handoff(&state, session).await,
            None => keyring_call(move || credentials::load(&server))
                .await
                .map(|s| s.map(|s| (s, true))),
        };
        // A keyring that cannot be read means "not signed in", not a failure.
        if let Ok(Some((stored, remembered))) = stored
            && let Ok(web) = state.web_with(&stored.token)
            && let Ok(me) = web.me().await
        {
            // A sign-in that finished meanwhile wins over the stored one.
            state.auth.lock().await.get_or_insert(SignedIn {
                // The server's spelling, in case the account's email changed.
                email: me.email,
                display_name: me.display_name,
                token: stored.token,
                remembered,
            });
        }
    }
    drop(restored);
    Ok(auth_view(&state).await)
}

/// Keeps a launcher's hand-off in the keyring when the server accepts its
/// token. Returns it as if loaded from the keyring; when the keyring cannot
/// keep it, it is still used for this run (in memory only); the flag says
/// whether it was kept.
async fn adopt_handoff(
    state: &AppState,
    session: StoredSession,
) -> Result<Option<(StoredSession, bool)>, Error> {
    // A token the server refuses is not worth keeping.
    state.web_with(&session.token)?.me().await?;
    let server = state.settings.server_url.clone();
    let kept = session.clone();
    let kept = keyring_call(move || credentials::store(&server, &kept)).await;
    Ok(Some((session, kept.is_ok())))
}

/// Signs in with email and password and keeps the token in the keyring.
#[tauri::command]
pub(crate) async fn sign_in(
    state: State<'_, AppState>,
    request: SignInRequest,
) -> Result<AuthState, Error> {
    let email = request.email.trim().to_owned();
    if email.is_empty() || request.password.is_empty() {
        return Err(Error::InvalidInput(
            "enter your email address and password".into(),
        ));
    }
    let login = state.api().await?.login(&email, &request.password).await?;
    // Best effort: the home screen shows the name when the server says it.
    let display_name = match state.web_with(&login.access_token) {
        Ok(web) => web.me().await.ok().and_then(|me| me.display_name),
        Err(_) => None,
    };
    signed_in(&state, email, display_name, login.access_token).await
}

/// Keeps a fresh sign-in's token in the keyring (or memory), registers
/// this device, and says who is signed in.
async fn signed_in(
    state: &AppState,
    email: String,
    display_name: Option<String>,
    token: String,
) -> Result<AuthState, Error> {
    let stored = StoredSession {
        email: email.clone(),
        token: token.clone(),
    };
    let server = state.settings.server_url.clone();
    let kept = keyring_call(move || credentials::store(&server, &stored)).await;
    *state.auth.lock().await = Some(SignedIn {
        email,
        display_name,
        token,
        // Without a keyring the token lives in memory only: signed in until
        // the app closes, never written to a file.
        remembered: kept.is_ok(),
    });
    *state.restored.lock().await = true;
    if let Ok(api) = state.api().await {
        register_this_device(api).await;
    }
    Ok(auth_view(state).await)
}

/// Best effort: loads (or on first use creates) this device's identity in
/// the OS keyring and registers its public keys for the signed-in account,
/// so others can add it to E2E meetings and chats. A missing keyring or a
/// server that refuses is logged, never a failed sign-in; joining an E2E
/// meeting registers again.
async fn register_this_device(api: ApiClient) {
    // Keyring calls block (D-Bus); DeviceKeyStore bounds them.
    let identity =
        tokio::task::spawn_blocking(|| DeviceKeyStore::from_env().load_or_create()).await;
    let identity = match identity {
        Ok(Ok(identity)) => identity,
        Ok(Err(e)) => {
            eprintln!("confer-desktop: this device is not registered: {e}");
            return;
        }
        Err(e) => {
            eprintln!("confer-desktop: this device is not registered: {e}");
            return;
        }
    };
    let name = format!("Confer desktop ({})", std::env::consts::OS);
    if let Err(e) = api
        .register_device(identity.public_keys(), Some(&name))
        .await
    {
        eprintln!("confer-desktop: this device is not registered: {e}");
    }
}

/// The single sign-on in progress, if any. Managed by Tauri beside
/// [`AppState`].
#[derive(Default)]
pub(crate) struct PendingSso(Mutex<Option<Pending>>);

/// Where a single sign-on is between [`start_sign_in_sso`] and the end of
/// [`finish_sign_in_sso`]. Dropping either cancels it: the loopback port
/// closes, or the wait for the browser ends.
enum Pending {
    /// Started, and the UI has the link; nobody waits on it yet. Boxed:
    /// a sign-in is large beside a sender.
    Started(Box<SsoSignIn>),
    /// [`finish_sign_in_sso`] waits for the browser; sending ends the wait.
    Waiting(oneshot::Sender<()>),
}

impl PendingSso {
    /// Keeps a started sign-in until [`PendingSso::wait`]; one already
    /// there (started or waited on) is dropped, and so cancelled.
    async fn begin(&self, sign_in: SsoSignIn) {
        *self.0.lock().await = Some(Pending::Started(Box::new(sign_in)));
    }

    /// Hands over the started sign-in to wait on, with the receiver that
    /// fires when it is cancelled; `None` when there is none (cancelled
    /// before the wait began, or already waited on).
    async fn wait(&self) -> Option<(SsoSignIn, oneshot::Receiver<()>)> {
        let mut pending = self.0.lock().await;
        match pending.take() {
            Some(Pending::Started(sign_in)) => {
                let (cancel, cancelled) = oneshot::channel();
                *pending = Some(Pending::Waiting(cancel));
                Some((*sign_in, cancelled))
            }
            other => {
                *pending = other;
                None
            }
        }
    }

    /// Cancels whatever is pending: a started sign-in is dropped (its port
    /// closes), a wait is told to end.
    async fn cancel(&self) {
        match self.0.lock().await.take() {
            Some(Pending::Waiting(cancel)) => {
                let _ = cancel.send(());
            }
            Some(Pending::Started(_)) | None => {}
        }
    }
}

/// Starts signing in through the organisation's single sign-on: opens the
/// loopback port, tries to open the system browser at the server's start
/// page for `slug`, and returns that page's URL so the UI can show it (a
/// browser that cannot be opened is not a failure: the user opens the
/// link). Then call [`finish_sign_in_sso`]. A newer start replaces (and
/// so cancels) an older one.
#[tauri::command]
pub(crate) async fn start_sign_in_sso(
    state: State<'_, AppState>,
    pending: State<'_, PendingSso>,
    slug: String,
) -> Result<SsoSignInStarted, Error> {
    let slug = slug.trim().to_ascii_lowercase();
    let ca = state.settings.ca_pem()?;
    let sign_in = SsoSignIn::start(&state.settings.server_url, ca.as_deref(), &slug)
        .await
        .map_err(sso_error)?;
    let url = sign_in.start_url().to_string();
    let browser_opened = match sso::open_in_browser(sign_in.start_url()) {
        Ok(()) => true,
        Err(e) => {
            eprintln!("confer-desktop: {e}; the app shows the sign-in link instead");
            false
        }
    };
    pending.begin(sign_in).await;
    Ok(SsoSignInStarted {
        url,
        browser_opened,
    })
}

/// Waits (up to five minutes, or until [`cancel_sign_in_sso`]) for the
/// browser to come back to the loopback port of the sign-in
/// [`start_sign_in_sso`] began, redeems the code and keeps the token like
/// a password sign-in's. Redirects that are not this sign-in's (a wrong
/// state) are refused and the wait goes on.
#[tauri::command]
pub(crate) async fn finish_sign_in_sso(
    state: State<'_, AppState>,
    pending: State<'_, PendingSso>,
) -> Result<AuthState, Error> {
    let Some((sign_in, cancelled)) = pending.wait().await else {
        return Err(Error::InvalidInput(SIGN_IN_CANCELLED.into()));
    };
    let login = tokio::select! {
        login = sign_in.finish(sso::DEFAULT_TIMEOUT) => login.map_err(sso_error)?,
        _ = cancelled => return Err(Error::InvalidInput(SIGN_IN_CANCELLED.into())),
    };
    // The token answer names the account, not its email: ask.
    let me = state.web_with(&login.access_token)?.me().await?;
    signed_in(&state, me.email, me.display_name, login.access_token).await
}

/// What a sign-in that was cancelled (or never started) ends with.
const SIGN_IN_CANCELLED: &str = "sign-in cancelled";

/// Cancels the single sign-on in progress: closes its loopback port, and
/// ends a [`finish_sign_in_sso`] waiting for the browser.
#[tauri::command]
pub(crate) async fn cancel_sign_in_sso(pending: State<'_, PendingSso>) -> Result<(), Error> {
    pending.cancel().await;
    Ok(())
}

/// Single sign-on failures in the app's error kinds.
fn sso_error(e: SsoError) -> Error {
    match e {
        SsoError::Api(e) => Error::Api(e),
        // The identity provider or server said no: shown like any refusal.
        SsoError::Refused { error, description } => Error::Api(ApiError::Server {
            status: 403,
            code: error,
            message: format!("your organisation's sign-in refused: {description}"),
        }),
        other => Error::InvalidInput(other.to_string()),
    }
}

/// Signs out and forgets the token kept in the keyring.
#[tauri::command]
pub(crate) async fn sign_out(state: State<'_, AppState>) -> Result<AuthState, Error> {
    *state.auth.lock().await = None;
    let server = state.settings.server_url.clone();
    keyring_call(move || credentials::forget(&server)).await?;
    Ok(auth_view(&state).await)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    /// A sign-in that starts on a loopback port: no server is contacted
    /// until a code arrives, and none will.
    async fn started() -> (SsoSignIn, u16) {
        let sign_in = SsoSignIn::start("https://127.0.0.1:9", None, "acme")
            .await
            .unwrap();
        let port = reqwest::Url::parse(sign_in.redirect_uri())
            .unwrap()
            .port()
            .unwrap();
        (sign_in, port)
    }

    async fn port_open(port: u16) -> bool {
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
    }

    #[tokio::test]
    async fn cancelling_before_the_wait_closes_the_port_and_ends_the_sign_in() {
        let pending = PendingSso::default();
        let (sign_in, port) = started().await;
        pending.begin(sign_in).await;
        assert!(port_open(port).await);
        pending.cancel().await;
        assert!(!port_open(port).await, "the loopback port outlived Cancel");
        assert!(
            pending.wait().await.is_none(),
            "a cancelled sign-in was waited on"
        );
    }

    #[tokio::test]
    async fn cancelling_during_the_wait_ends_it_and_a_second_wait_is_refused() {
        let pending = PendingSso::default();
        let (sign_in, _) = started().await;
        pending.begin(sign_in).await;
        let (sign_in, cancelled) = pending.wait().await.unwrap();
        assert!(pending.wait().await.is_none(), "one sign-in, two waits");
        pending.cancel().await;
        let ended = tokio::time::timeout(Duration::from_secs(10), async {
            tokio::select! {
                _ = sign_in.finish(sso::DEFAULT_TIMEOUT) => false,
                _ = cancelled => true,
            }
        });
        assert!(ended.await.unwrap(), "the wait ended some other way");
    }

    #[tokio::test]
    async fn a_newer_sign_in_replaces_an_older_one() {
        let pending = PendingSso::default();
        let (old, old_port) = started().await;
        pending.begin(old).await;
        let (new, new_port) = started().await;
        pending.begin(new).await;
        assert!(
            !port_open(old_port).await,
            "the replaced sign-in still listens"
        );
        let (new, _) = pending.wait().await.unwrap();
        assert_eq!(
            new.redirect_uri(),
            format!("http://127.0.0.1:{new_port}/sso/done")
        );
    }

    #[test]
    fn sso_failures_keep_their_meaning_for_the_ui() {
        let refused = sso_error(SsoError::Refused {
            error: "no_matching_organisation".into(),
            description: "no organisation matches this account".into(),
        });
        assert_eq!(refused.kind(), ErrorKind::Refused);
        assert!(refused.to_string().contains("no organisation matches"));
        let late = sso_error(SsoError::TimedOut(sso::DEFAULT_TIMEOUT));
        assert_eq!(late.kind(), ErrorKind::InvalidInput);
        assert!(late.to_string().contains("300 s"), "{late}");
        let bad = sso_error(SsoError::InvalidSlug("a/b".into()));
        assert_eq!(bad.kind(), ErrorKind::InvalidInput);
        let unreachable = sso_error(SsoError::Api(ApiError::NotLoggedIn));
        assert_eq!(unreachable.kind(), ErrorKind::NotSignedIn);
    }
}
