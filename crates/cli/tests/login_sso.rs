//! `confer login --sso`: the real `confer-server`, a real OpenID provider
//! (panva's `oidc-provider`, `tests/oidc-provider/`) and the real `confer`
//! process on loopback. The test plays the browser with reqwest, as
//! `crates/server/tests/sso.rs` does: it opens the URL the CLI prints,
//! submits the provider's sign-in and consent forms, and follows the
//! redirects back to the CLI's loopback port.
//!
//! Needs the server binary next to `confer` (`cargo build -p
//! confer-server`) and `node`; without them the end-to-end test says so
//! and passes (fails with `CONFER_REQUIRE_SSO=1`). The refusal tests need
//! neither: the CLI's loopback port is exercised on its own.

// Test helpers outside #[test] functions may panic too: a failed setup is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use reqwest::{StatusCode, Url};
use serde_json::{Value, json};

/// Longest any one step may take: nothing here hangs forever.
const STEP_TIMEOUT: Duration = Duration::from_secs(60);
const PASSWORD: &str = "correct horse battery staple";
const CLIENT_ID: &str = "confer";
const CLIENT_SECRET: &str = "confer-test-secret-0123456789";
const URL_PREFIX: &str = "open this URL to sign in: ";

fn confer_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_confer"))
}

fn required() -> bool {
    std::env::var("CONFER_REQUIRE_SSO").is_ok_and(|v| v == "1")
}

/// Says why a test is skipped, or fails when CI requires it to run.
fn skip(why: &str) {
    assert!(!required(), "CONFER_REQUIRE_SSO=1 but {why}");
    eprintln!("SKIPPED: {why}");
}

/// A child process killed when dropped, with its stdout lines on a channel.
struct Process {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Process {
    fn spawn(command: &mut Command) -> Process {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        // Keeps draining stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Process {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// The rest of the first stdout line starting with `prefix`.
    fn wait_for_line(&mut self, prefix: &str) -> String {
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            if let Some(rest) = self.seen.iter().find_map(|l| l.strip_prefix(prefix)) {
                return rest.to_owned();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(_) => panic!("no line {prefix:?} on stdout; saw {:#?}", self.seen),
            }
        }
    }
}

/// A `confer` process with stdout and stderr collected.
struct Confer {
    child: Child,
    stdout: mpsc::Receiver<String>,
    stderr: mpsc::Receiver<String>,
    stdout_seen: Vec<String>,
}

/// What a finished `confer` left.
struct Finished {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl Confer {
    fn spawn(config_dir: &Path, args: &[&str]) -> Confer {
        let mut child = Command::new(confer_bin())
            .arg("--config-dir")
            .arg(config_dir)
            .args(args)
            .env_remove("CONFER_CONFIG_DIR")
            // A browser must never be started from a test.
            .env("BROWSER", "true")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (out_tx, stdout) = mpsc::channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if out_tx.send(line).is_err() {
                    break;
                }
            }
        });
        let (err_tx, stderr) = mpsc::channel();
        let mut err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = err.read_to_string(&mut s);
            let _ = err_tx.send(s);
        });
        Confer {
            child,
            stdout,
            stderr,
            stdout_seen: Vec::new(),
        }
    }

    /// The sign-in URL the CLI prints.
    fn sign_in_url(&mut self) -> Url {
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            if let Some(url) = self
                .stdout_seen
                .iter()
                .find_map(|l| l.strip_prefix(URL_PREFIX))
            {
                return Url::parse(url).unwrap();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stdout.recv_timeout(left) {
                Ok(line) => self.stdout_seen.push(line),
                Err(_) => {
                    let _ = self.child.kill();
                    panic!(
                        "confer printed no sign-in URL; stdout {:#?}, stderr {}",
                        self.stdout_seen,
                        self.stderr
                            .recv_timeout(Duration::from_secs(5))
                            .unwrap_or_default()
                    );
                }
            }
        }
    }

    fn still_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    fn finish(mut self) -> Finished {
        let deadline = Instant::now() + STEP_TIMEOUT;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("confer did not finish within {STEP_TIMEOUT:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        self.stdout_seen.extend(self.stdout.try_iter());
        Finished {
            status,
            stdout: self.stdout_seen.join("\n"),
            stderr: self
                .stderr
                .recv_timeout(Duration::from_secs(5))
                .unwrap_or_default(),
        }
    }
}

/// The server (allowed to reach the provider on loopback), the provider,
/// and an organisation managing `example.org` with SSO connection `acme`.
struct World {
    api: String,
    ca: PathBuf,
    _server: Process,
    _provider: Process,
    _data: tempfile::TempDir,
}

fn provider_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/oidc-provider")
}

/// Starts everything, or says why it cannot run here.
async fn world() -> Option<World> {
    let Some(server_bin) = confer_bin()
        .parent()
        .map(|d| d.join("confer-server"))
        .filter(|p| p.is_file())
    else {
        skip("confer-server is not built; run `cargo build -p confer-server` first");
        return None;
    };
    let node = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !node {
        skip("node is not installed; the SSO tests need it (tests/oidc-provider)");
        return None;
    }
    if !provider_dir().join("node_modules/oidc-provider").exists() {
        let ok = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(provider_dir())
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "npm ci in tests/oidc-provider failed");
    }
    let data = tempfile::tempdir().unwrap();
    let mut server = Process::spawn(
        Command::new(server_bin)
            .arg("--data-dir")
            .arg(data.path())
            .args(["--http-port", "0", "--quic-port", "0", "--tls-port", "0"])
            .args(["--log", "warn", "--allow-loopback-outbound"]),
    );
    let ready = server.wait_for_line("confer-server ready ");
    let field = |name: &str| {
        ready
            .split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name}= in {ready:?}"))
            .to_owned()
    };
    let (api, ca) = (field("api"), PathBuf::from(field("ca")));
    let mut provider = Process::spawn(
        Command::new("node")
            .arg("server.mjs")
            .args([
                "0",
                &format!("{api}/sso/callback"),
                CLIENT_ID,
                CLIENT_SECRET,
            ])
            .current_dir(provider_dir())
            .stderr(Stdio::null()),
    );
    let issuer = provider.wait_for_line("oidc-provider ready issuer=");

    let http = browser(&ca);
    let post = |path: &str, token: Option<&str>, body: Value| {
        let mut request = http.post(format!("{api}{path}")).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let path = path.to_owned();
        async move {
            let response = request.send().await.unwrap();
            let status = response.status();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            assert!(status.is_success(), "{path}: {status} {body}");
            body
        }
    };
    post(
        "/api/v1/accounts",
        None,
        json!({"email": "owner@example.org", "display_name": "Olive Owner", "password": PASSWORD}),
    )
    .await;
    let login = post(
        "/api/v1/login",
        None,
        json!({"email": "owner@example.org", "password": PASSWORD}),
    )
    .await;
    let admin = login["access_token"].as_str().unwrap().to_owned();
    post(
        "/api/v1/org/domains",
        Some(&admin),
        json!({"domain": "example.org"}),
    )
    .await;
    post(
        "/api/v1/org/sso-connections",
        Some(&admin),
        json!({"slug": "acme", "issuer": issuer,
               "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}),
    )
    .await;
    Some(World {
        api,
        ca,
        _server: server,
        _provider: provider,
        _data: data,
    })
}

/// A browser: keeps cookies, does not follow redirects on its own, trusts
/// the server's CA.
fn browser(ca: &Path) -> reqwest::Client {
    let ca = std::fs::read(ca).unwrap();
    reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&ca).unwrap()])
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// The `action` and `prompt` of the provider's form on `html`.
fn form(html: &str) -> (String, String) {
    let after = |haystack: &str, marker: &str| -> String {
        let start = haystack
            .find(marker)
            .unwrap_or_else(|| panic!("no {marker} in {html}"))
            + marker.len();
        let end = haystack[start..].find('"').unwrap() + start;
        haystack[start..end].replace("&amp;", "&")
    };
    let form = &html[html
        .find("<form")
        .unwrap_or_else(|| panic!("no form in {html}"))..];
    (
        after(form, "action=\""),
        after(form, "name=\"prompt\" value=\""),
    )
}

/// Plays the browser from `start` through the provider's sign-in (as
/// `account`) and consent, until the redirect to the app's loopback port;
/// opens that too and returns its status and page.
async fn browse_sign_in(
    browser: &reqwest::Client,
    start: &Url,
    account: &str,
) -> (StatusCode, String) {
    let app_redirect = start
        .query_pairs()
        .find(|(k, _)| k == "redirect_uri")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let mut url = start.clone();
    let mut pending_form: Option<(Url, Vec<(&str, String)>)> = None;
    for _ in 0..20 {
        let response = match pending_form.take() {
            Some((action, fields)) => browser.post(action).form(&fields).send().await.unwrap(),
            None => browser.get(url.clone()).send().await.unwrap(),
        };
        let status = response.status();
        if status.is_redirection() {
            let location = response.headers()[reqwest::header::LOCATION]
                .to_str()
                .unwrap()
                .to_owned();
            url = url.join(&location).unwrap();
            if url.as_str().starts_with(&app_redirect) {
                let back = browser.get(url).send().await.unwrap();
                let status = back.status();
                return (status, back.text().await.unwrap());
            }
            continue;
        }
        let body = response.text().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{url}: {body}");
        let (action, prompt) = form(&body);
        let action = url.join(&action).unwrap();
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
    panic!("the sign-in never came back to the app");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signs_in_through_sso_and_then_creates_a_meeting() {
    let Some(world) = world().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let ca = world.ca.to_str().unwrap();
    let login = [
        "login",
        "--sso",
        "acme",
        "--no-browser",
        "--server",
        &world.api,
        "--ca",
        ca,
    ];
    let browser = browser(&world.ca);

    // Someone the organisation does not manage: refused, and said so.
    let mut refused = Confer::spawn(dir.path(), &login);
    let start = refused.sign_in_url();
    let (status, page) = browse_sign_in(&browser, &start, "eve@elsewhere.test").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("could not sign you in"), "{page}");
    let out = refused.finish();
    assert!(!out.status.success());
    assert!(
        out.stderr.contains("no_matching_organisation"),
        "{}",
        out.stderr
    );
    assert!(!dir.path().join("session.json").exists());

    // Ada of example.org: signed in, provisioned, session stored.
    let mut confer = Confer::spawn(dir.path(), &login);
    let start = confer.sign_in_url();
    assert!(
        start
            .as_str()
            .starts_with(&format!("{}/sso/acme/start?", world.api))
    );
    // A fresh browser: the provider would remember Eve's session.
    let browser = self::browser(&world.ca);
    let (status, page) = browse_sign_in(&browser, &start, "ada@example.org").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("You can close this window"), "{page}");
    let out = confer.finish();
    assert!(out.status.success(), "login failed: {}", out.stderr);
    assert!(out.stderr.contains("logged in to"), "{}", out.stderr);
    let session = std::fs::read_to_string(dir.path().join("session.json")).unwrap();
    assert!(!out.stdout.contains("access_token") && !out.stderr.contains("eyJ"));

    // The stored session works for later commands, with no flags.
    let out = Confer::spawn(
        dir.path(),
        &["meeting", "create", "--topic", "SSO", "--json"],
    )
    .finish();
    assert!(
        out.status.success(),
        "meeting create failed: {}",
        out.stderr
    );
    let meeting: Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert!(meeting["meeting_id"].as_u64().is_some(), "{meeting}");
    let token = serde_json::from_str::<Value>(&session).unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let me: Value = browser
        .get(format!("{}/api/v1/me", world.api))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], "ada@example.org");

    // With an OS keyring (CI runs one), the login also registered this
    // device's public keys, as a password login does.
    if std::env::var("CONFER_REQUIRE_KEYRING").is_ok_and(|v| v == "1") {
        let devices: Value = browser
            .get(format!("{}/api/v1/devices", world.api))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            devices["devices"].as_array().map(Vec::len),
            Some(1),
            "{devices}"
        );
    }
}

/// Sends one raw GET to the CLI's loopback port and returns the response.
fn knock(redirect_uri: &str, query: &str) -> String {
    let url = Url::parse(redirect_uri).unwrap();
    let mut stream =
        std::net::TcpStream::connect((url.host_str().unwrap(), url.port().unwrap())).unwrap();
    stream.set_read_timeout(Some(STEP_TIMEOUT)).unwrap();
    write!(
        stream,
        "GET {}?{query} HTTP/1.1\r\nHost: {}\r\n\r\n",
        url.path(),
        url.authority()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[test]
fn a_wrong_state_is_refused_and_the_wait_times_out_clearly() {
    let dir = tempfile::tempdir().unwrap();
    // No server is needed until a code arrives, and none will.
    let mut confer = Confer::spawn(
        dir.path(),
        &[
            "login",
            "--sso",
            "acme",
            "--no-browser",
            "--timeout",
            "3s",
            "--server",
            "https://127.0.0.1:9",
        ],
    );
    let start = confer.sign_in_url();
    let pairs: Vec<(String, String)> = start.query_pairs().into_owned().collect();
    let get = |k: &str| pairs.iter().find(|(key, _)| key == k).unwrap().1.clone();
    let redirect = get("redirect_uri");
    assert!(redirect.starts_with("http://127.0.0.1:"), "{redirect}");
    assert_eq!(get("code_challenge_method"), "S256");
    assert_eq!(get("code_challenge").len(), 43);

    let forged = knock(&redirect, "code=stolen&state=forged");
    assert!(forged.starts_with("HTTP/1.1 400"), "{forged}");
    let stray = knock(&redirect.replace("/sso/done", "/favicon.ico"), "");
    assert!(stray.starts_with("HTTP/1.1 404"), "{stray}");
    // Neither ended the sign-in: the CLI is still waiting for the real one.
    assert!(confer.still_running());

    let out = confer.finish();
    assert!(!out.status.success());
    assert!(
        out.stderr
            .contains("no sign-in arrived from the browser within 3 s"),
        "{}",
        out.stderr
    );
    assert!(!dir.path().join("session.json").exists());
}

#[test]
fn an_error_redirect_with_our_state_ends_the_sign_in() {
    let dir = tempfile::tempdir().unwrap();
    let mut confer = Confer::spawn(
        dir.path(),
        &[
            "login",
            "--sso",
            "acme",
            "--no-browser",
            "--server",
            "https://127.0.0.1:9",
        ],
    );
    let start = confer.sign_in_url();
    let pairs: Vec<(String, String)> = start.query_pairs().into_owned().collect();
    let get = |k: &str| pairs.iter().find(|(key, _)| key == k).unwrap().1.clone();
    let page = knock(
        &get("redirect_uri"),
        &format!(
            "error=access_denied&error_description=%3Cb%3Enope%3C%2Fb%3E&state={}",
            get("state")
        ),
    );
    assert!(page.contains("could not sign you in"), "{page}");
    assert!(page.contains("&lt;b&gt;nope"), "escaped: {page}");
    let out = confer.finish();
    assert!(!out.status.success());
    assert!(out.stderr.contains("access_denied"), "{}", out.stderr);
}
