//! Joining a meeting and everything done inside one: chat, self controls,
//! host controls, leaving. The session runs in a task of its own; what
//! happens in it reaches the UI as `meeting` events.

use confer_client::api::JoinTokenRequest;
use confer_client::driver::{self, Command, ConnectOptions, MediaSetup};
use confer_client::media::{ChannelSink, MediaConfig, MediaEngine};
use confer_client::session::{Session, SessionConfig};
use confer_wire::control::ClientMessage;
use confer_wire::host::{HostAction, ShareState};
use confer_wire::ids::{MeetingId, ParticipantId};
use tauri::ipc::Channel;
use tauri::{AppHandle, Emitter, Runtime, State};
use tokio::sync::mpsc;

use crate::error::Error;
use crate::meeting_events::Translator;
use crate::meeting_link::{MeetingRef, parse_meeting_ref};
use crate::models::{
    ChatRequest, Encryption, HostControl, JoinRequest, MEETING_EVENT, MeetingUpdate, SelfControl,
};
use crate::state::{AppState, MeetingHandle};

/// Longest chat message, in bytes (the protocol's limit).
const MAX_CHAT_BYTES: usize = confer_wire::control::MAX_CHAT_LEN;

/// Joins a meeting by id or invitation link. Returns once connected to the
/// router; admission, the roster and everything after arrive as events, and
/// decoded camera pictures as raw bytes on `video` (see `video.rs`).
#[tauri::command]
pub(crate) async fn join_meeting<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    request: JoinRequest,
    video: Channel,
) -> Result<(), Error> {
    let mut slot = state.meeting.lock().await;
    if slot.as_ref().is_some_and(|h| !h.commands.is_closed()) {
        return Err(Error::AlreadyInMeeting);
    }
    let meeting_id = match parse_meeting_ref(&request.meeting)? {
        MeetingRef::Id(id) => id,
        MeetingRef::Invitation(code) => state.web_with("")?.invitation(&code).await?,
    };
    let api = state.api().await?;
    let display_name = request
        .display_name
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    if !api.is_logged_in() && display_name.is_none() {
        return Err(Error::InvalidInput(
            "enter the name others will see, or sign in".into(),
        ));
    }
    let ca_pem = state.settings.ca_pem()?.ok_or_else(|| {
        Error::Settings("no CA certificate configured (set CONFER_CA_FILE)".into())
    })?;
    let ticket = api
        .join_token(
            MeetingId(meeting_id),
            &JoinTokenRequest {
                display_name,
                passcode: request.passcode.filter(|p| !p.is_empty()),
            },
        )
        .await?;
    // Only the host's organisation can read the meeting's settings; anyone
    // else is told what the connection itself guarantees.
    let encryption = match state.web().await {
        Ok(web) => match web.get(meeting_id).await {
            Ok(m) if m.e2e => Encryption::EndToEnd,
            _ => Encryption::Transport,
        },
        Err(_) => Encryption::Transport,
    };
    let connection = driver::connect(&ticket.router, &ConnectOptions::new(ca_pem)).await?;
    let _ = app.emit(
        MEETING_EVENT,
        MeetingUpdate::Connected {
            transport: connection.transport().as_str().into(),
        },
    );
    let config = SessionConfig::new(MeetingId(meeting_id), ticket.token);
    let session = Session::new(config, tokio::time::Instant::now().into_std());
    let (commands, command_rx) = mpsc::channel(64);
    let (event_tx, mut events) = mpsc::unbounded_channel();
    // Receive-only media for now: no capture sources, decoded pictures to
    // the UI. The sink drops pictures when the forwarder falls behind.
    let (media_tx, media_rx) = mpsc::channel(crate::video::QUEUE);
    let media = MediaSetup {
        engine: MediaEngine::new(MediaConfig::default()),
        sources: Vec::new(),
        sink: Some(Box::new(ChannelSink(media_tx))),
    };
    tauri::async_runtime::spawn(driver::run_with_media(
        connection, session, command_rx, event_tx, media,
    ));
    tauri::async_runtime::spawn(crate::video::forward(media_rx, video));
    tauri::async_runtime::spawn(async move {
        let mut translator = Translator::new(encryption);
        while let Some(event) = events.recv().await {
            for update in translator.handle_event(event) {
                let _ = app.emit(MEETING_EVENT, update);
            }
        }
    });
    *slot = Some(MeetingHandle { commands });
    Ok(())
}

async fn send(state: &AppState, command: Command) -> Result<(), Error> {
    state
        .meeting_commands()
        .await?
        .send(command)
        .await
        .map_err(|_| Error::NotInMeeting)
}

/// Sends a chat message to everyone, or privately to one participant.
#[tauri::command]
pub(crate) async fn send_chat(
    state: State<'_, AppState>,
    request: ChatRequest,
) -> Result<(), Error> {
    let text = request.text.trim();
    if text.is_empty() {
        return Err(Error::InvalidInput("type a message first".into()));
    }
    if text.len() > MAX_CHAT_BYTES {
        return Err(Error::InvalidInput(format!(
            "a message can be at most {MAX_CHAT_BYTES} bytes"
        )));
    }
    let command = Command::Chat {
        to: request.to.map(ParticipantId),
        text: text.to_owned(),
    };
    send(&state, command).await
}

/// Mutes, turns video on or off, raises a hand or shares, for ourselves.
#[tauri::command]
pub(crate) async fn self_control(
    state: State<'_, AppState>,
    control: SelfControl,
) -> Result<(), Error> {
    send(&state, Command::Request(self_message(control))).await
}

/// The request for a self control.
pub(crate) fn self_message(control: SelfControl) -> ClientMessage {
    match control {
        SelfControl::Mute { muted } => ClientMessage::SetAudio { muted },
        SelfControl::Video { on } => ClientMessage::SetVideo { on },
        SelfControl::Hand { raised } => ClientMessage::SetHand { raised },
        SelfControl::Share { on } => ClientMessage::SetShare {
            state: if on { ShareState::On } else { ShareState::Off },
        },
    }
}

/// Asks the router for a host control; it refuses unless our role allows.
#[tauri::command]
pub(crate) async fn host_control(
    state: State<'_, AppState>,
    control: HostControl,
) -> Result<(), Error> {
    let action = host_action(control);
    send(&state, Command::Request(ClientMessage::Host(action))).await
}

/// The wire action for a host control.
pub(crate) fn host_action(control: HostControl) -> HostAction {
    let id = |p: u32| ParticipantId(p);
    match control {
        HostControl::Mute { participant } => HostAction::Mute {
            participant_id: participant.map(id),
        },
        HostControl::AskUnmute { participant } => HostAction::AskUnmute {
            participant_id: id(participant),
        },
        HostControl::StopVideo { participant } => HostAction::StopVideo {
            participant_id: Some(id(participant)),
        },
        HostControl::Expel { participant } => HostAction::Expel {
            participant_id: Some(id(participant)),
        },
        HostControl::Lock { locked } => HostAction::Lock { locked },
        HostControl::Admit { participant } => HostAction::Admit {
            participant_id: participant.map(id),
        },
        HostControl::Deny { participant } => HostAction::Deny {
            participant_id: id(participant),
        },
        HostControl::End => HostAction::End,
    }
}

/// Leaves the meeting (the `ended` event follows).
#[tauri::command]
pub(crate) async fn leave_meeting(state: State<'_, AppState>) -> Result<(), Error> {
    send(&state, Command::Leave).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mute_everyone_leaves_the_participant_out() {
        let json = serde_json::to_value(ClientMessage::Host(host_action(HostControl::Mute {
            participant: None,
        })))
        .unwrap();
        assert_eq!(json, serde_json::json!({"type": "host", "action": "mute"}));
    }

    #[test]
    fn controls_decode_from_the_ui_shape() {
        let c: HostControl =
            serde_json::from_value(serde_json::json!({"action": "expel", "participant": 3}))
                .unwrap();
        assert_eq!(
            host_action(c),
            HostAction::Expel {
                participant_id: Some(ParticipantId(3))
            }
        );
        let s: SelfControl =
            serde_json::from_value(serde_json::json!({"action": "hand", "raised": true})).unwrap();
        assert_eq!(self_message(s), ClientMessage::SetHand { raised: true });
    }
}
