//! End to end: E2E direct chat between real `confer` processes through the
//! real `confer-server`, each process with its device identity in the real
//! OS keyring (its own keyring service, as on separate machines).
//!
//! Ada and Bo share an organisation (Ada, its owner, adds Bo); Bo has two
//! devices. A message from Ada reaches and decrypts on both of Bo's; after
//! Bo revokes his second device, the next one reaches only the first. A
//! message to someone in another organisation is refused. A message
//! delivered again after Bo read it (a replay) is dropped in a later run.
//!
//! Needs the server binary next to `confer` (`cargo build -p
//! confer-server`) and a Secret Service on the session bus (CI:
//! `scripts/test.sh` runs the suite under `dbus-run-session` with
//! gnome-keyring). Without either the test says why and passes, unless
//! `CONFER_REQUIRE_KEYRING=1`, when a missing keyring fails it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use confer_client::api::{ApiClient, NewOrgUser};
use confer_client::device_keys::DeviceKeyStore;
use serde_json::Value;

mod support;
use support::{PASSWORD, Server, confer_bin, start_server};

/// Longest a single CLI command may take (`--wait` included).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
/// What a finished `confer` process left.
struct Finished {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

/// One `confer` installation: its config directory and keyring service.
struct Device {
    config_dir: PathBuf,
    service: String,
}

impl Device {
    fn new(root: &Path, name: &str) -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        Device {
            config_dir: root.join(name),
            // Unique per run, so parallel runs and leftovers never meet.
            service: format!("confer.test.{}.{nanos}.{name}", std::process::id()),
        }
    }

    fn run(&self, args: &[&str], stdin: Option<&str>) -> Finished {
        let mut child = Command::new(confer_bin())
            .arg("--config-dir")
            .arg(&self.config_dir)
            .args(args)
            .env_remove("CONFER_CONFIG_DIR")
            .env("CONFER_KEYRING_SERVICE", &self.service)
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
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
        }
        let collect = |mut pipe: Box<dyn Read + Send>| {
            let (tx, rx) = mpsc::channel();
            std::thread::spawn(move || {
                let mut s = String::new();
                let _ = pipe.read_to_string(&mut s);
                let _ = tx.send(s);
            });
            rx
        };
        let out = collect(Box::new(child.stdout.take().unwrap()));
        let err = collect(Box::new(child.stderr.take().unwrap()));
        let deadline = Instant::now() + COMMAND_TIMEOUT;
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("confer {args:?} did not finish within {COMMAND_TIMEOUT:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let wait = Duration::from_secs(5);
        Finished {
            status,
            stdout: out.recv_timeout(wait).unwrap_or_default(),
            stderr: err.recv_timeout(wait).unwrap_or_default(),
        }
    }

    fn ok(&self, args: &[&str], stdin: Option<&str>) -> Finished {
        let out = self.run(args, stdin);
        assert!(
            out.status.success(),
            "confer {args:?} failed: {}\n{}",
            out.status,
            out.stderr
        );
        out
    }

    /// Logs in; returns the device id the login registered.
    fn login(&self, server: &Server, email: &str) -> String {
        let ca = server.ca.to_str().unwrap();
        let out = self.ok(
            &[
                "login",
                "--email",
                email,
                "--password-stdin",
                "--server",
                &server.api,
                "--ca",
                ca,
                "--json",
            ],
            Some(&format!("{PASSWORD}\n")),
        );
        let v: Value = serde_json::from_str(out.stdout.trim()).unwrap();
        let id = v["device_id"].as_str().unwrap_or_else(|| {
            panic!("login registered no device: {}\n{}", out.stdout, out.stderr)
        });
        // The identity the login made is the one `identity show` shows.
        let shown: Value =
            serde_json::from_str(self.ok(&["identity", "show", "--json"], None).stdout.trim())
                .unwrap();
        assert_eq!(shown["device_id"], id);
        assert_eq!(shown["keyring_service"], self.service.as_str());
        id.to_owned()
    }

    fn create_account(&self, server: &Server, email: &str, name: &str) {
        let ca = server.ca.to_str().unwrap();
        self.ok(
            &[
                "account",
                "create",
                "--email",
                email,
                "--name",
                name,
                "--password-stdin",
                "--server",
                &server.api,
                "--ca",
                ca,
            ],
            Some(&format!("{PASSWORD}\n")),
        );
    }

    /// `chat inbox --json`, parsed: one value per message.
    fn inbox(&self, wait: Option<&str>) -> Vec<Value> {
        let mut args = vec!["chat", "inbox", "--json"];
        if let Some(w) = wait {
            args.extend(["--wait", w]);
        }
        let out = self.ok(&args, None);
        assert!(
            !out.stderr.contains("dropped"),
            "unexpected drops: {}",
            out.stderr
        );
        out.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn forget_keys(&self) {
        let _ = DeviceKeyStore::with_service(self.service.clone()).delete();
    }
}

/// Whether the OS keyring is usable; `false` (after saying why) means skip.
fn keyring_available() -> bool {
    let probe = DeviceKeyStore::with_service(format!("confer.test.probe.{}", std::process::id()));
    match probe.load() {
        Ok(_) => true,
        Err(e) if e.is_unavailable() => {
            assert!(
                std::env::var("CONFER_REQUIRE_KEYRING").as_deref() != Ok("1"),
                "CONFER_REQUIRE_KEYRING=1 but no OS keyring is usable: {e}"
            );
            eprintln!(
                "SKIPPED: no OS keyring reachable ({e}); run under dbus-run-session with \
                 gnome-keyring-daemon, and set CONFER_REQUIRE_KEYRING=1 to make this a failure"
            );
            false
        }
        Err(e) => panic!("the OS keyring is reachable but failing: {e}"),
    }
}

/// Ada's bearer token, from the session her login stored.
fn stored_token(device: &Device) -> String {
    let text = std::fs::read_to_string(device.config_dir.join("session.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    v["access_token"].as_str().unwrap().to_owned()
}

fn texts(messages: &[Value]) -> Vec<&str> {
    messages
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect()
}

#[test]
fn direct_messages_reach_every_active_device_and_only_them() {
    if !keyring_available() {
        return;
    }
    let Some(server) = start_server() else { return };
    let root = tempfile::tempdir().unwrap();
    let ada = Device::new(root.path(), "ada");
    let bo1 = Device::new(root.path(), "bo1");
    let bo2 = Device::new(root.path(), "bo2");
    let cy = Device::new(root.path(), "cy");
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        scenario(&server, &ada, &bo1, &bo2, &cy)
    }));
    for d in [&ada, &bo1, &bo2, &cy] {
        d.forget_keys();
    }
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

fn scenario(server: &Server, ada: &Device, bo1: &Device, bo2: &Device, cy: &Device) {
    // Ada signs up (owning a new organisation) and adds Bo to it.
    ada.create_account(server, "ada@engines.example", "Ada");
    let ada_device = ada.login(server, "ada@engines.example");
    let pem = std::fs::read(&server.ca).unwrap();
    let api = ApiClient::new(&server.api, Some(&pem))
        .unwrap()
        .with_access_token(stored_token(ada));
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(api.add_org_user(&NewOrgUser {
            email: "bo@engines.example".into(),
            display_name: "Bo".into(),
            password: Some(PASSWORD.into()),
        }))
        .unwrap();
    let bo1_device = bo1.login(server, "bo@engines.example");
    let bo2_device = bo2.login(server, "bo@engines.example");
    assert_ne!(bo1_device, bo2_device);
    // Cy signs up alone: an organisation of her own.
    cy.create_account(server, "cy@elsewhere.example", "Cy");
    cy.login(server, "cy@elsewhere.example");

    let listed: Value =
        serde_json::from_str(bo1.ok(&["identity", "list", "--json"], None).stdout.trim()).unwrap();
    let devices = listed["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 2, "{listed}");
    assert!(
        devices
            .iter()
            .any(|d| d["device_id"] == bo1_device.as_str() && d["this_device"] == true)
    );

    // One message, both of Bo's devices.
    let sent = ada.ok(
        &["chat", "send", "--to", "bo@engines.example", "hello bo"],
        None,
    );
    let line = sent.stdout.trim();
    assert!(
        line.starts_with("sent ") && line.ends_with(" to 2 devices"),
        "{line}"
    );
    let message_id = line.split_whitespace().nth(1).unwrap();
    for bo in [bo1, bo2] {
        let got = bo.inbox(Some("20s"));
        assert_eq!(texts(&got), ["hello bo"], "{got:?}");
        assert_eq!(got[0]["from"], "ada@engines.example");
        assert_eq!(got[0]["message_id"], message_id);
        assert_eq!(got[0]["sent_by_device"], ada_device.as_str());
        // Read messages were acknowledged: nothing comes twice.
        assert!(bo.inbox(None).is_empty());
    }

    // Bo revokes his second device; the next message reaches only the first.
    bo1.ok(&["identity", "revoke", &bo2_device], None);
    let sent = ada.ok(
        &["chat", "send", "--to", "bo@engines.example", "second"],
        None,
    );
    assert!(
        sent.stdout.trim().ends_with(" to 1 devices"),
        "{}",
        sent.stdout
    );
    assert_eq!(texts(&bo1.inbox(Some("20s"))), ["second"]);
    let refused = bo2.run(&["chat", "inbox", "--json"], None);
    assert!(!refused.status.success());
    assert!(refused.stdout.is_empty(), "{}", refused.stdout);
    assert!(refused.stderr.contains("revoked"), "{}", refused.stderr);

    // Someone in another organisation is not in Ada's directory.
    let outside = ada.run(
        &["chat", "send", "--to", "cy@elsewhere.example", "psst"],
        None,
    );
    assert!(!outside.status.success());
    assert!(
        outside
            .stderr
            .contains("no user cy@elsewhere.example in your organisation"),
        "{}",
        outside.stderr
    );
    assert!(cy.inbox(None).is_empty());

    // A replay: the server (here, Ada posting the very same envelope again,
    // which the server takes once the first copy was acknowledged and
    // deleted) delivers a message Bo already read, in a later run of
    // `confer chat inbox`. It is dropped, said on stderr, and acknowledged.
    ada.ok(
        &["chat", "send", "--to", "bo@engines.example", "only once"],
        None,
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let bo_api = ApiClient::new(&server.api, Some(&pem))
        .unwrap()
        .with_access_token(stored_token(bo1));
    let bo1_id = bo1_device.parse().unwrap();
    let deadline = Instant::now() + COMMAND_TIMEOUT;
    let copy = loop {
        let page = runtime
            .block_on(bo_api.chat_inbox(bo1_id, 0, None))
            .unwrap();
        if let Some(entry) = page.messages.into_iter().next() {
            break entry.envelope().unwrap();
        }
        assert!(Instant::now() < deadline, "the message never arrived");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(texts(&bo1.inbox(None)), ["only once"]);
    runtime
        .block_on(api.send_chat_envelopes(&[copy]))
        .expect("the server takes the copy again once the first was deleted");
    let again = bo1.ok(&["chat", "inbox", "--json"], None);
    assert!(
        again.stdout.trim().is_empty(),
        "shown twice: {}",
        again.stdout
    );
    assert!(
        again
            .stderr
            .contains("dropped 1 message(s) already shown (delivered again)"),
        "{}",
        again.stderr
    );
    assert!(bo1.inbox(None).is_empty(), "the copy was not acknowledged");
}
