//! One module per command; each takes the parsed arguments and returns the
//! process exit code.

pub(crate) mod account;
pub(crate) mod chat;
mod chat_seen;
pub(crate) mod devices;
pub(crate) mod identity;
pub(crate) mod join;
pub(crate) mod login;
pub(crate) mod login_sso;
pub(crate) mod meeting;

use std::io::BufRead;

use anyhow::{Context as _, bail};

/// Reads a password from the first line of standard input.
pub(crate) fn read_password_stdin() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        bail!("no password on standard input");
    }
    Ok(password)
}

/// Prints one JSON value on stdout.
pub(crate) fn print_json(value: &serde_json::Value) {
    println!("{value}");
}
