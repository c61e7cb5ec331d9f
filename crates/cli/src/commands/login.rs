//! `confer login`: logs in and stores server, CA and access token.

use std::process::ExitCode;

use anyhow::Context as _;

use crate::args::{Cli, LoginArgs};
use crate::config::{self, StoredSession, Target};

use super::{print_json, read_password_stdin};

/// Logs in and stores the session; prints neither password nor token.
pub(crate) async fn login(
    cli: &Cli,
    target: &Target,
    args: &LoginArgs,
) -> anyhow::Result<ExitCode> {
    let Some(email) = &args.email else {
        let slug = args.sso.sso.as_deref().context("give --email or --sso")?;
        return super::login_sso::login_sso(cli, target, &args.sso, slug).await;
    };
    let password = read_password_stdin()?;
    // Log in without any stored token: it may belong to someone else.
    let api = Target {
        access_token: None,
        ..target.clone()
    }
    .api()?;
    let response = api.login(email, &password).await?;
    // Store the CA as an absolute path so later commands work from any directory.
    let ca = match &target.ca {
        Some(path) => Some(
            std::fs::canonicalize(path)
                .with_context(|| format!("cannot resolve {}", path.display()))?,
        ),
        None => None,
    };
    let stored = StoredSession {
        server: target.server.clone(),
        ca,
        email: Some(email.clone()),
        access_token: response.access_token,
    };
    let path = config::save(&config::config_dir(cli)?, &stored)?;
    // Best effort: enrol this device for E2E chat (a warning, not a failure,
    // without a keyring).
    let device_id = super::identity::enroll_after_login(
        &api.clone().with_access_token(stored.access_token.clone()),
    )
    .await;
    if cli.json {
        print_json(&serde_json::json!({
            "logged_in": true,
            "server": stored.server,
            "email": email,
            "expires_in": response.expires_in,
            "session_file": path,
            "device_id": device_id.map(|id| id.to_string()),
        }));
    } else {
        eprintln!(
            "logged in to {} as {} (session stored in {})",
            stored.server,
            email,
            path.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
