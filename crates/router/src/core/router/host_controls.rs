//! Host actions: checked against the actor's role (`permissions`), carried
//! out, then announced to everyone as an `event` (plus a
//! `participant_updated` for every roster entry that changed).
//!
//! An expulsion bars the expelled user (and, for a guest, new guests) until
//! a host sends `allow_rejoin`; see `bans.rs` for why and for how long.
//!
//! "Everyone" in `mute`, `stop_video`, `expel` and `lower_hand` means
//! everyone but hosts and co-hosts; a refused action changes nothing and
//! produces no event.

use confer_wire::control::{ErrorCode, LeaveReason, ServerMessage};
use confer_wire::host::{
    HostAction, MAX_NAME_LEN, MeetingEvent, Permission, SharePolicy, ShareState,
};
use confer_wire::ids::{MeetingId, ParticipantId, Role};

use super::Router;
use crate::core::bans::Expelled;
use crate::core::event::{EventParticipant, MeetingEndReason, RouterEvent};
use crate::core::meeting::Meeting;
use crate::core::output::{CloseReason, ConnectionId, Output};
use crate::core::permissions::{check_host_action, present_target};

/// What carrying out an action did, beyond the event itself.
#[derive(Default)]
struct Effects {
    /// Roster entries that changed.
    updated: Vec<ParticipantId>,
    /// Participants to remove as expelled (after the event goes out).
    expel: Vec<ParticipantId>,
    /// People to let in from the waiting room.
    admit: Vec<ParticipantId>,
    /// People to turn away from the waiting room.
    deny: Vec<ParticipantId>,
    /// The meeting ends (after the event goes out).
    end: bool,
    /// Whether the waiting room list changed for hosts.
    waiting_changed: bool,
}

impl Router {
    /// A host action from `actor` on `conn`.
    pub(super) fn host_action(
        &mut self,
        conn: ConnectionId,
        meeting_id: MeetingId,
        actor: ParticipantId,
        action: HostAction,
    ) {
        let Some(meeting) = self.meetings.get_mut(&meeting_id) else {
            return;
        };
        let Some(actor_role) = meeting.role_of(actor) else {
            return;
        };
        let target = match present_target(&action) {
            Some(id) => match meeting.role_of(id) {
                Some(role) => Some((id, role)),
                None => {
                    let message = format!("participant {id} is not in the meeting");
                    return self.reject(conn, ErrorCode::UnknownParticipant, message);
                }
            },
            None => None,
        };
        if let Err(why) = check_host_action(actor, actor_role, &action, target) {
            self.stats.host_actions_refused += 1;
            let message = format!("{}: {why}", action.name());
            return self.reject(conn, ErrorCode::NotAllowed, message);
        }
        // Named before `apply`, which may remove the target.
        let actor_named = meeting.get(actor).map(|p| p.event_participant());
        let target_named = event_target(meeting, &action);
        let effects = match apply(meeting, actor, &action) {
            Ok(effects) => effects,
            Err((code, message)) => return self.reject(conn, code, message),
        };
        self.stats.host_actions += 1;
        if let Some(actor) = actor_named {
            self.emit(RouterEvent::HostAction {
                meeting_id,
                actor,
                target: target_named,
                action: action.clone(),
            });
        }
        self.announce_event(meeting_id, Some(actor), MeetingEvent::HostAction(action));
        self.announce_updates(meeting_id, &effects.updated);
        for id in effects.expel {
            self.expel(meeting_id, id);
        }
        for id in effects.admit {
            self.admit_waiting(meeting_id, id);
        }
        for id in effects.deny {
            self.deny_waiting(meeting_id, id);
        }
        if effects.waiting_changed {
            self.announce_waiting_room(meeting_id);
        }
        self.refresh_hostless(meeting_id);
        if effects.end {
            self.end_meeting(meeting_id, MeetingEndReason::EndedByHost);
        }
    }

    /// Forgets the state of a meeting that emptied or ended, keeping its
    /// bans for a while (`bans.rs`); returns whether it had started (so
    /// its end is reported).
    pub(super) fn retire_meeting(&mut self, meeting_id: MeetingId, meeting: Meeting) -> bool {
        let started = meeting.started;
        let next = meeting.next_participant_id();
        self.retained_bans
            .keep(meeting_id, meeting.bans, next, self.now);
        started
    }

    /// Removes an expelled participant (the ban was recorded in `apply`).
    fn expel(&mut self, meeting_id: MeetingId, id: ParticipantId) {
        let Some(conn) = self.meetings.get(&meeting_id).and_then(|m| m.conn_of(id)) else {
            return;
        };
        self.outputs.push_back(Output::Control {
            to: conn,
            message: ServerMessage::Removed {
                reason: LeaveReason::Expelled,
            },
        });
        self.forget(conn, LeaveReason::Expelled);
        self.outputs.push_back(Output::Close {
            conn,
            reason: CloseReason::Expelled,
        });
    }
}

/// The one participant an action names, in the meeting or its waiting
/// room, as events name them.
fn event_target(meeting: &Meeting, action: &HostAction) -> Option<EventParticipant> {
    let id = match action {
        HostAction::Admit {
            participant_id: Some(id),
        }
        | HostAction::Deny { participant_id: id } => *id,
        HostAction::AllowRejoin { participant_id } => {
            let expelled = meeting.bans.get(*participant_id)?;
            return Some(EventParticipant {
                participant_id: *participant_id,
                sub: expelled.sub.clone(),
                name: expelled.name.clone(),
                // The organisation is not kept with a ban.
                org: None,
                guest: expelled.guest,
            });
        }
        other => present_target(other)?,
    };
    match meeting.get(id) {
        Some(p) => Some(p.event_participant()),
        None => meeting
            .waiting
            .get(&id)
            .map(|w| w.participant.event_participant()),
    }
}

/// The participants an action with an optional target covers: that one, or
/// everyone but hosts and co-hosts.
fn targets(meeting: &Meeting, one: Option<ParticipantId>) -> Vec<ParticipantId> {
    match one {
        Some(id) => vec![id],
        None => meeting
            .participants()
            .filter(|p| !p.entry.role.is_host_like())
            .map(|p| p.entry.participant_id)
            .collect(),
    }
}

/// Changes every target's entry with `change`, which says whether it changed.
fn update_each(
    meeting: &mut Meeting,
    ids: Vec<ParticipantId>,
    mut change: impl FnMut(&mut crate::core::meeting::Participant) -> bool,
) -> Vec<ParticipantId> {
    ids.into_iter()
        .filter(|id| meeting.get_mut(*id).is_some_and(&mut change))
        .collect()
}

/// Carries out a permitted action on the meeting's state.
fn apply(
    meeting: &mut Meeting,
    actor: ParticipantId,
    action: &HostAction,
) -> Result<Effects, (ErrorCode, String)> {
    let mut fx = Effects::default();
    match action {
        HostAction::Mute { participant_id } => {
            let ids = targets(meeting, *participant_id);
            fx.updated = update_each(meeting, ids, |p| {
                !std::mem::replace(&mut p.entry.muted, true)
            });
        }
        HostAction::AskUnmute { .. } => {}
        HostAction::StopVideo { participant_id } => {
            let ids = targets(meeting, *participant_id);
            fx.updated = update_each(meeting, ids, |p| {
                std::mem::replace(&mut p.entry.video, false)
            });
        }
        HostAction::Expel { participant_id } => {
            let ids: Vec<_> = targets(meeting, *participant_id)
                .into_iter()
                .filter(|id| *id != actor)
                .collect();
            for id in &ids {
                if let Some(p) = meeting.get(*id) {
                    let expelled = Expelled {
                        sub: p.sub.clone(),
                        name: p.entry.name.clone(),
                        guest: p.entry.guest,
                    };
                    meeting.bans.add(*id, expelled);
                }
            }
            fx.expel = ids;
        }
        HostAction::AllowRejoin { participant_id } => {
            if meeting.bans.lift(*participant_id).is_none() {
                let message = format!("participant {participant_id} was not expelled");
                return Err((ErrorCode::UnknownParticipant, message));
            }
        }
        HostAction::Lock { locked } => meeting.settings.locked = *locked,
        HostAction::End => fx.end = true,
        HostAction::SetChat { chat } => meeting.settings.chat = *chat,
        HostAction::SetRecording {
            participant_id,
            allowed,
        } => {
            if participant_id.is_none() {
                meeting.settings.record_all = *allowed;
            }
            let ids = targets(meeting, *participant_id);
            let allowed = *allowed;
            fx.updated = update_each(meeting, ids, |p| {
                p.may_record = allowed;
                !allowed && std::mem::replace(&mut p.entry.recording, false)
            });
        }
        HostAction::SetScreenShare { share } => {
            meeting.settings.share = *share;
            if *share == SharePolicy::HostOnly {
                let ids = targets(meeting, None);
                fx.updated = update_each(meeting, ids, |p| {
                    std::mem::replace(&mut p.entry.sharing, ShareState::Off) != ShareState::Off
                });
            }
        }
        HostAction::StopShare { participant_id } => {
            fx.updated = update_each(meeting, vec![*participant_id], |p| {
                std::mem::replace(&mut p.entry.sharing, ShareState::Off) != ShareState::Off
            });
        }
        HostAction::Rename {
            participant_id,
            name,
        } => {
            check_name(name)?;
            fx.updated = update_each(meeting, vec![*participant_id], |p| {
                p.entry.name = name.clone();
                true
            });
        }
        HostAction::LowerHand { participant_id } => {
            let ids = targets(meeting, *participant_id);
            fx.updated = update_each(meeting, ids, |p| {
                std::mem::replace(&mut p.entry.hand_raised, false)
            });
        }
        HostAction::SetRole {
            participant_id,
            role,
        } => {
            let role = *role;
            fx.updated = update_each(meeting, vec![*participant_id], |p| {
                std::mem::replace(&mut p.entry.role, role) != role
            });
        }
        HostAction::MakeHost { participant_id } => {
            for (id, role) in [(actor, Role::CoHost), (*participant_id, Role::Host)] {
                if let Some(p) = meeting.get_mut(id) {
                    p.entry.role = role;
                    fx.updated.push(id);
                }
            }
        }
        HostAction::Admit { participant_id } => {
            fx.admit = match participant_id {
                Some(id) if meeting.waiting.contains_key(id) => vec![*id],
                Some(id) => return Err(not_waiting(*id)),
                None => meeting.waiting.keys().copied().collect(),
            };
            fx.waiting_changed = true;
        }
        HostAction::Deny { participant_id } => {
            if !meeting.waiting.contains_key(participant_id) {
                return Err(not_waiting(*participant_id));
            }
            fx.deny = vec![*participant_id];
            fx.waiting_changed = true;
        }
        HostAction::SetWaitingRoom { enabled } => meeting.settings.waiting_room = *enabled,
        HostAction::Allow {
            permission,
            allowed,
        } => match permission {
            Permission::UnmuteSelf => meeting.settings.unmute_self = *allowed,
            Permission::StartVideo => meeting.settings.start_video = *allowed,
            Permission::RenameSelf => meeting.settings.rename_self = *allowed,
            _ => {}
        },
        _ => {
            let message = format!("{} is not supported by this router", action.name());
            return Err((ErrorCode::MalformedMessage, message));
        }
    }
    Ok(fx)
}

/// The error for naming someone who is not in the waiting room.
fn not_waiting(id: ParticipantId) -> (ErrorCode, String) {
    (
        ErrorCode::UnknownParticipant,
        format!("participant {id} is not waiting"),
    )
}

/// Checks a display name's length.
pub(super) fn check_name(name: &str) -> Result<(), (ErrorCode, String)> {
    if name.trim().is_empty() || name.len() > MAX_NAME_LEN {
        return Err((
            ErrorCode::InvalidName,
            format!("a name must be 1 to {MAX_NAME_LEN} bytes"),
        ));
    }
    Ok(())
}
