//! The `--stats FILE` report of `confer join`: a contract other tools read.
//!
//! Guaranteed keys: `transport`, `participant_id`, `roster` (entries with
//! `participant_id`, `name`, `role`), `chat_received` (entries with `from`,
//! `text`), `media.sent_packets`, `media.received.<ID>.packets`,
//! `left_reason` (`left`, `expelled`, `ended`, `refused`, `error`) and
//! `error`. Everything else is extra detail that may grow.
//!
//! `roster` lists everyone who was in the meeting while we were, ourselves
//! included, each with `present` (still there when we finished) and their
//! `left_reason` if they left. It is not just the roster at the very end
//! because a meeting's end is a race: clients told to stay equally long
//! leave milliseconds apart, and who took part must not depend on who left
//! first. `final_roster` is the roster at the very end.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use confer_client::media::{MediaEngineStats, RemoteMediaStats, SentTrackStats, track_name};
use confer_client::session::{RosterChange, Session, leave_reason_name};
use confer_wire::control::{LeaveReason, RosterEntry};
use confer_wire::ids::Role;
use serde::Serialize;

/// The whole report.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct StatsReport {
    /// `quic` or `tls`; `null` if no connection was made.
    pub(crate) transport: Option<&'static str>,
    /// The meeting asked for.
    pub(crate) meeting_id: u64,
    /// Our id, once admitted.
    pub(crate) participant_id: Option<u32>,
    /// Our role, once admitted.
    pub(crate) role: Option<&'static str>,
    /// Everyone who was in the meeting while we were (ourselves included).
    pub(crate) roster: Vec<RosterLine>,
    /// The roster when we finished.
    pub(crate) final_roster: Vec<RosterLine>,
    /// Roster changes after joining.
    pub(crate) roster_events: Vec<RosterEventLine>,
    /// Chat from others, in order (our own echoes excluded).
    pub(crate) chat_received: Vec<ChatLine>,
    /// Chat messages we sent.
    pub(crate) chat_sent: u64,
    /// Media counters.
    pub(crate) media: MediaReport,
    /// Latest ping round-trip time.
    pub(crate) rtt_ms: Option<f64>,
    /// What `--wait-for` asked and got.
    pub(crate) wait_for: Option<WaitForReport>,
    /// Non-fatal errors the router reported.
    pub(crate) router_errors: Vec<String>,
    /// Every meeting event received, in order: `{"type": T, "by": ID, "at_ms": MS, ...}`
    /// with the event's own fields.
    pub(crate) events: Vec<serde_json::Value>,
    /// Script actions the router (or name resolution) refused, in order.
    pub(crate) refusals: Vec<RefusalLine>,
    /// Messages from the router that were dropped as unusable.
    pub(crate) protocol_violations: u64,
    /// How media was keyed: `standard` (the router's keys) or `e2e` (MLS).
    pub(crate) encryption: &'static str,
    /// How many media key epochs the session installed.
    pub(crate) key_epochs_seen: u64,
    /// The E2E meeting's security code at the end; `null` in standard meetings.
    pub(crate) security_code: Option<String>,
    /// Media frames that did not open (tampered, unknown key id, replayed, ...).
    pub(crate) decrypt_failures: u64,
    /// How the session ended.
    pub(crate) left_reason: &'static str,
    /// What went wrong, for `refused` and `error`.
    pub(crate) error: Option<String>,
    /// Time from start to finish of the command.
    pub(crate) duration_ms: u64,
}

/// One refused script action.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RefusalLine {
    /// The script action's name (the last one run when the refusal came).
    pub(crate) action: Option<String>,
    /// The script line it came from.
    pub(crate) line: Option<usize>,
    /// The router's error code (`not_allowed`, ...) or `unknown_participant`.
    pub(crate) reason: String,
    /// The explanation.
    pub(crate) message: String,
}

/// One roster entry.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RosterLine {
    pub(crate) participant_id: u32,
    pub(crate) name: String,
    /// In `roster`: the role their join token gave them (as first seen); in
    /// `final_roster`: their role at the end.
    pub(crate) role: &'static str,
    /// Their latest role (after any hand-over or promotion).
    pub(crate) role_now: &'static str,
    pub(crate) guest: bool,
    /// From outside the host's organisation.
    pub(crate) external: bool,
    /// Microphone muted.
    pub(crate) muted: bool,
    /// Video on.
    pub(crate) video: bool,
    /// Hand raised.
    pub(crate) hand_raised: bool,
    /// Screen share: `off`, `on` or `paused`.
    pub(crate) sharing: confer_wire::host::ShareState,
    /// Recording locally.
    pub(crate) recording: bool,
    /// Still in the meeting when we finished.
    pub(crate) present: bool,
    /// Why they left, if they did.
    pub(crate) left_reason: Option<String>,
}

/// One roster change.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RosterEventLine {
    pub(crate) at_ms: u64,
    pub(crate) participant_id: u32,
    pub(crate) name: Option<String>,
    /// `joined` or `left`.
    pub(crate) event: &'static str,
    /// For `left`: why.
    pub(crate) reason: Option<String>,
}

/// One chat message received.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ChatLine {
    pub(crate) id: u64,
    pub(crate) from: u32,
    pub(crate) to: Option<u32>,
    pub(crate) text: String,
    /// Sealed end to end (E2E meetings): the router saw only ciphertext.
    pub(crate) e2e: bool,
}

/// Media counters.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct MediaReport {
    pub(crate) sent_packets: u64,
    pub(crate) sent_bytes: u64,
    /// By sender's participant id (as a string: JSON keys are strings).
    pub(crate) received: BTreeMap<String, ReceivedLine>,
    pub(crate) malformed_packets: u64,
    /// RTCP feedback about our streams (keyframe requests, NACKs).
    pub(crate) feedback_packets: u64,
    /// Our real media tracks (`audio`, `video_0`..`video_2`, `screen`):
    /// frames, keyframes, packets, retransmitted, seal_failures.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) sent_tracks: BTreeMap<String, SentTrackStats>,
    /// Capture sources that failed, with why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) source_errors: Vec<String>,
}

/// Media from one sender.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ReceivedLine {
    pub(crate) packets: u64,
    pub(crate) bytes: u64,
    pub(crate) synthetic_intact: u64,
    pub(crate) synthetic_corrupt: u64,
    /// Decoded real media (audio_frames_decoded, audio_frames_concealed,
    /// video_frames_decoded, video_keyframes, video_freezes, ...), when any
    /// arrived.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub(crate) decoded: Option<RemoteMediaStats>,
}

/// The `--wait-for` outcome.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct WaitForReport {
    /// Participants waited for.
    pub(crate) participants: usize,
    /// Whether the roster reached that size.
    pub(crate) reached: bool,
    /// Milliseconds after joining when it did.
    pub(crate) after_ms: Option<u64>,
}

impl StatsReport {
    /// Adds what the media engine counted (after [`Self::fill_from`]).
    pub(crate) fn fill_media(&mut self, stats: &MediaEngineStats) {
        self.media.sent_tracks = stats
            .sent
            .iter()
            .map(|(t, s)| (track_name(*t), *s))
            .collect();
        self.media.source_errors = stats.source_errors.clone();
        for (id, r) in &stats.received {
            let line = self
                .media
                .received
                .entry(id.0.to_string())
                .or_insert(ReceivedLine {
                    packets: 0,
                    bytes: 0,
                    synthetic_intact: 0,
                    synthetic_corrupt: 0,
                    decoded: None,
                });
            line.decoded = Some(*r);
        }
    }

    /// An empty report for `meeting_id`; `left_reason` starts as `error` so
    /// that a report written early never claims success.
    pub(crate) fn new(meeting_id: u64) -> Self {
        StatsReport {
            meeting_id,
            left_reason: "error",
            encryption: "standard",
            ..StatsReport::default()
        }
    }

    /// Copies everything the session recorded.
    pub(crate) fn fill_from(&mut self, session: &Session) {
        self.participant_id = session.participant_id().map(|p| p.0);
        self.events = session
            .meeting_events()
            .iter()
            .map(|record| {
                let mut line = serde_json::json!({
                    "type": record.event.name(),
                    "by": record.by.map(|p| p.0),
                    "at_ms": record.at_ms,
                });
                if let (Some(line), Ok(serde_json::Value::Object(fields))) =
                    (line.as_object_mut(), serde_json::to_value(&record.event))
                {
                    for (key, value) in fields {
                        if key != "kind" && key != "action" {
                            line.insert(key, value);
                        }
                    }
                }
                line
            })
            .collect();
        // Reactions are not meeting events on the wire, but read as one
        // here: who, when, what.
        let reactions = session.reactions().iter().map(|r| {
            serde_json::json!({
                "type": "reaction",
                "by": r.from.0,
                "at_ms": r.at_ms,
                "emoji": r.emoji,
            })
        });
        self.events.extend(reactions);
        self.events
            .sort_by_key(|line| line.get("at_ms").and_then(serde_json::Value::as_u64));
        self.role = session.role().map(|r| r.as_str());
        let line = |e: &RosterEntry, left: Option<LeaveReason>, role: Role| RosterLine {
            participant_id: e.participant_id.0,
            name: e.name.clone(),
            role: role.as_str(),
            role_now: e.role.as_str(),
            guest: e.guest,
            external: e.external,
            muted: e.muted,
            video: e.video,
            hand_raised: e.hand_raised,
            sharing: e.sharing,
            recording: e.recording,
            present: left.is_none(),
            left_reason: left.map(leave_reason_name),
        };
        self.roster = session
            .roster()
            .seen()
            .map(|s| line(&s.entry, s.left, s.first_role))
            .collect();
        self.final_roster = session
            .roster()
            .iter()
            .map(|e| line(e, None, e.role))
            .collect();
        self.roster_events = session
            .roster_events()
            .iter()
            .map(|e| RosterEventLine {
                at_ms: e.at_ms,
                participant_id: e.participant_id.0,
                name: e.name.clone(),
                event: match e.change {
                    RosterChange::Joined => "joined",
                    RosterChange::Left(_) => "left",
                },
                reason: match e.change {
                    RosterChange::Joined => None,
                    RosterChange::Left(reason) => Some(leave_reason_name(reason)),
                },
            })
            .collect();
        self.chat_received = session
            .chat_received()
            .iter()
            .map(|c| ChatLine {
                id: c.id,
                from: c.from.0,
                to: c.to.map(|t| t.0),
                text: c.text.clone(),
                e2e: c.e2e,
            })
            .collect();
        self.chat_sent = session.chat_sent();
        let media = session.media();
        self.media = MediaReport {
            sent_packets: media.sent_packets,
            sent_bytes: media.sent_bytes,
            received: media
                .received
                .iter()
                .map(|(id, r)| {
                    (
                        id.0.to_string(),
                        ReceivedLine {
                            packets: r.packets,
                            bytes: r.bytes,
                            synthetic_intact: r.synthetic_intact,
                            synthetic_corrupt: r.synthetic_corrupt,
                            decoded: None,
                        },
                    )
                })
                .collect(),
            malformed_packets: media.malformed_packets,
            feedback_packets: media.feedback_packets,
            ..MediaReport::default()
        };
        self.rtt_ms = session.rtt().map(|d| d.as_secs_f64() * 1000.0);
        self.router_errors = session
            .router_errors()
            .iter()
            .map(|(code, message)| {
                format!("{}: {message}", confer_client::session::code_name(*code))
            })
            .collect();
        self.protocol_violations = session.protocol_violations();
        let keys = session.encryption_stats();
        self.encryption = keys.encryption.as_str();
        self.key_epochs_seen = keys.key_epochs_seen;
        self.security_code = keys.security_code;
        self.decrypt_failures = keys.decrypt_failures;
        if let Some(reason) = session.end_reason() {
            self.left_reason = reason.as_str();
            self.error = reason.error_text();
        }
    }

    /// Records the command's run time.
    pub(crate) fn set_duration(&mut self, elapsed: Duration) {
        self.duration_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
    }

    /// Writes the report to `path` (pretty JSON).
    pub(crate) fn write(&self, path: &Path) -> anyhow::Result<()> {
        let mut body = serde_json::to_vec_pretty(self).context("cannot encode the statistics")?;
        body.push(b'\n');
        std::fs::write(path, body)
            .with_context(|| format!("cannot write statistics to {}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use confer_client::session::SessionConfig;
    use confer_wire::control::ServerMessage;
    use confer_wire::ids::{MeetingId, ParticipantId, Role};

    use super::*;

    #[test]
    fn has_the_contracted_keys() {
        let t0 = Instant::now();
        let mut s = Session::new(SessionConfig::new(MeetingId(9), "t"), t0);
        s.handle_message(
            t0,
            ServerMessage::Joined {
                version: 1,
                participant_id: ParticipantId(2),
                meeting_id: MeetingId(9),
                role: Role::Host,
                roster: vec![RosterEntry {
                    participant_id: ParticipantId(2),
                    name: "Bo".into(),
                    role: Role::Host,
                    guest: false,
                    ..RosterEntry::default()
                }],
                keepalive_interval_ms: 2000,
                silence_timeout_ms: 6000,
                settings: Default::default(),
            },
        );
        s.handle_message(
            t0,
            ServerMessage::Chat {
                id: 1,
                from: ParticipantId(1),
                to: None,
                text: "hi".into(),
            },
        );
        let mut packet = Vec::new();
        confer_wire::rtp::RtpHeader {
            marker: false,
            payload_type: 96,
            sequence: 1,
            timestamp: 1,
            ssrc: 1 << 8,
        }
        .write(b"x", &mut packet);
        s.handle_media(t0, &packet);
        s.leave(t0);
        s.handle_transport_closed(t0, None);
        let mut report = StatsReport::new(9);
        report.transport = Some("quic");
        report.fill_from(&s);
        let v = serde_json::to_value(&report).unwrap();
        assert_eq!(v["transport"], "quic");
        assert_eq!(v["participant_id"], 2);
        assert_eq!(v["roster"][0]["participant_id"], 2);
        assert_eq!(v["roster"][0]["name"], "Bo");
        assert_eq!(v["roster"][0]["role"], "host");
        assert_eq!(v["roster"][0]["present"], true);
        assert_eq!(v["final_roster"][0]["name"], "Bo");
        assert_eq!(v["chat_received"][0]["from"], 1);
        assert_eq!(v["chat_received"][0]["text"], "hi");
        assert_eq!(v["media"]["sent_packets"], 0);
        assert_eq!(v["media"]["received"]["1"]["packets"], 1);
        assert_eq!(v["left_reason"], "left");
        assert!(v["error"].is_null());
    }

    #[test]
    fn reports_media_keys() {
        let t0 = Instant::now();
        let mut s = Session::new(SessionConfig::new(MeetingId(9), "t"), t0);
        let v = serde_json::to_value(StatsReport::new(9)).unwrap();
        assert_eq!(v["encryption"], "standard");
        assert_eq!(v["key_epochs_seen"], 0);
        assert!(v["security_code"].is_null());
        assert_eq!(v["decrypt_failures"], 0);
        let joined = serde_json::json!({
            "type": "joined", "version": 1, "participant_id": 2, "meeting_id": 9,
            "role": "host", "roster": [], "keepalive_interval_ms": 2000,
            "silence_timeout_ms": 6000,
        });
        s.handle_control(t0, joined.to_string().as_bytes());
        for epoch in [1, 2] {
            let key =
                serde_json::json!({"type": "media_key", "epoch": epoch, "key": "A".repeat(43)});
            s.handle_control(t0, key.to_string().as_bytes());
        }
        assert!(
            s.open_frame(ParticipantId(1), b"m", b"not a frame")
                .is_err()
        );
        let mut report = StatsReport::new(9);
        report.fill_from(&s);
        let v = serde_json::to_value(&report).unwrap();
        assert_eq!(v["encryption"], "standard");
        assert_eq!(v["key_epochs_seen"], 2);
        assert!(v["security_code"].is_null());
        assert_eq!(v["decrypt_failures"], 1);
    }

    #[test]
    fn an_early_report_says_error() {
        let v = serde_json::to_value(StatsReport::new(1)).unwrap();
        assert_eq!(v["left_reason"], "error");
        assert!(v["transport"].is_null());
        assert_eq!(v["roster"], serde_json::json!([]));
    }
}
