//! The desktop app signs in through the organisation's single sign-on: the
//! real `confer-desktop` under Xvfb, driven over WebDriver (see
//! `desktop_smoke.rs` for the chain), a real `confer-server` on loopback
//! with an SSO connection, and a real OpenID provider (panva's
//! `oidc-provider`, `tests/oidc-provider/`) standing in for the
//! organisation's third-party identity provider, the only stand-in here.
//!
//! The approach is the CLI's (`crates/cli/tests/login_sso.rs`): the test
//! plays the browser with reqwest (cookies, forms, redirects followed by
//! hand) from the link the app shows to the app's loopback port. The app
//! gets `BROWSER=true`, so its "open the system browser" runs `true` and
//! opens nothing; the link is read from the app's own screen.
//!
//! In one app session it checks that:
//! - Settings opens from the start screen and closes back to it;
//! - while waiting, the app shows the sign-in link (screenshot in
//!   `target/screenshots/sso-waiting.png`, kept in `docs/screenshots/`);
//! - a redirect with a forged state is refused and the app keeps waiting;
//! - Cancel returns to the start screen, signed out, with the loopback
//!   port closed;
//! - an account the organisation does not manage is refused, and the app
//!   says so;
//! - an account it manages signs in, and the home screen names it.
//!
//! Needs what `desktop_smoke.rs` needs plus `node` and the server binary;
//! skips with a message when a tool is missing unless
//! `CONFER_REQUIRE_DESKTOP_SMOKE=1` (or, for node, `CONFER_REQUIRE_SSO=1`).
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;
mod desktop_support;

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail, ensure};
use common::Server;
use desktop_support::{AppDriver, Tools, UI_TIMEOUT, WebDriver, skip, target_dir, with_log};
use reqwest::{StatusCode, Url};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Upper bound on the whole scenario.
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(240);
/// Longest one step outside the UI may take (provider start, HTTP).
const STEP_TIMEOUT: Duration = Duration::from_secs(30);

const PASSWORD: &str = "correct horse battery staple";
const CLIENT_ID: &str = "confer";
const CLIENT_SECRET: &str = "confer-test-secret-0123456789";
const SLUG: &str = "acme";
/// Someone the organisation manages (it owns `example.org`).
const MEMBER: &str = "ada@example.org";
/// Someone it does not.
const STRANGER: &str = "eve@elsewhere.test";
/// What the start screen says while it waits (`SSO_TEXT.waiting` in start.ts).
const WAITING_TEXT: &str = "Waiting for your browser… If it didn't open, open this link:";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_signs_in_through_sso_and_refuses_what_it_should() -> Result<()> {
    let tools = match Tools::find() {
        Ok(tools) => tools,
        Err(missing) => return skip("desktop_sso", &missing),
    };
    if let Err(missing) = provider_available() {
        if std::env::var_os("CONFER_REQUIRE_SSO").is_some_and(|v| v == "1") {
            bail!("desktop_sso cannot run and CONFER_REQUIRE_SSO=1: {missing}");
        }
        return skip("desktop_sso", &missing);
    }
    tokio::time::timeout(SCENARIO_TIMEOUT, scenario(tools))
        .await
        .map_err(|_| anyhow!("desktop SSO test exceeded {SCENARIO_TIMEOUT:?}"))?
}

fn provider_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc-provider")
}

/// Whether the OpenID provider can run here (node and its npm packages).
fn provider_available() -> std::result::Result<(), String> {
    let node = Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !node {
        return Err("node is not installed (tests/oidc-provider needs it)".into());
    }
    if !provider_dir().join("node_modules/oidc-provider").exists() {
        return Err("run `npm ci` in tests/oidc-provider (scripts/install-deps.sh does)".into());
    }
    Ok(())
}

/// The OpenID provider: killed when dropped.
struct Provider {
    child: Child,
    issuer: String,
}

impl Provider {
    /// Starts it for the server's callback and waits for its ready line.
    fn start(api: &str, log_path: &Path) -> Result<Provider> {
        let log = std::fs::File::create(log_path)
            .with_context(|| format!("creating {}", log_path.display()))?;
        let mut child = Command::new("node")
            .arg("server.mjs")
            .args([
                "0",
                &format!("{api}/sso/callback"),
                CLIENT_ID,
                CLIENT_SECRET,
            ])
            .current_dir(provider_dir())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .context("starting the OpenID provider")?;
        let stdout = child.stdout.take().context("provider stdout")?;
        let (tx, rx) = mpsc::channel();
        // Keeps draining stdout, after the ready line too: the provider
        // must neither block on a full pipe nor die writing to a closed one.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = tx.send(line);
            }
        });
        let mut provider = Provider {
            child,
            issuer: String::new(),
        };
        loop {
            let line = rx
                .recv_timeout(STEP_TIMEOUT)
                .context("the OpenID provider printed no ready line")?;
            if let Some(issuer) = line.strip_prefix("oidc-provider ready issuer=") {
                provider.issuer = issuer.trim().to_owned();
                return Ok(provider);
            }
        }
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A browser: keeps cookies, does not follow redirects on its own, trusts
/// the server's CA.
fn browser(ca: &Path) -> Result<reqwest::Client> {
    let ca = std::fs::read(ca)?;
    Ok(reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&ca)?])
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()?)
}

/// An owner of `example.org` with the SSO connection `acme` to `issuer`.
async fn set_up_organisation(server: &Server, issuer: &str) -> Result<()> {
    let http = browser(&server.ca)?;
    let api = &server.api;
    let post = |path: &str, token: Option<String>, body: Value| {
        let mut request = http.post(format!("{api}{path}")).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let path = path.to_owned();
        async move {
            let response = request.send().await?;
            let status = response.status();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            ensure!(status.is_success(), "{path}: {status} {body}");
            Ok::<Value, anyhow::Error>(body)
        }
    };
    post(
        "/api/v1/accounts",
        None,
        json!({"email": "owner@example.org", "display_name": "Olive Owner", "password": PASSWORD}),
    )
    .await?;
    let login = post(
        "/api/v1/login",
        None,
        json!({"email": "owner@example.org", "password": PASSWORD}),
    )
    .await?;
    let admin = login["access_token"]
        .as_str()
        .context("no access_token")?
        .to_owned();
    post(
        "/api/v1/org/domains",
        Some(admin.clone()),
        json!({"domain": "example.org"}),
    )
    .await?;
    post(
        "/api/v1/org/sso-connections",
        Some(admin),
        json!({"slug": SLUG, "issuer": issuer,
               "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}),
    )
    .await?;
    Ok(())
}

/// The `action` and `prompt` of the provider's form on `html`.
fn form(html: &str) -> Result<(String, String)> {
    let after = |haystack: &str, marker: &str| -> Result<String> {
        let start = haystack
            .find(marker)
            .with_context(|| format!("no {marker} in {html}"))?
            + marker.len();
        let end = haystack[start..]
            .find('"')
            .context("unterminated attribute")?
            + start;
        Ok(haystack[start..end].replace("&amp;", "&"))
    };
    let form = &html[html
        .find("<form")
        .with_context(|| format!("no form in {html}"))?..];
    Ok((
        after(form, "action=\"")?,
        after(form, "name=\"prompt\" value=\"")?,
    ))
}

/// Plays the browser from `start` through the provider's sign-in (as
/// `account`) and consent, until the redirect to the app's loopback port;
/// opens that too and returns its status and page.
async fn browse_sign_in(
    browser: &reqwest::Client,
    start: &Url,
    account: &str,
) -> Result<(StatusCode, String)> {
    let app_redirect = redirect_uri(start)?;
    let mut url = start.clone();
    let mut pending_form: Option<(Url, Vec<(&str, String)>)> = None;
    for _ in 0..20 {
        let response = match pending_form.take() {
            Some((action, fields)) => browser.post(action).form(&fields).send().await?,
            None => browser.get(url.clone()).send().await?,
        };
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .context("redirect without Location")?
                .to_str()?
                .to_owned();
            url = url.join(&location)?;
            if url.as_str().starts_with(&app_redirect) {
                let back = browser.get(url).send().await?;
                let status = back.status();
                return Ok((status, back.text().await?));
            }
            continue;
        }
        let body = response.text().await?;
        ensure!(status == StatusCode::OK, "{url}: {status} {body}");
        let (action, prompt) = form(&body)?;
        let action = url.join(&action)?;
        let fields = match prompt.as_str() {
            "login" => vec![
                ("prompt", prompt.clone()),
                ("login", account.to_owned()),
                ("password", "any password".to_owned()),
            ],
            _ => vec![("prompt", prompt.clone())],
        };
        pending_form = Some((action, fields));
    }
    bail!("the sign-in never came back to the app")
}

/// The query parameter `name` of the sign-in link.
fn param(start: &Url, name: &str) -> Result<String> {
    start
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .with_context(|| format!("no {name} in {start}"))
}

/// The app's loopback redirect named in the sign-in link.
fn redirect_uri(start: &Url) -> Result<String> {
    param(start, "redirect_uri")
}

/// Sends one raw GET to the app's loopback port and returns the response.
async fn knock(redirect_uri: &str, query: &str) -> Result<String> {
    let url = Url::parse(redirect_uri)?;
    let port = url.port().context("no port in the redirect URI")?;
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
        stream
            .write_all(
                format!(
                    "GET {}?{query} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n",
                    url.path()
                )
                .as_bytes(),
            )
            .await?;
        let mut response = String::new();
        stream.read_to_string(&mut response).await?;
        Ok::<String, anyhow::Error>(response)
    };
    tokio::time::timeout(STEP_TIMEOUT, exchange)
        .await
        .context("the app's loopback port did not answer")?
}

async fn scenario(tools: Tools) -> Result<()> {
    let app = PathBuf::from(env!("CARGO_BIN_EXE_confer-desktop"));
    let log_path = target_dir()?
        .join("tmp")
        .join("desktop_sso-tauri-driver.log");

    // The server may reach the provider on loopback (it refuses by default).
    let server = tokio::task::spawn_blocking(|| {
        Server::start_in_with(
            tempfile::tempdir().expect("tempdir"),
            &["--allow-loopback-outbound"],
        )
    })
    .await?;
    let api = server.api.clone();
    let provider_log = target_dir()?.join("tmp").join("desktop_sso-provider.log");
    let provider_log_path = provider_log.clone();
    let provider =
        tokio::task::spawn_blocking(move || Provider::start(&api, &provider_log_path)).await??;
    set_up_organisation(&server, &provider.issuer).await?;

    let AppDriver {
        xvfb: _xvfb,
        wd,
        mut driver,
        ..
    } = AppDriver::start(
        &tools,
        &log_path,
        &server.api,
        &server.ca,
        &[
            // "Open the system browser" runs `true`: nothing opens, the test
            // reads the link from the app.
            ("BROWSER", OsString::from("true")),
        ],
    )
    .await?;
    let session = wd
        .new_session(&app)
        .await
        .map_err(|e| with_log(e, &log_path))?;
    let result = drive(&wd, &session, &server).await;
    let closed = wd.delete_session(&session).await;
    driver.stop();
    drop(provider);
    result.map_err(|e| {
        let log = server.log();
        let lines: Vec<&str> = log.lines().collect();
        anyhow!(
            "{}\nserver log (tail):\n{}\nprovider log: {}",
            with_log(e, &log_path),
            lines[lines.len().saturating_sub(20)..].join("\n"),
            provider_log.display()
        )
    })?;
    closed
}

/// A script returning the sign-in link while the start screen shows it.
const SHOWN_LINK: &str = "const l = document.querySelector('#sso-link'); \
     return l && l.closest('[hidden]') === null ? l.value : null;";

/// A script returning `#sso-status`'s text and whether it is an error.
const SSO_STATUS: &str = "const s = document.querySelector('#sso-status'); \
     return s ? [s.textContent, s.classList.contains('error')] : null;";

/// Starts a single sign-on from the start screen and returns the link the
/// app shows while it waits.
async fn start_sso(wd: &WebDriver, s: &str) -> Result<Url> {
    wd.type_into(s, "#sso-slug", SLUG).await?;
    wd.click(s, "#sign-in-sso button[type=submit]").await?;
    let link = wd
        .wait_until(s, "the sign-in link", SHOWN_LINK, json!([]), UI_TIMEOUT)
        .await?;
    let link = link.as_str().context("link is not text")?;
    Ok(Url::parse(link)?)
}

/// Waits for `#sso-status` to say something other than waiting.
async fn sso_outcome(wd: &WebDriver, s: &str) -> Result<(String, bool)> {
    let outcome = wd
        .wait_until(
            s,
            "the sign-in to end",
            &format!(
                "const s = document.querySelector('#sso-status'); \
                 return s && s.textContent !== {WAITING_TEXT:?} && !s.textContent.endsWith('…') \
                   ? [s.textContent, s.classList.contains('error')] : null;"
            ),
            json!([]),
            UI_TIMEOUT,
        )
        .await?;
    let text = outcome[0].as_str().unwrap_or_default().to_owned();
    Ok((text, outcome[1] == json!(true)))
}

async fn drive(wd: &WebDriver, s: &str, server: &Server) -> Result<()> {
    wd.wait_until(
        s,
        "the start screen",
        "return document.querySelector('#sso-slug') !== null;",
        json!([]),
        UI_TIMEOUT,
    )
    .await?;

    // Settings opens before signing in, and closes back to the start screen.
    wd.click(s, "#open-settings").await?;
    // Loaded (devices listed), so the dialog no longer grows under the
    // pointer between finding Cancel and clicking it.
    wd.wait_until(
        s,
        "the settings dialog, loaded",
        "const save = document.querySelector('#settings-dialog #settings-save'); \
         return save !== null && !save.disabled;",
        json!([]),
        UI_TIMEOUT,
    )
    .await?;
    wd.click(s, "#settings-cancel").await?;
    wd.wait_until(
        s,
        "the settings dialog to close",
        "return document.querySelector('#settings-dialog') === null \
           && document.querySelector('#sso-slug') !== null;",
        json!([]),
        UI_TIMEOUT,
    )
    .await?;

    // Waiting: the link shows, pointing at the server's start page for
    // the organisation, with a loopback redirect.
    let start = start_sso(wd, s).await?;
    ensure!(
        start
            .as_str()
            .starts_with(&format!("{}/sso/{SLUG}/start?", server.api)),
        "the app shows {start}"
    );
    let redirect = redirect_uri(&start)?;
    ensure!(redirect.starts_with("http://127.0.0.1:"), "{redirect}");
    ensure!(param(&start, "code_challenge_method")? == "S256");
    let status = wd.execute(s, SSO_STATUS, json!([])).await?;
    ensure!(status == json!([WAITING_TEXT, false]), "status is {status}");
    // The link sits below the fold on a small window: show it.
    wd.execute(
        s,
        "document.querySelector('#sso-waiting').scrollIntoView({ block: 'center' });",
        json!([]),
    )
    .await?;
    let path = wd.save_screenshot(s, "sso-waiting").await?;
    let _ = writeln!(
        std::io::stderr(),
        "desktop_sso: waiting screen in {}",
        path.display()
    );

    // A redirect with someone else's state is refused; the app waits on.
    let forged = knock(&redirect, "code=stolen&state=forged").await?;
    ensure!(forged.starts_with("HTTP/1.1 400"), "{forged}");
    let still = wd.execute(s, SHOWN_LINK, json!([])).await?;
    ensure!(
        still == json!(start.as_str()),
        "after a forged redirect the link is {still}"
    );
    let status = wd.execute(s, SSO_STATUS, json!([])).await?;
    ensure!(
        status == json!([WAITING_TEXT, false]),
        "after a forged redirect: {status}"
    );

    // Cancel: back to the start screen, not signed in, port closed.
    wd.click(s, "#sso-cancel").await?;
    let (text, _) = sso_outcome(wd, s).await?;
    ensure!(
        text == "Sign-in cancelled.",
        "after Cancel the app says {text:?}"
    );
    let after = wd
        .execute(
            s,
            "return [document.querySelector('#sso-waiting').hidden, \
                     document.querySelector('#sign-in-email') !== null, \
                     document.querySelector('#account-email') === null];",
            json!([]),
        )
        .await?;
    ensure!(after == json!([true, true, true]), "after Cancel: {after}");
    ensure!(
        knock(
            &redirect,
            &format!("code=late&state={}", param(&start, "state")?)
        )
        .await
        .is_err(),
        "the loopback port still answers after Cancel"
    );

    // Someone the organisation does not manage: the provider signs them
    // in, the server refuses, the app says so and stays signed out.
    let start = start_sso(wd, s).await?;
    let (status, page) = browse_sign_in(&browser(&server.ca)?, &start, STRANGER).await?;
    ensure!(status == StatusCode::OK, "{status} {page}");
    ensure!(page.contains("could not sign you in"), "{page}");
    let (text, is_error) = sso_outcome(wd, s).await?;
    ensure!(
        is_error && text.contains("refused"),
        "after a refused sign-in the app says {text:?} (error: {is_error})"
    );
    ensure!(
        wd.execute(
            s,
            "return document.querySelector('#account-email') === null;",
            json!([])
        )
        .await?
            == json!(true),
        "signed in after a refusal"
    );

    // A member: signed in, and the home screen names the account. A fresh
    // browser, since the provider would remember the stranger's session.
    let start = start_sso(wd, s).await?;
    let (status, page) = browse_sign_in(&browser(&server.ca)?, &start, MEMBER).await?;
    ensure!(status == StatusCode::OK, "{status} {page}");
    ensure!(page.contains("You can close this window"), "{page}");
    let shown = wd
        .wait_until(
            s,
            "the home screen after signing in",
            "const e = document.querySelector('#account-email'); return e && e.textContent;",
            json!([]),
            UI_TIMEOUT,
        )
        .await
        .with_context(|| "the app did not reach the home screen")?;
    ensure!(
        shown.as_str().is_some_and(|e| e.starts_with(MEMBER)),
        "home shows {shown}"
    );
    // With a Secret Service (CI), the sign-in is kept like a password one;
    // without, the app says "(until you quit)".
    if std::env::var_os("CONFER_REQUIRE_KEYRING").is_some_and(|v| v == "1") {
        ensure!(
            shown == json!(MEMBER),
            "home shows {shown}, not kept in the keyring"
        );
    }
    // The page keeps the start screen's scroll position: look from the top.
    wd.execute(s, "window.scrollTo(0, 0);", json!([])).await?;
    wd.save_screenshot(s, "sso-signed-in").await?;
    Ok(())
}
