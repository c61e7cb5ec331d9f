//! The decision without a bus, then the shell against a real, private
//! `dbus-daemon` with a stand-in for a running app: a connection that owns
//! the name and serves the single-instance plugin's method (the same
//! interface and method names; `desktop_deep_link` hands a link to the
//! real plugin in the real app).

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::*;

const NAME: &str = "dev.confer.desktop.s0123456789abcdef.SingleInstance";

fn quick() -> Patience {
    Patience {
        call: Duration::from_millis(300),
        retry: Duration::from_millis(50),
        total: Duration::from_secs(20),
    }
}

#[test]
fn the_decision() {
    let p = Patience::APP;
    let early = Duration::from_secs(1);
    let late = p.total + Duration::from_millis(1);
    assert_eq!(next_step(&Attempt::NameFree, late, p), Step::Start);
    assert_eq!(next_step(&Attempt::Delivered, early, p), Step::Exit);
    assert_eq!(
        next_step(&Attempt::BusFailed("no bus".into()), early, p),
        Step::Start
    );
    assert_eq!(next_step(&Attempt::Unanswered, early, p), Step::Retry);
    let Step::Fail(gave_up) = next_step(&Attempt::Unanswered, late, p) else {
        panic!("an owner that never answers must end the wait");
    };
    assert!(gave_up.contains("has not answered for 20 s"), "{gave_up}");
    let Step::Fail(refused) = next_step(&Attempt::Refused("not now".into()), early, p) else {
        panic!("a refusal is final");
    };
    assert!(refused.contains("(not now)"), "{refused}");
}

#[test]
fn the_plugins_object_path() {
    assert_eq!(
        object_path("dev.confer.desktop.s00ff.SingleInstance"),
        "/dev/confer/desktop/s00ff/SingleInstance"
    );
    assert_eq!(object_path("a-b.c"), "/a_b/c");
}

#[test]
fn reads_the_buses_errors() {
    let error = |name: &str| {
        let call = zbus::Message::method_call("/", "Ping")
            .and_then(|b| b.build(&()))
            .unwrap();
        Err(zbus::Error::MethodError(
            zbus::names::OwnedErrorName::try_from(name).unwrap(),
            Some("words".into()),
            call,
        ))
    };
    assert_eq!(
        read_answer(error("org.freedesktop.DBus.Error.NoReply")),
        Attempt::Unanswered
    );
    assert_eq!(
        read_answer(error("org.freedesktop.DBus.Error.ServiceUnknown")),
        Attempt::NameFree
    );
    assert_eq!(
        read_answer(error("org.freedesktop.DBus.Error.AccessDenied")),
        Attempt::Refused("words".into())
    );
    let timed_out = std::io::Error::from(std::io::ErrorKind::TimedOut);
    assert_eq!(
        read_answer(Err(zbus::Error::InputOutput(Arc::new(timed_out)))),
        Attempt::Unanswered
    );
    assert!(matches!(
        read_answer(Err(zbus::Error::Failure("socket".into()))),
        Attempt::BusFailed(_)
    ));
}

/// A private bus for one test, stopped when dropped.
struct PrivateBus {
    daemon: Child,
    address: String,
}

impl PrivateBus {
    /// `None` (the test skips) when `dbus-daemon` is not installed, unless
    /// `CONFER_REQUIRE_DBUS=1` (CI) says it must be.
    fn start() -> Option<Self> {
        let spawned = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn();
        let mut daemon = match spawned {
            Ok(daemon) => daemon,
            Err(e) if std::env::var_os("CONFER_REQUIRE_DBUS").is_some_and(|v| v == "1") => {
                panic!("CONFER_REQUIRE_DBUS=1 but dbus-daemon did not start: {e}")
            }
            Err(e) => {
                eprintln!("SKIPPED running_app bus test: no dbus-daemon ({e})");
                return None;
            }
        };
        let mut line = String::new();
        let stdout = daemon.stdout.take().expect("piped stdout");
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)
            .expect("reading the bus address");
        Some(Self {
            daemon,
            address: line.trim().to_owned(),
        })
    }

    fn connect(&self, patience: Patience) -> zbus::blocking::Connection {
        zbus::blocking::connection::Builder::address(self.address.as_str())
            .unwrap()
            .method_timeout(patience.call)
            .build()
            .unwrap()
    }
}

impl Drop for PrivateBus {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

/// How the stand-in app answers a hand-over.
#[derive(Clone, Copy)]
enum Answer {
    Accept,
    Refuse,
    /// Never: a closing or stuck app.
    Never,
}

/// Every hand-over a stand-in received: arguments and working directory.
type Received = Arc<Mutex<Vec<(Vec<String>, String)>>>;

/// The stand-in for a running app: what the plugin serves, recording
/// every hand-over.
struct StandIn {
    answer: Answer,
    received: Received,
}

#[zbus::interface(name = "org.SingleInstance.DBus")]
impl StandIn {
    async fn execute_callback(&self, argv: Vec<String>, cwd: String) -> zbus::fdo::Result<()> {
        self.received.lock().unwrap().push((argv, cwd));
        match self.answer {
            Answer::Accept => Ok(()),
            Answer::Refuse => Err(zbus::fdo::Error::AccessDenied("not now".into())),
            Answer::Never => std::future::pending().await,
        }
    }
}

/// Starts a stand-in owning [`NAME`] on `bus`.
fn stand_in(bus: &PrivateBus, answer: Answer) -> (zbus::blocking::Connection, Received) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let owner = zbus::blocking::connection::Builder::address(bus.address.as_str())
        .unwrap()
        .name(NAME)
        .unwrap()
        .serve_at(
            object_path(NAME).as_str(),
            StandIn {
                answer,
                received: received.clone(),
            },
        )
        .unwrap()
        .build()
        .unwrap();
    (owner, received)
}

fn argv() -> Vec<String> {
    vec!["confer-desktop".into(), "confer://join/4821937650".into()]
}

#[test]
fn starts_when_no_app_runs() {
    let Some(bus) = PrivateBus::start() else {
        return;
    };
    let me = bus.connect(quick());
    assert_eq!(
        look_for_running_app(&me, NAME, &argv(), "/home/a", quick()),
        Step::Start
    );
}

#[test]
fn hands_the_link_to_a_running_app_and_exits() {
    let Some(bus) = PrivateBus::start() else {
        return;
    };
    let (_owner, received) = stand_in(&bus, Answer::Accept);
    let me = bus.connect(quick());
    assert_eq!(
        look_for_running_app(&me, NAME, &argv(), "/home/a", quick()),
        Step::Exit
    );
    assert_eq!(
        *received.lock().unwrap(),
        vec![(argv(), "/home/a".to_owned())]
    );
}

/// The race users met: the app was quitting, held its name a moment
/// longer and left without answering. The launch waits and then starts.
#[test]
fn waits_for_a_closing_app_then_starts() {
    let Some(bus) = PrivateBus::start() else {
        return;
    };
    let (owner, received) = stand_in(&bus, Answer::Never);
    let quitting = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(1));
        // Gone without a word: the bus tells the caller NoReply, and the
        // name is free.
        owner.close().unwrap();
    });
    let me = bus.connect(Patience {
        call: Duration::from_secs(10),
        ..quick()
    });
    assert_eq!(
        look_for_running_app(&me, NAME, &argv(), "/home/a", quick()),
        Step::Start
    );
    quitting.join().unwrap();
    assert!(
        !received.lock().unwrap().is_empty(),
        "the launch tried the closing app first"
    );
}

/// Same, when the closing app lets go of its name but its answers time out.
#[test]
fn waits_past_unanswered_calls_until_the_name_is_free() {
    let Some(bus) = PrivateBus::start() else {
        return;
    };
    let (owner, received) = stand_in(&bus, Answer::Never);
    let quitting = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(1));
        owner.release_name(NAME).unwrap();
        owner
    });
    let me = bus.connect(quick());
    assert_eq!(
        look_for_running_app(&me, NAME, &argv(), "/home/a", quick()),
        Step::Start
    );
    drop(quitting.join().unwrap());
    assert!(received.lock().unwrap().len() >= 2, "it tried again");
}

#[test]
fn gives_up_on_an_app_that_never_answers() {
    let Some(bus) = PrivateBus::start() else {
        return;
    };
    let (_owner, _) = stand_in(&bus, Answer::Never);
    let patience = Patience {
        total: Duration::from_secs(1),
        ..quick()
    };
    let me = bus.connect(patience);
    let Step::Fail(message) = look_for_running_app(&me, NAME, &argv(), "/home/a", patience) else {
        panic!("a stuck app must end the launch");
    };
    assert!(
        message.contains("Confer is already running but has not answered"),
        "{message}"
    );
}

#[test]
fn says_so_when_the_running_app_refuses() {
    let Some(bus) = PrivateBus::start() else {
        return;
    };
    let (_owner, _) = stand_in(&bus, Answer::Refuse);
    let me = bus.connect(quick());
    let Step::Fail(message) = look_for_running_app(&me, NAME, &argv(), "/home/a", quick()) else {
        panic!("a refusal must end the launch");
    };
    assert!(
        message.contains("would not open this launch's link (not now)"),
        "{message}"
    );
}
