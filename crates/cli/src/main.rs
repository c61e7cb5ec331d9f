//! `confer`: the Confer command-line meeting client.
//!
//! A thin front end over `confer-client` for people, bots, scripts and
//! tests: create an account, log in (the session is stored in
//! `session.json`, mode 0600, in the config directory), create meetings,
//! and join one for a while, optionally streaming synthetic media, sending
//! chat and writing statistics as JSON (`--stats`, a contract described in
//! `stats.rs`).
//!
//! Modules: `args` (the command line), `config` (the stored session and
//! which server, CA and token a command uses), `commands` (one per
//! command), `events` (printing session events), `stats` (the report),
//! `duration` (parsing `5s`, `1m`...).

mod args;
mod commands;
mod config;
mod duration;
mod events;
mod script;
mod script_runner;
mod stats;

use std::process::ExitCode;

use clap::Parser;

use args::{AccountCommand, Cli, Command, MeetingCommand};

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(dispatch(&cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(cli: &Cli) -> anyhow::Result<ExitCode> {
    // Without a config directory there is simply no stored login.
    let stored = match config::config_dir(cli) {
        Ok(dir) => config::load(&dir)?,
        Err(_) => None,
    };
    let target = config::Target::resolve(cli, stored.as_ref());
    match &cli.command {
        Command::Account {
            command: AccountCommand::Create(args),
        } => commands::account::create(cli, &target, args).await,
        Command::Login(args) => commands::login::login(cli, &target, args).await,
        Command::Meeting {
            command: MeetingCommand::Create(args),
        } => commands::meeting::create(cli, &target, args).await,
        Command::Meeting {
            command: MeetingCommand::Show { meeting },
        } => commands::meeting::show(cli, &target, *meeting).await,
        Command::Join(args) => commands::join::join(cli, &target, args).await,
        Command::Devices => commands::devices::devices(cli),
        Command::Identity { command } => commands::identity::run(cli, &target, command).await,
        Command::Chat { command } => {
            let own_email = stored.as_ref().and_then(|s| s.email.as_deref());
            commands::chat::run(cli, &target, own_email, command).await
        }
    }
}
