//! What participants do to themselves: mute, video, hand, screen share,
//! local recording and rename, each allowed or refused by the meeting's
//! settings (hosts and co-hosts are never restricted). A change is
//! announced to everyone as `participant_updated`; pausing and resuming a
//! screen share is also an `event`, so others can show why the share froze.

use confer_wire::control::{ClientMessage, ErrorCode};
use confer_wire::host::{MeetingEvent, SharePolicy, ShareState};
use confer_wire::ids::{MeetingId, ParticipantId};

use super::Router;
use super::host_controls::check_name;
use crate::core::output::ConnectionId;

impl Router {
    /// One of the self-control messages from `who` on `conn`.
    pub(super) fn self_control(
        &mut self,
        conn: ConnectionId,
        meeting_id: MeetingId,
        who: ParticipantId,
        message: ClientMessage,
    ) {
        let Some(meeting) = self.meetings.get_mut(&meeting_id) else {
            return;
        };
        let settings = meeting.settings.clone();
        let Some(p) = meeting.get_mut(who) else {
            return;
        };
        let free = p.entry.role.is_host_like();
        let entry = &mut p.entry;
        let mut event = None;
        let refusal: Option<(ErrorCode, String)> = match message {
            ClientMessage::SetAudio { muted } => {
                if !muted && entry.muted && !free && !settings.unmute_self {
                    Some(not_allowed("a host does not allow unmuting yourself"))
                } else {
                    entry.muted = muted;
                    None
                }
            }
            ClientMessage::SetVideo { on } => {
                if on && !entry.video && !free && !settings.start_video {
                    Some(not_allowed("a host does not allow starting your video"))
                } else {
                    entry.video = on;
                    None
                }
            }
            ClientMessage::SetHand { raised } => {
                entry.hand_raised = raised;
                None
            }
            ClientMessage::SetShare { state } => match (entry.sharing, state) {
                (ShareState::Off, ShareState::On)
                    if !free && settings.share == SharePolicy::HostOnly =>
                {
                    Some(not_allowed("only hosts may share their screen"))
                }
                (ShareState::Off, ShareState::Paused) => {
                    Some(not_allowed("you are not sharing your screen"))
                }
                (ShareState::On, ShareState::Paused) => {
                    entry.sharing = state;
                    event = Some(MeetingEvent::SharePaused {
                        participant_id: who,
                    });
                    None
                }
                (ShareState::Paused, ShareState::On) => {
                    entry.sharing = state;
                    event = Some(MeetingEvent::ShareResumed {
                        participant_id: who,
                    });
                    None
                }
                _ => {
                    entry.sharing = state;
                    None
                }
            },
            ClientMessage::SetRecording { on } => {
                if on && !free && !p.may_record {
                    Some(not_allowed("a host has not allowed you to record"))
                } else {
                    p.entry.recording = on;
                    None
                }
            }
            ClientMessage::Rename { name } => {
                if !free && !settings.rename_self {
                    Some(not_allowed("a host does not allow renaming yourself"))
                } else if let Err(e) = check_name(&name) {
                    Some(e)
                } else {
                    p.entry.name = name;
                    None
                }
            }
            _ => None,
        };
        if let Some((code, message)) = refusal {
            if code == ErrorCode::NotAllowed {
                self.stats.host_actions_refused += 1;
            }
            return self.reject(conn, code, message);
        }
        self.announce_updates(meeting_id, &[who]);
        if let Some(event) = event {
            self.announce_event(meeting_id, Some(who), event);
        }
    }
}

/// A `not_allowed` refusal.
fn not_allowed(why: &str) -> (ErrorCode, String) {
    (ErrorCode::NotAllowed, why.to_owned())
}
