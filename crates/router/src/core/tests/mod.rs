//! The meeting core driven by a virtual clock: no sockets, no sleeping.

use std::time::{Duration, Instant};

use bytes::Bytes;
use confer_wire::PROTOCOL_VERSION;
use confer_wire::control::{
    ClientMessage, DecodeError, ErrorCode, LeaveReason, RosterEntry, ServerMessage,
};
use confer_wire::frame::{FrameError, FrameKind};
use confer_wire::host::HostAction;
use confer_wire::ids::{MeetingId, ParticipantId, Role, ssrc_for};
use confer_wire::rtp::{PT_SYNTHETIC, RtpHeader};
use confer_wire::token::{JOIN_TOKEN_AUDIENCE, JoinClaims};

use super::*;
use crate::join_token::TokenError;

const MEETING: MeetingId = MeetingId(4_821_937_650);
/// The wall-clock time the virtual clock starts at.
const UNIX_T0: u64 = 1_800_000_000;

/// A router plus a virtual clock.
struct Harness {
    router: Router,
    t0: Instant,
    now: Instant,
    next_sid: u32,
}

impl Harness {
    fn new() -> Self {
        Self::with_config(CoreConfig::default())
    }

    fn with_config(config: CoreConfig) -> Self {
        let t0 = Instant::now();
        Self {
            router: Router::new(config),
            t0,
            now: t0,
            next_sid: 0,
        }
    }

    fn advance(&mut self, by: Duration) {
        self.now += by;
        self.router.handle_timeout(self.now);
    }

    fn unix_now(&self) -> u64 {
        UNIX_T0 + (self.now - self.t0).as_secs()
    }

    fn claims(&mut self, meeting: MeetingId, name: &str, role: Role) -> JoinClaims {
        self.next_sid += 1;
        let iat = self.unix_now();
        JoinClaims {
            iss: "https://confer.test".into(),
            aud: JOIN_TOKEN_AUDIENCE.into(),
            sub: format!("user-{name}"),
            exp: iat + 3600,
            iat,
            jti: format!("jti-{}", self.next_sid),
            mid: meeting,
            sid: format!("sid-{}", self.next_sid),
            role,
            name: name.into(),
            guest: false,
            policy: Default::default(),
        }
    }

    fn connect(&mut self) -> ConnectionId {
        self.router.handle_connect(self.now)
    }

    fn send_join(
        &mut self,
        conn: ConnectionId,
        meeting: MeetingId,
        claims: Result<JoinClaims, TokenError>,
    ) {
        let input = ControlInput::Join {
            version: PROTOCOL_VERSION,
            meeting_id: meeting,
            claims,
            verified_at_unix: self.unix_now(),
        };
        self.router.handle_control(self.now, conn, input);
    }

    /// Connects and joins `MEETING`; returns the connection and participant id.
    fn join(&mut self, name: &str) -> (ConnectionId, ParticipantId) {
        self.join_meeting(MEETING, name, Role::Participant)
    }

    fn join_meeting(
        &mut self,
        meeting: MeetingId,
        name: &str,
        role: Role,
    ) -> (ConnectionId, ParticipantId) {
        let conn = self.connect();
        let claims = self.claims(meeting, name, role);
        self.send_join(conn, meeting, Ok(claims));
        let outputs = self.drain();
        let joined = outputs.iter().find_map(|o| match o {
            Output::Control {
                to,
                message: ServerMessage::Joined { participant_id, .. },
            } if *to == conn => Some(*participant_id),
            _ => None,
        });
        (conn, joined.expect("join admitted"))
    }

    /// Connects and joins `MEETING` with `claims`; returns the connection and
    /// everything the router said.
    fn join_claims(&mut self, claims: JoinClaims) -> (ConnectionId, Vec<Output>) {
        let conn = self.connect();
        self.send_join(conn, MEETING, Ok(claims));
        (conn, self.drain())
    }

    /// Joins `MEETING` as `role` and expects to be admitted.
    fn join_as(&mut self, name: &str, role: Role) -> (ConnectionId, ParticipantId) {
        self.join_meeting(MEETING, name, role)
    }

    /// Sends a host action and drains the outputs.
    fn host(&mut self, conn: ConnectionId, action: HostAction) -> Vec<Output> {
        self.send(conn, ClientMessage::Host(action));
        self.drain()
    }

    fn send(&mut self, conn: ConnectionId, message: ClientMessage) {
        self.router
            .handle_control(self.now, conn, ControlInput::Message(message));
    }

    fn media(&mut self, conn: ConnectionId, packet: Bytes) {
        self.router.handle_media(self.now, conn, packet);
    }

    fn drain(&mut self) -> Vec<Output> {
        std::iter::from_fn(|| self.router.poll_output()).collect()
    }
}

/// The control messages addressed to `conn` among `outputs`, media keys
/// left out (`media_keys.rs` checks those with [`to_with_keys`]).
fn to(conn: ConnectionId, outputs: &[Output]) -> Vec<ServerMessage> {
    to_with_keys(conn, outputs)
        .into_iter()
        .filter(|m| !matches!(m, ServerMessage::MediaKey(_)))
        .collect()
}

/// Every control message addressed to `conn` among `outputs`.
fn to_with_keys(conn: ConnectionId, outputs: &[Output]) -> Vec<ServerMessage> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Control { to, message } if *to == conn => Some(message.clone()),
            _ => None,
        })
        .collect()
}

fn closes(outputs: &[Output]) -> Vec<(ConnectionId, CloseReason)> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Close { conn, reason } => Some((*conn, *reason)),
            _ => None,
        })
        .collect()
}

fn error(code: ErrorCode, fatal: bool) -> impl Fn(&ServerMessage) -> bool {
    move |m| matches!(m, ServerMessage::Error { code: c, fatal: f, .. } if *c == code && *f == fatal)
}

fn rtp(ssrc: u32, seq: u16) -> Bytes {
    let mut out = Vec::new();
    let header = RtpHeader {
        marker: false,
        payload_type: PT_SYNTHETIC,
        sequence: seq,
        timestamp: 0,
        ssrc,
    };
    header.write(b"sealed frame", &mut out);
    Bytes::from(out)
}

mod chat;
mod feedback;
mod host_controls;
mod join;
mod liveness;
mod media;
mod media_keys;
mod random;
mod reactions;
mod roles;
mod router_events;
mod sealed_chat;
mod simulcast;
mod waiting_room;

/// The roster entry of `id` in the latest `participant_updated` to `conn`.
fn updated(conn: ConnectionId, id: ParticipantId, outputs: &[Output]) -> Option<RosterEntry> {
    to(conn, outputs).into_iter().rev().find_map(|m| match m {
        ServerMessage::ParticipantUpdated { participant } if participant.participant_id == id => {
            Some(participant)
        }
        _ => None,
    })
}

/// The meeting events `conn` got, in order.
fn events(conn: ConnectionId, outputs: &[Output]) -> Vec<confer_wire::host::MeetingEvent> {
    to(conn, outputs)
        .into_iter()
        .filter_map(|m| match m {
            ServerMessage::Event { event, .. } => Some(event),
            _ => None,
        })
        .collect()
}

/// Whether `conn` was refused with `not_allowed` and nobody else heard anything.
fn refused_quietly(conn: ConnectionId, outputs: &[Output]) -> bool {
    outputs.len() == 1
        && to(conn, outputs)
            .iter()
            .any(error(ErrorCode::NotAllowed, false))
}
