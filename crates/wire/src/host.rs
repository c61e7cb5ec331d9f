//! Host controls and meeting events: what a host or co-host may ask the
//! router to do, and what the router announces when something changes.
//!
//! The router decides every one of these from the role in the participant's
//! verified join token (and from roles the router itself later handed out);
//! a client only asks, then mirrors what the router announces. A refused
//! action is answered with [`crate::control::ErrorCode::NotAllowed`] and
//! changes nothing.

use serde::{Deserialize, Serialize};

use crate::ids::{ParticipantId, Role};

/// Longest display name accepted in a rename, in bytes of UTF-8.
pub const MAX_NAME_LEN: usize = 64;

/// An action only a host or co-host may take. Sent as
/// [`crate::control::ClientMessage::Host`]; when it takes effect, everyone
/// in the meeting gets it back inside [`MeetingEvent::HostAction`].
///
/// `participant_id` left out means "everyone" where the action allows it
/// (`mute`, `stop_video`, `expel`, `set_recording`, `lower_hand`, `admit`):
/// everyone but hosts and co-hosts, except for `admit` (everyone waiting).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
#[non_exhaustive]
pub enum HostAction {
    /// Mutes one participant, or everyone. Never unmutes.
    Mute {
        /// Who; everyone when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        participant_id: Option<ParticipantId>,
    },
    /// Asks one participant to unmute; the router turns no microphone on.
    AskUnmute {
        /// Who.
        participant_id: ParticipantId,
    },
    /// Stops one participant's video, or everyone's. Never starts it.
    StopVideo {
        /// Who; everyone when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        participant_id: Option<ParticipantId>,
    },
    /// Removes one participant, or everyone. They cannot rejoin with any
    /// token for the same user (`sub`) unless a host sends `allow_rejoin`.
    Expel {
        /// Who; everyone when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        participant_id: Option<ParticipantId>,
    },
    /// Lets an expelled participant's user join again.
    AllowRejoin {
        /// The id they had when they were expelled.
        participant_id: ParticipantId,
    },
    /// Locks or unlocks the meeting. A locked meeting admits nobody new,
    /// valid token or not, except a token with the `host` role.
    Lock {
        /// Locked when true.
        locked: bool,
    },
    /// Ends the meeting for everyone (host only, not co-hosts).
    End,
    /// Who participants may chat with (hosts and co-hosts always may).
    SetChat {
        /// The new rule.
        chat: ChatPolicy,
    },
    /// Allows or forbids local recording for one participant or everyone.
    /// Forbidding it stops a recording in progress.
    SetRecording {
        /// Who; everyone when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        participant_id: Option<ParticipantId>,
        /// Allowed when true.
        allowed: bool,
    },
    /// Who may share their screen. `host_only` stops participants' shares.
    SetScreenShare {
        /// The new rule.
        share: SharePolicy,
    },
    /// Stops one participant's screen share.
    StopShare {
        /// Who.
        participant_id: ParticipantId,
    },
    /// Renames one participant.
    Rename {
        /// Who.
        participant_id: ParticipantId,
        /// The new display name, 1 to [`MAX_NAME_LEN`] bytes.
        name: String,
    },
    /// Lowers one participant's raised hand, or everyone's.
    LowerHand {
        /// Who; everyone when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        participant_id: Option<ParticipantId>,
    },
    /// Promotes a participant to co-host or demotes a co-host (host only).
    SetRole {
        /// Who.
        participant_id: ParticipantId,
        /// `co_host` or `participant`.
        role: Role,
    },
    /// Hands the host role to someone else (host only); the old host
    /// becomes a co-host.
    MakeHost {
        /// The new host.
        participant_id: ParticipantId,
    },
    /// Admits someone from the waiting room, or everyone waiting.
    Admit {
        /// Who; everyone waiting when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        participant_id: Option<ParticipantId>,
    },
    /// Turns someone in the waiting room away; the router disconnects them.
    Deny {
        /// Who.
        participant_id: ParticipantId,
    },
    /// Turns the waiting room on or off for people who join from now on.
    SetWaitingRoom {
        /// On when true.
        enabled: bool,
    },
    /// Allows or forbids something participants do to themselves.
    Allow {
        /// What.
        permission: Permission,
        /// Allowed when true.
        allowed: bool,
    },
}

impl HostAction {
    /// The action's wire name (its `action` field), for logs and reports.
    pub fn name(&self) -> &'static str {
        match self {
            HostAction::Mute { .. } => "mute",
            HostAction::AskUnmute { .. } => "ask_unmute",
            HostAction::StopVideo { .. } => "stop_video",
            HostAction::Expel { .. } => "expel",
            HostAction::AllowRejoin { .. } => "allow_rejoin",
            HostAction::Lock { .. } => "lock",
            HostAction::End => "end",
            HostAction::SetChat { .. } => "set_chat",
            HostAction::SetRecording { .. } => "set_recording",
            HostAction::SetScreenShare { .. } => "set_screen_share",
            HostAction::StopShare { .. } => "stop_share",
            HostAction::Rename { .. } => "rename",
            HostAction::LowerHand { .. } => "lower_hand",
            HostAction::SetRole { .. } => "set_role",
            HostAction::MakeHost { .. } => "make_host",
            HostAction::Admit { .. } => "admit",
            HostAction::Deny { .. } => "deny",
            HostAction::SetWaitingRoom { .. } => "set_waiting_room",
            HostAction::Allow { .. } => "allow",
        }
    }
}

/// Something that happened in the meeting, announced to everyone in it in
/// [`crate::control::ServerMessage::Event`] (so clients can show "Host muted
/// everyone", and so audit hooks have one stream to read).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum MeetingEvent {
    /// A host or co-host action took effect; `by` in the enclosing message
    /// names who took it.
    HostAction(HostAction),
    /// The host role moved (hand-over, or the host left).
    HostChanged {
        /// The new host, or none when the meeting is now without a host.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        participant_id: Option<ParticipantId>,
        /// The previous host.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous: Option<ParticipantId>,
    },
    /// A screen share paused because a new window appeared on the shared screen.
    SharePaused {
        /// The sharer.
        participant_id: ParticipantId,
    },
    /// A paused screen share resumed.
    ShareResumed {
        /// The sharer.
        participant_id: ParticipantId,
    },
    /// The meeting has run without a host and will end in `in_secs` seconds
    /// unless a host joins.
    EndingSoon {
        /// Seconds left.
        in_secs: u64,
    },
}

impl MeetingEvent {
    /// The event's name: the host action's name, or the event kind.
    pub fn name(&self) -> &'static str {
        match self {
            MeetingEvent::HostAction(action) => action.name(),
            MeetingEvent::HostChanged { .. } => "host_changed",
            MeetingEvent::SharePaused { .. } => "share_paused",
            MeetingEvent::ShareResumed { .. } => "share_resumed",
            MeetingEvent::EndingSoon { .. } => "ending_soon",
        }
    }
}

/// The meeting's current rules, as host controls last set them. Sent in
/// [`crate::control::ServerMessage::Joined`] so that someone joining a
/// meeting in progress shows the truth from the start; afterwards a client
/// keeps it current with [`MeetingSettings::apply`] on every
/// [`MeetingEvent::HostAction`] it receives. Fields default when absent, so
/// a `joined` from an older router still decodes (as an unrestricted meeting).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MeetingSettings {
    /// Nobody new may join (except with a `host` token).
    pub locked: bool,
    /// Participants joining from now on wait until a host admits them.
    pub waiting_room: bool,
    /// Participants may enter while no host is present.
    pub join_before_host: bool,
    /// Who participants may chat with.
    pub chat: ChatPolicy,
    /// Who may share their screen.
    pub share: SharePolicy,
    /// Participants may unmute themselves.
    pub unmute_self: bool,
    /// Participants may start their own video.
    pub start_video: bool,
    /// Participants may rename themselves.
    pub rename_self: bool,
    /// Participants may record locally (hosts allowed everyone); a
    /// newcomer's own permission starts from this. Per-participant grants
    /// arrive as `set_recording` events naming them.
    pub record_all: bool,
}

impl Default for MeetingSettings {
    /// The settings of a meeting nobody has restricted.
    fn default() -> Self {
        Self {
            locked: false,
            waiting_room: false,
            join_before_host: true,
            chat: ChatPolicy::Everyone,
            share: SharePolicy::Everyone,
            unmute_self: true,
            start_video: true,
            rename_self: true,
            record_all: false,
        }
    }
}

impl MeetingSettings {
    /// Mirrors a host action that took effect (as announced in an event);
    /// actions that change no meeting-wide rule leave it as it is.
    pub fn apply(&mut self, action: &HostAction) {
        match action {
            HostAction::Lock { locked } => self.locked = *locked,
            HostAction::SetChat { chat } => self.chat = *chat,
            HostAction::SetScreenShare { share } => self.share = *share,
            HostAction::SetWaitingRoom { enabled } => self.waiting_room = *enabled,
            HostAction::SetRecording {
                participant_id: None,
                allowed,
            } => self.record_all = *allowed,
            HostAction::Allow {
                permission,
                allowed,
            } => match permission {
                Permission::UnmuteSelf => self.unmute_self = *allowed,
                Permission::StartVideo => self.start_video = *allowed,
                Permission::RenameSelf => self.rename_self = *allowed,
            },
            _ => {}
        }
    }
}

/// Who participants may chat with. Hosts and co-hosts may always chat with
/// everyone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChatPolicy {
    /// Everyone, publicly or privately.
    #[default]
    Everyone,
    /// Only privately, and only with hosts and co-hosts.
    HostOnly,
    /// Nobody.
    Nobody,
}

/// Who may share their screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SharePolicy {
    /// Every participant.
    #[default]
    Everyone,
    /// Hosts and co-hosts only.
    HostOnly,
}

/// A participant's screen share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShareState {
    /// Not sharing.
    #[default]
    Off,
    /// Sharing.
    On,
    /// Sharing, paused (a new window appeared on a shared screen).
    Paused,
}

/// Something participants do to themselves that a host may forbid. Hosts
/// and co-hosts are never restricted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Permission {
    /// Unmuting their own microphone (allowed by default).
    UnmuteSelf,
    /// Starting their own video (allowed by default).
    StartVideo,
    /// Renaming themselves (allowed by default).
    RenameSelf,
}

/// Why a joiner is held before entering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum WaitReason {
    /// The meeting has a waiting room: a host admits or denies each joiner.
    WaitingRoom,
    /// No host is present and the meeting does not allow joining before
    /// the host; joiners enter when one arrives.
    HostAbsent,
}

/// Someone waiting to enter, as hosts and co-hosts see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitingEntry {
    /// The id they will have once admitted (name them with it in `admit`/`deny`).
    pub participant_id: ParticipantId,
    /// Display name from their join token.
    pub name: String,
    /// Not signed in.
    #[serde(default)]
    pub guest: bool,
    /// From outside the host's organisation.
    #[serde(default)]
    pub external: bool,
    /// Why they wait.
    pub reason: WaitReason,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::{ClientMessage, ServerMessage};

    #[test]
    fn host_messages_have_stable_json() {
        let m = ClientMessage::Host(HostAction::Mute {
            participant_id: None,
        });
        assert_eq!(
            String::from_utf8(m.encode()).unwrap(),
            r#"{"type":"host","action":"mute"}"#
        );
        assert_eq!(
            ClientMessage::decode(br#"{"type":"host","action":"expel","participant_id":3}"#)
                .unwrap(),
            ClientMessage::Host(HostAction::Expel {
                participant_id: Some(ParticipantId(3))
            })
        );
        let e = ServerMessage::Event {
            by: Some(ParticipantId(1)),
            event: MeetingEvent::HostAction(HostAction::Lock { locked: true }),
        };
        assert_eq!(
            String::from_utf8(e.encode()).unwrap(),
            r#"{"type":"event","by":1,"event":{"kind":"host_action","action":"lock","locked":true}}"#
        );
        assert_eq!(ServerMessage::decode(&e.encode()).unwrap(), e);
        let e = ServerMessage::Event {
            by: None,
            event: MeetingEvent::HostChanged {
                participant_id: Some(ParticipantId(2)),
                previous: None,
            },
        };
        assert_eq!(ServerMessage::decode(&e.encode()).unwrap(), e);
        assert!(ClientMessage::decode(br#"{"type":"host","action":"fly"}"#).is_err());
    }

    #[test]
    fn settings_follow_host_actions_and_default_when_absent() {
        let mut s = MeetingSettings::default();
        for action in [
            HostAction::Lock { locked: true },
            HostAction::SetChat {
                chat: ChatPolicy::Nobody,
            },
            HostAction::SetScreenShare {
                share: SharePolicy::HostOnly,
            },
            HostAction::SetWaitingRoom { enabled: true },
            HostAction::SetRecording {
                participant_id: None,
                allowed: true,
            },
            HostAction::Allow {
                permission: Permission::UnmuteSelf,
                allowed: false,
            },
            // One participant's permission is not a meeting-wide rule.
            HostAction::SetRecording {
                participant_id: Some(ParticipantId(2)),
                allowed: false,
            },
            HostAction::Mute {
                participant_id: None,
            },
        ] {
            s.apply(&action);
        }
        assert!(s.locked && s.waiting_room && s.record_all && !s.unmute_self);
        assert_eq!(
            (s.chat, s.share),
            (ChatPolicy::Nobody, SharePolicy::HostOnly)
        );
        assert!(s.start_video && s.rename_self && s.join_before_host);
        let decoded: MeetingSettings = crate::control::decode(br#"{"locked":true}"#).unwrap();
        assert_eq!(
            decoded,
            MeetingSettings {
                locked: true,
                ..MeetingSettings::default()
            }
        );
    }
}
