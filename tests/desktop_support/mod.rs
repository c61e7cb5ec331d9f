//! What the desktop app's WebDriver tests share: finding the tools
//! (tauri-driver, WebKitWebDriver, Xvfb), starting and stopping them
//! ([`AppDriver`] for a display with tauri-driver on it), and a minimal
//! W3C WebDriver client; and the CLI participants and video checks of the
//! meeting tests. Used by every `desktop_*.rs` test (each test binary
//! compiles it, so not every item is used by each).
#![allow(dead_code, unreachable_pub)]

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use base64::Engine;
use serde_json::{Value, json};

/// How long one WebDriver request may take (creating a session starts the app).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(45);
/// How long a started process may take to become ready.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);
/// How long the UI may take to show what the test waits for.
pub const UI_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a process gets to exit after SIGTERM before it is killed.
pub const STOP_GRACE: Duration = Duration::from_secs(10);
/// Resolves once the page has painted what the DOM now holds: two animation
/// frames, since the first runs before the paint it schedules.
pub const AFTER_NEXT_PAINT: &str = "const done = arguments[arguments.length - 1]; \
    requestAnimationFrame(() => requestAnimationFrame(() => done(true)));";
/// The key under which W3C WebDriver returns an element reference.
pub const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Says why the test did not run, then passes (or fails when CI requires it).
pub fn skip(test: &str, missing: &str) -> Result<()> {
    if std::env::var_os("CONFER_REQUIRE_DESKTOP_SMOKE").is_some_and(|v| v == "1") {
        bail!("{test} cannot run and CONFER_REQUIRE_DESKTOP_SMOKE=1: {missing}");
    }
    // Written to the real stderr, not through `eprintln!`, so the test
    // harness does not capture it: a skip must be visible in a normal run.
    let _ = writeln!(std::io::stderr(), "\nSKIPPED {test}: {missing}\n");
    Ok(())
}

/// The external programs the test drives, or why it cannot run.
pub struct Tools {
    pub tauri_driver: PathBuf,
    pub webkit_driver: PathBuf,
    pub xvfb: Option<PathBuf>,
    pub display: Option<String>,
}

impl Tools {
    pub fn find() -> std::result::Result<Self, String> {
        let home_bin = std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo/bin"));
        let tauri_driver = find_program("TAURI_DRIVER", "tauri-driver", home_bin.as_deref())
            .ok_or("tauri-driver not found (cargo install tauri-driver --locked)")?;
        let webkit_driver = find_program(
            "WEBKIT_WEBDRIVER",
            "WebKitWebDriver",
            Some(Path::new("/usr/bin")),
        )
        .ok_or("WebKitWebDriver not found (apt-get install webkit2gtk-driver)")?;
        let xvfb = find_program("XVFB", "Xvfb", None);
        let display = std::env::var("DISPLAY").ok().filter(|d| !d.is_empty());
        if xvfb.is_none() && display.is_none() {
            return Err("no Xvfb (apt-get install xvfb) and DISPLAY is not set".into());
        }
        Ok(Self {
            tauri_driver,
            webkit_driver,
            xvfb,
            display,
        })
    }

    /// The X display to run the app on: an Xvfb of our own (headless, and
    /// screenshots the same size everywhere; keep the guard while the app
    /// runs), else the existing `DISPLAY`.
    pub fn app_display(&self) -> Result<(String, Option<Guard>)> {
        match &self.xvfb {
            Some(xvfb) => {
                let (display, guard) = start_xvfb(xvfb)?;
                Ok((display, Some(guard)))
            }
            None => Ok((
                self.display.clone().context("no Xvfb and no DISPLAY")?,
                None,
            )),
        }
    }
}

/// A program named by `env_var`, else found on `PATH`, else in `fallback_dir`.
pub fn find_program(env_var: &str, name: &str, fallback_dir: Option<&Path>) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(env_var) {
        return Some(PathBuf::from(path)).filter(|p| p.is_file());
    }
    let path_dirs = std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect::<Vec<_>>());
    path_dirs
        .unwrap_or_default()
        .into_iter()
        .chain(fallback_dir.map(Path::to_path_buf))
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// `target/`, found from the per-test scratch directory Cargo provides.
pub fn target_dir() -> Result<PathBuf> {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map(Path::to_path_buf)
        .context("CARGO_TARGET_TMPDIR has no parent")
}

/// Two distinct free loopback ports: tauri-driver's and WebKitWebDriver's.
pub fn two_free_ports() -> Result<(u16, u16)> {
    // Both listeners are held at once so the ports differ; a port could in
    // principle be taken again before tauri-driver binds it, which would fail
    // the test loudly rather than hang it.
    let a = TcpListener::bind("127.0.0.1:0")?;
    let b = TcpListener::bind("127.0.0.1:0")?;
    Ok((a.local_addr()?.port(), b.local_addr()?.port()))
}

/// Starts Xvfb on a display it picks itself and returns that display.
pub fn start_xvfb(xvfb: &Path) -> Result<(String, Guard)> {
    // `-displayfd 1` makes Xvfb choose a free display and print its number
    // once it accepts connections: no guessing, no race with other servers.
    let mut child = Command::new(xvfb)
        .args([
            "-displayfd",
            "1",
            "-screen",
            "0",
            "1280x800x24",
            "-nolisten",
            "tcp",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", xvfb.display()))?;
    let stdout = child.stdout.take().context("Xvfb stdout")?;
    let mut guard = Guard {
        child,
        name: "Xvfb",
        group: false,
        stopped: false,
    };
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = match rx.recv_timeout(STARTUP_TIMEOUT) {
        Ok(line) => line,
        Err(_) => {
            guard.stop();
            bail!("Xvfb did not report a display within {STARTUP_TIMEOUT:?}");
        }
    };
    let number: u32 = line
        .trim()
        .parse()
        .with_context(|| format!("Xvfb printed {line:?}"))?;
    Ok((format!(":{number}"), guard))
}

/// Starts tauri-driver in a process group of its own, so that the native
/// driver and the app it starts can all be killed if SIGTERM is not enough.
/// `app_env` reaches the app (server URL, CA) through the drivers.
pub fn start_tauri_driver(
    tools: &Tools,
    display: &str,
    port: u16,
    native_port: u16,
    log_path: &Path,
    app_env: &[(&str, OsString)],
) -> Result<Guard> {
    if let Some(dir) = log_path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let log = std::fs::File::create(log_path)
        .with_context(|| format!("creating {}", log_path.display()))?;
    let child = Command::new(&tools.tauri_driver)
        .arg("--port")
        .arg(port.to_string())
        .arg("--native-port")
        .arg(native_port.to_string())
        .arg("--native-driver")
        .arg(&tools.webkit_driver)
        .env("DISPLAY", display)
        // The app must open on our X display, even inside a Wayland session.
        .env("GDK_BACKEND", "x11")
        .env_remove("WAYLAND_DISPLAY")
        // The native driver and the app it starts inherit these.
        .envs(app_env.iter().map(|(k, v)| (*k, v)))
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .process_group(0)
        .spawn()
        .with_context(|| format!("starting {}", tools.tauri_driver.display()))?;
    Ok(Guard {
        child,
        name: "tauri-driver",
        group: true,
        stopped: false,
    })
}

/// Runs a desktop test's `scenario` with the tools it needs, under one
/// `limit` so nothing hangs; without the tools it says why and passes (or
/// fails where the environment requires them, see [`skip`]).
pub async fn run_scenario<F, Fut>(test: &str, limit: Duration, scenario: F) -> Result<()>
where
    F: FnOnce(Tools) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let tools = match Tools::find() {
        Ok(tools) => tools,
        Err(missing) => return skip(test, &missing),
    };
    tokio::time::timeout(limit, scenario(tools))
        .await
        .map_err(|_| anyhow!("{test} exceeded {limit:?}"))?
}

/// Schedules a 30-minute meeting called `topic` from the home screen's
/// form, and returns its id once the meeting shows in the list.
pub async fn schedule_from_home(wd: &WebDriver, s: &str, topic: &str) -> Result<u64> {
    wd.type_into(s, "#schedule-topic", topic).await?;
    wd.type_into(s, "#schedule-duration", "30").await?;
    wd.click(s, "#schedule-submit").await?;
    let id = wd
        .wait_until(
            s,
            "the scheduled meeting in the list",
            "const row = [...document.querySelectorAll('#meetings .meeting-row')] \
               .find(r => r.querySelector('.meeting-topic').textContent === arguments[0]); \
             return row ? row.dataset.meetingId : null;",
            json!([topic]),
            UI_TIMEOUT,
        )
        .await?;
    id.as_str()
        .and_then(|i| i.parse().ok())
        .with_context(|| format!("meeting id {id}"))
}

/// The D-Bus session bus the app finds a running copy of itself on. A
/// test that starts the app again must first wait for the closed one to
/// let go of its name ([`SessionBus::wait_released`]): a new app that
/// finds the name still held takes the closing one for a running app and
/// hands it its arguments (or, if that one leaves without answering,
/// waits for it: `src-tauri/src/running_app.rs`), and the test's session
/// would be with the wrong app.
pub struct SessionBus {
    /// The name the running app holds (see `single_instance` in
    /// `src-tauri/src/launch_link.rs`).
    pub name: String,
}

impl SessionBus {
    /// The bus, when there is one, and the name an app for `server_url` holds.
    pub fn find(server_url: &str) -> Option<Self> {
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").filter(|a| !a.is_empty())?;
        // The same digest as the app's: FNV-1a 64 of the server URL as the
        // app normalises it (no trailing slash).
        let url = server_url.trim().trim_end_matches('/');
        let digest = url.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        });
        Some(Self {
            name: format!("dev.confer.desktop.s{digest:016x}.SingleInstance"),
        })
    }

    /// The object path the single-instance plugin serves the name's
    /// interface at (its rule: dots to slashes, dashes to underscores).
    pub fn object_path(&self) -> String {
        format!("/{}", self.name.replace('.', "/").replace('-', "_"))
    }

    /// Whether someone owns the name now.
    pub fn owned(&self) -> Result<bool> {
        let out = Command::new("dbus-send")
            .args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner",
            ])
            .arg(format!("string:{}", self.name))
            .stdin(Stdio::null())
            .output()
            .context("running dbus-send")?;
        ensure!(
            out.status.success(),
            "dbus-send: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(String::from_utf8_lossy(&out.stdout).contains("boolean true"))
    }

    /// Waits until no app holds the name.
    pub async fn wait_released(&self) -> Result<()> {
        let start = Instant::now();
        let deadline = start + UI_TIMEOUT;
        while self.owned()? {
            if Instant::now() > deadline {
                bail!(
                    "{} is still owned {UI_TIMEOUT:?} after the app closed",
                    self.name
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // How long the closed app held on: whether a restart right after
        // closing could race it.
        let _ = writeln!(
            std::io::stderr(),
            "the closed app's D-Bus name was free after {:?}",
            start.elapsed()
        );
        Ok(())
    }
}

/// A display of its own with `tauri-driver` on it, ready for WebDriver
/// sessions that start the app: what every desktop test but the smoke test
/// sets up first.
pub struct AppDriver {
    pub wd: WebDriver,
    /// `tauri-driver`; its process group holds WebKitWebDriver and the app.
    pub driver: Guard,
    /// The X display the app opens on.
    pub display: String,
    /// Our Xvfb, when we started one: keep it bound (as `_xvfb`, never
    /// `_`, and first in a destructuring `let`, so it drops last) while the
    /// app runs; declared last so the struct drops it last too.
    pub xvfb: Option<Guard>,
}

impl AppDriver {
    /// Starts a display and `tauri-driver` (logging to `log_path`); the app
    /// it starts talks to the server at `api`, trusting `ca`, with
    /// `extra_env` besides.
    pub async fn start(
        tools: &Tools,
        log_path: &Path,
        api: &str,
        ca: &Path,
        extra_env: &[(&str, OsString)],
    ) -> Result<Self> {
        let (display, xvfb) = tools.app_display()?;
        let (port, native_port) = two_free_ports()?;
        let mut app_env = vec![
            ("CONFER_SERVER_URL", OsString::from(api)),
            ("CONFER_CA_FILE", ca.as_os_str().to_owned()),
        ];
        app_env.extend(extra_env.iter().cloned());
        let mut driver =
            start_tauri_driver(tools, &display, port, native_port, log_path, &app_env)?;
        let wd = WebDriver::connect(port, &mut driver, log_path).await?;
        Ok(Self {
            wd,
            driver,
            display,
            xvfb,
        })
    }
}

/// The last lines tauri-driver and WebKitWebDriver logged, for error messages.
pub fn driver_log(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(30)..].join("\n");
    format!("tauri-driver log ({}):\n{tail}", path.display())
}

/// `err` with its whole cause chain first, then the drivers' log.
pub fn with_log(err: anyhow::Error, log_path: &Path) -> anyhow::Error {
    anyhow!("{err:#}\n{}", driver_log(log_path))
}

/// A started process that is stopped when the guard drops.
pub struct Guard {
    pub child: Child,
    pub name: &'static str,
    /// Whether the child leads a process group whose members must go too.
    group: bool,
    /// Set once stopped, so the drop after an explicit stop signals nothing
    /// (the pid could by then belong to someone else).
    stopped: bool,
}

impl Guard {
    /// SIGTERM, then SIGKILL after [`STOP_GRACE`]; safe to call twice.
    ///
    /// tauri-driver must get SIGTERM: it stops WebKitWebDriver only then.
    pub fn stop(&mut self) {
        if std::mem::replace(&mut self.stopped, true) {
            return;
        }
        let pid = self.child.id().to_string();
        if matches!(self.child.try_wait(), Ok(None)) {
            signal("-TERM", &pid);
            let deadline = Instant::now() + STOP_GRACE;
            while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            if matches!(self.child.try_wait(), Ok(None)) {
                let _ = writeln!(std::io::stderr(), "desktop_smoke: killing {}", self.name);
                let _ = self.child.kill();
            }
            let _ = self.child.wait();
        }
        if self.group {
            // Anything left in the group (a native driver or app that
            // outlived tauri-driver) goes now; "no such process" is fine.
            signal("-KILL", &format!("-{pid}"));
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Sends a signal with kill(1): the workspace denies `unsafe`, which
/// `libc::kill` would need.
pub fn signal(signal: &str, target: &str) {
    let _ = Command::new("kill")
        .args([signal, "--", target])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// A minimal W3C WebDriver client: the handful of endpoints this test uses.
pub struct WebDriver {
    http: reqwest::Client,
    base: String,
}

impl WebDriver {
    /// Waits until tauri-driver answers on `port`.
    pub async fn connect(port: u16, driver: &mut Guard, log_path: &Path) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()?;
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if let Ok(Some(status)) = driver.child.try_wait() {
                bail!(
                    "tauri-driver exited with {status}\n{}",
                    driver_log(log_path)
                );
            }
            let probe = http
                .get(format!("{base}/status"))
                .timeout(Duration::from_secs(2))
                .send();
            if probe.await.is_ok() {
                return Ok(Self { http, base });
            }
            if Instant::now() > deadline {
                bail!("tauri-driver did not listen within {STARTUP_TIMEOUT:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Starts the app and returns the session id.
    pub async fn new_session(&self, app: &Path) -> Result<String> {
        self.new_session_with_args(app, &[]).await
    }

    /// Starts the app with `args` on its command line (tauri-driver passes
    /// `tauri:options.args` on to the app) and returns the session id.
    pub async fn new_session_with_args(&self, app: &Path, args: &[&str]) -> Result<String> {
        let caps = json!({
            "capabilities": { "alwaysMatch": { "tauri:options": { "application": app, "args": args } } }
        });
        let value = self
            .call(reqwest::Method::POST, "session", Some(caps))
            .await?;
        value["sessionId"]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("no sessionId in {value}"))
    }

    pub async fn delete_session(&self, session: &str) -> Result<()> {
        self.call(reqwest::Method::DELETE, &format!("session/{session}"), None)
            .await
            .map(drop)
    }

    pub async fn get(&self, session: &str, path: &str) -> Result<Value> {
        self.call(
            reqwest::Method::GET,
            &format!("session/{session}/{path}"),
            None,
        )
        .await
    }

    pub async fn post(&self, session: &str, path: &str, body: Value) -> Result<Value> {
        self.call(
            reqwest::Method::POST,
            &format!("session/{session}/{path}"),
            Some(body),
        )
        .await
    }

    /// The reference of the first element matching a CSS selector.
    pub async fn find(&self, session: &str, css: &str) -> Result<String> {
        let found = self.post(
            session,
            "element",
            json!({ "using": "css selector", "value": css }),
        );
        let value = found.await?;
        value[ELEMENT_KEY]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("{css}: {value}"))
    }

    /// The rendered text of the first element matching a CSS selector.
    pub async fn text(&self, session: &str, css: &str) -> Result<String> {
        let element = self.find(session, css).await?;
        let value = self
            .get(session, &format!("element/{element}/text"))
            .await?;
        value
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("text of {css}: {value}"))
    }

    /// Polls an element's text until it equals `want` or [`UI_TIMEOUT`] passes.
    pub async fn wait_for_text(&self, session: &str, css: &str, want: &str) -> Result<String> {
        let deadline = Instant::now() + UI_TIMEOUT;
        loop {
            let last = self.text(session, css).await;
            match &last {
                Ok(text) if text == want => return last,
                _ if Instant::now() > deadline => {
                    return last.and_then(|t| Err(anyhow!("{css} shows {t:?}, want {want:?}")));
                }
                _ => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }

    /// Runs `script` in the page (synchronously) and returns its value.
    pub async fn execute(&self, session: &str, script: &str, args: Value) -> Result<Value> {
        self.post(
            session,
            "execute/sync",
            json!({ "script": script, "args": args }),
        )
        .await
    }

    /// Polls `script` until it returns a truthy value (which is returned),
    /// or fails after `limit` saying what it waited for.
    pub async fn wait_until(
        &self,
        session: &str,
        what: &str,
        script: &str,
        args: Value,
        limit: Duration,
    ) -> Result<Value> {
        let deadline = Instant::now() + limit;
        loop {
            let last = self.execute(session, script, args.clone()).await;
            match last {
                Ok(v) if !(v.is_null() || v == json!(false) || v == json!("") || v == json!(0)) => {
                    return Ok(v);
                }
                _ if Instant::now() > deadline => {
                    bail!("timed out after {limit:?} waiting for {what} (last: {last:?})")
                }
                _ => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }

    /// Waits for an element to exist, then clicks it.
    pub async fn click(&self, session: &str, css: &str) -> Result<()> {
        self.wait_until(
            session,
            &format!("{css} to appear"),
            "return document.querySelector(arguments[0]) !== null;",
            json!([css]),
            UI_TIMEOUT,
        )
        .await?;
        let element = self.find(session, css).await?;
        self.post(session, &format!("element/{element}/click"), json!({}))
            .await
            .with_context(|| format!("clicking {css}"))
            .map(drop)
    }

    /// Clears an input and types `text` into it.
    pub async fn type_into(&self, session: &str, css: &str, text: &str) -> Result<()> {
        let element = self.find(session, css).await?;
        self.post(session, &format!("element/{element}/clear"), json!({}))
            .await?;
        self.post(
            session,
            &format!("element/{element}/value"),
            json!({ "text": text }),
        )
        .await
        .with_context(|| format!("typing into {css}"))
        .map(drop)
    }

    /// Lets the page paint, then saves a screenshot as
    /// `target/screenshots/NAME.png` and returns its path.
    pub async fn save_screenshot(&self, session: &str, name: &str) -> Result<PathBuf> {
        self.post(
            session,
            "execute/async",
            json!({ "script": AFTER_NEXT_PAINT, "args": [] }),
        )
        .await?;
        let png = self.screenshot(session).await?;
        let dir = target_dir()?.join("screenshots");
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).with_context(|| format!("writing {}", path.display()))?;
        let _ = writeln!(std::io::stderr(), "screenshot: {}", path.display());
        Ok(path)
    }

    /// A PNG of the window's content.
    pub async fn screenshot(&self, session: &str) -> Result<Vec<u8>> {
        let value = self.get(session, "screenshot").await?;
        let b64 = value
            .as_str()
            .with_context(|| format!("screenshot: {value}"))?;
        Ok(base64::engine::general_purpose::STANDARD.decode(b64)?)
    }

    /// One WebDriver command; returns its `value` or the error it reported.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value> {
        let url = format!("{}/{path}", self.base);
        let mut request = self.http.request(method.clone(), &url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("{method} {url}"))?;
        let status = response.status();
        let mut json: Value = response
            .json()
            .await
            .with_context(|| format!("{method} {url}: not JSON"))?;
        let value = json["value"].take();
        if !status.is_success() {
            bail!("{method} {url}: {status}: {value}");
        }
        Ok(value)
    }
}

/// A `confer join` participant sending the moving test pattern: killed
/// (SIGTERM first in [`Participant::leave`], so it writes its stats) on
/// drop. Used by `desktop_meeting.rs` and `desktop_reconnect.rs`.
pub struct Participant {
    pub child: Child,
    pub stats: PathBuf,
    pub name: &'static str,
}

impl Participant {
    /// Starts `confer join MEETING` as `name`, its stats and log in `dir`.
    /// `command` makes a `confer` command from arguments (the tests'
    /// `Cli::command`, which this module cannot name: not every test
    /// binary compiles `tests/common`). It says `chat` once three are in,
    /// and shares the screen of X display `share_screen_of`.
    pub fn join(
        command: impl FnOnce(&[&str]) -> Command,
        meeting: u64,
        name: &'static str,
        dir: &Path,
        chat: Option<&str>,
        share_screen_of: Option<&str>,
    ) -> Result<Self> {
        let stats = dir.join(format!("{}.json", name.replace(' ', "_")));
        let meeting = meeting.to_string();
        let mut args = vec![
            "join",
            meeting.as_str(),
            "--name",
            name,
            // Real video: the moving 640x360 test pattern, H.264 at 30 fps.
            "--video-in",
            "pattern",
            "--for",
            "3m",
            "--wait-for",
            "3",
            "--stats",
        ];
        let stats_arg = stats
            .to_str()
            .context("temporary paths are UTF-8")?
            .to_owned();
        args.push(&stats_arg);
        if let Some(text) = chat {
            args.extend(["--chat", text]);
        }
        if share_screen_of.is_some() {
            args.extend(["--screen-in", "default"]);
        }
        let mut command = command(&args);
        if let Some(display) = share_screen_of {
            command.env("DISPLAY", display);
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            // Kept beside the stats, for a failure's report.
            .stderr(
                std::fs::File::create(dir.join(format!("{}.log", name.replace(' ', "_"))))
                    .map_or_else(|_| Stdio::null(), Stdio::from),
            )
            .spawn()
            .context("spawn confer join")?;
        Ok(Participant { child, stats, name })
    }

    /// Asks it to leave, waits for it, and returns its stats file.
    pub async fn leave(&mut self) -> Result<Value> {
        signal("-TERM", &self.child.id().to_string());
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while matches!(self.child.try_wait(), Ok(None)) {
            anyhow::ensure!(
                tokio::time::Instant::now() < deadline,
                "{} did not leave after SIGTERM",
                self.name
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let text = std::fs::read_to_string(&self.stats)
            .with_context(|| format!("{}'s stats file", self.name))?;
        Ok(serde_json::from_str(&text)?)
    }

    /// The last lines of its log, for a failure's report.
    pub fn log_tail(&self, dir: &Path, lines: usize) -> String {
        let log = std::fs::read_to_string(dir.join(format!("{}.log", self.name.replace(' ', "_"))))
            .unwrap_or_default();
        tail(&log, lines)
    }
}

impl Drop for Participant {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The last `lines` lines of `text`.
pub fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// A script returning a checksum of a grid of pixels on the video canvas of
/// the tile named `arguments[0]`, or null while it shows no video. A tile
/// drawn with WebGL has no 2D context and its drawing buffer is not kept
/// after compositing, so there the count of pictures the wall painted on it
/// (`window.__conferStats`) stands in for the pixels.
pub const CANVAS_CHECKSUM: &str = "const tile = [...document.querySelectorAll('#gallery .tile')] \
       .find(t => t.querySelector('.tile-name').textContent === arguments[0]); \
     const c = tile && tile.querySelector('canvas.video'); \
     if (!c || c.hidden || c.width === 0) return null; \
     const ctx = c.getContext('2d'); \
     if (!ctx) { \
       const st = window.__conferStats && window.__conferStats.stats(); \
       const n = st && st.drawn[c.dataset.participantId]; \
       return n ? 'drawn:' + n : null; \
     } \
     const d = ctx.getImageData(0, 0, c.width, c.height).data; \
     let sum = 0; \
     for (let i = 0; i < d.length; i += 4 * 97) sum = (sum * 31 + d[i] + d[i + 1] + d[i + 2]) % 1000000007; \
     return sum === 0 ? 1 : sum;";

/// Waits for the named tile's canvas to show a picture, then to change.
pub async fn check_moving_video(
    wd: &WebDriver,
    s: &str,
    name: &str,
    limit: Duration,
) -> Result<()> {
    let first = wd
        .wait_until(
            s,
            &format!("{name}'s video"),
            CANVAS_CHECKSUM,
            json!([name]),
            limit,
        )
        .await?;
    wd.wait_until(
        s,
        &format!("{name}'s video to move"),
        &format!(
            "const now = (() => {{ {CANVAS_CHECKSUM} }})(); return now !== null && now !== arguments[1];"
        ),
        json!([name, first]),
        limit,
    )
    .await
    .map(drop)
}
