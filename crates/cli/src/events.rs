//! Showing session events: human-readable lines on stderr, or JSON lines on
//! stdout with `--json`.

use std::collections::BTreeMap;

use confer_client::session::{Event, code_name, leave_reason_name};
use confer_wire::ids::ParticipantId;
use serde_json::json;

/// Prints events, remembering names so that a departure can still be shown
/// with the name of whoever left.
#[derive(Debug)]
pub(crate) struct EventPrinter {
    json: bool,
    names: BTreeMap<ParticipantId, String>,
}

impl EventPrinter {
    /// A printer for human (`json` = false) or machine output.
    pub(crate) fn new(json: bool) -> Self {
        EventPrinter {
            json,
            names: BTreeMap::new(),
        }
    }

    fn who(&self, id: ParticipantId) -> String {
        match self.names.get(&id) {
            Some(name) => format!("{name} ({id})"),
            None => format!("participant {id}"),
        }
    }

    /// A free-form status line (connecting, transport chosen...).
    pub(crate) fn status(&self, event: &str, text: &str, extra: serde_json::Value) {
        if self.json {
            let mut line = json!({ "event": event });
            if let (Some(line), serde_json::Value::Object(extra)) = (line.as_object_mut(), extra) {
                line.extend(extra);
            }
            println!("{line}");
        } else {
            eprintln!("{text}");
        }
    }

    /// Shows one session event.
    pub(crate) fn print(&mut self, event: &Event) {
        match event {
            Event::Joined {
                participant_id,
                meeting_id,
                role,
                roster,
            } => {
                for e in roster {
                    self.names.insert(e.participant_id, e.name.clone());
                }
                let present: Vec<String> =
                    roster.iter().map(|e| self.who(e.participant_id)).collect();
                self.status(
                    "joined",
                    &format!(
                        "joined meeting {meeting_id} as participant {participant_id} ({role}); present: {}",
                        present.join(", ")
                    ),
                    json!({
                        "participant_id": participant_id.0,
                        "meeting_id": meeting_id.0,
                        "role": role.as_str(),
                        "roster": roster.iter().map(|e| json!({
                            "participant_id": e.participant_id.0,
                            "name": e.name,
                            "role": e.role.as_str(),
                            "guest": e.guest,
                        })).collect::<Vec<_>>(),
                    }),
                );
            }
            Event::ParticipantJoined(e) => {
                self.names.insert(e.participant_id, e.name.clone());
                self.status(
                    "participant_joined",
                    &format!("{} joined", self.who(e.participant_id)),
                    json!({ "participant_id": e.participant_id.0, "name": e.name, "role": e.role.as_str() }),
                );
            }
            Event::ParticipantLeft {
                participant_id,
                reason,
                ..
            } => {
                let reason = leave_reason_name(*reason);
                self.status(
                    "participant_left",
                    &format!("{} left ({reason})", self.who(*participant_id)),
                    json!({ "participant_id": participant_id.0, "reason": reason }),
                );
            }
            Event::Chat {
                id,
                from,
                to,
                text,
                own,
                e2e,
                ..
            } => {
                let kind = if to.is_some() { "private chat" } else { "chat" };
                let line = if *own {
                    format!("{kind} sent: {text}")
                } else {
                    format!("{kind} from {}: {text}", self.who(*from))
                };
                self.status(
                    "chat",
                    &line,
                    json!({ "id": id, "from": from.0, "to": to.map(|t| t.0), "text": text, "own": own, "e2e": e2e }),
                );
            }
            Event::Reaction { from, emoji, .. } => {
                self.status(
                    "reaction",
                    &format!("{} reacted {emoji}", self.who(*from)),
                    json!({ "from": from.0, "emoji": emoji }),
                );
            }
            Event::RouterError { code, message } => {
                let code = code_name(*code);
                self.status(
                    "router_error",
                    &format!("router error: {code}: {message}"),
                    json!({ "code": code, "message": message }),
                );
            }
            Event::ProtocolViolation(what) => {
                self.status(
                    "protocol_violation",
                    &format!("warning: the router sent {what}; ignored"),
                    json!({ "what": what }),
                );
            }
            Event::Ended(reason) => {
                self.status(
                    "ended",
                    &format!("session ended: {reason}"),
                    json!({ "left_reason": reason.as_str(), "error": reason.error_text() }),
                );
            }
            Event::Waiting(reason) => {
                let reason = serde_json::to_value(reason).unwrap_or_default();
                self.status(
                    "waiting",
                    &format!(
                        "waiting to be admitted ({})",
                        reason.as_str().unwrap_or("?")
                    ),
                    json!({ "reason": reason }),
                );
            }
            Event::ParticipantUpdated(e) => {
                self.names.insert(e.participant_id, e.name.clone());
                self.status(
                    "participant_updated",
                    &format!(
                        "{}: {} muted={} video={} hand={} recording={}",
                        self.who(e.participant_id),
                        e.role,
                        e.muted,
                        e.video,
                        e.hand_raised,
                        e.recording
                    ),
                    serde_json::to_value(e).unwrap_or_default(),
                );
            }
            Event::Meeting { by, event } => {
                let by_text = by
                    .map(|p| self.who(p))
                    .unwrap_or_else(|| "the router".into());
                self.status(
                    "meeting_event",
                    &format!("{by_text}: {}", event.name()),
                    json!({ "by": by.map(|p| p.0), "event": event }),
                );
            }
            Event::WaitingRoom(waiting) => {
                let names: Vec<_> = waiting.iter().map(|w| w.name.as_str()).collect();
                self.status(
                    "waiting_room",
                    &format!("waiting to enter: {}", names.join(", ")),
                    json!({ "waiting": waiting }),
                );
            }
            // Events a later client version adds are shown generically.
            other => self.status(
                "other",
                &format!("{other:?}"),
                json!({ "debug": format!("{other:?}") }),
            ),
        }
    }
}
