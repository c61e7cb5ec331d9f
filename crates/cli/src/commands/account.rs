//! `confer account create`.

use std::process::ExitCode;

use confer_client::api::NewAccount;

use crate::args::{AccountCreateArgs, Cli};
use crate::config::Target;

use super::{print_json, read_password_stdin};

/// Creates an account; prints it (never the password).
pub(crate) async fn create(
    cli: &Cli,
    target: &Target,
    args: &AccountCreateArgs,
) -> anyhow::Result<ExitCode> {
    let password = read_password_stdin()?;
    let api = target.api()?;
    let account = api
        .create_account(&NewAccount {
            email: args.email.clone(),
            display_name: args.name.clone(),
            password,
        })
        .await?;
    if cli.json {
        print_json(&serde_json::to_value(&account)?);
    } else {
        println!(
            "created account {} ({})",
            account.email, account.display_name
        );
    }
    Ok(ExitCode::SUCCESS)
}
