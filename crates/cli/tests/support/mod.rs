//! What the CLI's end-to-end tests share: the `confer` binary and a real
//! `confer-server` process on loopback ports the OS picks.

// Test helpers may panic: a failed setup is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The `confer` binary under test.
pub(crate) fn confer_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_confer"))
}

/// Longest the server may take to print its ready line.
pub(crate) const SERVER_START_TIMEOUT: Duration = Duration::from_secs(60);
/// The password every test account uses.
pub(crate) const PASSWORD: &str = "correct horse battery staple";

/// The server binary, built beside `confer`.
pub(crate) fn server_bin() -> Option<PathBuf> {
    let path = confer_bin().parent()?.join("confer-server");
    path.is_file().then_some(path)
}

/// A running `confer-server`, killed when dropped.
pub(crate) struct Server {
    child: Child,
    /// The web API's base URL.
    pub(crate) api: String,
    /// The development CA's PEM file.
    pub(crate) ca: PathBuf,
    _data: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the server, or returns `None` (after saying why) when its binary
/// has not been built.
pub(crate) fn start_server() -> Option<Server> {
    let Some(bin) = server_bin() else {
        eprintln!(
            "SKIPPED: confer-server not found next to {}; run `cargo build -p confer-server` first",
            confer_bin().display()
        );
        return None;
    };
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(bin)
        .args(["--data-dir"])
        .arg(data.path())
        .args([
            "--http-port",
            "0",
            "--quic-port",
            "0",
            "--tls-port",
            "0",
            "--log",
            "warn",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if line.starts_with("confer-server ready ") {
                let _ = tx.send(line);
            }
        }
    });
    let line = match rx.recv_timeout(SERVER_START_TIMEOUT) {
        Ok(line) => line,
        Err(_) => {
            let _ = child.kill();
            panic!("confer-server did not print its ready line within {SERVER_START_TIMEOUT:?}");
        }
    };
    let field = |name: &str| {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name}= in {line:?}"))
            .to_owned()
    };
    Some(Server {
        api: field("api"),
        ca: PathBuf::from(field("ca")),
        child,
        _data: data,
    })
}
