//! The `confer-server` binary: prints exactly one ready line, serves, and
//! exits cleanly on SIGTERM.

// Test helpers outside #[test] functions fail loudly too; clippy.toml's
// allow-*-in-tests covers only the test functions themselves.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prints_the_ready_line_serves_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_confer-server"))
        .args(["--data-dir", dir.path().to_str().unwrap()])
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
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(60), stdout.next_line())
        .await
        .expect("ready line within 60 s")
        .unwrap()
        .expect("a line on stdout");

    // confer-server ready api=https://HOST:PORT quic=HOST:PORT tls=HOST:PORT ca=PATH
    let fields: Vec<&str> = line.split(' ').collect();
    assert_eq!(fields.len(), 6, "{line}");
    assert_eq!(&fields[..2], ["confer-server", "ready"], "{line}");
    let api = fields[2]
        .strip_prefix("api=https://127.0.0.1:")
        .expect(&line);
    assert!(api.parse::<u16>().unwrap() > 0);
    assert!(
        fields[3]
            .strip_prefix("quic=127.0.0.1:")
            .expect(&line)
            .parse::<u16>()
            .unwrap()
            > 0
    );
    assert!(
        fields[4]
            .strip_prefix("tls=127.0.0.1:")
            .expect(&line)
            .parse::<u16>()
            .unwrap()
            > 0
    );
    let ca = fields[5].strip_prefix("ca=").expect(&line);
    assert_eq!(std::path::Path::new(ca), dir.path().join("ca.pem"));

    let http = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&std::fs::read(ca).unwrap()).unwrap()])
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let health = http
        .get(format!("https://127.0.0.1:{api}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), reqwest::StatusCode::OK);

    let pid = child.id().unwrap().to_string();
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("exits within 30 s of SIGTERM")
        .unwrap();
    assert!(status.success(), "{status}");
    // Exactly one line: nothing else was printed to stdout.
    assert_eq!(stdout.next_line().await.unwrap(), None);
}
