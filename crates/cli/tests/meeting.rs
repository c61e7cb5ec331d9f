//! End to end: the real `confer-server` and real `confer` processes on
//! loopback. Accounts, login and meetings through the CLI, then two clients
//! meet, chat and exchange synthetic media over QUIC and over TLS.
//!
//! Needs the server binary next to `confer`: run `cargo build -p
//! confer-server` first. Without it these tests say so and pass.

// Test helpers outside #[test] functions may panic too: a failed setup is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

mod support;
use support::{PASSWORD, Server, confer_bin, start_server};

/// Longest a single CLI command may take.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
/// What a finished `confer` process left.
struct Finished {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

/// A `confer` process whose output is collected in the background.
struct Running {
    child: Child,
    stdout: mpsc::Receiver<String>,
    stderr_lines: mpsc::Receiver<String>,
    stderr_seen: Vec<String>,
}

fn spawn_confer(config_dir: &Path, args: &[&str], stdin: Option<&str>) -> Running {
    let mut child = Command::new(confer_bin())
        .arg("--config-dir")
        .arg(config_dir)
        .args(args)
        .env_remove("CONFER_CONFIG_DIR")
        // A keyring service per test "user", apart from the developer's own.
        .env(
            "CONFER_KEYRING_SERVICE",
            format!("confer-test-{}", config_dir.display()),
        )
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(text) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        pipe.write_all(text.as_bytes()).unwrap();
    }
    let mut out = child.stdout.take().unwrap();
    let (out_tx, stdout) = mpsc::channel();
    std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        let _ = out_tx.send(s);
    });
    let err = child.stderr.take().unwrap();
    let (err_tx, stderr_lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines() {
            let Ok(line) = line else { break };
            if err_tx.send(line).is_err() {
                break;
            }
        }
    });
    Running {
        child,
        stdout,
        stderr_lines,
        stderr_seen: Vec::new(),
    }
}

impl Running {
    /// Waits until a stderr line contains `needle`.
    fn wait_for_stderr(&mut self, needle: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while !self.stderr_seen.iter().any(|l| l.contains(needle)) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr_lines.recv_timeout(left) {
                Ok(line) => self.stderr_seen.push(line),
                Err(_) => {
                    let _ = self.child.kill();
                    panic!(
                        "no {needle:?} on stderr within {timeout:?}; saw {:#?}",
                        self.stderr_seen
                    );
                }
            }
        }
    }

    fn finish(mut self, timeout: Duration) -> Finished {
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "confer did not finish within {timeout:?}; stderr so far: {:#?}",
                    self.stderr_seen
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let stdout = self
            .stdout
            .recv_timeout(Duration::from_secs(5))
            .unwrap_or_default();
        self.stderr_seen.extend(self.stderr_lines.try_iter());
        Finished {
            status,
            stdout,
            stderr: self.stderr_seen.join("\n"),
        }
    }
}

fn confer(config_dir: &Path, args: &[&str], stdin: Option<&str>) -> Finished {
    spawn_confer(config_dir, args, stdin).finish(COMMAND_TIMEOUT)
}

fn confer_ok(config_dir: &Path, args: &[&str], stdin: Option<&str>) -> Finished {
    let out = confer(config_dir, args, stdin);
    assert!(
        out.status.success(),
        "confer {args:?} failed: {}\n{}",
        out.status,
        out.stderr
    );
    out
}

/// Creates an account for Ada, logs her in (session in `host_dir`) and
/// creates a meeting; returns its id.
fn host_meeting(server: &Server, host_dir: &Path, passcode: Option<&str>) -> u64 {
    let ca = server.ca.to_str().unwrap();
    let common = ["--server", server.api.as_str(), "--ca", ca];
    let mut args = vec![
        "account",
        "create",
        "--email",
        "ada@example.com",
        "--name",
        "Ada",
        "--password-stdin",
    ];
    args.extend(common);
    confer_ok(host_dir, &args, Some(&format!("{PASSWORD}\n")));
    let mut args = vec!["login", "--email", "ada@example.com", "--password-stdin"];
    args.extend(common);
    confer_ok(host_dir, &args, Some(&format!("{PASSWORD}\n")));
    // From here on the stored session supplies server and CA.
    let mut args = vec!["meeting", "create", "--topic", "standup", "--json"];
    if let Some(p) = passcode {
        args.extend(["--passcode", p]);
    }
    let out = confer_ok(host_dir, &args, None);
    let v: Value = serde_json::from_str(out.stdout.trim()).unwrap();
    v["meeting_id"].as_u64().unwrap()
}

fn read_stats(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn two_clients_meet(transport: &str) {
    let Some(server) = start_server() else { return };
    let dir = tempfile::tempdir().unwrap();
    let host_dir = dir.path().join("host");
    let guest_dir = dir.path().join("guest");
    let meeting = host_meeting(&server, &host_dir, None).to_string();
    let ca = server.ca.to_str().unwrap();
    let (a_stats, b_stats) = (dir.path().join("a.json"), dir.path().join("b.json"));
    let join = |name: &str, chat: &str, stats: &Path| -> Vec<String> {
        [
            "join",
            &meeting,
            "--name",
            name,
            "--transport",
            transport,
            "--send-media",
            "synthetic",
            "--chat",
            chat,
            "--wait-for",
            "2",
            "--for",
            "3s",
            "--stats",
            stats.to_str().unwrap(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let a_args = join("Ada", "hello from ada", &a_stats);
    let a = spawn_confer(
        &host_dir,
        &a_args.iter().map(String::as_str).collect::<Vec<_>>(),
        None,
    );
    // The guest has no stored session: it names server and CA itself.
    let mut b_args = join("Bo", "hello from bo", &b_stats);
    b_args.extend([
        "--server".into(),
        server.api.clone(),
        "--ca".into(),
        ca.into(),
    ]);
    let b = spawn_confer(
        &guest_dir,
        &b_args.iter().map(String::as_str).collect::<Vec<_>>(),
        None,
    );
    let a = a.finish(COMMAND_TIMEOUT);
    let b = b.finish(COMMAND_TIMEOUT);
    assert!(a.status.success(), "Ada failed: {}", a.stderr);
    assert!(b.status.success(), "Bo failed: {}", b.stderr);

    let a = read_stats(&a_stats);
    let b = read_stats(&b_stats);
    for (me, other, other_chat) in [(&a, &b, "hello from bo"), (&b, &a, "hello from ada")] {
        assert_eq!(me["transport"], transport, "{me:#}");
        assert_eq!(me["left_reason"], "left", "{me:#}");
        assert!(me["error"].is_null());
        assert_eq!(me["wait_for"]["reached"], true, "{me:#}");
        let my_id = me["participant_id"].as_u64().unwrap();
        let other_id = other["participant_id"].as_u64().unwrap();
        assert_ne!(my_id, other_id);
        // The roster holds everyone who took part, whoever left first.
        let roster = me["roster"].as_array().unwrap();
        assert_eq!(roster.len(), 2, "{me:#}");
        for id in [my_id, other_id] {
            assert!(roster.iter().any(|e| e["participant_id"] == id), "{me:#}");
        }
        // Chat from the other, and not our own echo.
        let chat = me["chat_received"].as_array().unwrap();
        assert_eq!(chat.len(), 1, "{me:#}");
        assert_eq!(chat[0]["from"], other_id);
        assert_eq!(chat[0]["text"], other_chat);
        // Media both ways: 50 packets a second for about 3 s, overlapping
        // for most of it.
        let sent = me["media"]["sent_packets"].as_u64().unwrap();
        assert!(sent >= 60, "sent {sent}: {me:#}");
        let received = &me["media"]["received"][other_id.to_string()];
        let packets = received["packets"].as_u64().unwrap_or(0);
        assert!(packets >= 25, "received {packets} from {other_id}: {me:#}");
        assert_eq!(received["synthetic_corrupt"], 0);
    }
    // Whoever joined first (the lower id) saw the other arrive.
    let (first, second) = if a["participant_id"].as_u64() < b["participant_id"].as_u64() {
        (&a, &b)
    } else {
        (&b, &a)
    };
    let events = first["roster_events"].as_array().unwrap();
    assert!(
        events
            .iter()
            .any(|e| e["event"] == "joined" && e["participant_id"] == second["participant_id"]),
        "{first:#}"
    );
    assert_eq!(a["role"], "host");
    assert_eq!(b["role"], "participant");
}

#[test]
fn two_clients_meet_over_quic() {
    two_clients_meet("quic");
}

#[test]
fn two_clients_meet_over_tls() {
    two_clients_meet("tls");
}

#[test]
fn a_wrong_passcode_is_refused_and_reported() {
    let Some(server) = start_server() else { return };
    let dir = tempfile::tempdir().unwrap();
    let meeting = host_meeting(&server, &dir.path().join("host"), Some("s3cret")).to_string();
    let stats = dir.path().join("refused.json");
    let out = confer(
        &dir.path().join("guest"),
        &[
            "join",
            &meeting,
            "--name",
            "Eve",
            "--passcode",
            "guess",
            "--for",
            "1s",
            "--stats",
            stats.to_str().unwrap(),
            "--server",
            &server.api,
            "--ca",
            server.ca.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("refused"), "{}", out.stderr);
    let v = read_stats(&stats);
    assert_eq!(v["left_reason"], "refused");
    assert!(
        v["error"].as_str().unwrap().contains("wrong_passcode"),
        "{v:#}"
    );
    assert!(v["transport"].is_null());
}

#[test]
fn login_stores_a_private_session_and_prints_no_secrets() {
    let Some(server) = start_server() else { return };
    let dir = tempfile::tempdir().unwrap();
    let host_dir = dir.path().join("host");
    let ca = server.ca.to_str().unwrap();
    let common = ["--server", server.api.as_str(), "--ca", ca];
    let mut args = vec![
        "account",
        "create",
        "--email",
        "cy@example.com",
        "--name",
        "Cy",
        "--password-stdin",
    ];
    args.extend(common);
    let created = confer_ok(&host_dir, &args, Some(&format!("{PASSWORD}\n")));
    let mut args = vec![
        "login",
        "--email",
        "cy@example.com",
        "--password-stdin",
        "--json",
    ];
    args.extend(common);
    let login = confer_ok(&host_dir, &args, Some(&format!("{PASSWORD}\n")));

    let session_file = host_dir.join("session.json");
    let stored: Value =
        serde_json::from_str(&std::fs::read_to_string(&session_file).unwrap()).unwrap();
    let token = stored["access_token"].as_str().unwrap();
    assert!(!token.is_empty());
    assert_eq!(stored["server"], server.api.as_str());
    for out in [&created, &login] {
        for text in [&out.stdout, &out.stderr] {
            assert!(!text.contains(PASSWORD), "password printed: {text}");
            assert!(!text.contains(token), "token printed: {text}");
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&session_file)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // A wrong password is an error with the server's code, and a non-zero exit.
    let mut args = vec!["login", "--email", "cy@example.com", "--password-stdin"];
    args.extend(common);
    let bad = confer(&host_dir, &args, Some("wrong password\n"));
    assert!(!bad.status.success());
    assert!(bad.stderr.contains("invalid_credentials"), "{}", bad.stderr);
}

#[cfg(unix)]
#[test]
fn sigterm_leaves_cleanly_and_writes_stats() {
    let Some(server) = start_server() else { return };
    let dir = tempfile::tempdir().unwrap();
    let host_dir = dir.path().join("host");
    let meeting = host_meeting(&server, &host_dir, None).to_string();
    let stats = dir.path().join("term.json");
    let mut running = spawn_confer(
        &host_dir,
        &["join", &meeting, "--stats", stats.to_str().unwrap()],
        None,
    );
    running.wait_for_stderr("joined meeting", COMMAND_TIMEOUT);
    let pid = running.child.id().to_string();
    let kill = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(kill.success());
    let out = running.finish(COMMAND_TIMEOUT);
    assert!(out.status.success(), "{}", out.stderr);
    let v = read_stats(&stats);
    assert_eq!(v["left_reason"], "left", "{v:#}");
    assert_eq!(v["roster"].as_array().unwrap().len(), 1, "{v:#}");
    assert_eq!(v["roster"][0]["name"], "Ada");
}

/// The real router's refusal reaches the client as `refused` (not as a lost
/// connection) on both transports: a join token's session id is good once.
#[test]
fn the_router_refuses_a_reused_join_token_on_both_transports() {
    use confer_client::api::{ApiClient, JoinTokenRequest};
    use confer_client::driver::{self, ConnectOptions, Transport};
    use confer_client::session::{EndReason, Session, SessionConfig};
    use confer_wire::control::ErrorCode;
    use confer_wire::ids::MeetingId;

    let Some(server) = start_server() else { return };
    let dir = tempfile::tempdir().unwrap();
    let meeting = MeetingId(host_meeting(&server, &dir.path().join("host"), None));
    let ca_pem = std::fs::read(&server.ca).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let api = ApiClient::new(&server.api, Some(&ca_pem)).unwrap();
        let request = JoinTokenRequest {
            display_name: Some("Guest".into()),
            passcode: None,
        };
        for transport in [Transport::Quic, Transport::Tls] {
            let ticket = api.join_token(meeting, &request).await.unwrap();
            let mut options = ConnectOptions::new(ca_pem.clone());
            options.transport = transport;
            let run_once = || async {
                let connection = driver::connect(&ticket.router, &options).await.unwrap();
                let session = Session::new(
                    SessionConfig::new(meeting, ticket.token.clone()),
                    std::time::Instant::now(),
                );
                let (commands, command_rx) = tokio::sync::mpsc::channel(4);
                let (event_tx, _events) = tokio::sync::mpsc::unbounded_channel();
                let task = tokio::spawn(driver::run(connection, session, command_rx, event_tx));
                (commands, task)
            };
            // The first use admits; stay until the second has been refused.
            let (first_commands, first) = run_once().await;
            tokio::time::sleep(Duration::from_millis(300)).await;
            let (_second_commands, second) = run_once().await;
            let second = tokio::time::timeout(COMMAND_TIMEOUT, second)
                .await
                .unwrap()
                .unwrap();
            assert!(
                matches!(
                    second.end_reason(),
                    Some(EndReason::Refused {
                        code: ErrorCode::SessionReused,
                        ..
                    })
                ),
                "{transport:?}: {:?}",
                second.end_reason()
            );
            drop(first_commands);
            let first = tokio::time::timeout(COMMAND_TIMEOUT, first)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(first.end_reason(), Some(&EndReason::Left), "{transport:?}");
        }
    });
}
