//! The tokio driver: connects to the router and runs a [`Session`] over the
//! connection.
//!
//! It is deliberately thin. [`connect`] picks a transport (QUIC first, then
//! TLS 1.3 over TCP, each attempt bounded by a timeout) and reports which one
//! it got; [`run`] moves bytes between the connection and the session, feeds
//! it the clock and the front end's [`Command`]s, and passes its [`Event`]s
//! on. Every decision (what to send, when to ping, when to give up) is the
//! session's.
//!
//! Malformed input from the router (bad framing, undecodable messages) ends
//! the session with a clear [`EndReason::Error`](crate::session::EndReason)
//! or is dropped and counted, per the protocol; it never panics.

mod capture;
mod link;
mod quic;
mod tls_tcp;

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use confer_wire::ids::ParticipantId;
use tokio::sync::mpsc;

use crate::api::RouterAddresses;
use crate::media::{CaptureTrack, MediaEngine, MediaEngineStats, MediaSink};
use crate::session::{EncryptionStats, Event, Output, Session};
use crate::tls::{TlsError, router_client_config};
use confer_media::processing::ProcessingConfig;
use confer_media::source::SourceSpec;

use link::{Incoming, Link};

/// How long a QUIC attempt may take before falling back to TLS. QUIC over a
/// network that drops UDP never answers, so this bounds the cost of trying.
pub const DEFAULT_QUIC_TIMEOUT: Duration = Duration::from_secs(3);

/// How long a TLS-over-TCP attempt (connect plus handshake) may take.
pub const DEFAULT_TLS_TIMEOUT: Duration = Duration::from_secs(5);

/// Which transport to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Transport {
    /// QUIC, falling back to TLS over TCP.
    #[default]
    Auto,
    /// QUIC only.
    Quic,
    /// TLS over TCP only.
    Tls,
}

impl FromStr for Transport {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(Transport::Auto),
            "quic" => Ok(Transport::Quic),
            "tls" => Ok(Transport::Tls),
            other => Err(format!(
                "unknown transport {other:?}: expected auto, quic or tls"
            )),
        }
    }
}

/// The transport a connection actually uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// QUIC (UDP).
    Quic,
    /// TLS 1.3 over TCP.
    Tls,
}

impl TransportKind {
    /// `quic` or `tls`, as in the stats file.
    pub fn as_str(self) -> &'static str {
        match self {
            TransportKind::Quic => "quic",
            TransportKind::Tls => "tls",
        }
    }
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why no connection to the router could be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DriverError {
    /// The CA could not be used.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The router offers no address for the transport asked for.
    #[error("the router offers no {0} address")]
    NoAddress(TransportKind),
    /// The router's address did not resolve.
    #[error("cannot resolve router address {addr:?}: {reason}")]
    Resolve {
        /// The address as given.
        addr: String,
        /// Why.
        reason: String,
    },
    /// The name the certificate must carry is not a valid DNS name or IP.
    #[error("invalid router server name {0:?}")]
    InvalidServerName(String),
    /// Connecting or the handshake failed.
    #[error("{kind} connection failed: {reason}")]
    Handshake {
        /// The transport tried.
        kind: TransportKind,
        /// What went wrong.
        reason: String,
    },
    /// Connecting took too long.
    #[error("{kind} connection timed out after {after:?}")]
    Timeout {
        /// The transport tried.
        kind: TransportKind,
        /// The limit.
        after: Duration,
    },
    /// Every transport tried failed; each attempt's error, in order.
    #[error("could not reach the router: {}", join_errors(.0))]
    AllFailed(Vec<DriverError>),
}

fn join_errors(errors: &[DriverError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; then ")
}

/// How to connect.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Which transport(s) to try.
    pub transport: Transport,
    /// The CA (PEM) the router's certificate must chain to.
    pub ca_pem: Vec<u8>,
    /// Limit for the QUIC attempt.
    pub quic_timeout: Duration,
    /// Limit for the TLS-over-TCP attempt.
    pub tls_timeout: Duration,
}

impl ConnectOptions {
    /// Automatic transport choice and default timeouts, trusting `ca_pem`.
    pub fn new(ca_pem: Vec<u8>) -> Self {
        ConnectOptions {
            transport: Transport::Auto,
            ca_pem,
            quic_timeout: DEFAULT_QUIC_TIMEOUT,
            tls_timeout: DEFAULT_TLS_TIMEOUT,
        }
    }
}

/// An open connection to the router, ready for [`run`].
pub struct RouterConnection {
    link: Link,
}

impl fmt::Debug for RouterConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RouterConnection")
            .field("transport", &self.link.kind)
            .finish_non_exhaustive()
    }
}

impl RouterConnection {
    /// The transport in use.
    pub fn transport(&self) -> TransportKind {
        self.link.kind
    }
}

/// Connects to the router: QUIC first, then TLS over TCP (or only the one
/// `options.transport` names). Each attempt is bounded by its timeout.
pub async fn connect(
    router: &RouterAddresses,
    options: &ConnectOptions,
) -> Result<RouterConnection, DriverError> {
    let tls = Arc::new(router_client_config(&options.ca_pem)?);
    let order: &[TransportKind] = match options.transport {
        Transport::Auto => &[TransportKind::Quic, TransportKind::Tls],
        Transport::Quic => &[TransportKind::Quic],
        Transport::Tls => &[TransportKind::Tls],
    };
    let mut failures = Vec::new();
    for &kind in order {
        let attempt = async {
            let (addr, timeout) = match kind {
                TransportKind::Quic => (router.quic.as_deref(), options.quic_timeout),
                TransportKind::Tls => (router.tls.as_deref(), options.tls_timeout),
            };
            let addr = resolve(addr.ok_or(DriverError::NoAddress(kind))?, timeout).await?;
            match kind {
                TransportKind::Quic => {
                    quic::connect(addr, &router.server_name, tls.clone(), timeout).await
                }
                TransportKind::Tls => {
                    tls_tcp::connect(addr, &router.server_name, tls.clone(), timeout).await
                }
            }
        };
        match attempt.await {
            Ok(link) => {
                tracing::debug!("connected to the router over {kind}");
                return Ok(RouterConnection { link });
            }
            Err(e) => {
                tracing::debug!("{kind} attempt failed: {e}");
                failures.push(e);
            }
        }
    }
    if failures.len() == 1
        && let Some(only) = failures.pop()
    {
        return Err(only);
    }
    Err(DriverError::AllFailed(failures))
}

async fn resolve(addr: &str, timeout: Duration) -> Result<SocketAddr, DriverError> {
    let failed = |reason: String| DriverError::Resolve {
        addr: addr.to_owned(),
        reason,
    };
    let mut addrs = tokio::time::timeout(timeout, tokio::net::lookup_host(addr))
        .await
        .map_err(|_| failed("timed out".into()))?
        .map_err(|e| failed(e.to_string()))?;
    addrs.next().ok_or_else(|| failed("no addresses".into()))
}

/// A request from the front end to a running session.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Command {
    /// Send a chat message to everyone, or to one participant.
    Chat {
        /// The one recipient, or `None` for everyone.
        to: Option<ParticipantId>,
        /// The message.
        text: String,
    },
    /// Send one RTP packet of ours.
    SendMedia(Bytes),
    /// Ask the router for a host action or a change to ourselves
    /// (see [`Session::request`]).
    Request(confer_wire::control::ClientMessage),
    /// A new window appeared on the screen (see
    /// [`Session::handle_new_window_detected`]).
    NewWindowDetected {
        /// Whether we share a whole screen (not just one window).
        whole_screen: bool,
    },
    /// Start, replace or stop capturing one of our tracks (with
    /// [`run_with_media`]): `source` is a [`SourceSpec`] as text
    /// (`tone:440`, `pattern:640x360@30`, a device id such as `mic:…` or
    /// `screen:…`), `None` stops the track, so nothing of it is sent. Before
    /// we are admitted it changes what starts at admission. Only capture
    /// changes: the front end tells the router (`SetAudio`, `SetVideo`,
    /// `SetShare`) itself.
    Capture {
        /// Which of our tracks.
        track: CaptureTrack,
        /// What to capture it from, or `None` to stop.
        source: Option<String>,
    },
    /// Our front end could not decode a participant's video (with
    /// [`crate::media::MediaConfig::decode_video`] off): drop that track's
    /// frames until a keyframe and ask its sender for one.
    RequestKeyframe {
        /// Whose video.
        participant: ParticipantId,
        /// Camera or screen.
        kind: crate::media::VideoKind,
    },
    /// Receive `layer` of a participant's camera (see
    /// [`crate::media::MediaEngine::set_video_layer`]).
    SetVideoLayer {
        /// Whose camera.
        participant: ParticipantId,
        /// The simulcast layer wanted.
        layer: confer_wire::simulcast::LayerId,
    },
    /// Run these stages on captured audio from the next frame on (see
    /// [`crate::media::MediaEngine::set_processing`]) while the microphone
    /// track captures a device; a file or tone gets none, also when the
    /// track changes later.
    Processing(ProcessingConfig),
    /// Leave the meeting.
    Leave,
}

/// What a running session counted so far, handed to the media sink about
/// once a second (see [`MediaSink::live_report`]) for live status displays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveReport {
    /// The latest ping round-trip time.
    pub rtt: Option<Duration>,
    /// Media keys: epochs, the security code, decrypt failures.
    pub encryption: EncryptionStats,
    /// The media engine's counters (sent and received).
    pub media: MediaEngineStats,
}

/// How often the sink gets a [`LiveReport`].
pub const REPORT_INTERVAL: Duration = Duration::from_secs(1);

/// The clock seam: tokio's clock, so tests that pause tokio's time also
/// control the session's.
fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// Media for [`run_with_media`]: the engine, what to capture, where decoded
/// media goes.
pub struct MediaSetup {
    /// The media engine (its config says how we send).
    pub engine: MediaEngine,
    /// Sources to capture once admitted, each for one of our tracks.
    pub sources: Vec<(CaptureTrack, SourceSpec)>,
    /// Where received media goes; `None` decodes and counts only.
    pub sink: Option<Box<dyn MediaSink>>,
}

impl fmt::Debug for MediaSetup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MediaSetup")
            .field("sources", &self.sources)
            .finish_non_exhaustive()
    }
}

/// Runs `session` over `connection` until the session ends, then closes the
/// connection and returns the session (its roster and statistics stay
/// readable).
///
/// `commands` carries the front end's requests; when every sender is
/// dropped, the session leaves. Events go to `events` (unbounded so a slow
/// reader never stalls the connection; there is no per-packet event). A
/// command the session refuses (chat before joining, say) is logged and
/// dropped.
pub async fn run(
    connection: RouterConnection,
    session: Session,
    commands: mpsc::Receiver<Command>,
    events: mpsc::UnboundedSender<Event>,
) -> Session {
    run_inner(connection, session, commands, events, None)
        .await
        .0
}

/// [`run`] with real media: once admitted, captures `media.sources` in real
/// time, encodes, seals and sends them; passes received media through the
/// engine to `media.sink`. Returns the session and the engine (for its
/// statistics).
pub async fn run_with_media(
    connection: RouterConnection,
    session: Session,
    commands: mpsc::Receiver<Command>,
    events: mpsc::UnboundedSender<Event>,
    media: MediaSetup,
) -> (Session, Option<MediaEngine>) {
    run_inner(connection, session, commands, events, Some(media)).await
}

/// How many captured frames may wait for the driver; a capture thread
/// blocks beyond that rather than piling up memory.
const CAPTURE_QUEUE: usize = 32;

async fn run_inner(
    connection: RouterConnection,
    mut session: Session,
    mut commands: mpsc::Receiver<Command>,
    events: mpsc::UnboundedSender<Event>,
    mut media: Option<MediaSetup>,
) -> (Session, Option<MediaEngine>) {
    let mut link = connection.link;
    let mut commands_open = true;
    let (capture_tx, mut capture_rx) = mpsc::channel(CAPTURE_QUEUE);
    // One capture per running track; `admitted` says whether tracks run
    // yet (before admission `Command::Capture` edits `media.sources`).
    let mut captures: HashMap<CaptureTrack, capture::Capture> = HashMap::new();
    let mut admitted = false;
    let mut next_report: Option<Instant> = None;
    // The audio processing the front end asked for last, if it did.
    let mut processing: Option<ProcessingConfig> = None;
    loop {
        while let Some(output) = session.poll_output() {
            match output {
                Output::Control(msg) => {
                    if link.send_control(&msg.encode()).await.is_err() {
                        session.fail("the connection to the router failed while sending");
                    }
                }
                Output::Media(packet) => link.send_media(packet),
                Output::Event(event) => {
                    if let Some(sink) = media.as_mut().and_then(|m| m.sink.as_mut()) {
                        name_participants(sink.as_mut(), &event);
                    }
                    let _ = events.send(event);
                }
                Output::Close => link.close().await,
            }
        }
        if let Some(m) = media.as_mut() {
            if !admitted
                && !session.is_ended()
                && let Some(me) = session.participant_id()
            {
                m.engine.handle_joined(me);
                // The router forwards camera video only while our roster
                // entry says it is on.
                if m.sources.iter().any(|(t, _)| *t == CaptureTrack::Camera)
                    && let Err(e) =
                        session.request(confer_wire::control::ClientMessage::SetVideo { on: true })
                {
                    tracing::warn!("cannot turn video on: {e}");
                }
                // Likewise screen packets only while our share is on.
                if m.sources.iter().any(|(t, _)| *t == CaptureTrack::Screen)
                    && let Err(e) = session.request(confer_wire::control::ClientMessage::SetShare {
                        state: confer_wire::host::ShareState::On,
                    })
                {
                    tracing::warn!("cannot start the screen share: {e}");
                }
                for (track, spec) in &m.sources {
                    captures.insert(
                        *track,
                        capture::start(&[(*track, spec.clone())], &capture_tx),
                    );
                }
                admitted = true;
                next_report = Some(now() + REPORT_INTERVAL);
            }
            pump_media(m, &mut session);
            // Sending may have queued media for the link.
            while let Some(output) = session.poll_output() {
                match output {
                    Output::Media(packet) => link.send_media(packet),
                    Output::Event(event) => {
                        let _ = events.send(event);
                    }
                    Output::Control(msg) => {
                        if link.send_control(&msg.encode()).await.is_err() {
                            session.fail("the connection to the router failed while sending");
                        }
                    }
                    Output::Close => link.close().await,
                }
            }
        }
        if session.is_ended() {
            link.close().await;
            if link.media_dropped > 0 {
                tracing::debug!(
                    "{} media packets dropped under congestion",
                    link.media_dropped
                );
            }
            drop(captures);
            let engine = media.map(|mut m| {
                if let Some(sink) = m.sink.as_mut() {
                    sink.finish();
                }
                m.engine
            });
            return (session, engine);
        }
        let media_deadline = media.as_ref().and_then(|m| m.engine.poll_timeout());
        let deadline = [session.poll_timeout(), media_deadline, next_report]
            .into_iter()
            .flatten()
            .min();
        let sleep = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            incoming = link.inbox.recv() => match incoming {
                Some(Incoming::Control(payload)) => session.handle_control(now(), &payload),
                Some(Incoming::Media(packet)) => {
                    let now = now();
                    if session.handle_media(now, &packet)
                        && let Some(m) = media.as_mut()
                    {
                        m.engine.handle_packet(now, &packet, &mut session);
                    }
                }
                Some(Incoming::Closed(detail)) => session.handle_transport_closed(now(), detail.as_deref()),
                Some(Incoming::Failed(reason)) => session.fail(reason),
                None => session.handle_transport_closed(now(), Some("the connection's tasks stopped")),
            },
            captured = capture_rx.recv(), if admitted => {
                if let (Some(m), Some(captured)) = (media.as_mut(), captured) {
                    match captured {
                        // A frame still queued from a track stopped since.
                        capture::Captured::Frame(track, _) if !captures.contains_key(&track) => {}
                        capture::Captured::Frame(track, frame) => {
                            if let (Some(sink), Some(me)) = (m.sink.as_mut(), session.participant_id()) {
                                sink.captured(me, track, &frame);
                            }
                            if let Err(e) = m.engine.handle_captured(now(), track, &frame, &mut session) {
                                tracing::debug!("{track:?} frame not sent: {e}");
                            }
                        }
                        capture::Captured::Failed(track, reason) => {
                            tracing::warn!("{track:?} capture failed: {reason}");
                            captures.remove(&track);
                            m.engine.handle_source_error(format!("{track:?}: {reason}"));
                            // A share that stopped capturing is over for the others too.
                            if track == CaptureTrack::Screen
                                && let Err(e) = session.request(confer_wire::control::ClientMessage::SetShare {
                                    state: confer_wire::host::ShareState::Off,
                                })
                            {
                                tracing::debug!("cannot stop the screen share: {e}");
                            }
                        }
                    }
                }
            }
            command = commands.recv(), if commands_open => match command {
                Some(Command::Chat { to, text }) => {
                    if let Err(e) = session.send_chat(to, &text) {
                        tracing::warn!("chat not sent: {e}");
                    }
                }
                Some(Command::SendMedia(packet)) => {
                    if let Err(e) = session.send_media(packet) {
                        tracing::debug!("media not sent: {e}");
                    }
                }
                Some(Command::Request(msg)) => {
                    if let Err(e) = session.request(msg) {
                        tracing::warn!("request not sent: {e}");
                    }
                }
                Some(Command::NewWindowDetected { whole_screen }) => {
                    session.handle_new_window_detected(whole_screen);
                }
                Some(Command::Capture { track, source }) => {
                    if let Some(m) = media.as_mut() {
                        change_capture(m, &mut captures, admitted, &capture_tx, track, source.as_deref());
                        if let (CaptureTrack::Audio, Some(wanted)) = (track, processing) {
                            apply_processing(m, wanted);
                        }
                    } else {
                        tracing::warn!("capture change without media: ignored");
                    }
                }
                Some(Command::Processing(config)) => {
                    processing = Some(config);
                    if let Some(m) = media.as_mut() {
                        apply_processing(m, config);
                    }
                }
                Some(Command::SetVideoLayer { participant, layer }) => {
                    if let Some(m) = media.as_mut() {
                        m.engine.set_video_layer(participant, layer);
                    }
                }
                Some(Command::RequestKeyframe { participant, kind }) => {
                    if let Some(m) = media.as_mut() {
                        m.engine.request_keyframe(participant, kind);
                    }
                }
                Some(Command::Leave) => session.leave(now()),
                None => {
                    commands_open = false;
                    session.leave(now());
                }
            },
            () = sleep => {
                let now = now();
                session.handle_timeout(now);
                if let Some(m) = media.as_mut() {
                    m.engine.handle_timeout(now, &mut session);
                    if next_report.is_some_and(|at| at <= now) {
                        next_report = Some(now + REPORT_INTERVAL);
                        if let Some(sink) = m.sink.as_mut() {
                            sink.live_report(&LiveReport {
                                rtt: session.rtt(),
                                encryption: session.encryption_stats(),
                                media: m.engine.stats(),
                            });
                        }
                    }
                }
            }
        }
    }
}

/// Applies a [`Command::Capture`]: before admission to what starts then,
/// after it to the running captures. A source that does not parse is
/// recorded as a source error and changes nothing.
fn change_capture(
    m: &mut MediaSetup,
    captures: &mut HashMap<CaptureTrack, capture::Capture>,
    admitted: bool,
    capture_tx: &mpsc::Sender<capture::Captured>,
    track: CaptureTrack,
    source: Option<&str>,
) {
    let spec = match source.map(str::parse::<SourceSpec>) {
        None => None,
        Some(Ok(spec)) => Some(spec),
        Some(Err(e)) => {
            tracing::warn!("{track:?} source not changed: {e}");
            m.engine.handle_source_error(format!("{track:?}: {e}"));
            return;
        }
    };
    m.sources.retain(|(t, _)| *t != track);
    // Dropping the old capture stops its thread.
    captures.remove(&track);
    if let Some(spec) = spec {
        if admitted {
            captures.insert(track, capture::start(&[(track, spec.clone())], capture_tx));
        }
        m.sources.push((track, spec));
    }
}

/// Runs `wanted` on captured audio when the microphone track captures a
/// device, and nothing on a file or tone (what is sent is then exactly the
/// file). Judged here, on what is captured, so a fallback to the tone
/// racing a settings change cannot leave processing on the tone.
fn apply_processing(m: &mut MediaSetup, wanted: ProcessingConfig) {
    let device = m
        .sources
        .iter()
        .any(|(t, spec)| *t == CaptureTrack::Audio && matches!(spec, SourceSpec::Device(_)));
    m.engine.set_processing(if device {
        wanted
    } else {
        ProcessingConfig::off()
    });
}

/// Moves the engine's outputs on: our packets to the session, decoded media
/// to the sink.
fn pump_media(m: &mut MediaSetup, session: &mut Session) {
    while let Some(packet) = m.engine.poll_transmit() {
        if let Err(e) = session.send_media(packet) {
            tracing::debug!("media not sent: {e}");
        }
    }
    while let Some(feedback) = m.engine.poll_feedback() {
        // RTCP feedback names the other participant's stream and our own
        // SSRC as its sender; the router relays it to the stream's owner.
        if let Err(e) = session.send_media(feedback) {
            tracing::trace!("feedback not sent: {e}");
        }
    }
    while let Some(sub) = m.engine.poll_subscription() {
        if let Err(e) = session.request(confer_wire::control::ClientMessage::Subscribe(sub)) {
            tracing::debug!("subscription not sent: {e}");
        }
    }
    while let Some(output) = m.engine.poll_output() {
        if let Some(sink) = m.sink.as_mut() {
            sink.handle(output);
        }
    }
}

/// Tells the sink the names of participants an event introduces.
fn name_participants(sink: &mut dyn MediaSink, event: &Event) {
    match event {
        Event::Joined { roster, .. } => {
            for e in roster {
                sink.participant_named(e.participant_id, &e.name);
            }
        }
        Event::ParticipantJoined(e) => sink.participant_named(e.participant_id, &e.name),
        _ => {}
    }
}
