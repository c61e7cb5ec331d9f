//! Runs a parsed `--script` during `confer join`: knows when the next step
//! is due, resolves participant names against what the router announced,
//! turns each step into driver commands, and records refusals. A
//! `wait-for` step holds the script until its condition holds; steps after
//! it then run at their own time, or at once if that has passed.

use std::collections::{BTreeMap, BTreeSet};

use confer_client::driver::Command;
use confer_client::session::{Event, code_name};
use confer_wire::control::ClientMessage;
use confer_wire::host::HostAction;
use confer_wire::ids::ParticipantId;
use tokio::time::Instant;

use crate::script::{Action, Condition, Script, Target};
use crate::stats::RefusalLine;

/// A script in progress.
pub(crate) struct ScriptRunner {
    /// The script.
    script: Script,
    /// Index of the next step to run.
    next: usize,
    /// Present participants' names, by id.
    present: BTreeMap<ParticipantId, String>,
    /// Names of those waiting to enter, by id.
    waiting: BTreeMap<ParticipantId, String>,
    /// Everyone ever named, by id (for `allow-rejoin` after an expulsion).
    seen: BTreeMap<ParticipantId, String>,
    /// Present participants whose hand is raised.
    hands: BTreeSet<ParticipantId>,
    /// The last action run, to which a refusal from the router is attributed
    /// (the router answers each request before the next is due).
    last_action: Option<(String, usize)>,
    /// Refusals, in order.
    pub(crate) refusals: Vec<RefusalLine>,
}

impl ScriptRunner {
    /// A runner for `script`, nothing run yet.
    pub(crate) fn new(script: Script) -> Self {
        Self {
            script,
            next: 0,
            present: BTreeMap::new(),
            waiting: BTreeMap::new(),
            seen: BTreeMap::new(),
            hands: BTreeSet::new(),
            last_action: None,
            refusals: Vec::new(),
        }
    }

    /// When the next step is due, given when we joined; `None` when the
    /// script is done or waits for a condition (ask again after the next
    /// event).
    pub(crate) fn next_at(&self, joined: Instant) -> Option<Instant> {
        let step = self.script.steps.get(self.next)?;
        match &step.action {
            Action::WaitFor(condition) if !self.holds(condition) => None,
            _ => Some(joined + step.at),
        }
    }

    /// Whether a `wait-for` condition holds now.
    fn holds(&self, condition: &Condition) -> bool {
        let present = |who: &Target| match who {
            Target::Id(id) => self.present.contains_key(id).then_some(*id),
            Target::Name(name) => self
                .present
                .iter()
                .find(|(_, n)| *n == name)
                .map(|(id, _)| *id),
        };
        match condition {
            Condition::Participants(n) => self.present.len() >= *n,
            Condition::Waiting(n) => self.waiting.len() >= *n,
            Condition::Refusals(n) => self.refusals.len() >= *n,
            Condition::Joined(who) => present(who).is_some(),
            Condition::Hand(who) => present(who).is_some_and(|id| self.hands.contains(&id)),
        }
    }

    /// Keeps the names current and records refusals.
    pub(crate) fn observe(&mut self, event: &Event) {
        match event {
            Event::Joined { roster, .. } => {
                for e in roster {
                    self.present.insert(e.participant_id, e.name.clone());
                    self.seen.insert(e.participant_id, e.name.clone());
                    self.note_hand(e.participant_id, e.hand_raised);
                }
            }
            Event::ParticipantJoined(e) | Event::ParticipantUpdated(e) => {
                self.waiting.remove(&e.participant_id);
                self.present.insert(e.participant_id, e.name.clone());
                self.seen.insert(e.participant_id, e.name.clone());
                self.note_hand(e.participant_id, e.hand_raised);
            }
            Event::ParticipantLeft { participant_id, .. } => {
                self.present.remove(participant_id);
                self.hands.remove(participant_id);
            }
            Event::WaitingRoom(list) => {
                self.waiting = list
                    .iter()
                    .map(|w| (w.participant_id, w.name.clone()))
                    .collect();
                for w in list {
                    self.seen.insert(w.participant_id, w.name.clone());
                }
            }
            Event::RouterError { code, message } => self.refusals.push(RefusalLine {
                action: self.last_action.as_ref().map(|(name, _)| name.clone()),
                line: self.last_action.as_ref().map(|(_, line)| *line),
                reason: code_name(*code),
                message: message.clone(),
            }),
            _ => {}
        }
    }

    /// Records whether `id`'s hand is raised.
    fn note_hand(&mut self, id: ParticipantId, raised: bool) {
        if raised {
            self.hands.insert(id);
        } else {
            self.hands.remove(&id);
        }
    }

    /// Runs the due step (and any others due at the same time); returns the
    /// commands to send.
    pub(crate) fn run_next(&mut self) -> Vec<Command> {
        let Some(first) = self.script.steps.get(self.next) else {
            return Vec::new();
        };
        let at = first.at;
        let mut commands = Vec::new();
        while let Some(step) = self.script.steps.get(self.next).filter(|s| s.at == at) {
            if let Action::WaitFor(condition) = &step.action {
                if !self.holds(condition) {
                    break;
                }
                self.next += 1;
                continue;
            }
            self.next += 1;
            let name = step.name.clone();
            let action = step.action.clone();
            self.last_action = Some((name.clone(), step.line));
            match self.command(&action) {
                Ok(command) => commands.push(command),
                Err(message) => self.refusals.push(RefusalLine {
                    action: Some(name),
                    line: self.last_action.as_ref().map(|(_, line)| *line),
                    reason: "unknown_participant".into(),
                    message,
                }),
            }
        }
        commands
    }

    /// The command for one action, once its target is resolved.
    fn command(&self, action: &Action) -> Result<Command, String> {
        Ok(match action {
            Action::Chat(text) => Command::Chat {
                to: None,
                text: text.clone(),
            },
            Action::ChatTo(who, text) => Command::Chat {
                to: Some(self.resolve(who)?),
                text: text.clone(),
            },
            Action::Own(msg) => Command::Request(msg.clone()),
            Action::Host(action) => Command::Request(ClientMessage::Host(action.clone())),
            Action::HostAt(who, build) => {
                Command::Request(ClientMessage::Host(build(self.resolve(who)?)))
            }
            Action::RenameOther(who, name) => {
                Command::Request(ClientMessage::Host(HostAction::Rename {
                    participant_id: self.resolve(who)?,
                    name: name.clone(),
                }))
            }
            Action::NewWindow => Command::NewWindowDetected { whole_screen: true },
            Action::Leave => Command::Leave,
            // Never reached: `run_next` handles waits itself.
            Action::WaitFor(_) => return Err("wait-for sends nothing".into()),
        })
    }

    /// A participant id for a script target: present first, then waiting,
    /// then anyone seen.
    fn resolve(&self, who: &Target) -> Result<ParticipantId, String> {
        match who {
            Target::Id(id) => Ok(*id),
            Target::Name(name) => [&self.present, &self.waiting, &self.seen]
                .into_iter()
                .find_map(|map| map.iter().find(|(_, n)| *n == name).map(|(id, _)| *id))
                .ok_or_else(|| format!("nobody called {name:?} is in the meeting")),
        }
    }
}

#[cfg(test)]
mod tests {
    use confer_wire::control::RosterEntry;

    use super::*;

    fn entry(id: u32, name: &str, hand_raised: bool) -> RosterEntry {
        RosterEntry {
            participant_id: ParticipantId(id),
            name: name.into(),
            hand_raised,
            ..RosterEntry::default()
        }
    }

    #[test]
    fn a_wait_holds_later_steps_until_the_router_announces_what_it_waits_for() {
        let script = Script::parse(
            "0s wait-for joined \"Bo\"\n1s chat-to \"Bo\" hello\n2s wait-for hand \"Bo\"\n3s lock\n",
        )
        .unwrap();
        let mut runner = ScriptRunner::new(script);
        let joined = Instant::now();
        runner.observe(&Event::ParticipantJoined(entry(1, "Host", false)));
        assert_eq!(runner.next_at(joined), None, "Bo is not here yet");
        assert!(runner.run_next().is_empty());

        runner.observe(&Event::ParticipantJoined(entry(2, "Bo", false)));
        assert_eq!(runner.next_at(joined), Some(joined));
        assert!(
            runner.run_next().is_empty(),
            "the wait itself sends nothing"
        );
        assert_eq!(
            runner.next_at(joined),
            Some(joined + std::time::Duration::from_secs(1))
        );
        let sent = runner.run_next();
        assert!(
            matches!(
                sent.as_slice(),
                [Command::Chat {
                    to: Some(ParticipantId(2)),
                    ..
                }]
            ),
            "{sent:?}"
        );
        assert_eq!(runner.next_at(joined), None, "Bo's hand is down");
        runner.observe(&Event::ParticipantUpdated(entry(2, "Bo", true)));
        runner.run_next();
        assert!(matches!(
            runner.run_next().as_slice(),
            [Command::Request(ClientMessage::Host(HostAction::Lock {
                locked: true
            }))]
        ));
        assert_eq!(runner.next_at(joined), None, "the script is done");
        assert!(runner.refusals.is_empty());
    }
}
