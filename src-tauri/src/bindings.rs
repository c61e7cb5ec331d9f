//! Generates `ui/src/bindings.ts`, the TypeScript side of the IPC contract,
//! from the Rust types in `models.rs`, `error.rs` and `commands/app.rs`
//! (with `ts-rs`), plus a `Commands` table naming each command's arguments
//! and result.
//!
//! The test `bindings_are_up_to_date` fails when the checked-in file differs
//! from what the types generate; run it with `UPDATE_BINDINGS=1` to rewrite
//! the file. Test-only: the app binary carries none of this.
//!
//! `ts-rs` rather than `tauri-specta`: the latter is still a release
//! candidate (2.0.0-rc.26) pinned to an exact `specta` pre-release, and
//! would need tauri's `specta` feature; `ts-rs` is stable and only a
//! dev-dependency.

use ts_rs::{Config, TS};

use crate::commands::app::AppInfo;
use crate::error::{ErrorKind, Wire};
use crate::launch_link::LaunchLink;
use crate::models::{
    AppSettings, AudioLevel, AuthState, ChatRequest, ConnectionQuality, DeviceChoice,
    EditMeetingRequest, Encryption, EndKind, HostControl, JoinRequest, MediaDevices,
    MeetingSettings, MeetingUpdate, Participant, ParticipantRole, PreviewLevel, ScheduledMeeting,
    SelfControl, ShareKind, ShareSource, SignInRequest, SsoSignInStarted, VideoQuality,
    WaitingPerson,
};
use crate::rendering::Compositing;

/// The file's first lines.
const HEADER: &str = "/**
 * The desktop shell's IPC contract, generated from the Rust types in
 * `src-tauri/src` by `cargo test -p confer-desktop bindings` with
 * UPDATE_BINDINGS=1. Do not edit by hand: the test fails when this file
 * differs from what the Rust types generate.
 */

import type { Channel } from \"@tauri-apps/api/core\";
";

/// The TypeScript for every type and the command table.
pub(crate) fn generate() -> String {
    let cfg = Config::new().with_large_int("number");
    let decls = [
        AppInfo::decl(&cfg),
        Compositing::decl(&cfg),
        ErrorKind::decl(&cfg),
        Wire::decl(&cfg),
        AuthState::decl(&cfg),
        SignInRequest::decl(&cfg),
        SsoSignInStarted::decl(&cfg),
        MeetingSettings::decl(&cfg),
        EditMeetingRequest::decl(&cfg),
        ScheduledMeeting::decl(&cfg),
        JoinRequest::decl(&cfg),
        ParticipantRole::decl(&cfg),
        Participant::decl(&cfg),
        WaitingPerson::decl(&cfg),
        Encryption::decl(&cfg),
        EndKind::decl(&cfg),
        ConnectionQuality::decl(&cfg),
        AudioLevel::decl(&cfg),
        MeetingUpdate::decl(&cfg),
        ChatRequest::decl(&cfg),
        SelfControl::decl(&cfg),
        HostControl::decl(&cfg),
        DeviceChoice::decl(&cfg),
        MediaDevices::decl(&cfg),
        VideoQuality::decl(&cfg),
        AppSettings::decl(&cfg),
        ShareKind::decl(&cfg),
        ShareSource::decl(&cfg),
        PreviewLevel::decl(&cfg),
        LaunchLink::decl(&cfg),
    ];
    let n = |name: String| name;
    // Command name, its arguments (as `invoke` takes them), its result.
    let commands: Vec<(&str, String, String)> = vec![
        (
            "app_info",
            "Record<string, never>".into(),
            n(AppInfo::name(&cfg)),
        ),
        (
            "take_launch_link",
            "Record<string, never>".into(),
            format!("{} | null", LaunchLink::name(&cfg)),
        ),
        (
            "auth_state",
            "Record<string, never>".into(),
            AuthState::name(&cfg),
        ),
        (
            "sign_in",
            format!("{{ request: {} }}", SignInRequest::name(&cfg)),
            AuthState::name(&cfg),
        ),
        (
            "start_sign_in_sso",
            "{ slug: string }".into(),
            SsoSignInStarted::name(&cfg),
        ),
        (
            "finish_sign_in_sso",
            "Record<string, never>".into(),
            AuthState::name(&cfg),
        ),
        (
            "cancel_sign_in_sso",
            "Record<string, never>".into(),
            "null".into(),
        ),
        (
            "sign_out",
            "Record<string, never>".into(),
            AuthState::name(&cfg),
        ),
        (
            "list_meetings",
            "Record<string, never>".into(),
            format!("Array<{}>", ScheduledMeeting::name(&cfg)),
        ),
        (
            "schedule_meeting",
            format!("{{ settings: {} }}", MeetingSettings::name(&cfg)),
            ScheduledMeeting::name(&cfg),
        ),
        (
            "edit_meeting",
            format!("{{ request: {} }}", EditMeetingRequest::name(&cfg)),
            ScheduledMeeting::name(&cfg),
        ),
        (
            "delete_meeting",
            "{ meetingId: number }".into(),
            "null".into(),
        ),
        (
            "join_meeting",
            format!(
                "{{ request: {}; video: Channel<ArrayBuffer> }}",
                JoinRequest::name(&cfg)
            ),
            "null".into(),
        ),
        (
            "send_chat",
            format!("{{ request: {} }}", ChatRequest::name(&cfg)),
            "null".into(),
        ),
        (
            "self_control",
            format!("{{ control: {} }}", SelfControl::name(&cfg)),
            "null".into(),
        ),
        (
            "host_control",
            format!("{{ control: {} }}", HostControl::name(&cfg)),
            "null".into(),
        ),
        (
            "leave_meeting",
            "Record<string, never>".into(),
            "null".into(),
        ),
        (
            "media_devices",
            "Record<string, never>".into(),
            MediaDevices::name(&cfg),
        ),
        (
            "get_settings",
            "Record<string, never>".into(),
            AppSettings::name(&cfg),
        ),
        (
            "save_settings",
            format!("{{ settings: {} }}", AppSettings::name(&cfg)),
            AppSettings::name(&cfg),
        ),
        (
            "start_preview",
            "{ camera: string | null; microphone: string | null; video: Channel<ArrayBuffer> }"
                .into(),
            "null".into(),
        ),
        (
            "stop_preview",
            "Record<string, never>".into(),
            "null".into(),
        ),
        (
            "test_speaker",
            "{ speaker: string | null }".into(),
            "null".into(),
        ),
        (
            "share_sources",
            "Record<string, never>".into(),
            format!("Array<{}>", ShareSource::name(&cfg)),
        ),
        ("start_share", "{ sourceId: string }".into(), "null".into()),
        ("stop_share", "Record<string, never>".into(), "null".into()),
        ("react", "{ emoji: string }".into(), "null".into()),
        (
            "request_keyframe",
            "{ participant: number; screen: boolean }".into(),
            "null".into(),
        ),
        (
            "set_video_layer",
            "{ participant: number; layer: \"low\" | \"medium\" | \"high\" }".into(),
            "null".into(),
        ),
    ];
    let mut out = String::from(HEADER);
    for decl in decls {
        out.push('\n');
        out.push_str("export ");
        out.push_str(&decl);
        out.push('\n');
    }
    out.push_str(&format!(
        "\n/** The Tauri event every `MeetingUpdate` arrives under. */\nexport const MEETING_EVENT = {:?};\n",
        crate::models::MEETING_EVENT
    ));
    out.push_str(&format!(
        "\n/** The Tauri event the preview's `PreviewLevel` arrives under. */\nexport const PREVIEW_LEVEL_EVENT = {:?};\n",
        crate::models::PREVIEW_LEVEL_EVENT
    ));
    out.push_str(&format!(
        "\n/** The Tauri event that says a `LaunchLink` waits in `take_launch_link`. */\nexport const LAUNCH_LINK_EVENT = {:?};\n",
        crate::launch_link::LAUNCH_LINK_EVENT
    ));
    out.push_str("\n/** Every command: its `invoke` arguments and what it resolves to. */\nexport interface Commands {\n");
    for (name, args, result) in commands {
        out.push_str(&format!(
            "  {name}: {{ args: {args}; result: {result} }};\n"
        ));
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bindings_are_up_to_date() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/ui/src/bindings.ts");
        let want = generate();
        if std::env::var_os("UPDATE_BINDINGS").is_some() {
            std::fs::write(path, &want).unwrap();
            return;
        }
        let have = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            have == want,
            "ui/src/bindings.ts is stale: run `UPDATE_BINDINGS=1 cargo test -p confer-desktop bindings`"
        );
    }
}
