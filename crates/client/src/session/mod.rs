//! The meeting session: everything a client decides while it is in a
//! meeting, as a sans-IO state machine.
//!
//! A [`Session`] sends the `join`, mirrors the roster the router announces,
//! schedules keep-alive pings, relays chat, counts media per sender,
//! optionally generates the synthetic test stream, and ends with an
//! [`EndReason`]. It owns no socket, task or clock, so tests drive it with a
//! virtual clock and every decision is reproducible.
//!
//! # Driving contract
//!
//! The driver (see [`crate::driver`]) owns the connection and the clock:
//!
//! 1. Create the session with [`Session::new`] once the connection is up.
//! 2. After **every** call into the session, drain [`Session::poll_output`]
//!    until it returns `None`, carrying out each [`Output`] in order
//!    (`Control` before a later `Close` must reach the router).
//! 3. Sleep until [`Session::poll_timeout`] (or until input arrives), then
//!    call [`Session::handle_timeout`]. `None` means no timer is needed.
//! 4. Feed what arrives: [`Session::handle_control`] for each control frame's
//!    payload, [`Session::handle_media`] for each RTP packet,
//!    [`Session::handle_transport_closed`] when the connection ends or fails.
//! 5. Pass user requests in: [`Session::send_chat`], [`Session::react`],
//!    [`Session::send_media`],
//!    [`Session::request`] (host controls and changes to ourselves, which
//!    the router decides), [`Session::handle_new_window_detected`] (pauses
//!    a whole-screen share), [`Session::leave`]. While the router holds us
//!    in the waiting room the state stays `Joining` ([`Session::waiting`]
//!    says why) and the session keeps pinging.
//! 6. Stop once [`Session::is_ended`] is true and the outputs are drained;
//!    the session keeps its roster and statistics for reading afterwards.
//!
//! Every `now` passed in must not go backwards.

mod config;
mod controls;
mod frame_crypto;
mod inspect;
mod keys;
mod keys_mls;
mod output;
mod roster;
mod sealed_chat;
mod stats;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;
use confer_media::synthetic::{self, SyntheticSource};
use confer_wire::PROTOCOL_VERSION;
use confer_wire::control::{ClientMessage, ErrorCode, LeaveReason, MAX_CHAT_LEN, ServerMessage};
use confer_wire::ids::{MeetingId, ParticipantId, Role, participant_of_ssrc};
use confer_wire::rtcp;
use confer_wire::rtp::{self, PT_SYNTHETIC, RtpPacket};

pub use config::{
    DEFAULT_JOIN_TIMEOUT, DEFAULT_LEAVE_LINGER, SessionConfig, SessionError, SessionState,
};
pub use controls::MeetingEventRecord;
pub use keys::{Encryption, EncryptionStats, FrameCryptoError, standard_key_id};
pub use output::{Event, Output};
pub use roster::{Roster, SeenParticipant};
pub use stats::{
    ChatRecord, EndReason, MediaStats, ReactionRecord, ReceivedMedia, RosterChange, RosterEvent,
    code_name, leave_reason_name,
};

/// Pings whose pong we still wait for; older ones are forgotten so a router
/// that never answers cannot make the list grow.
const MAX_PINGS_IN_FLIGHT: usize = 8;

/// The track number of the synthetic stream.
const SYNTHETIC_TRACK: u8 = 0;

/// Internal state with the data each phase needs.
#[derive(Debug, Clone)]
enum Phase {
    Joining {
        deadline: Instant,
    },
    /// Held in the waiting room (or waiting for a host); pinging.
    Waiting,
    Joined,
    Leaving {
        deadline: Instant,
    },
    Ended(EndReason),
}

/// What the router told us when it admitted us.
#[derive(Debug, Clone, Copy)]
struct Admission {
    participant_id: ParticipantId,
    meeting_id: MeetingId,
    role: Role,
    keepalive: Duration,
    /// How long we tolerate hearing nothing from the router.
    silence_limit: Duration,
}

/// A client's meeting session (see the module docs for the driving contract).
#[derive(Debug)]
pub struct Session {
    config: SessionConfig,
    phase: Phase,
    /// When the session was created; event times are relative to it.
    created_at: Instant,
    admission: Option<Admission>,
    /// Last time anything arrived from the router, for the silence check.
    last_heard: Instant,
    /// When the next keep-alive ping is due (joined only).
    next_ping: Option<Instant>,
    next_nonce: u64,
    /// Pings awaiting their pong: nonce and send time, oldest first.
    pings_in_flight: VecDeque<(u64, Instant)>,
    rtt: Option<Duration>,
    roster: Roster,
    roster_events: Vec<RosterEvent>,
    chat_received: Vec<ChatRecord>,
    /// Reactions relayed to us, ours included.
    reactions: Vec<ReactionRecord>,
    chat_sent: u64,
    media: MediaStats,
    /// Non-fatal errors the router reported.
    router_errors: Vec<(ErrorCode, String)>,
    /// Messages from the router that were dropped as unusable.
    protocol_violations: u64,
    synthetic: Option<SyntheticSource>,
    outputs: VecDeque<Output>,
    /// Why we are held before entering, while we are.
    waiting: Option<confer_wire::host::WaitReason>,
    /// Who waits to enter, as last announced (hosts and co-hosts only).
    waiting_room: Vec<confer_wire::host::WaitingEntry>,
    /// Every meeting event received, in order.
    meeting_events: Vec<MeetingEventRecord>,
    /// The meeting's rules as the router last announced them (`controls.rs`).
    rules: controls::Rules,
    /// Media keys: SFrame sender and receivers, epochs (`keys.rs`).
    frame_keys: keys::FrameKeys,
}

impl Session {
    /// A session that starts by asking to join with `config.token`.
    pub fn new(config: SessionConfig, now: Instant) -> Self {
        let mut outputs = VecDeque::new();
        outputs.push_back(Output::Control(ClientMessage::Join {
            version: PROTOCOL_VERSION,
            meeting_id: config.meeting_id,
            token: config.token.clone(),
        }));
        Session {
            frame_keys: keys::FrameKeys::new(keys::encryption_of_token(&config.token)),
            phase: Phase::Joining {
                deadline: now + config.join_timeout,
            },
            config,
            created_at: now,
            admission: None,
            last_heard: now,
            next_ping: None,
            next_nonce: 1,
            pings_in_flight: VecDeque::new(),
            rtt: None,
            roster: Roster::default(),
            roster_events: Vec::new(),
            rules: controls::Rules::default(),
            chat_received: Vec::new(),
            reactions: Vec::new(),
            chat_sent: 0,
            media: MediaStats::default(),
            router_errors: Vec::new(),
            protocol_violations: 0,
            synthetic: None,
            outputs,
            waiting: None,
            waiting_room: Vec::new(),
            meeting_events: Vec::new(),
        }
    }

    /// The next thing to do, or `None` when there is nothing right now.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When [`Self::handle_timeout`] must next be called, if ever.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match &self.phase {
            Phase::Joining { deadline } | Phase::Leaving { deadline } => Some(*deadline),
            Phase::Waiting => [
                self.next_ping,
                Some(self.last_heard + controls::WAITING_SILENCE),
            ]
            .into_iter()
            .flatten()
            .min(),
            Phase::Joined => {
                let silence = self.admission.map(|a| self.last_heard + a.silence_limit);
                [
                    self.next_ping,
                    silence,
                    self.synthetic.as_ref().map(|s| s.poll_timeout()),
                ]
                .into_iter()
                .flatten()
                .min()
            }
            Phase::Ended(_) => None,
        }
    }

    /// Lets time pass: join and leave deadlines, silence, pings, media.
    pub fn handle_timeout(&mut self, now: Instant) {
        match self.phase {
            Phase::Joining { deadline } if now >= deadline => {
                let secs = self.config.join_timeout.as_secs_f64();
                self.end(EndReason::Error(format!(
                    "the router did not answer the join within {secs}s"
                )));
            }
            Phase::Leaving { deadline } if now >= deadline => self.end(EndReason::Left),
            Phase::Joined => self.joined_timeout(now),
            Phase::Waiting => self.waiting_timeout(now),
            _ => {}
        }
    }

    fn joined_timeout(&mut self, now: Instant) {
        let Some(admission) = self.admission else {
            return;
        };
        if now >= self.last_heard + admission.silence_limit {
            let ms = now.duration_since(self.last_heard).as_millis();
            self.end(EndReason::Error(format!(
                "heard nothing from the router for {ms} ms"
            )));
            return;
        }
        if let Some(due) = self.next_ping
            && now >= due
        {
            let nonce = self.next_nonce;
            self.next_nonce += 1;
            if self.pings_in_flight.len() == MAX_PINGS_IN_FLIGHT {
                self.pings_in_flight.pop_front();
            }
            self.pings_in_flight.push_back((nonce, now));
            self.outputs
                .push_back(Output::Control(ClientMessage::Ping { nonce }));
            // From `now`, not from `due`: after a stall, one ping is enough.
            self.next_ping = Some(now + admission.keepalive);
        }
        if let Some(source) = self.synthetic.as_mut() {
            while let Some(packet) = source.poll_packet(now) {
                self.media.sent_packets += 1;
                self.media.sent_bytes += packet.len() as u64;
                self.outputs.push_back(Output::Media(Bytes::from(packet)));
            }
        }
    }

    /// Handles the payload of one control frame from the router.
    pub fn handle_control(&mut self, now: Instant, payload: &[u8]) {
        if self.is_ended() {
            return;
        }
        self.last_heard = now;
        match ServerMessage::decode(payload) {
            Ok(msg) => self.handle_message(now, msg),
            Err(e) => self.violation(format!("{e}")),
        }
    }

    /// Handles one decoded control message from the router.
    pub fn handle_message(&mut self, now: Instant, msg: ServerMessage) {
        if self.is_ended() {
            return;
        }
        self.last_heard = now;
        let joining = matches!(self.phase, Phase::Joining { .. } | Phase::Waiting);
        match msg {
            ServerMessage::Joined {
                version,
                participant_id,
                meeting_id,
                role,
                roster,
                keepalive_interval_ms,
                silence_timeout_ms,
                settings,
            } => {
                if !joining {
                    return self.violation("a second `joined`".into());
                }
                if meeting_id != self.config.meeting_id {
                    return self.end(EndReason::Error(format!(
                        "the router admitted us to meeting {meeting_id}, not {}",
                        self.config.meeting_id
                    )));
                }
                if version != PROTOCOL_VERSION {
                    return self.end(EndReason::Error(format!(
                        "the router speaks protocol version {version}, we speak {PROTOCOL_VERSION}"
                    )));
                }
                self.rules = controls::Rules::joined(settings);
                self.admit(
                    now,
                    participant_id,
                    meeting_id,
                    role,
                    roster,
                    keepalive_interval_ms,
                    silence_timeout_ms,
                );
                self.on_joined_keys();
            }
            ServerMessage::Error {
                code,
                message,
                fatal,
            } => {
                if fatal {
                    let reason = if joining {
                        EndReason::Refused { code, message }
                    } else {
                        EndReason::Error(format!(
                            "the router closed the session: {}: {message}",
                            code_name(code)
                        ))
                    };
                    self.end(reason);
                } else {
                    self.router_errors.push((code, message.clone()));
                    self.outputs
                        .push_back(Output::Event(Event::RouterError { code, message }));
                }
            }
            ServerMessage::Removed { reason } => self.end(match reason {
                LeaveReason::Denied => EndReason::Refused {
                    code: ErrorCode::NotAllowed,
                    message: "a host turned you away from the waiting room".into(),
                },
                LeaveReason::Left => EndReason::Left,
                LeaveReason::Expelled => EndReason::Expelled,
                LeaveReason::Ended => EndReason::Ended,
                other => EndReason::Error(format!(
                    "removed by the router: {}",
                    leave_reason_name(other)
                )),
            }),
            ServerMessage::Pong { nonce } => {
                if let Some(pos) = self.pings_in_flight.iter().position(|(n, _)| *n == nonce) {
                    let (_, sent) = self.pings_in_flight[pos];
                    self.rtt = Some(now.duration_since(sent));
                    // Pongs come in order, so anything older is lost.
                    self.pings_in_flight.drain(..=pos);
                }
            }
            ServerMessage::Waiting {
                meeting_id, reason, ..
            } if joining && meeting_id == self.config.meeting_id => self.on_waiting(now, reason),
            _ if joining => self.violation("a message before `joined`".into()),
            msg @ (ServerMessage::ParticipantUpdated { .. }
            | ServerMessage::Event { .. }
            | ServerMessage::WaitingRoom { .. }) => self.on_meeting_message(now, msg),
            ServerMessage::ParticipantJoined { participant } => {
                self.roster_events.push(RosterEvent {
                    at_ms: self.ms_since_start(now),
                    participant_id: participant.participant_id,
                    name: Some(participant.name.clone()),
                    change: RosterChange::Joined,
                });
                self.roster.insert(participant.clone());
                self.outputs
                    .push_back(Output::Event(Event::ParticipantJoined(participant)));
            }
            ServerMessage::ParticipantLeft {
                participant_id,
                reason,
            } => {
                let name = self.roster.remove(participant_id, reason).map(|e| e.name);
                self.roster_events.push(RosterEvent {
                    at_ms: self.ms_since_start(now),
                    participant_id,
                    name: name.clone(),
                    change: RosterChange::Left(reason),
                });
                self.outputs
                    .push_back(Output::Event(Event::ParticipantLeft {
                        participant_id,
                        name,
                        reason,
                    }));
            }
            ServerMessage::Chat { id, from, to, text } => {
                let own = Some(from) == self.participant_id();
                if self.frame_keys.stats().encryption == Encryption::E2e {
                    // The router must not relay plain text in an E2E
                    // meeting; showing it would pass it off as sealed.
                    return self.violation("plain chat in an end-to-end encrypted meeting".into());
                }
                if !own {
                    self.chat_received.push(ChatRecord {
                        id,
                        from,
                        to,
                        text: text.clone(),
                        e2e: false,
                    });
                }
                let from_name = self.roster.get(from).map(|e| e.name.clone());
                self.outputs.push_back(Output::Event(Event::Chat {
                    id,
                    from,
                    from_name,
                    to,
                    text,
                    own,
                    e2e: false,
                }));
            }
            ServerMessage::SealedChat {
                id,
                from,
                to,
                ciphertext,
            } => {
                if self.frame_keys.stats().encryption != Encryption::E2e {
                    return self.violation("sealed chat in a standard meeting".into());
                }
                self.on_sealed_chat(id, from, to, ciphertext);
            }
            ServerMessage::Reaction { from, emoji } => {
                self.reactions.push(ReactionRecord {
                    at_ms: self.ms_since_start(now),
                    from,
                    emoji: emoji.clone(),
                });
                let from_name = self.roster.get(from).map(|e| e.name.clone());
                self.outputs.push_back(Output::Event(Event::Reaction {
                    from,
                    from_name,
                    emoji,
                }));
            }
            ServerMessage::MediaKey(key) => self.on_media_key(key),
            ServerMessage::Mls(message) => self.on_mls(message),
            // Messages a later protocol version may add; the router is
            // responsible for not sending them to a version-1 client.
            _ => self.violation("a message this client does not know".into()),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn admit(
        &mut self,
        now: Instant,
        participant_id: ParticipantId,
        meeting_id: MeetingId,
        role: Role,
        roster: Vec<confer_wire::control::RosterEntry>,
        keepalive_interval_ms: u32,
        silence_timeout_ms: u32,
    ) {
        // A router announcing a zero interval would make us ping in a loop.
        let keepalive = Duration::from_millis(u64::from(keepalive_interval_ms.max(100)));
        // The router speaks only to answer us (pongs every keep-alive), so allow
        // one keep-alive on top of its own silence timeout before giving up.
        let silence_limit =
            Duration::from_millis(u64::from(silence_timeout_ms.max(1000))) + keepalive;
        self.admission = Some(Admission {
            participant_id,
            meeting_id,
            role,
            keepalive,
            silence_limit,
        });
        self.roster.reset(roster.clone());
        self.phase = Phase::Joined;
        self.waiting = None;
        self.next_ping = Some(now + keepalive);
        if self.config.synthetic_media {
            self.synthetic = Some(SyntheticSource::new(participant_id, SYNTHETIC_TRACK, now));
        }
        self.outputs.push_back(Output::Event(Event::Joined {
            participant_id,
            meeting_id,
            role,
            roster,
        }));
        // The first media packet is due now.
        self.joined_timeout(now);
    }

    /// Handles one RTP packet from the router (a datagram or a media frame).
    ///
    /// Returns `true` when it is real media (or RTCP feedback) that the
    /// driver should pass on to its [`crate::media::MediaEngine`]; the
    /// synthetic test stream and anything malformed stay here.
    pub fn handle_media(&mut self, now: Instant, packet: &[u8]) -> bool {
        if self.is_ended() {
            return false;
        }
        self.last_heard = now;
        // RTCP shares the path (RFC 5761) and is not RTP: a 12-byte PLI
        // read as RTP claims a CSRC it does not have and would be dropped
        // as truncated, and every keyframe request with it.
        if rtcp::is_rtcp(packet) {
            self.media.feedback_packets += 1;
            return true;
        }
        let Ok(parsed) = RtpPacket::parse(packet) else {
            self.media.malformed_packets += 1;
            return false;
        };
        let from = participant_of_ssrc(parsed.header.ssrc);
        let entry = self.media.received.entry(from).or_default();
        entry.packets += 1;
        entry.bytes += packet.len() as u64;
        if parsed.header.payload_type == PT_SYNTHETIC {
            match synthetic::parse_payload(parsed.payload) {
                Ok(_) => entry.synthetic_intact += 1,
                Err(_) => entry.synthetic_corrupt += 1,
            }
            return false;
        }
        true
    }

    /// The connection closed or failed; `detail` says how, if known.
    pub fn handle_transport_closed(&mut self, _now: Instant, detail: Option<&str>) {
        let suffix = detail.map(|d| format!(": {d}")).unwrap_or_default();
        let reason = match self.phase {
            Phase::Joining { .. } => EndReason::Error(format!(
                "the connection closed before the router answered the join{suffix}"
            )),
            Phase::Joined | Phase::Waiting => {
                EndReason::Error(format!("the connection to the router was lost{suffix}"))
            }
            Phase::Leaving { .. } => EndReason::Left,
            Phase::Ended(_) => return,
        };
        self.end(reason);
    }

    /// Sends a chat message to everyone (`to` = `None`) or to one participant.
    ///
    /// In an E2E meeting the message is sealed with the meeting's MLS group
    /// (`sealed_chat.rs`); until this session is in the group it waits, up
    /// to 32 messages ([`SessionError::ChatQueueFull`] beyond).
    pub fn send_chat(&mut self, to: Option<ParticipantId>, text: &str) -> Result<(), SessionError> {
        self.require_joined()?;
        if text.is_empty() || text.len() > MAX_CHAT_LEN {
            return Err(SessionError::InvalidChat(text.len()));
        }
        if self.frame_keys.stats().encryption == Encryption::E2e {
            return self.send_sealed_chat(to, text);
        }
        self.chat_sent += 1;
        self.outputs.push_back(Output::Control(ClientMessage::Chat {
            to,
            text: text.to_owned(),
        }));
        Ok(())
    }

    /// Reacts with `emoji`, one of [`confer_wire::control::REACTIONS`]; the
    /// router relays it to everyone (us included) as [`Event::Reaction`],
    /// at most one every 500 ms.
    pub fn react(&mut self, emoji: &str) -> Result<(), SessionError> {
        self.require_joined()?;
        if !confer_wire::control::REACTIONS.contains(&emoji) {
            return Err(SessionError::InvalidReaction(emoji.to_owned()));
        }
        self.outputs
            .push_back(Output::Control(ClientMessage::React {
                emoji: emoji.to_owned(),
            }));
        Ok(())
    }

    /// Sends one RTP packet of ours (for sources other than the built-in
    /// synthetic one), or one RTCP feedback packet (PLI/NACK) we address
    /// to another participant's stream. The RTP SSRC, or the feedback's
    /// *sender* SSRC, must be one of ours: the router drops anything else,
    /// and refusing it here keeps the fault visible at its source.
    pub fn send_media(&mut self, packet: Bytes) -> Result<(), SessionError> {
        self.require_joined()?;
        let ssrc = if confer_wire::rtcp::is_rtcp(&packet) {
            confer_wire::rtcp::FeedbackPacket::parse(&packet)
                .map_err(|e| SessionError::InvalidMedia(e.to_string()))?
                .sender_ssrc
        } else {
            rtp::ssrc(&packet).map_err(|e| SessionError::InvalidMedia(e.to_string()))?
        };
        if Some(participant_of_ssrc(ssrc)) != self.participant_id() {
            return Err(SessionError::InvalidMedia(format!(
                "SSRC {ssrc:#x} is not ours"
            )));
        }
        self.media.sent_packets += 1;
        self.media.sent_bytes += packet.len() as u64;
        self.outputs.push_back(Output::Media(packet));
        Ok(())
    }

    /// Leaves the meeting: says `leave` and waits (at most
    /// [`SessionConfig::leave_linger`]) for the router to close.
    pub fn leave(&mut self, now: Instant) {
        match self.phase {
            // Not admitted yet: there is nobody to say goodbye to; closing
            // the connection is the whole of leaving.
            Phase::Joining { .. } => self.end(EndReason::Left),
            Phase::Joined | Phase::Waiting => {
                self.outputs
                    .push_back(Output::Control(ClientMessage::Leave));
                self.synthetic = None;
                self.phase = Phase::Leaving {
                    deadline: now + self.config.leave_linger,
                };
            }
            Phase::Leaving { .. } | Phase::Ended(_) => {}
        }
    }

    /// Ends the session because of a failure outside it (for example the
    /// driver could not write to the connection).
    pub fn fail(&mut self, reason: impl Into<String>) {
        if matches!(self.phase, Phase::Leaving { .. }) {
            // We were going anyway; the goodbye not arriving changes nothing.
            self.end(EndReason::Left);
        } else {
            self.end(EndReason::Error(reason.into()));
        }
    }

    fn require_joined(&self) -> Result<(), SessionError> {
        match self.phase {
            Phase::Joined => Ok(()),
            _ => Err(SessionError::NotJoined(self.state())),
        }
    }

    fn violation(&mut self, what: String) {
        if matches!(self.phase, Phase::Joining { .. }) {
            // Before joining there is no session to protect: give up, as the
            // protocol has the router do with a bad first message.
            self.end(EndReason::Error(format!("the router sent {what}")));
        } else {
            self.protocol_violations += 1;
            self.outputs
                .push_back(Output::Event(Event::ProtocolViolation(what)));
        }
    }

    fn end(&mut self, reason: EndReason) {
        if self.is_ended() {
            return;
        }
        self.phase = Phase::Ended(reason.clone());
        self.synthetic = None;
        self.next_ping = None;
        self.outputs.push_back(Output::Event(Event::Ended(reason)));
        self.outputs.push_back(Output::Close);
    }

    fn ms_since_start(&self, now: Instant) -> u64 {
        u64::try_from(now.saturating_duration_since(self.created_at).as_millis())
            .unwrap_or(u64::MAX)
    }
}
