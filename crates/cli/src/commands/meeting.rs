//! `confer meeting create` (`--e2e` for an end-to-end encrypted meeting)
//! and `confer meeting show`.

use std::process::ExitCode;

use confer_client::api::{Meeting, NewMeeting};
use confer_wire::ids::MeetingId;

use crate::args::{Cli, MeetingCreateArgs};
use crate::config::Target;

use super::print_json;

/// Creates a meeting and prints its id (alone on stdout, for scripts).
pub(crate) async fn create(
    cli: &Cli,
    target: &Target,
    args: &MeetingCreateArgs,
) -> anyhow::Result<ExitCode> {
    target.require_login()?;
    let meeting = target
        .api()?
        .create_meeting(&NewMeeting {
            topic: args.topic.clone(),
            passcode: args.passcode.clone(),
            // Only sent when asked for, so the server's default stays the
            // default otherwise.
            e2e: args.e2e.then_some(true),
        })
        .await?;
    if cli.json {
        print_json(&meeting_json(&meeting));
    } else {
        println!("{}", meeting.meeting_id);
    }
    Ok(ExitCode::SUCCESS)
}

/// Shows a meeting.
pub(crate) async fn show(cli: &Cli, target: &Target, id: u64) -> anyhow::Result<ExitCode> {
    target.require_login()?;
    let meeting = target.api()?.get_meeting(MeetingId(id)).await?;
    if cli.json {
        print_json(&meeting_json(&meeting));
    } else {
        println!("meeting {}", meeting.meeting_id);
        if let Some(topic) = &meeting.topic {
            println!("topic: {topic}");
        }
        println!(
            "passcode: {}",
            if meeting.has_passcode { "yes" } else { "no" }
        );
        println!(
            "encryption: {}",
            if meeting.e2e { "e2e" } else { "standard" }
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn meeting_json(meeting: &Meeting) -> serde_json::Value {
    serde_json::json!({
        "meeting_id": meeting.meeting_id.0,
        "topic": meeting.topic,
        "has_passcode": meeting.has_passcode,
        "host_user_id": meeting.host_user_id,
        "e2e": meeting.e2e,
    })
}
