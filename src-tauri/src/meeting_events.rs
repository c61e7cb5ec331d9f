//! Turns `confer-client` session events into the [`MeetingUpdate`]s the UI
//! draws, with plain words for what hosts did.
//!
//! Sans-IO: [`Translator::handle_event`] takes one event and returns the
//! updates; it remembers only the names it needs to say who did what.

use std::collections::HashMap;

use confer_client::session::Event;
use confer_wire::host::{HostAction, MeetingEvent};
use confer_wire::ids::ParticipantId;

use crate::models::{
    Encryption, MeetingUpdate, Participant, WaitingPerson, end_words, leave_words, wait_words,
};

/// Remembers who is who, to name them in notices.
#[derive(Debug)]
pub(crate) struct Translator {
    encryption: Encryption,
    self_id: Option<u32>,
    names: HashMap<u32, String>,
}

impl Translator {
    /// A translator for a meeting protected by `encryption`.
    pub(crate) fn new(encryption: Encryption) -> Self {
        Translator {
            encryption,
            self_id: None,
            names: HashMap::new(),
        }
    }

    fn name(&self, id: Option<ParticipantId>) -> String {
        match id {
            Some(id) if Some(id.0) == self.self_id => "You".into(),
            Some(id) => self
                .names
                .get(&id.0)
                .cloned()
                .unwrap_or_else(|| "Someone".into()),
            None => "The meeting".into(),
        }
    }

    fn whom(&self, id: Option<ParticipantId>, everyone: &str) -> String {
        match id {
            None => everyone.into(),
            Some(id) if Some(id.0) == self.self_id => "you".into(),
            Some(_) => self.name(id),
        }
    }

    /// The updates for one session event.
    pub(crate) fn handle_event(&mut self, event: Event) -> Vec<MeetingUpdate> {
        match event {
            Event::Joined {
                participant_id,
                meeting_id,
                roster,
                ..
            } => {
                self.self_id = Some(participant_id.0);
                for e in &roster {
                    self.names.insert(e.participant_id.0, e.name.clone());
                }
                vec![MeetingUpdate::Joined {
                    meeting_id: meeting_id.0,
                    self_id: participant_id.0,
                    participants: roster.iter().map(Participant::from).collect(),
                    encryption: self.encryption,
                }]
            }
            Event::ParticipantJoined(e) | Event::ParticipantUpdated(e) => {
                self.names.insert(e.participant_id.0, e.name.clone());
                vec![MeetingUpdate::Participant {
                    participant: Participant::from(&e),
                }]
            }
            Event::ParticipantLeft {
                participant_id,
                reason,
                ..
            } => vec![MeetingUpdate::ParticipantLeft {
                id: participant_id.0,
                reason: leave_words(reason),
            }],
            Event::Chat {
                id,
                from,
                from_name,
                to,
                text,
                own,
                e2e,
            } => vec![MeetingUpdate::Chat {
                id,
                from: from.0,
                from_name: from_name.unwrap_or_else(|| self.name(Some(from))),
                to: to.map(|t| t.0),
                text,
                own,
                e2e,
            }],
            Event::Reaction {
                from,
                from_name,
                emoji,
            } => vec![MeetingUpdate::Reaction {
                from: from.0,
                from_name: from_name.unwrap_or_else(|| self.name(Some(from))),
                emoji,
            }],
            Event::Waiting(reason) => vec![MeetingUpdate::Waiting {
                reason: wait_words(reason),
            }],
            Event::WaitingRoom(waiting) => vec![MeetingUpdate::WaitingRoom {
                waiting: waiting.iter().map(WaitingPerson::from).collect(),
            }],
            Event::Meeting { by, event } => self
                .describe(by, &event)
                .map(|text| MeetingUpdate::Notice { text })
                .into_iter()
                .collect(),
            Event::RouterError { message, .. } => vec![MeetingUpdate::Notice {
                text: format!("Not done: {message}"),
            }],
            Event::ProtocolViolation(_) => Vec::new(),
            Event::Ended(reason) => {
                let (kind, reason) = end_words(&reason);
                vec![MeetingUpdate::Ended { kind, reason }]
            }
            _ => Vec::new(),
        }
    }

    /// Plain words for a meeting event, or `None` for ones not worth a notice.
    fn describe(&self, by: Option<ParticipantId>, event: &MeetingEvent) -> Option<String> {
        let who = self.name(by);
        Some(match event {
            MeetingEvent::HostAction(action) => match action {
                HostAction::Mute { participant_id } => {
                    format!("{who} muted {}.", self.whom(*participant_id, "everyone"))
                }
                HostAction::AskUnmute { participant_id } => {
                    if Some(participant_id.0) == self.self_id {
                        format!("{who} asks you to unmute.")
                    } else {
                        format!(
                            "{who} asked {} to unmute.",
                            self.name(Some(*participant_id))
                        )
                    }
                }
                HostAction::StopVideo { participant_id } => format!(
                    "{who} stopped video for {}.",
                    self.whom(*participant_id, "everyone")
                ),
                HostAction::Expel { participant_id } => {
                    format!("{who} removed {}.", self.whom(*participant_id, "everyone"))
                }
                HostAction::Lock { locked: true } => format!("{who} locked the meeting."),
                HostAction::Lock { locked: false } => format!("{who} unlocked the meeting."),
                HostAction::End => format!("{who} ended the meeting."),
                HostAction::Admit { participant_id } => format!(
                    "{who} admitted {}.",
                    self.whom(*participant_id, "everyone waiting")
                ),
                HostAction::Deny { .. } => format!("{who} turned someone away."),
                other => format!("{who}: {}.", other.name().replace('_', " ")),
            },
            MeetingEvent::HostChanged {
                participant_id: Some(id),
                ..
            } => format!("{} is now the host.", self.name(Some(*id))),
            MeetingEvent::HostChanged { .. } => "The meeting has no host now.".into(),
            MeetingEvent::EndingSoon { in_secs } => {
                format!("No host: the meeting ends in {in_secs} seconds unless one joins.")
            }
            MeetingEvent::SharePaused { .. } | MeetingEvent::ShareResumed { .. } => return None,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use confer_client::session::EndReason;
    use confer_wire::control::RosterEntry;
    use confer_wire::ids::{MeetingId, Role};

    use super::*;
    use crate::models::EndKind;

    fn entry(id: u32, name: &str, role: Role) -> RosterEntry {
        RosterEntry {
            participant_id: ParticipantId(id),
            name: name.into(),
            role,
            ..RosterEntry::default()
        }
    }

    fn joined(t: &mut Translator) {
        t.handle_event(Event::Joined {
            participant_id: ParticipantId(1),
            meeting_id: MeetingId(123456789),
            role: Role::Host,
            roster: vec![
                entry(1, "Ada", Role::Host),
                entry(2, "Bo", Role::Participant),
            ],
        });
    }

    #[test]
    fn joined_carries_the_roster_and_encryption() {
        let mut t = Translator::new(Encryption::EndToEnd);
        let updates = t.handle_event(Event::Joined {
            participant_id: ParticipantId(1),
            meeting_id: MeetingId(123456789),
            role: Role::Host,
            roster: vec![entry(1, "Ada", Role::Host)],
        });
        let json = serde_json::to_value(&updates[0]).unwrap();
        assert_eq!(json["type"], "joined");
        assert_eq!(json["meetingId"], 123456789);
        assert_eq!(json["selfId"], 1);
        assert_eq!(json["encryption"], "end_to_end");
        assert_eq!(json["participants"][0]["role"], "host");
        assert_eq!(json["participants"][0]["handRaised"], false);
    }

    #[test]
    fn host_actions_are_told_in_plain_words() {
        let mut t = Translator::new(Encryption::Transport);
        joined(&mut t);
        let mute = |id| Event::Meeting {
            by: Some(ParticipantId(1)),
            event: MeetingEvent::HostAction(HostAction::Mute { participant_id: id }),
        };
        assert_eq!(
            t.handle_event(mute(Some(ParticipantId(2)))),
            vec![MeetingUpdate::Notice {
                text: "You muted Bo.".into()
            }]
        );
        assert_eq!(
            t.handle_event(mute(None)),
            vec![MeetingUpdate::Notice {
                text: "You muted everyone.".into()
            }]
        );
    }

    #[test]
    fn chat_names_the_sender_even_without_a_name_from_the_session() {
        let mut t = Translator::new(Encryption::Transport);
        joined(&mut t);
        let updates = t.handle_event(Event::Chat {
            id: 7,
            from: ParticipantId(2),
            from_name: None,
            to: Some(ParticipantId(1)),
            text: "hi".into(),
            own: false,
            e2e: false,
        });
        let json = serde_json::to_value(&updates[0]).unwrap();
        assert_eq!(json["fromName"], "Bo");
        assert_eq!(json["to"], 1);
        assert_eq!(json["e2e"], false);
    }

    #[test]
    fn sealed_chat_is_marked_e2e() {
        let mut t = Translator::new(Encryption::Transport);
        joined(&mut t);
        let updates = t.handle_event(Event::Chat {
            id: 8,
            from: ParticipantId(2),
            from_name: Some("Bo".into()),
            to: None,
            text: "sealed".into(),
            own: false,
            e2e: true,
        });
        assert!(matches!(
            updates.as_slice(),
            [MeetingUpdate::Chat { e2e: true, text, .. }] if text == "sealed"
        ));
    }

    #[test]
    fn a_reaction_names_who_reacted() {
        let mut t = Translator::new(Encryption::Transport);
        joined(&mut t);
        let updates = t.handle_event(Event::Reaction {
            from: ParticipantId(2),
            from_name: None,
            emoji: "🎉".into(),
        });
        assert_eq!(
            updates,
            vec![MeetingUpdate::Reaction {
                from: 2,
                from_name: "Bo".into(),
                emoji: "🎉".into(),
            }]
        );
        let json = serde_json::to_value(&updates[0]).unwrap();
        assert_eq!(json["emoji"], "🎉");
        assert_eq!(json["fromName"], "Bo");
    }

    #[test]
    fn an_expulsion_ends_with_its_kind() {
        let mut t = Translator::new(Encryption::Transport);
        let updates = t.handle_event(Event::Ended(EndReason::Expelled));
        assert!(matches!(
            updates.as_slice(),
            [MeetingUpdate::Ended {
                kind: EndKind::Expelled,
                ..
            }]
        ));
    }
}
