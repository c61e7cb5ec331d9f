//! [`Router`]: every meeting on this router node as one state machine.
//!
//! The decisions too long to sit inline live beside it: admission in
//! `join`, chat relaying (plain and sealed) in `chat`, reactions in
//! `reactions`, host actions in `host_controls`,
//! participants' own controls in `self_controls`, the event queue for
//! observers in `reporting`, and the waiting room,
//! the host role's hand-over and the hostless-meeting rule in
//! `waiting_room`.

mod chat;
pub(super) mod forwarding;
mod host_controls;
mod join;
mod media_keys;
mod reactions;
mod reporting;
mod self_controls;
mod waiting_room;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::time::Instant;

use bytes::Bytes;
use confer_wire::control::{ClientMessage, DecodeError, ErrorCode, LeaveReason, ServerMessage};
use confer_wire::frame::{FrameError, MAX_MEDIA_LEN};
use confer_wire::host::MeetingEvent;
use confer_wire::ids::{MeetingId, ParticipantId, Role, participant_of_ssrc};

use super::bans::RetainedBans;
use super::config::CoreConfig;
use super::event::{MeetingEndReason, RouterEvent};
use super::input::ControlInput;
use super::meeting::Meeting;
use super::output::{CloseReason, ConnectionId, Output};
use super::sessions::SessionLedger;
use super::stats::RouterStats;

/// The meetings on one router node, as a deterministic state machine.
///
/// The router owns no socket, clock, thread or channel. Its driver feeds it
/// what happened and carries out what it asks:
///
/// 1. When a transport connection opens, call [`Router::handle_connect`]
///    and remember the [`ConnectionId`] it returns.
/// 2. Feed every decoded control frame with [`Router::handle_control`],
///    every media packet (a QUIC datagram or a media frame) with
///    [`Router::handle_media`], a framing error with
///    [`Router::handle_frame_error`], and the connection's end with
///    [`Router::handle_disconnect`].
/// 3. After any `handle_*` call, drain [`Router::poll_output`] until it
///    returns `None` and carry out each [`Output`] in order.
/// 4. Ask [`Router::poll_timeout`] when the router next needs attention;
///    at (or after) that instant call [`Router::handle_timeout`], then drain
///    the outputs again. Recheck the deadline after every input: a new
///    connection can bring it forward.
/// 5. Optionally drain [`Router::poll_event`] to learn what happened in
///    meetings ([`RouterEvent`]); undrained events are bounded and the
///    oldest dropped.
///
/// Every input carries `now`, the time it happened on a monotonic clock;
/// the router never reads a clock itself, so tests drive it with a virtual
/// one. Inputs naming a connection the router has closed or never opened
/// are ignored (they race with [`Output::Close`] in any real driver).
///
/// Host controls (mute, expel, lock, end, waiting room, …) arrive as
/// [`ClientMessage::Host`] through [`Router::handle_control`] and are checked
/// against the role the participant's join token gave them (or the router
/// later handed them); see `docs/protocol.md`, "Host controls".
#[derive(Debug)]
pub struct Router {
    /// Timers and limits.
    config: CoreConfig,
    /// Every open connection.
    conns: HashMap<ConnectionId, Connection>,
    /// Every meeting with at least one participant.
    meetings: HashMap<MeetingId, Meeting>,
    /// Join-token session ids already admitted.
    sessions: SessionLedger,
    /// One entry per open connection, never later than that connection's
    /// real deadline. Deadlines only move later (a joined participant is
    /// heard from again), so instead of updating the heap on every packet,
    /// an entry that fires early is pushed back with the real deadline.
    timers: BinaryHeap<Reverse<(Instant, ConnectionId)>>,
    /// Deadlines of meetings running without a host (warning, then end).
    /// Like `timers`, an entry may be stale; it is rechecked when it fires.
    meeting_timers: BinaryHeap<Reverse<(Instant, MeetingId)>>,
    /// The `now` of the latest input, for decisions made while forgetting
    /// a connection (a departing host starts the hostless clock).
    now: Instant,
    /// Outputs not yet polled.
    outputs: VecDeque<Output>,
    /// Events not yet polled (at most `MAX_PENDING_EVENTS`).
    events: VecDeque<RouterEvent>,
    /// The id the next connection gets.
    next_conn: u64,
    /// Counters.
    stats: RouterStats,
    /// Standard meetings' media keys (`media_keys`).
    media_keys: media_keys::MediaKeys,
    /// Bans of meetings that emptied, kept until every token issued
    /// before them has expired (`bans.rs`).
    retained_bans: RetainedBans,
}

/// What the router knows about one connection.
#[derive(Debug)]
struct Connection {
    /// When it opened; the join deadline counts from here.
    connected_at: Instant,
    /// When anything last arrived on it; the silence deadline counts from here.
    last_heard: Instant,
    /// Whether it has joined, and as whom.
    state: ConnState,
}

/// Where a connection is in its life.
#[derive(Debug, Clone, Copy)]
enum ConnState {
    /// Connected; `join` not yet accepted.
    Pending,
    /// Held in a meeting's waiting room (or waiting for a host).
    Waiting {
        /// Which meeting.
        meeting: MeetingId,
        /// The id they will have once admitted.
        participant: ParticipantId,
    },
    /// In a meeting.
    Joined {
        /// Which meeting.
        meeting: MeetingId,
        /// As whom.
        participant: ParticipantId,
    },
}

impl Router {
    /// A router with no connections and no meetings.
    pub fn new(config: CoreConfig) -> Self {
        Self {
            media_keys: media_keys::MediaKeys::new(&config.media_key_seed),
            retained_bans: RetainedBans::default(),
            config,
            conns: HashMap::new(),
            meetings: HashMap::new(),
            sessions: SessionLedger::default(),
            timers: BinaryHeap::new(),
            meeting_timers: BinaryHeap::new(),
            now: Instant::now(),
            outputs: VecDeque::new(),
            events: VecDeque::new(),
            next_conn: 1,
            stats: RouterStats::default(),
        }
    }

    /// The configuration this router runs with.
    pub fn config(&self) -> &CoreConfig {
        &self.config
    }

    /// A transport connection opened. It has until `now + join_timeout` to
    /// send `join`.
    pub fn handle_connect(&mut self, now: Instant) -> ConnectionId {
        self.now = now;
        let id = ConnectionId(self.next_conn);
        self.next_conn += 1;
        self.conns.insert(
            id,
            Connection {
                connected_at: now,
                last_heard: now,
                state: ConnState::Pending,
            },
        );
        self.timers
            .push(Reverse((now + self.config.join_timeout, id)));
        id
    }

    /// A control message arrived on `conn`.
    pub fn handle_control(&mut self, now: Instant, conn: ConnectionId, input: ControlInput) {
        self.now = now;
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        c.last_heard = now;
        let state = c.state;
        match (state, input) {
            (ConnState::Waiting { .. }, ControlInput::Message(ClientMessage::Ping { nonce })) => {
                self.outputs.push_back(Output::Control {
                    to: conn,
                    message: ServerMessage::Pong { nonce },
                });
            }
            (ConnState::Waiting { .. }, ControlInput::Message(ClientMessage::Leave)) => {
                self.forget(conn, LeaveReason::Left);
                self.outputs.push_back(Output::Close {
                    conn,
                    reason: CloseReason::Left,
                });
            }
            (ConnState::Waiting { .. }, ControlInput::Join { .. }) => {
                self.reject(
                    conn,
                    ErrorCode::AlreadyJoined,
                    "this connection is already waiting to join".into(),
                );
            }
            (ConnState::Waiting { .. }, ControlInput::Message(_)) => {
                self.reject(
                    conn,
                    ErrorCode::NotJoined,
                    "you are waiting to be admitted".into(),
                );
            }
            (ConnState::Waiting { .. }, ControlInput::Malformed(error)) => {
                self.reject(conn, ErrorCode::MalformedMessage, describe(&error));
            }
            (
                ConnState::Pending,
                ControlInput::Join {
                    version,
                    meeting_id,
                    claims,
                    verified_at_unix,
                },
            ) => {
                self.join(now, conn, version, meeting_id, claims, verified_at_unix);
            }
            (ConnState::Pending, ControlInput::Message(ClientMessage::Leave)) => {
                self.close(conn, CloseReason::Left);
            }
            (ConnState::Pending, ControlInput::Message(_)) => {
                self.refuse(
                    conn,
                    ErrorCode::NotJoined,
                    "the first message must be join".into(),
                );
            }
            (ConnState::Pending, ControlInput::Malformed(error)) => {
                self.refuse(conn, ErrorCode::MalformedMessage, describe(&error));
            }
            (ConnState::Joined { .. }, ControlInput::Join { .. }) => {
                self.reject(
                    conn,
                    ErrorCode::AlreadyJoined,
                    "this connection has already joined".into(),
                );
            }
            (ConnState::Joined { .. }, ControlInput::Malformed(error)) => {
                self.reject(conn, ErrorCode::MalformedMessage, describe(&error));
            }
            (
                ConnState::Joined {
                    meeting,
                    participant,
                },
                ControlInput::Message(message),
            ) => {
                self.joined_message(conn, meeting, participant, message);
            }
        }
    }

    /// A media packet arrived on `conn`: an RTP packet, or RTCP feedback
    /// (PLI, NACK) for another participant's stream, told apart as in
    /// RFC 5761. RTP is forwarded unchanged if its SSRC is one of the
    /// sender's and host controls let that track through, camera video only
    /// to receivers taking that simulcast layer; feedback goes only to the
    /// owner of the stream it names. Everything else is dropped and counted
    /// (see `forwarding`).
    pub fn handle_media(&mut self, now: Instant, conn: ConnectionId, packet: Bytes) {
        let feedback = confer_wire::rtcp::is_rtcp(&packet);
        let joined = self.conns.get_mut(&conn).and_then(|c| {
            c.last_heard = now;
            match c.state {
                ConnState::Joined {
                    meeting,
                    participant,
                } => Some((meeting, participant)),
                ConnState::Pending | ConnState::Waiting { .. } => None,
            }
        });
        let Some((meeting, participant)) = joined else {
            if feedback {
                self.stats.feedback_dropped_not_joined += 1;
            } else {
                self.stats.media_dropped_not_joined += 1;
            }
            return;
        };
        if packet.len() > MAX_MEDIA_LEN {
            self.stats.media_dropped_malformed += 1;
            return;
        }
        if feedback {
            return self.relay_feedback(now, conn, meeting, participant, packet);
        }
        let Ok(ssrc) = confer_wire::rtp::ssrc(&packet) else {
            self.stats.media_dropped_malformed += 1;
            return;
        };
        if participant_of_ssrc(ssrc) != participant {
            self.stats.media_dropped_spoofed += 1;
            return;
        }
        self.forward_media(now, conn, meeting, participant, ssrc, packet);
    }

    /// The driver could not decode the framing on `conn` (unknown kind or a
    /// frame over the size limit). The connection cannot continue: the core
    /// answers with a fatal error and closes it.
    pub fn handle_frame_error(&mut self, now: Instant, conn: ConnectionId, error: &FrameError) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        c.last_heard = now;
        let code = match error {
            FrameError::TooLarge { .. } => ErrorCode::FrameTooLarge,
            _ => ErrorCode::MalformedMessage,
        };
        self.refuse(conn, code, error.to_string());
    }

    /// The transport connection closed (the client went away, or the driver
    /// closed it). The others in its meeting are told it `disconnected`.
    pub fn handle_disconnect(&mut self, now: Instant, conn: ConnectionId) {
        self.now = now;
        self.forget(conn, LeaveReason::Disconnected);
    }

    /// Time has passed: refuses connections that did not join in time,
    /// drops participants that fell silent, and warns and then ends
    /// meetings that ran too long without a host.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = now;
        self.sessions.prune(now);
        self.retained_bans.prune(now);
        self.hostless_timeouts(now);
        while let Some(&Reverse((at, conn))) = self.timers.peek() {
            if at > now {
                break;
            }
            self.timers.pop();
            let Some(c) = self.conns.get(&conn) else {
                continue;
            };
            let deadline = match c.state {
                ConnState::Pending => c.connected_at + self.config.join_timeout,
                ConnState::Joined { .. } | ConnState::Waiting { .. } => {
                    c.last_heard + self.config.silence_timeout
                }
            };
            if deadline > now {
                self.timers.push(Reverse((deadline, conn)));
                continue;
            }
            match c.state {
                ConnState::Pending => {
                    self.refuse(
                        conn,
                        ErrorCode::JoinTimeout,
                        "no join within the join timeout".into(),
                    );
                }
                ConnState::Joined { .. } | ConnState::Waiting { .. } => {
                    self.outputs.push_back(Output::Control {
                        to: conn,
                        message: ServerMessage::Removed {
                            reason: LeaveReason::TimedOut,
                        },
                    });
                    self.forget(conn, LeaveReason::TimedOut);
                    self.outputs.push_back(Output::Close {
                        conn,
                        reason: CloseReason::TimedOut,
                    });
                }
            }
        }
    }

    /// The next instruction for the driver, if any.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When [`Router::handle_timeout`] should next be called, if ever. May be
    /// earlier than strictly needed (a call that finds nothing due is
    /// harmless) but never later.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let conn = self.timers.peek().map(|Reverse((at, _))| *at);
        let meeting = self.meeting_timers.peek().map(|Reverse((at, _))| *at);
        conn.into_iter().chain(meeting).min()
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> RouterStats {
        RouterStats {
            connections: self.conns.len() as u64,
            meetings: self.meetings.len() as u64,
            participants: self.meetings.values().map(|m| m.len() as u64).sum(),
            ..self.stats
        }
    }

    /// Whether `conn` is open as far as the router knows.
    pub fn is_open(&self, conn: ConnectionId) -> bool {
        self.conns.contains_key(&conn)
    }

    /// The participant `conn` joined as, if it has joined.
    pub fn participant(&self, conn: ConnectionId) -> Option<(MeetingId, ParticipantId)> {
        match self.conns.get(&conn)?.state {
            ConnState::Joined {
                meeting,
                participant,
            } => Some((meeting, participant)),
            ConnState::Pending | ConnState::Waiting { .. } => None,
        }
    }

    /// How many session ids the router remembers.
    #[cfg(test)]
    pub(crate) fn remembered_sessions(&self) -> usize {
        self.sessions.len()
    }

    /// A well-formed message from a joined participant.
    fn joined_message(
        &mut self,
        conn: ConnectionId,
        meeting: MeetingId,
        participant: ParticipantId,
        message: ClientMessage,
    ) {
        match message {
            ClientMessage::Ping { nonce } => {
                self.outputs.push_back(Output::Control {
                    to: conn,
                    message: ServerMessage::Pong { nonce },
                });
            }
            ClientMessage::Chat { to, text } => self.chat(conn, meeting, participant, to, text),
            ClientMessage::SealedChat { to, ciphertext } => {
                self.sealed_chat(conn, meeting, participant, to, ciphertext);
            }
            ClientMessage::React { emoji } => self.react(conn, meeting, participant, &emoji),
            ClientMessage::Leave => {
                self.forget(conn, LeaveReason::Left);
                self.outputs.push_back(Output::Close {
                    conn,
                    reason: CloseReason::Left,
                });
            }
            ClientMessage::Join { .. } => {
                self.reject(
                    conn,
                    ErrorCode::AlreadyJoined,
                    "this connection has already joined".into(),
                );
            }
            ClientMessage::Host(action) => self.host_action(conn, meeting, participant, action),
            ClientMessage::Mls(m) => self.mls_message(conn, meeting, participant, m),
            ClientMessage::Subscribe(sub) => self.subscribe(conn, meeting, participant, sub),
            ClientMessage::SetAudio { .. }
            | ClientMessage::SetVideo { .. }
            | ClientMessage::SetHand { .. }
            | ClientMessage::SetShare { .. }
            | ClientMessage::SetRecording { .. }
            | ClientMessage::Rename { .. } => {
                self.self_control(conn, meeting, participant, message);
            }
            _ => {
                self.reject(
                    conn,
                    ErrorCode::MalformedMessage,
                    "message not supported by this router".into(),
                );
            }
        }
    }

    /// A non-fatal error: the message is dropped, the connection stays.
    fn reject(&mut self, conn: ConnectionId, code: ErrorCode, message: String) {
        self.outputs.push_back(Output::Control {
            to: conn,
            message: ServerMessage::Error {
                code,
                message,
                fatal: false,
            },
        });
    }

    /// A fatal error: says why, takes the connection out of its meeting (the
    /// others hear it `disconnected`) and closes it.
    fn refuse(&mut self, conn: ConnectionId, code: ErrorCode, message: String) {
        tracing::debug!(%conn, ?code, %message, "refusing connection");
        self.outputs.push_back(Output::Control {
            to: conn,
            message: ServerMessage::Error {
                code,
                message,
                fatal: true,
            },
        });
        self.forget(conn, LeaveReason::Disconnected);
        self.outputs.push_back(Output::Close {
            conn,
            reason: CloseReason::Error(code),
        });
    }

    /// Closes a connection without an error message.
    fn close(&mut self, conn: ConnectionId, reason: CloseReason) {
        self.forget(conn, LeaveReason::Disconnected);
        self.outputs.push_back(Output::Close { conn, reason });
    }

    /// Forgets a connection; if it was in a meeting, tells the others why it
    /// left, passes the host role on if it was the host's, and drops the
    /// meeting once empty. A waiting connection just leaves the waiting room.
    fn forget(&mut self, conn: ConnectionId, reason: LeaveReason) {
        let Some(c) = self.conns.remove(&conn) else {
            return;
        };
        let (meeting, participant) = match c.state {
            ConnState::Pending => return,
            ConnState::Waiting {
                meeting,
                participant,
            } => {
                if let Some(m) = self.meetings.get_mut(&meeting) {
                    m.waiting.remove(&participant);
                }
                self.announce_waiting_room(meeting);
                self.drop_if_empty(meeting);
                return;
            }
            ConnState::Joined {
                meeting,
                participant,
            } => (meeting, participant),
        };
        let Some(m) = self.meetings.get_mut(&meeting) else {
            return;
        };
        let gone = m.remove(participant);
        let left = gone.as_ref().map(|p| RouterEvent::ParticipantLeft {
            meeting_id: meeting,
            participant: p.event_participant(),
            role: p.entry.role,
            reason,
        });
        for &other in m.members() {
            self.outputs.push_back(Output::Control {
                to: other,
                message: ServerMessage::ParticipantLeft {
                    participant_id: participant,
                    reason,
                },
            });
        }
        if let Some(left) = left {
            self.emit(left);
        }
        if gone.is_some_and(|p| p.entry.role == Role::Host) && reason != LeaveReason::Ended {
            self.pass_host_role(meeting, participant);
        }
        self.refresh_hostless(meeting);
        self.drop_if_empty(meeting);
        self.rotate_media_key(meeting, participant, reason);
    }

    /// Drops a meeting nobody is in or waiting for.
    fn drop_if_empty(&mut self, meeting: MeetingId) {
        if self.meetings.get(&meeting).is_some_and(Meeting::is_empty)
            && let Some(emptied) = self.meetings.remove(&meeting)
            && self.retire_meeting(meeting, emptied)
        {
            self.emit(RouterEvent::MeetingEnded {
                meeting_id: meeting,
                reason: MeetingEndReason::Empty,
            });
        }
    }

    /// Sends `message` to everyone in `meeting`.
    fn broadcast(&mut self, meeting: MeetingId, message: &ServerMessage) {
        let Some(m) = self.meetings.get(&meeting) else {
            return;
        };
        for &member in m.members() {
            self.outputs.push_back(Output::Control {
                to: member,
                message: message.clone(),
            });
        }
    }

    /// Tells everyone in `meeting` that something happened.
    fn announce_event(
        &mut self,
        meeting: MeetingId,
        by: Option<ParticipantId>,
        event: MeetingEvent,
    ) {
        self.broadcast(meeting, &ServerMessage::Event { by, event });
    }

    /// Tells everyone in `meeting` the current roster entries of `ids`.
    fn announce_updates(&mut self, meeting: MeetingId, ids: &[ParticipantId]) {
        for &id in ids {
            let Some(entry) = self
                .meetings
                .get(&meeting)
                .and_then(|m| m.entry(id))
                .cloned()
            else {
                continue;
            };
            self.broadcast(
                meeting,
                &ServerMessage::ParticipantUpdated { participant: entry },
            );
        }
    }
}

/// A decode error for the client: serde's message names the offending field
/// or position, never more of the input than that.
fn describe(error: &DecodeError) -> String {
    error.to_string()
}
