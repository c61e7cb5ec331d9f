//! Shared harness for the whole-system tests: a real `confer-server` process
//! on loopback with its own data directory, the real `confer` CLI, and a raw
//! protocol client that can send frames no well-behaved client would.
//!
//! Nothing here is mocked: the server, the router, TLS and the database are
//! the ones users run.

#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs
)]

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use confer_wire::control::{ClientMessage, ServerMessage};
use confer_wire::frame::{FrameKind, decode_frame, frame_bytes};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Longest any single step may take before the test fails instead of hanging.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(60);

/// The directory cargo put this test binary's sibling binaries in (`target/debug`).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    // target/debug/deps/this-test -> target/debug
    exe.parent()
        .and_then(Path::parent)
        .expect("target dir")
        .to_path_buf()
}

/// Path to a workspace binary, building the workspace's binaries once if it is missing
/// (`scripts/test.sh` builds them first, so this is only for a bare `cargo test`).
pub fn bin(name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    let path = target_dir().join(name);
    if !path.exists() {
        BUILT.get_or_init(|| {
            let status = Command::new(env!("CARGO"))
                .args(["build", "-p", "confer-server", "-p", "confer-cli", "--bins"])
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .status()
                .expect("run cargo build");
            assert!(status.success(), "cargo build of the binaries failed");
        });
    }
    assert!(path.exists(), "{} not found after building", path.display());
    path
}

/// Waits for a child process, killing it (and failing the test) if it outlives `limit`.
pub fn wait_with_timeout(child: &mut Child, limit: Duration) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("process {} did not finish within {limit:?}", child.id());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A running `confer-server` process with a fresh data directory. Stopped on drop.
pub struct Server {
    child: Child,
    pub dir: tempfile::TempDir,
    pub api: String,
    pub quic: SocketAddr,
    pub tls: SocketAddr,
    pub ca: PathBuf,
}

impl Server {
    /// Starts the server on 127.0.0.1 with every port chosen by the OS and waits for its ready line.
    pub fn start() -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        Self::start_in(dir)
    }

    /// Starts the server on an existing data directory (for restart tests).
    pub fn start_in(dir: tempfile::TempDir) -> Server {
        Self::start_in_with(dir, &[])
    }

    /// Starts the server on `dir` with extra arguments (`--log trace`).
    pub fn start_in_with(dir: tempfile::TempDir, extra: &[&str]) -> Server {
        let log = std::fs::File::create(dir.path().join("server.log")).expect("log file");
        let mut child = Command::new(bin("confer-server"))
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .args([
                "--listen-host",
                "127.0.0.1",
                "--http-port",
                "0",
                "--quic-port",
                "0",
            ])
            .args(["--tls-port", "0"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("spawn confer-server");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = match rx.recv_timeout(STEP_TIMEOUT) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                panic!("confer-server printed no ready line within {STEP_TIMEOUT:?}");
            }
        };
        let fields = parse_ready_line(&line)
            .unwrap_or_else(|| panic!("unexpected ready line from confer-server: {line:?}"));
        Server {
            child,
            api: fields.0,
            quic: fields.1,
            tls: fields.2,
            ca: fields.3,
            dir,
        }
    }

    /// The server's log so far (stderr), for assertions and failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// The server's process id (privacy tests read its memory).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The CA certificate clients must trust, PEM.
    pub fn ca_pem(&self) -> Vec<u8> {
        std::fs::read(&self.ca).expect("read CA")
    }

    /// True while the server process is running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Stops the server with SIGTERM and returns its data directory.
    pub fn stop(mut self) -> tempfile::TempDir {
        self.terminate();
        let dir = tempfile::tempdir().expect("tempdir");
        std::mem::replace(&mut self.dir, dir)
    }

    fn terminate(&mut self) {
        // SIGTERM lets the server close its store cleanly.
        #[allow(unsafe_code)]
        // SAFETY: kill(2) on our own child's pid has no memory-safety preconditions.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// A CLI invocation bound to this server, with its own config directory.
    pub fn cli(&self, config_dir: &Path) -> Cli {
        Cli {
            api: self.api.clone(),
            ca: self.ca.clone(),
            config_dir: config_dir.to_path_buf(),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.terminate();
    }
}

/// Parses `confer-server ready api=https://HOST:PORT quic=HOST:PORT tls=HOST:PORT ca=PATH`.
pub fn parse_ready_line(line: &str) -> Option<(String, SocketAddr, SocketAddr, PathBuf)> {
    let rest = line.trim_end().strip_prefix("confer-server ready ")?;
    let mut api = None;
    let mut quic = None;
    let mut tls = None;
    let mut ca = None;
    for part in rest.split(' ') {
        let (key, value) = part.split_once('=')?;
        match key {
            "api" => api = Some(value.to_string()),
            "quic" => quic = value.parse().ok(),
            "tls" => tls = value.parse().ok(),
            "ca" => ca = Some(PathBuf::from(value)),
            _ => {}
        }
    }
    Some((api?, quic?, tls?, ca?))
}

/// The `confer` CLI pointed at one server, with its own config directory (its own "user").
#[derive(Clone)]
pub struct Cli {
    pub api: String,
    pub ca: PathBuf,
    pub config_dir: PathBuf,
}

/// What a finished CLI run printed.
pub struct Output {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Cli {
    /// A `confer` command with the server, CA and config directory set.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(bin("confer"));
        cmd.args(args)
            .arg("--server")
            .arg(&self.api)
            .arg("--ca")
            .arg(&self.ca)
            .arg("--config-dir")
            .arg(&self.config_dir)
            // Device keys go to the OS keyring: a service per config
            // directory keeps each test "user" apart and out of the
            // developer's own entries.
            .env(
                "CONFER_KEYRING_SERVICE",
                format!("confer-test-{}", self.config_dir.display()),
            )
            .env("RUST_LOG", "warn");
        cmd
    }

    /// Runs `confer ARGS`, writing `stdin` to it, and waits (bounded) for it to finish.
    pub fn run(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn confer");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(stdin.as_bytes())
            .expect("write stdin");
        let out = Arc::new(Mutex::new(String::new()));
        let err = Arc::new(Mutex::new(String::new()));
        let t1 = pump(child.stdout.take().expect("stdout"), out.clone());
        let t2 = pump(child.stderr.take().expect("stderr"), err.clone());
        let status = wait_with_timeout(&mut child, STEP_TIMEOUT);
        let _ = (t1.join(), t2.join());
        let stdout = out.lock().unwrap().clone();
        let stderr = err.lock().unwrap().clone();
        Output {
            status,
            stdout,
            stderr,
        }
    }

    /// Runs a command that must succeed and returns its stdout.
    pub fn ok(&self, args: &[&str], stdin: &str) -> String {
        let out = self.run(args, stdin);
        assert!(
            out.status.success(),
            "confer {args:?} failed ({}):\nstdout: {}\nstderr: {}",
            out.status,
            out.stdout,
            out.stderr
        );
        out.stdout
    }

    /// Creates an account and signs in as it.
    pub fn sign_up(&self, email: &str, name: &str, password: &str) {
        self.create_account(email, name, password);
        self.ok(&["login", "--email", email, "--password-stdin"], password);
    }

    /// Creates an account without signing in to it.
    pub fn create_account(&self, email: &str, name: &str, password: &str) {
        self.ok(
            &[
                "account",
                "create",
                "--email",
                email,
                "--name",
                name,
                "--password-stdin",
            ],
            password,
        );
    }

    /// Creates a meeting and returns its id.
    pub fn create_meeting(&self, extra: &[&str]) -> u64 {
        let mut args = vec!["meeting", "create", "--json"];
        args.extend_from_slice(extra);
        let out = self.ok(&args, "");
        let v: serde_json::Value = serde_json::from_str(out.trim())
            .unwrap_or_else(|e| panic!("meeting create --json printed {out:?}: {e}"));
        v["meeting_id"]
            .as_u64()
            .unwrap_or_else(|| panic!("no meeting_id in {v}"))
    }
}

fn pump<R: std::io::Read + Send + 'static>(
    mut r: R,
    into: Arc<Mutex<String>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut s = String::new();
        let _ = r.read_to_string(&mut s);
        into.lock().unwrap().push_str(&s);
    })
}

/// A TLS client configuration that trusts only the server's CA and offers only TLS 1.3.
pub fn tls_client_config(ca_pem: &[u8], alpn: &[u8]) -> Arc<rustls::ClientConfig> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem) {
        roots.add(cert.expect("CA PEM")).expect("add CA");
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS13])
    .expect("TLS 1.3")
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![alpn.to_vec()];
    Arc::new(config)
}

/// A protocol client speaking frames over TLS/TCP directly, so tests can send exactly
/// the bytes they want, including ones no real client would.
pub struct RawClient {
    stream: tokio_rustls::client::TlsStream<TcpStream>,
    buf: BytesMut,
}

/// What [`RawClient::recv`] saw.
#[derive(Debug)]
pub enum Received {
    Control(ServerMessage),
    Media(bytes::Bytes),
    /// The router closed the connection.
    Closed,
}

impl RawClient {
    /// Connects to the router's TLS port.
    pub async fn connect(addr: SocketAddr, ca_pem: &[u8]) -> RawClient {
        let connector =
            tokio_rustls::TlsConnector::from(tls_client_config(ca_pem, confer_wire::ALPN));
        let tcp = tokio::time::timeout(STEP_TIMEOUT, TcpStream::connect(addr))
            .await
            .expect("connect timeout")
            .expect("connect");
        let name = rustls_pki_types::ServerName::try_from("localhost").expect("name");
        let stream = tokio::time::timeout(STEP_TIMEOUT, connector.connect(name, tcp))
            .await
            .expect("TLS handshake timeout")
            .expect("TLS handshake");
        RawClient {
            stream,
            buf: BytesMut::new(),
        }
    }

    /// Sends raw bytes as they are.
    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("write");
        self.stream.flush().await.expect("flush");
    }

    /// Sends one control message in a control frame.
    pub async fn send(&mut self, msg: &ClientMessage) {
        let frame = frame_bytes(FrameKind::Control, &msg.encode()).expect("frame");
        self.send_raw(&frame).await;
    }

    /// Sends a hand-written JSON control message (for messages the typed enum cannot express).
    pub async fn send_json(&mut self, json: &str) {
        let frame = frame_bytes(FrameKind::Control, json.as_bytes()).expect("frame");
        self.send_raw(&frame).await;
    }

    /// Sends one media frame.
    pub async fn send_media(&mut self, rtp: &[u8]) {
        let frame = frame_bytes(FrameKind::Media, rtp).expect("frame");
        self.send_raw(&frame).await;
    }

    /// Next frame from the router, or `Closed`. Fails the test after `limit`.
    pub async fn recv_within(&mut self, limit: Duration) -> Received {
        self.poll(limit)
            .await
            .unwrap_or_else(|| panic!("nothing from the router within {limit:?}"))
    }

    /// Next frame from the router, `Closed`, or `None` if nothing arrived within `limit`.
    pub async fn poll(&mut self, limit: Duration) -> Option<Received> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            match decode_frame(&mut self.buf) {
                Ok(Some(frame)) => {
                    return Some(match frame.kind {
                        FrameKind::Control => Received::Control(
                            ServerMessage::decode(&frame.payload).expect("router sent valid JSON"),
                        ),
                        FrameKind::Media => Received::Media(frame.payload),
                    });
                }
                Ok(None) => {}
                Err(e) => panic!("router sent invalid framing: {e}"),
            }
            let Ok(read) =
                tokio::time::timeout_at(deadline, self.stream.read_buf(&mut self.buf)).await
            else {
                return None;
            };
            match read {
                Ok(0) | Err(_) => return Some(Received::Closed),
                Ok(_) => {}
            }
        }
    }

    /// Next control message, skipping media; `None` when the router closed the connection.
    pub async fn recv_control(&mut self, limit: Duration) -> Option<ServerMessage> {
        loop {
            match self.recv_within(limit).await {
                Received::Control(m) => return Some(m),
                Received::Media(_) => continue,
                Received::Closed => return None,
            }
        }
    }

    /// Reads until the router closes the connection, returning every control message seen.
    pub async fn drain_until_closed(&mut self, limit: Duration) -> Vec<ServerMessage> {
        let mut seen = Vec::new();
        while let Some(m) = self.recv_control(limit).await {
            seen.push(m);
        }
        seen
    }
}

/// The web API, called directly (what the CLI does under the hood) for tests that need
/// a join token in hand.
pub struct Api {
    pub base: String,
    http: reqwest::Client,
}

impl Api {
    pub fn new(server: &Server) -> Api {
        let ca = reqwest::Certificate::from_pem(&server.ca_pem()).expect("CA");
        let http = reqwest::Client::builder()
            .tls_certs_only([ca])
            .timeout(STEP_TIMEOUT)
            .build()
            .expect("http client");
        Api {
            base: server.api.clone(),
            http,
        }
    }

    /// POSTs JSON, returning the status and the JSON body.
    pub async fn post(
        &self,
        path: &str,
        bearer: Option<&str>,
        body: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let mut req = self.http.post(format!("{}{path}", self.base)).json(&body);
        if let Some(token) = bearer {
            req = req.bearer_auth(token);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let body = resp.json().await.unwrap_or(serde_json::Value::Null);
        (status, body)
    }

    /// Creates an account and returns an access token for it.
    pub async fn sign_up(&self, email: &str, name: &str, password: &str) -> String {
        let (status, body) = self
            .post(
                "/api/v1/accounts",
                None,
                serde_json::json!({"email": email, "display_name": name, "password": password}),
            )
            .await;
        assert_eq!(status, 201, "create account: {body}");
        let (status, body) = self
            .post(
                "/api/v1/login",
                None,
                serde_json::json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(status, 200, "login: {body}");
        body["access_token"]
            .as_str()
            .expect("access_token")
            .to_string()
    }

    /// Creates a meeting and returns its id.
    pub async fn create_meeting(&self, bearer: &str, passcode: Option<&str>) -> u64 {
        let mut body = serde_json::json!({"topic": "Test meeting"});
        if let Some(p) = passcode {
            body["passcode"] = p.into();
        }
        let (status, body) = self.post("/api/v1/meetings", Some(bearer), body).await;
        assert_eq!(status, 201, "create meeting: {body}");
        body["meeting_id"].as_u64().expect("meeting_id")
    }

    /// Requests a join token; returns the status and body.
    pub async fn join_token(
        &self,
        bearer: Option<&str>,
        meeting: u64,
        body: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        self.post(
            &format!("/api/v1/meetings/{meeting}/join-token"),
            bearer,
            body,
        )
        .await
    }
}

/// Collects a child's output line by line as it is printed, so a test can
/// wait for a condition ("joined meeting", "left") instead of sleeping.
pub struct LineWatcher {
    lines: Arc<Mutex<Vec<String>>>,
}

impl LineWatcher {
    /// Starts reading `r` on a thread of its own.
    pub fn new<R: std::io::Read + Send + 'static>(r: R) -> LineWatcher {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let into = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(r).lines() {
                let Ok(line) = line else { break };
                into.lock().unwrap().push(line);
            }
        });
        LineWatcher { lines }
    }

    /// Waits (bounded by `limit`) until a line satisfies `pred`; panics with
    /// everything seen so far if none does.
    pub fn wait_for(&self, what: &str, limit: Duration, pred: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + limit;
        loop {
            if self.lines.lock().unwrap().iter().any(|l| pred(l)) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "no line {what} within {limit:?}; saw:\n{}",
                self.text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Everything read so far.
    pub fn text(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }
}

/// Asks a child to stop the way a person would (SIGTERM), so it can finish
/// cleanly (leave, write its files).
pub fn terminate(child: &Child) {
    let pid = libc::pid_t::try_from(child.id()).expect("pid fits");
    // SAFETY: sending a signal to a process we started and still own.
    #[allow(unsafe_code)]
    unsafe {
        libc::kill(pid, libc::SIGTERM);
    }
}

/// `frame` sealed by `session` (participant `id`) for the audio track and
/// wrapped in the RTP packet the router forwards: how the key tests put a
/// media frame on the wire without a media engine.
pub fn sealed_audio_packet(
    session: &mut confer_client::session::Session,
    id: confer_wire::ids::ParticipantId,
    seq: u16,
    frame: &[u8],
) -> Vec<u8> {
    let ssrc = confer_wire::ids::ssrc_for(id, 0);
    let sealed = session
        .seal_frame(0, &ssrc.to_be_bytes(), frame)
        .expect("seal");
    let mut packet = Vec::new();
    confer_wire::rtp::RtpHeader {
        marker: true,
        payload_type: 111,
        sequence: seq,
        timestamp: u32::from(seq) * 960,
        ssrc,
    }
    .write(&sealed, &mut packet);
    packet
}

impl Cli {
    /// Starts `confer join MEETING --save-received SAVED --stats STATS` and
    /// waits until it has joined: the receiving end of the media tests.
    pub fn spawn_receiver(
        &self,
        meeting: &str,
        saved: &Path,
        stats: &Path,
    ) -> (Child, LineWatcher) {
        let s = |p: &Path| p.to_str().expect("temporary paths are UTF-8").to_owned();
        let (child, out) = self.spawn(&[
            "join",
            meeting,
            "--save-received",
            &s(saved),
            "--stats",
            &s(stats),
        ]);
        out.wait_for("joined", STEP_TIMEOUT, |l| l.starts_with("joined meeting"));
        (child, out)
    }

    /// Starts `confer ARGS` (the server flags appended) with its stderr
    /// watched.
    pub fn spawn(&self, args: &[&str]) -> (Child, LineWatcher) {
        let mut child = self
            .command(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn confer {args:?}: {e}"));
        let out = LineWatcher::new(child.stderr.take().expect("stderr is piped"));
        (child, out)
    }

    /// Runs `confer ARGS` to its end (within [`STEP_TIMEOUT`]); `who` names
    /// it if it fails, with what it printed.
    pub fn run_to_end(&self, who: &str, args: &[&str]) {
        let (mut child, out) = self.spawn(args);
        let status = wait_with_timeout(&mut child, STEP_TIMEOUT);
        assert!(status.success(), "{who}: {status}\n{}", out.text());
    }
}
