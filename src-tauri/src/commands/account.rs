//! Signing in and out. The token goes to the OS keyring so the next start
//! is signed in; the password is never kept.

use std::time::Duration;

use tauri::State;

use crate::credentials::{self, StoredSession};
use crate::error::Error;
use crate::models::{AuthState, SignInRequest};
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
    let stored = StoredSession {
        email: email.clone(),
        token: login.access_token.clone(),
    };
    let server = state.settings.server_url.clone();
    let kept = keyring_call(move || credentials::store(&server, &stored)).await;
    *state.auth.lock().await = Some(SignedIn {
        email,
        token: login.access_token,
        // Without a keyring the token lives in memory only: signed in until
        // the app closes, never written to a file.
        remembered: kept.is_ok(),
    });
    *state.restored.lock().await = true;
    Ok(auth_view(&state).await)
}

/// Signs out and forgets the token kept in the keyring.
#[tauri::command]
pub(crate) async fn sign_out(state: State<'_, AppState>) -> Result<AuthState, Error> {
    *state.auth.lock().await = None;
    let server = state.settings.server_url.clone();
    keyring_call(move || credentials::forget(&server)).await?;
    Ok(auth_view(&state).await)
}
