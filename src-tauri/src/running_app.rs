//! Finding a Confer that is already running, before this one starts.
//!
//! On Linux a running app owns a D-Bus name (`tauri-plugin-single-instance`,
//! set up in `launch_link::single_instance`), and a second launch hands its
//! arguments (a `confer://join/...` link) to the owner and exits. The plugin
//! treats a hand-over that fails as fatal: a launch in the moment after the
//! user quit Confer found the name still owned by the closing app, which
//! then disconnected without replying (`NoReply`), and the new app failed
//! to start ("failed to forward arguments to the running instance").
//!
//! So the app looks first, before Tauri starts. If the name has an owner it
//! hands the arguments over itself and exits when the owner accepts them.
//! An owner that does not answer is on its way out: the app waits for the
//! name to be let go of, then starts normally and the plugin takes the
//! name. Only an owner that still holds the name without answering after
//! [`Patience::total`] makes the launch fail, with words the user can act
//! on. The plugin's own hand-over is then left to the instant between this
//! look and its setup.
//!
//! The decision ([`next_step`]) is kept apart from the bus, so it is tested
//! without one; [`look_for_running_app`] is the thin shell that asks the
//! bus. The method called is the plugin's own (`org.SingleInstance.DBus`,
//! `ExecuteCallback(argv, cwd)`); the tests check it against a real bus.

use std::time::{Duration, Instant};

/// The plugin's interface on the owner's object.
const INTERFACE: &str = "org.SingleInstance.DBus";
/// The plugin's method that takes a second launch's arguments.
const METHOD: &str = "ExecuteCallback";

/// What the bus said when this launch tried to hand over its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Attempt {
    /// Nobody owns the name: no Confer is running.
    NameFree,
    /// The running app took the arguments.
    Delivered,
    /// The owner is there but did not answer: it is closing (the bus said
    /// it left without replying) or too busy to answer in time.
    Unanswered,
    /// The owner answered with an error: it will not take the arguments.
    Refused(String),
    /// The bus itself failed, so nothing can be known about other apps.
    BusFailed(String),
}

/// What to do after an [`Attempt`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// Start this app: the plugin takes the name (or hands over in the
    /// unlikely case another launch took it in between).
    Start,
    /// The running app has the arguments; this process exits successfully.
    Exit,
    /// Wait [`Patience::retry`] and try again.
    Retry,
    /// Stop with this message for the user.
    Fail(String),
}

/// How long to wait for a closing app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Patience {
    /// How long one hand-over may wait for the owner's answer.
    pub(crate) call: Duration,
    /// The pause before trying again.
    pub(crate) retry: Duration,
    /// How long an owner may hold the name without answering before this
    /// launch gives up.
    pub(crate) total: Duration,
}

impl Patience {
    /// What the app uses. A running app answers in milliseconds; one that
    /// is quitting lets go of its name within a second or two.
    pub(crate) const APP: Self = Self {
        call: Duration::from_secs(5),
        retry: Duration::from_millis(200),
        total: Duration::from_secs(20),
    };
}

/// The next step after `attempt`, `waited` after the first one.
pub(crate) fn next_step(attempt: &Attempt, waited: Duration, patience: Patience) -> Step {
    match attempt {
        Attempt::NameFree => Step::Start,
        Attempt::Delivered => Step::Exit,
        // Without a bus there is no other app to find; the plugin then
        // starts normally too.
        Attempt::BusFailed(_) => Step::Start,
        Attempt::Refused(reason) => Step::Fail(format!(
            "Confer is already running but would not open this launch's link ({reason}). Switch to it, or quit it and start Confer again."
        )),
        Attempt::Unanswered if waited < patience.total => Step::Retry,
        Attempt::Unanswered => Step::Fail(format!(
            "Confer is already running but has not answered for {} s. Quit it (or end it in your task manager) and start Confer again.",
            patience.total.as_secs()
        )),
    }
}

/// The errors, as the bus names them, that mean the owner is leaving or
/// gone rather than refusing.
fn means_owner_gone(error_name: &str) -> bool {
    matches!(
        error_name,
        "org.freedesktop.DBus.Error.NoReply"
            | "org.freedesktop.DBus.Error.Disconnected"
            | "org.freedesktop.DBus.Error.Timeout"
            | "org.freedesktop.DBus.Error.TimedOut"
    )
}

/// The errors that mean nobody owns the name (any more).
fn means_name_free(error_name: &str) -> bool {
    matches!(
        error_name,
        "org.freedesktop.DBus.Error.ServiceUnknown" | "org.freedesktop.DBus.Error.NameHasNoOwner"
    )
}

/// The object path the plugin serves for `name`.
pub(crate) fn object_path(name: &str) -> String {
    format!("/{}", name.replace('.', "/").replace('-', "_"))
}

/// Reads the answer to one hand-over.
fn read_answer(answer: zbus::Result<zbus::Message>) -> Attempt {
    match answer {
        Ok(_) => Attempt::Delivered,
        Err(zbus::Error::MethodError(name, description, _)) => {
            if means_name_free(name.as_str()) {
                Attempt::NameFree
            } else if means_owner_gone(name.as_str()) {
                Attempt::Unanswered
            } else {
                Attempt::Refused(description.unwrap_or_else(|| name.to_string()))
            }
        }
        Err(zbus::Error::InputOutput(e)) if e.kind() == std::io::ErrorKind::TimedOut => {
            Attempt::Unanswered
        }
        Err(e) => Attempt::BusFailed(e.to_string()),
    }
}

/// One look: is the name owned, and if so, does its owner take `argv`?
fn attempt(bus: &zbus::blocking::Connection, name: &str, argv: &[String], cwd: &str) -> Attempt {
    let owned = zbus::blocking::fdo::DBusProxy::new(bus).and_then(|proxy| {
        let bus_name = zbus::names::BusName::try_from(name)?;
        Ok(proxy.name_has_owner(bus_name)?)
    });
    match owned {
        Ok(false) => return Attempt::NameFree,
        Ok(true) => {}
        Err(e) => return Attempt::BusFailed(e.to_string()),
    }
    read_answer(bus.call_method(
        Some(name),
        object_path(name).as_str(),
        Some(INTERFACE),
        METHOD,
        &(argv, cwd),
    ))
}

/// Looks for a running app owning `name` on `bus` (built with
/// `patience.call` as its method timeout) and hands it `argv` and `cwd`;
/// returns [`Step::Start`], [`Step::Exit`] or [`Step::Fail`].
pub(crate) fn look_for_running_app(
    bus: &zbus::blocking::Connection,
    name: &str,
    argv: &[String],
    cwd: &str,
    patience: Patience,
) -> Step {
    let started = Instant::now();
    loop {
        let attempt = attempt(bus, name, argv, cwd);
        match next_step(&attempt, started.elapsed(), patience) {
            Step::Retry => std::thread::sleep(patience.retry),
            step => return step,
        }
    }
}

/// Connects to the session bus with `patience.call` as its method
/// timeout; `None` when there is no session bus (then there is no other
/// app to find, and the plugin starts normally too).
pub(crate) fn session_bus(patience: Patience) -> Option<zbus::blocking::Connection> {
    zbus::blocking::connection::Builder::session()
        .ok()?
        .method_timeout(patience.call)
        .build()
        .ok()
}

#[cfg(test)]
mod tests;
