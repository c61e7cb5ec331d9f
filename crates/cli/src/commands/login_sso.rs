//! `confer login --sso ORG`: signs in through the organisation's single
//! sign-on in the system browser (RFC 8252 loopback redirect, see
//! `confer_client::sso`) and stores the session like a password login.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use confer_client::sso::{self, SsoSignIn};

use crate::args::Cli;
use crate::config::{self, StoredSession, Target};
use crate::duration::parse_duration;

use super::print_json;

/// The single sign-on flags of `confer login`.
#[derive(Debug, Args)]
pub(crate) struct SsoArgs {
    /// Sign in through your organisation's single sign-on, named by its
    /// SSO name (e.g. `acme`), in the system browser.
    #[arg(long, value_name = "ORG_SLUG")]
    pub(crate) sso: Option<String>,
    /// With --sso: do not start a browser; print the sign-in URL (`open this
    /// URL to sign in: URL`) on stdout and wait.
    #[arg(long)]
    pub(crate) no_browser: bool,
    /// With --sso: how long to wait for the browser [default: 5m].
    #[arg(long, hide = true, value_parser = parse_duration)]
    pub(crate) timeout: Option<Duration>,
}

/// Signs in through SSO and stores the session; prints no token.
pub(crate) async fn login_sso(
    cli: &Cli,
    target: &Target,
    args: &SsoArgs,
    slug: &str,
) -> anyhow::Result<ExitCode> {
    let pem = target.ca_pem()?;
    let sign_in = SsoSignIn::start(&target.server, pem.as_deref(), slug).await?;
    let url = sign_in.start_url().clone();
    let opened = !args.no_browser
        && match sso::open_in_browser(&url) {
            Ok(()) => true,
            Err(e) => {
                eprintln!("{e}");
                false
            }
        };
    if !opened {
        if cli.json {
            print_json(&serde_json::json!({ "sign_in_url": url.as_str() }));
        } else {
            println!("open this URL to sign in: {url}");
        }
    }
    eprintln!(
        "waiting for the browser to finish signing in to {slug} (on {})…",
        sign_in.redirect_uri()
    );
    let response = sign_in
        .finish(args.timeout.unwrap_or(sso::DEFAULT_TIMEOUT))
        .await
        .context("single sign-on failed")?;
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
        // The token answer names the account, not its email.
        email: None,
        access_token: response.access_token,
    };
    let path = config::save(&config::config_dir(cli)?, &stored)?;
    // Best effort, as after a password login: enrol this device for E2E chat.
    let api = Target {
        access_token: Some(stored.access_token.clone()),
        ..target.clone()
    }
    .api()?;
    let device_id = super::identity::enroll_after_login(&api).await;
    if cli.json {
        print_json(&serde_json::json!({
            "logged_in": true,
            "server": stored.server,
            "sso": slug,
            "expires_in": response.expires_in,
            "session_file": path,
            "device_id": device_id.map(|id| id.to_string()),
        }));
    } else {
        eprintln!(
            "logged in to {} through {slug}'s single sign-on (session stored in {})",
            stored.server,
            path.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use crate::args::{Cli, Command};

    fn login(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(["confer", "login"].iter().chain(args))
    }

    #[test]
    fn sso_replaces_email_and_password() {
        let cli = login(&["--sso", "acme", "--no-browser", "--timeout", "2s"]).unwrap();
        let Command::Login(args) = cli.command else {
            panic!("not a login")
        };
        assert_eq!(args.sso.sso.as_deref(), Some("acme"));
        assert!(args.sso.no_browser);
        assert_eq!(args.sso.timeout, Some(std::time::Duration::from_secs(2)));
        assert!(args.email.is_none());
        // Not both ways at once, and the SSO flags only with --sso.
        assert!(login(&["--sso", "acme", "--email", "a@b"]).is_err());
        let r = login(&["--sso", "acme", "--password-stdin"]);
        assert!(r.is_err(), "{r:?}");
        assert!(login(&["--email", "a@b", "--password-stdin", "--no-browser"]).is_err());
        assert!(login(&[]).is_err());
    }
}
