//! A webhook receiver for tests: answers URL validation with an HMAC
//! computed by Python (an implementation independent of ours) and every
//! event with a chosen status.

use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use super::https_stub::{Recorded, Stub};

/// HMAC-SHA256(key, message) in hex, computed by Python, not by our code.
pub(crate) fn python_hmac(key: &str, message: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("message");
    std::fs::write(&path, message).unwrap();
    let out = Command::new("python3")
        .args([
            "-c",
            "import hmac, hashlib, sys; \
             print(hmac.new(sys.argv[1].encode(), open(sys.argv[2], 'rb').read(), hashlib.sha256).hexdigest())",
            key,
            path.to_str().unwrap(),
        ])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A receiver that answers URL validation for `secret` (with Python's
/// HMAC) and every event with `event_status`.
pub(crate) fn receiver(stub: &Stub, secret: &str, event_status: u16) {
    let secret = secret.to_owned();
    stub.set_handler(move |request: &Recorded| {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        if body["event"] == "endpoint.url_validation" {
            let plain = body["payload"]["plainToken"].as_str().unwrap_or("").to_owned();
            let answer = json!({"plainToken": plain, "encryptedToken": python_hmac(&secret, plain.as_bytes())});
            (200, answer.to_string())
        } else {
            (event_status, "{}".to_owned())
        }
    });
}

/// The requests the stub got, URL-validation challenges left out.
pub(crate) fn events(stub: &Stub) -> Vec<Recorded> {
    stub.requests
        .lock()
        .unwrap()
        .iter()
        .filter(|r| !String::from_utf8_lossy(&r.body).contains("endpoint.url_validation"))
        .cloned()
        .collect()
}

/// Polls `done` every 50 ms for up to 10 s.
pub(crate) async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..200 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}
