//! `confer join --script FILE`: a line-based script of timed meeting
//! actions, so meetings can be automated and tested.
//!
//! One action per line, `AT ACTION [ARGS]`: `AT` is a duration after
//! joining (`500ms`, `2s`, `1m`), arguments are words or double-quoted
//! strings (`\"` and `\\` inside quotes), `#` starts a comment line, blank
//! lines are skipped. The whole script is parsed before joining; the first
//! bad line is reported with its number. Names are resolved against the
//! roster (or the waiting room) when the action runs; `#N` names a
//! participant by id. `wait-for` holds the script until something the
//! router announced is true (so tests need not guess how long a join
//! takes). The CLI checks nothing else: the router decides, and
//! its refusals are recorded in the stats file. `docs/cli-script.md` lists
//! every action.

use std::time::Duration;

use confer_wire::control::ClientMessage;
use confer_wire::host::{ChatPolicy, HostAction, Permission, SharePolicy, ShareState};
use confer_wire::ids::{ParticipantId, Role};

use crate::duration::parse_duration;

/// A parsed script, its steps in time order (stable for equal times).
#[derive(Debug, Clone)]
pub(crate) struct Script {
    /// The steps.
    pub(crate) steps: Vec<Step>,
}

/// One line of a script.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    /// When, after joining.
    pub(crate) at: Duration,
    /// The line number (from 1), for reports.
    pub(crate) line: usize,
    /// The action's name as written.
    pub(crate) name: String,
    /// What to do.
    pub(crate) action: Action,
}

/// Someone named in a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// By display name.
    Name(String),
    /// By participant id (`#3`).
    Id(ParticipantId),
}

/// What a step does once its target (if any) is resolved.
#[derive(Debug, Clone)]
pub(crate) enum Action {
    /// Chat to everyone.
    Chat(String),
    /// Chat privately.
    ChatTo(Target, String),
    /// A message about ourselves.
    Own(ClientMessage),
    /// A host action about nobody in particular (or everyone).
    Host(HostAction),
    /// A host action aimed at one participant: built once the id is known.
    HostAt(Target, fn(ParticipantId) -> HostAction),
    /// Rename someone (host).
    RenameOther(Target, String),
    /// A new window appeared on the shared screen (simulated detection).
    NewWindow,
    /// Leave the meeting.
    Leave,
    /// Hold this and every later line until the condition holds.
    WaitFor(Condition),
}

/// What a `wait-for` line waits for, judged from what the router announced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Condition {
    /// At least this many participants present, ourselves included.
    Participants(usize),
    /// This participant is present.
    Joined(Target),
    /// This participant (present) has a raised hand.
    Hand(Target),
    /// At least this many people wait in the waiting room (hosts see it).
    Waiting(usize),
    /// At least this many of our actions were refused so far (so a script
    /// can go on only once the router has answered an attempt).
    Refusals(usize),
}

/// A script line that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScriptError {
    /// The line number, from 1.
    pub(crate) line: usize,
    /// What is wrong.
    pub(crate) message: String,
}

impl std::fmt::Display for ScriptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "script line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ScriptError {}

impl Script {
    /// Parses a whole script.
    pub(crate) fn parse(text: &str) -> Result<Script, ScriptError> {
        let mut steps = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let error = |message: String| ScriptError { line, message };
            let words = split_words(trimmed).map_err(error)?;
            let [at, name, args @ ..] = words.as_slice() else {
                return Err(error("expected `AT ACTION [ARGS]`".into()));
            };
            let at = parse_duration(at).map_err(|e| error(format!("bad time `{at}`: {e}")))?;
            let action = parse_action(name, args).map_err(error)?;
            steps.push(Step {
                at,
                line,
                name: name.clone(),
                action,
            });
        }
        steps.sort_by_key(|s| s.at);
        Ok(Script { steps })
    }
}

/// Splits a line into words, honouring double quotes.
fn split_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut word = String::new();
        if c == '"' {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') => break,
                    Some('\\') => match chars.next() {
                        Some(escaped) => word.push(escaped),
                        None => return Err("unfinished escape".into()),
                    },
                    Some(ch) => word.push(ch),
                    None => return Err("unclosed quote".into()),
                }
            }
        } else {
            while let Some(&ch) = chars.peek() {
                if ch.is_whitespace() {
                    break;
                }
                word.push(ch);
                chars.next();
            }
        }
        words.push(word);
    }
    Ok(words)
}

/// A participant named in a script: `#N` is an id, anything else a name.
fn target(word: &str) -> Target {
    match word.strip_prefix('#').and_then(|n| n.parse().ok()) {
        Some(id) => Target::Id(ParticipantId(id)),
        None => Target::Name(word.to_owned()),
    }
}

/// `on`/`off` as a bool.
fn on_off(word: &str) -> Result<bool, String> {
    match word {
        "on" | "yes" | "true" => Ok(true),
        "off" | "no" | "false" => Ok(false),
        other => Err(format!("expected on or off, not `{other}`")),
    }
}

/// Parses the arguments of `wait-for`.
fn wait_for(args: &[String]) -> Result<Condition, String> {
    let count = |n: &str| {
        n.parse::<usize>()
            .map_err(|_| format!("expected a number, not `{n}`"))
    };
    match args {
        [what, n] if what == "participants" => Ok(Condition::Participants(count(n)?)),
        [what, n] if what == "waiting" => Ok(Condition::Waiting(count(n)?)),
        [what, n] if what == "refusals" => Ok(Condition::Refusals(count(n)?)),
        [what, who] if what == "joined" => Ok(Condition::Joined(target(who))),
        [what, who] if what == "hand" => Ok(Condition::Hand(target(who))),
        _ => Err(
            "`wait-for` takes `participants N`, `joined NAME`, `hand NAME`, `waiting N` \
             or `refusals N`"
                .into(),
        ),
    }
}

/// Parses one action and its arguments.
fn parse_action(name: &str, args: &[String]) -> Result<Action, String> {
    let own = |m: ClientMessage| Ok(Action::Own(m));
    let host = |a: HostAction| Ok(Action::Host(a));
    let at = |f: fn(ParticipantId) -> HostAction| match args {
        [who] => Ok(Action::HostAt(target(who), f)),
        _ => Err(format!("`{name}` takes one participant name")),
    };
    let none = |action: Result<Action, String>| {
        if args.is_empty() {
            action
        } else {
            Err(format!("`{name}` takes no arguments"))
        }
    };
    let text = || {
        if args.is_empty() {
            Err(format!("`{name}` needs text"))
        } else {
            Ok(args.join(" "))
        }
    };
    match name {
        "chat" => Ok(Action::Chat(text()?)),
        "chat-to" => match args {
            [who, rest @ ..] if !rest.is_empty() => Ok(Action::ChatTo(target(who), rest.join(" "))),
            _ => Err("`chat-to` takes a name and text".into()),
        },
        "mute-self" => none(own(ClientMessage::SetAudio { muted: true })),
        "unmute-self" => none(own(ClientMessage::SetAudio { muted: false })),
        "video-on" => none(own(ClientMessage::SetVideo { on: true })),
        "video-off" => none(own(ClientMessage::SetVideo { on: false })),
        "hand-up" => none(own(ClientMessage::SetHand { raised: true })),
        "hand-down" => none(own(ClientMessage::SetHand { raised: false })),
        "share" | "resume-share" => none(own(ClientMessage::SetShare {
            state: ShareState::On,
        })),
        "stop-sharing" => none(own(ClientMessage::SetShare {
            state: ShareState::Off,
        })),
        "new-window" => none(Ok(Action::NewWindow)),
        "record" => none(own(ClientMessage::SetRecording { on: true })),
        "stop-recording" => none(own(ClientMessage::SetRecording { on: false })),
        "rename" => own(ClientMessage::Rename { name: text()? }),
        // The router checks the emoji against its fixed set.
        "react" => match args {
            [emoji] => own(ClientMessage::React {
                emoji: emoji.clone(),
            }),
            _ => Err("`react` takes one emoji".into()),
        },
        "leave" => none(Ok(Action::Leave)),
        "wait-for" => wait_for(args).map(Action::WaitFor),
        "mute" => at(|p| HostAction::Mute {
            participant_id: Some(p),
        }),
        "mute-all" => none(host(HostAction::Mute {
            participant_id: None,
        })),
        "ask-unmute" => at(|p| HostAction::AskUnmute { participant_id: p }),
        "stop-video" => at(|p| HostAction::StopVideo {
            participant_id: Some(p),
        }),
        "stop-all-video" => none(host(HostAction::StopVideo {
            participant_id: None,
        })),
        "expel" => at(|p| HostAction::Expel {
            participant_id: Some(p),
        }),
        "expel-all" => none(host(HostAction::Expel {
            participant_id: None,
        })),
        "allow-rejoin" => at(|p| HostAction::AllowRejoin { participant_id: p }),
        "lock" => none(host(HostAction::Lock { locked: true })),
        "unlock" => none(host(HostAction::Lock { locked: false })),
        "end" => none(host(HostAction::End)),
        "chat-policy" => match args {
            [p] => host(HostAction::SetChat {
                chat: match p.as_str() {
                    "everyone" => ChatPolicy::Everyone,
                    "host-only" => ChatPolicy::HostOnly,
                    "nobody" => ChatPolicy::Nobody,
                    other => return Err(format!("unknown chat policy `{other}`")),
                },
            }),
            _ => Err("`chat-policy` takes everyone, host-only or nobody".into()),
        },
        "share-policy" => match args {
            [p] => host(HostAction::SetScreenShare {
                share: match p.as_str() {
                    "everyone" => SharePolicy::Everyone,
                    "host-only" => SharePolicy::HostOnly,
                    other => return Err(format!("unknown share policy `{other}`")),
                },
            }),
            _ => Err("`share-policy` takes everyone or host-only".into()),
        },
        "allow-recording" | "forbid-recording" => {
            let allowed = name == "allow-recording";
            match args {
                [all] if all == "all" => host(HostAction::SetRecording {
                    participant_id: None,
                    allowed,
                }),
                [_] if allowed => at(|p| HostAction::SetRecording {
                    participant_id: Some(p),
                    allowed: true,
                }),
                [_] => at(|p| HostAction::SetRecording {
                    participant_id: Some(p),
                    allowed: false,
                }),
                _ => Err(format!("`{name}` takes a participant name or `all`")),
            }
        }
        "stop-share" => at(|p| HostAction::StopShare { participant_id: p }),
        "rename-participant" => match args {
            [who, new] => Ok(Action::RenameOther(target(who), new.clone())),
            _ => Err("`rename-participant` takes a name and a new name".into()),
        },
        "lower-hand" => at(|p| HostAction::LowerHand {
            participant_id: Some(p),
        }),
        "lower-all-hands" => none(host(HostAction::LowerHand {
            participant_id: None,
        })),
        "make-co-host" => at(|p| HostAction::SetRole {
            participant_id: p,
            role: Role::CoHost,
        }),
        "make-participant" => at(|p| HostAction::SetRole {
            participant_id: p,
            role: Role::Participant,
        }),
        "make-host" => at(|p| HostAction::MakeHost { participant_id: p }),
        "admit" => at(|p| HostAction::Admit {
            participant_id: Some(p),
        }),
        "admit-all" => none(host(HostAction::Admit {
            participant_id: None,
        })),
        "deny" => at(|p| HostAction::Deny { participant_id: p }),
        "waiting-room" => match args {
            [v] => host(HostAction::SetWaitingRoom {
                enabled: on_off(v)?,
            }),
            _ => Err("`waiting-room` takes on or off".into()),
        },
        "allow" => match args {
            [what, v] => host(HostAction::Allow {
                permission: match what.as_str() {
                    "unmute-self" => Permission::UnmuteSelf,
                    "start-video" => Permission::StartVideo,
                    "rename-self" => Permission::RenameSelf,
                    other => return Err(format!("unknown permission `{other}`")),
                },
                allowed: on_off(v)?,
            }),
            _ => Err("`allow` takes unmute-self|start-video|rename-self and on|off".into()),
        },
        other => Err(format!("unknown action `{other}`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_react_with_one_emoji() {
        let script = Script::parse("1s react 👍\n").unwrap();
        assert!(matches!(
            &script.steps[0].action,
            Action::Own(ClientMessage::React { emoji }) if emoji == "👍"
        ));
        assert!(Script::parse("1s react\n").is_err());
        assert!(Script::parse("1s react 👍 👏\n").is_err());
    }

    #[test]
    fn parses_the_issue_example() {
        let script = Script::parse(
            "# a comment\n\n2s chat hello\n2s chat-to \"Bo Bo\" hi there\n3s mute-all\n\
             4s expel \"NAME\"\n5s lock\n6s admit-all\n8s end\n1s mute #3\n",
        )
        .unwrap();
        let names: Vec<_> = script.steps.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "mute",
                "chat",
                "chat-to",
                "mute-all",
                "expel",
                "lock",
                "admit-all",
                "end"
            ]
        );
        assert_eq!(script.steps[0].line, 10);
        assert!(matches!(
            &script.steps[2].action,
            Action::ChatTo(Target::Name(n), t) if n == "Bo Bo" && t == "hi there"
        ));
        assert!(matches!(
            script.steps[0].action,
            Action::HostAt(Target::Id(ParticipantId(3)), _)
        ));
    }

    #[test]
    fn parses_wait_for() {
        let script = Script::parse(
            "0s wait-for participants 3\n0s wait-for joined \"Bo Bo\"\n\
             0s wait-for hand #2\n0s wait-for waiting 1\n0s wait-for refusals 1\n",
        )
        .unwrap();
        let conditions: Vec<_> = script
            .steps
            .iter()
            .map(|s| match &s.action {
                Action::WaitFor(c) => c.clone(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            conditions,
            [
                Condition::Participants(3),
                Condition::Joined(Target::Name("Bo Bo".into())),
                Condition::Hand(Target::Id(ParticipantId(2))),
                Condition::Waiting(1),
                Condition::Refusals(1),
            ]
        );
    }

    #[test]
    fn reports_the_first_bad_line() {
        for (text, line) in [
            ("1s chat hi\nsoon lock\n", 2),
            ("1s fly\n", 1),
            ("1s chat-to \"unclosed\n", 1),
            ("\n\n1s lock now\n", 3),
            ("1s\n", 1),
            ("1s waiting-room maybe\n", 1),
            ("1s wait-for participants many\n", 1),
            ("1s wait-for sunrise\n", 1),
        ] {
            assert_eq!(Script::parse(text).unwrap_err().line, line, "{text:?}");
        }
    }
}
