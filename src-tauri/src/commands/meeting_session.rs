//! Joining a meeting and everything done inside one: our media, chat,
//! self controls, host controls, reactions, leaving. The meeting runs in a
//! task of its own ([`run_meeting`]); what happens in it reaches the UI as
//! `meeting` events, decoded and self-view pictures on the video channel.
//!
//! The task outlives one connection: when the connection to the router
//! drops unexpectedly it fetches a fresh join token and rejoins with
//! backoff (see `reconnect.rs`), starting our media again from
//! [`LocalMedia`].

use std::sync::{Arc, Mutex as SyncMutex};
use std::time::Instant;

use crate::video::{self, Delivery, KeyframeGate, Record};
use confer_client::api::{ApiClient, JoinTokenRequest};
use confer_client::device_keys::DeviceKeyStore;
use confer_client::driver::{
    self, Command, ConnectOptions, LiveReport, MediaSetup, RouterConnection,
};
use confer_client::media::playout::SpeakerSink;
use confer_client::media::{
    CaptureTrack, DecodedVideo, MediaConfig, MediaEngine, MediaOutput, MediaSink, VideoKind,
};
use confer_client::session::{EndReason, Event, Session, SessionConfig};
use confer_media::processing::ProcessingConfig;
use confer_media::source::Frame;
use confer_wire::control::ClientMessage;
use confer_wire::host::{HostAction, ShareState};
use confer_wire::ids::{MeetingId, ParticipantId};
use tauri::ipc::Channel;
use tauri::{AppHandle, Emitter, Runtime, State};
use tokio::sync::mpsc;

use super::meeting_devices::{self, SpeakerSlot};
use crate::app_settings;
use crate::error::Error;
use crate::meeting_events::Translator;
use crate::meeting_link::{MeetingRef, parse_meeting_ref};
use crate::models::{
    AppSettings, AudioLevel, ChatRequest, Encryption, EndKind, HostControl, JoinRequest,
    MEETING_EVENT, MeetingUpdate, SelfControl, end_words,
};
use crate::reconnect::{self, Backoff, LayerMemory};
use crate::state::{AppState, LocalMedia, MeetingHandle};
use crate::status::{self, Levels, LossMeter};

/// Longest chat message, in bytes (the protocol's limit).
const MAX_CHAT_BYTES: usize = confer_wire::control::MAX_CHAT_LEN;

/// Joins a meeting by id or invitation link. Returns once connected to the
/// router; admission, the roster and everything after arrive as events, and
/// decoded camera pictures (ours too, under our own id) as raw bytes on
/// `video` (see `video.rs`). We send the microphone and camera the settings
/// name (or the test tone and pattern where there is none, with a notice),
/// starting muted or with video off when `request` says so, and play
/// everyone's audio on the speaker.
#[tauri::command]
pub(crate) async fn join_meeting<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    request: JoinRequest,
    video: Channel,
) -> Result<(), Error> {
    let mut slot = state.meeting.lock().await;
    if slot.as_ref().is_some_and(|h| !h.commands.is_closed()) {
        return Err(Error::AlreadyInMeeting);
    }
    let meeting_id = match parse_meeting_ref(&request.meeting)? {
        MeetingRef::Id(id) => id,
        MeetingRef::Invitation(code) => state.web_with("")?.invitation(&code).await?,
    };
    let api = state.api().await?;
    let display_name = request
        .display_name
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    if !api.is_logged_in() && display_name.is_none() {
        return Err(Error::InvalidInput(
            "enter the name others will see, or sign in".into(),
        ));
    }
    let ca_pem = state.settings.ca_pem()?.ok_or_else(|| {
        Error::Settings("no CA certificate configured (set CONFER_CA_FILE)".into())
    })?;
    let token_request = JoinTokenRequest {
        display_name,
        passcode: request.passcode.filter(|p| !p.is_empty()),
    };
    let ticket = api
        .join_token(MeetingId(meeting_id), &token_request)
        .await?;
    // The server says how the meeting is protected, to guests too.
    let encryption = if ticket.e2e {
        Encryption::EndToEnd
    } else {
        Encryption::Transport
    };
    let settings = super::devices::load_settings(&app);
    let (local, notices) = choose_local_media(&settings, request.muted, request.video_off).await;
    let connection = driver::connect(&ticket.router, &ConnectOptions::new(ca_pem.clone())).await?;
    let _ = app.emit(
        MEETING_EVENT,
        MeetingUpdate::Connected {
            transport: connection.transport().as_str().into(),
        },
    );
    for (_, text) in notices {
        let _ = app.emit(MEETING_EVENT, MeetingUpdate::Notice { text });
    }
    let (commands, command_rx) = mpsc::channel(64);
    // Video to the UI: access units for a page that decodes them itself
    // (WebCodecs), else decoded pictures, which the sink drops when the
    // forwarder falls behind.
    let delivery = if request.page_decodes_video {
        Delivery::Encoded
    } else {
        Delivery::Decoded
    };
    let (media_tx, media_rx) = mpsc::channel(match delivery {
        Delivery::Encoded => video::ENCODED_QUEUE,
        Delivery::Decoded => video::QUEUE,
    });
    let keyframes = commands.downgrade();
    let ask_keyframe = move |participant: u32, screen: bool| {
        if let Some(commands) = keyframes.upgrade() {
            let _ = commands.try_send(keyframe_request(participant, screen));
        }
    };
    tauri::async_runtime::spawn(video::deliver(
        media_rx,
        video,
        Some(video::FLUSH_EVERY),
        ask_keyframe,
    ));
    let local = Arc::new(SyncMutex::new(local));
    let speaker = SpeakerSlot::new(settings.speaker.clone());
    let settings = Arc::new(SyncMutex::new(settings));
    let meeting = Meeting {
        app,
        api,
        meeting_id: MeetingId(meeting_id),
        token_request,
        ca_pem,
        encryption,
        settings: settings.clone(),
        local: local.clone(),
        speaker: speaker.clone(),
        media_tx,
        delivery,
    };
    tauri::async_runtime::spawn(run_meeting(meeting, connection, ticket.token, command_rx));
    *slot = Some(MeetingHandle {
        commands,
        local,
        settings,
        speaker,
    });
    Ok(())
}

/// Picks what we send from the settings and the devices present: a named
/// device as it is, the system default as the first one listed, and the
/// test tone or pattern when there is none (each fallback with a notice,
/// by the track it is about).
pub(super) async fn choose_local_media(
    settings: &AppSettings,
    muted: bool,
    video_off: bool,
) -> (LocalMedia, Vec<(CaptureTrack, String)>) {
    let devices = super::devices::capture_devices().await;
    let first = |prefix: &str| {
        devices
            .iter()
            .find(|d| d.id.starts_with(prefix))
            .map(|d| d.id.clone())
    };
    let mut notices = Vec::new();
    // `mic:default` is the system's default input (the first listed may
    // be an ALSA plugin such as JACK that does not capture).
    let any_mic = first("mic:").map(|_| app_settings::DEFAULT_MIC.to_owned());
    let microphone =
        app_settings::microphone_spec(settings.microphone.as_deref(), any_mic.as_deref())
            .unwrap_or_else(|| {
                notices.push((
                    CaptureTrack::Audio,
                    "No microphone found: sending a test tone instead.".to_owned(),
                ));
                app_settings::tone_spec()
            });
    let camera = app_settings::camera_spec(
        settings.camera.as_deref(),
        first("camera:").as_deref(),
        settings.video_quality,
    )
    .unwrap_or_else(|| {
        notices.push((
            CaptureTrack::Camera,
            "No camera found: sending a test pattern instead.".to_owned(),
        ));
        app_settings::pattern_spec(settings.video_quality)
    });
    let local = LocalMedia {
        microphone: Some(microphone),
        camera: Some(camera),
        muted,
        video_off,
        share: None,
    };
    (local, notices)
}

/// Everything a meeting task needs to (re)join and run a session.
struct Meeting<R: Runtime> {
    app: AppHandle<R>,
    api: ApiClient,
    meeting_id: MeetingId,
    token_request: JoinTokenRequest,
    ca_pem: Vec<u8>,
    encryption: Encryption,
    /// The settings the meeting runs with; saving them mid-meeting
    /// updates them, and a reconnect uses them as they are then.
    settings: Arc<SyncMutex<AppSettings>>,
    local: Arc<SyncMutex<LocalMedia>>,
    /// The speaker, which the settings may change mid-meeting.
    speaker: SpeakerSlot,
    media_tx: mpsc::Sender<Record>,
    delivery: Delivery,
}

impl<R: Runtime> Meeting<R> {
    fn emit(&self, update: MeetingUpdate) {
        let _ = self.app.emit(MEETING_EVENT, update);
    }

    fn local(&self) -> LocalMedia {
        self.local.lock().map(|l| l.clone()).unwrap_or_default()
    }

    fn settings(&self) -> AppSettings {
        self.settings.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Starts a session over `connection` with our media.
    async fn start(
        &self,
        connection: RouterConnection,
        token: String,
        notify_keyring: bool,
    ) -> Running {
        let config = SessionConfig::new(self.meeting_id, token);
        let mut session = Session::new(config, tokio::time::Instant::now().into_std());
        if self.encryption == Encryption::EndToEnd {
            // Keyring calls block (D-Bus); DeviceKeyStore bounds them.
            let loaded =
                tokio::task::spawn_blocking(|| DeviceKeyStore::from_env().load_or_create()).await;
            match loaded {
                Ok(Ok(identity)) => session.set_device_identity(identity),
                Ok(Err(e)) if notify_keyring => self.emit(MeetingUpdate::Notice {
                    text: format!(
                        "This device's encryption identity could not be kept ({e}); a temporary one is used for this meeting."
                    ),
                }),
                _ => {}
            }
        }
        let local = self.local();
        let (commands, command_rx) = mpsc::channel(64);
        let (event_tx, events) = mpsc::unbounded_channel();
        let (note_tx, notes) = mpsc::unbounded_channel();
        // This (re)join opens the speaker chosen now; one opened for an
        // earlier connection's sink is not needed.
        self.speaker.clear_replacement();
        let choice = self.speaker.choice();
        let (speaker, notice) = meeting_devices::open_speaker(choice.as_deref());
        if let (Some(text), true) = (notice, notify_keyring) {
            self.emit(MeetingUpdate::Notice { text });
        }
        let settings = self.settings();
        let processing = processing_for(&settings, &local, speaker.is_some());
        let sink = AppSink {
            video: self.media_tx.clone(),
            delivery: self.delivery,
            gate: KeyframeGate::default(),
            speaker,
            speaker_slot: self.speaker.clone(),
            notes: note_tx,
            commands: commands.downgrade(),
            local: self.local.clone(),
            levels: Levels::default(),
            last_levels: Instant::now(),
            loss: LossMeter::default(),
            source_errors: 0,
            settings: self.settings.clone(),
        };
        let media = MediaSetup {
            engine: MediaEngine::new(MediaConfig {
                processing,
                decode_video: self.delivery == Delivery::Decoded,
                ..MediaConfig::default()
            }),
            sources: local.sources(),
            sink: Some(Box::new(sink)),
        };
        tauri::async_runtime::spawn(driver::run_with_media(
            connection, session, command_rx, event_tx, media,
        ));
        Running {
            commands,
            events,
            notes,
        }
    }

    /// After a drop: waits, fetches a fresh token, reconnects; `None` when
    /// the user left meanwhile or it kept failing past the limit (the
    /// `ended` update is sent then).
    async fn reconnect(
        &self,
        ui: &mut mpsc::Receiver<Command>,
        mut last_error: String,
        layers: &mut LayerMemory,
    ) -> Option<(RouterConnection, String)> {
        let mut backoff = Backoff::new(Instant::now());
        loop {
            let Some(delay) = backoff.next_delay(Instant::now()) else {
                self.emit(MeetingUpdate::Ended {
                    kind: EndKind::Error,
                    reason: reconnect::gave_up_words(&last_error),
                });
                return None;
            };
            let wait = tokio::time::sleep(delay);
            tokio::pin!(wait);
            loop {
                tokio::select! {
                    () = &mut wait => break,
                    command = ui.recv() => match command {
                        None | Some(Command::Leave) => {
                            let (kind, reason) = end_words(&EndReason::Left);
                            self.emit(MeetingUpdate::Ended { kind, reason });
                            return None;
                        }
                        // Kept for the engine we rejoin with.
                        Some(Command::SetVideoLayer { participant, layer }) => {
                            layers.handle_asked(participant, layer);
                        }
                        // Nothing to send it to while disconnected.
                        Some(_) => {}
                    },
                }
            }
            let ticket = match self
                .api
                .join_token(self.meeting_id, &self.token_request)
                .await
            {
                Ok(t) => t,
                Err(e) => {
                    last_error = e.to_string();
                    continue;
                }
            };
            match driver::connect(&ticket.router, &ConnectOptions::new(self.ca_pem.clone())).await {
                Ok(c) => return Some((c, ticket.token)),
                Err(e) => last_error = e.to_string(),
            }
        }
    }
}

/// One session's channels.
struct Running {
    commands: mpsc::Sender<Command>,
    events: mpsc::UnboundedReceiver<Event>,
    notes: mpsc::UnboundedReceiver<MeetingUpdate>,
}

/// Runs the meeting until it is over for us: one session, then more after
/// unexpected drops.
async fn run_meeting<R: Runtime>(
    meeting: Meeting<R>,
    mut connection: RouterConnection,
    mut token: String,
    mut ui: mpsc::Receiver<Command>,
) {
    let mut translator = Translator::new(meeting.encryption);
    // The page's layer requests, replayed to the engine of each rejoin.
    let mut layers = LayerMemory::default();
    let mut first = true;
    loop {
        let mut running = meeting.start(connection, token, first).await;
        let reconnected = !first;
        first = false;
        let mut admitted = false;
        let mut left = false;
        let mut ui_open = true;
        let mut notes_open = true;
        let mut me: Option<ParticipantId> = None;
        let reason = loop {
            tokio::select! {
                command = ui.recv(), if ui_open => {
                    let command = command.unwrap_or_else(|| {
                        ui_open = false;
                        Command::Leave
                    });
                    left |= command == Command::Leave;
                    if let Command::SetVideoLayer { participant, layer } = command {
                        layers.handle_asked(participant, layer);
                    }
                    let _ = running.commands.send(command).await;
                }
                note = running.notes.recv(), if notes_open => match note {
                    Some(update) => meeting.emit(update),
                    None => notes_open = false,
                },
                event = running.events.recv() => match event {
                    Some(Event::Ended(reason)) => break reason,
                    Some(event) => {
                        if let Event::Joined { participant_id, roster, .. } = &event {
                            admitted = true;
                            me = Some(*participant_id);
                            let replay = layers.replay(roster.iter().map(|e| e.participant_id));
                            after_admission(&meeting, &running.commands, reconnected, replay).await;
                        }
                        remember_layers(&mut layers, &event, &running.commands).await;
                        if let (Event::ParticipantUpdated(entry), Some(me)) = (&event, me)
                            && entry.participant_id == me
                        {
                            follow_host(&meeting.local, &running.commands, entry.muted).await;
                        }
                        for update in translator.handle_event(event) {
                            meeting.emit(update);
                        }
                    }
                    None => break EndReason::Error("the session stopped".into()),
                },
            }
        };
        if !left && reconnect::should_reconnect(&reason, admitted) {
            let last_error = reason.error_text().unwrap_or_default();
            meeting.emit(status_update(None, 0, None, 0.0, true));
            match meeting.reconnect(&mut ui, last_error, &mut layers).await {
                Some((c, t)) => {
                    connection = c;
                    token = t;
                    continue;
                }
                None => return,
            }
        }
        for update in translator.handle_event(Event::Ended(reason)) {
            meeting.emit(update);
        }
        return;
    }
}

/// Right after admission: tell the router we are muted (no audio flows
/// then) and, after a reconnect, ask the new engine for the layers the page
/// chose (`replay`, from [`LayerMemory::replay`]; the page will not ask
/// again) and say that the connection is back.
async fn after_admission<R: Runtime>(
    meeting: &Meeting<R>,
    commands: &mpsc::Sender<Command>,
    reconnected: bool,
    replay: Vec<(ParticipantId, confer_wire::simulcast::LayerId)>,
) {
    let local = meeting.local();
    if local.muted {
        let _ = commands
            .send(Command::Request(ClientMessage::SetAudio { muted: true }))
            .await;
    }
    if reconnected {
        for (participant, layer) in replay {
            let _ = commands
                .send(Command::SetVideoLayer { participant, layer })
                .await;
        }
        meeting.emit(status_update(None, 0, None, 0.0, false));
        meeting.emit(MeetingUpdate::Notice {
            text: "Reconnected to the meeting.".into(),
        });
    }
}

/// Keeps [`LayerMemory`] in step with the roster: forgets who left, and
/// asks at once for the remembered layer of someone entering with an id
/// the page already chose a layer for (after a router restart ids repeat).
async fn remember_layers(
    layers: &mut LayerMemory,
    event: &Event,
    commands: &mpsc::Sender<Command>,
) {
    match event {
        Event::ParticipantLeft { participant_id, .. } => layers.handle_left(*participant_id),
        Event::ParticipantJoined(entry) => {
            if let Some(layer) = layers.handle_joined(entry.participant_id) {
                let participant = entry.participant_id;
                let _ = commands
                    .send(Command::SetVideoLayer { participant, layer })
                    .await;
            }
        }
        _ => {}
    }
}

/// A host muted us: stop capturing audio too, so nothing is sent.
async fn follow_host(
    local: &Arc<SyncMutex<LocalMedia>>,
    commands: &mpsc::Sender<Command>,
    muted_by_router: bool,
) {
    let newly_muted = match local.lock() {
        Ok(mut l) if muted_by_router && !l.muted => {
            l.muted = true;
            true
        }
        _ => false,
    };
    if newly_muted {
        let _ = commands
            .send(Command::Capture {
                track: CaptureTrack::Audio,
                source: None,
            })
            .await;
    }
}

/// A `status` update.
fn status_update(
    security_code: Option<String>,
    key_epochs: u32,
    rtt_ms: Option<u32>,
    loss_percent: f32,
    reconnecting: bool,
) -> MeetingUpdate {
    MeetingUpdate::Status {
        security_code,
        key_epochs,
        rtt_ms,
        loss_percent,
        // Nothing measured while the connection is down must not read as
        // a good connection beside the reconnecting banner.
        quality: if reconnecting {
            crate::models::ConnectionQuality::Poor
        } else {
            status::quality(loss_percent, rtt_ms)
        },
        reconnecting,
    }
}

/// What runs on our microphone: the settings' switches for a microphone
/// (echo cancellation only when we play the others: without a speaker
/// there is no echo), nothing for the test tone.
pub(super) fn processing_for(
    settings: &AppSettings,
    local: &LocalMedia,
    playing: bool,
) -> ProcessingConfig {
    if !local
        .microphone
        .as_deref()
        .is_some_and(|m| m.starts_with("mic:"))
    {
        return ProcessingConfig::off();
    }
    ProcessingConfig {
        echo_cancellation: playing && settings.echo_cancellation,
        noise_suppression: settings.noise_suppression,
        gain_control: settings.auto_gain,
        echo_delay_ms: None,
    }
}

/// The app's media sink: remote pictures and our own camera (self view) to
/// the video forwarder, remote audio to the speaker, levels and status to
/// the meeting task, and a fallback to the test tone or pattern when a
/// device fails.
struct AppSink {
    video: mpsc::Sender<Record>,
    delivery: Delivery,
    /// Tracks whose access units wait for a keyframe after one was lost
    /// because the forwarder fell behind.
    gate: KeyframeGate,
    speaker: Option<SpeakerSink>,
    /// Where a speaker changed mid-meeting waits to replace `speaker`.
    speaker_slot: SpeakerSlot,
    notes: mpsc::UnboundedSender<MeetingUpdate>,
    /// Weak, so the sink (inside the driver) never keeps the session's
    /// command channel open.
    commands: mpsc::WeakSender<Command>,
    local: Arc<SyncMutex<LocalMedia>>,
    levels: Levels,
    last_levels: Instant,
    loss: LossMeter,
    /// Source errors already handled.
    source_errors: usize,
    /// The meeting's settings, for the test pattern's size at the
    /// quality set now.
    settings: Arc<SyncMutex<AppSettings>>,
}

impl AppSink {
    /// Swaps in a speaker the user picked mid-meeting, if one waits.
    fn take_new_speaker(&mut self) {
        if let Some(replacement) = self.speaker_slot.take() {
            if let Some(old) = self.speaker.as_mut() {
                old.finish();
            }
            self.speaker = replacement;
        }
    }

    fn level(&mut self, participant: ParticipantId, samples: &[i16]) {
        self.levels
            .handle_level(participant.0, status::level_of(samples));
        let now = Instant::now();
        if now.saturating_duration_since(self.last_levels) >= status::LEVELS_EVERY {
            self.last_levels = now;
            self.send_levels(now);
        }
    }

    fn send_levels(&mut self, now: Instant) {
        let (levels, active_speaker) = self.levels.take(now);
        let _ = self.notes.send(MeetingUpdate::Levels {
            levels: levels
                .into_iter()
                .map(|(id, level)| AudioLevel { id, level })
                .collect(),
            active_speaker,
        });
    }

    /// A capture device failed: send the synthetic source instead.
    fn fall_back(&mut self, error: &str) {
        let (track, replacement, words) = if error.starts_with("Audio") {
            (CaptureTrack::Audio, app_settings::tone_spec(), "microphone")
        } else if error.starts_with("Camera") {
            (
                CaptureTrack::Camera,
                app_settings::pattern_spec(
                    self.settings
                        .lock()
                        .map(|s| s.video_quality)
                        .unwrap_or_default(),
                ),
                "camera",
            )
        } else {
            let _ = self.notes.send(MeetingUpdate::Notice {
                text: format!("Screen sharing stopped: {error}"),
            });
            if let Ok(mut l) = self.local.lock() {
                l.share = None;
            }
            return;
        };
        let current = self
            .local
            .lock()
            .ok()
            .and_then(|l| l.source(track).map(str::to_owned));
        if current.as_deref() == Some(replacement.as_str()) {
            return;
        }
        if let Ok(mut l) = self.local.lock() {
            match track {
                CaptureTrack::Audio => l.microphone = Some(replacement.clone()),
                _ => l.camera = Some(replacement.clone()),
            }
        }
        let _ = self.notes.send(MeetingUpdate::Notice {
            text: format!(
                "The {words} did not work ({error}); sending a test {} instead.",
                if track == CaptureTrack::Audio {
                    "tone"
                } else {
                    "pattern"
                }
            ),
        });
        if let Some(commands) = self.commands.upgrade() {
            let _ = commands.try_send(Command::Capture {
                track,
                source: Some(replacement),
            });
            // Nothing runs on the test tone.
            if track == CaptureTrack::Audio {
                let _ = commands.try_send(Command::Processing(ProcessingConfig::off()));
            }
        }
    }
}

impl MediaSink for AppSink {
    fn handle(&mut self, output: MediaOutput) {
        match output {
            MediaOutput::Audio { participant, frame } => {
                self.take_new_speaker();
                self.level(participant, &frame.samples);
                if let Some(speaker) = self.speaker.as_mut() {
                    speaker.handle(MediaOutput::Audio { participant, frame });
                }
            }
            other => match video::record_of(other, self.delivery) {
                Some(Record::Encoded(unit)) => {
                    let track = unit.track();
                    if !self.gate.admit(track, unit.keyframe()) {
                        return;
                    }
                    if self.video.try_send(Record::Encoded(unit)).is_err()
                        && self.gate.lost(track)
                        && let Some(commands) = self.commands.upgrade()
                    {
                        let _ = commands.try_send(keyframe_request(track.0, track.1));
                    }
                }
                Some(picture) => {
                    let _ = self.video.try_send(picture);
                }
                None => {}
            },
        }
    }

    fn captured(&mut self, own: ParticipantId, track: CaptureTrack, frame: &Frame) {
        match (track, frame) {
            (CaptureTrack::Audio, Frame::Audio(a)) => self.level(own, &a.samples),
            (CaptureTrack::Camera, Frame::Video(v)) => {
                // The self view's tile is small: so is its picture.
                let frame = video::self_view(v);
                let picture = video::pack(&DecodedVideo {
                    participant: own,
                    kind: VideoKind::Camera,
                    frame,
                });
                let _ = self
                    .video
                    .try_send(Record::Picture((own.0, false), picture));
            }
            _ => {}
        }
    }

    fn live_report(&mut self, report: &LiveReport) {
        self.take_new_speaker();
        let errors = &report.media.source_errors;
        for error in errors
            .iter()
            .skip(self.source_errors)
            .cloned()
            .collect::<Vec<_>>()
        {
            self.fall_back(&error);
        }
        self.source_errors = errors.len();
        let loss = self.loss.update(&report.media);
        let rtt_ms = report
            .rtt
            .map(|d| u32::try_from(d.as_millis()).unwrap_or(u32::MAX));
        let _ = self.notes.send(status_update(
            report.encryption.security_code.clone(),
            u32::try_from(report.encryption.key_epochs_seen).unwrap_or(u32::MAX),
            rtt_ms,
            loss,
            false,
        ));
        // Levels also go out when nobody sends audio, so the speaking
        // indicator clears.
        let now = Instant::now();
        if now.saturating_duration_since(self.last_levels) >= status::LEVELS_EVERY {
            self.last_levels = now;
            self.send_levels(now);
        }
    }

    fn finish(&mut self) {
        if let Some(speaker) = self.speaker.as_mut() {
            speaker.finish();
        }
    }
}

/// Asks for a keyframe of `participant`'s camera or screen.
fn keyframe_request(participant: u32, screen: bool) -> Command {
    Command::RequestKeyframe {
        participant: ParticipantId(participant),
        kind: if screen {
            VideoKind::Screen
        } else {
            VideoKind::Camera
        },
    }
}

/// The page's decoder could not decode a participant's video: drop it
/// until a keyframe and ask the sender for one.
#[tauri::command]
pub(crate) async fn request_keyframe(
    state: State<'_, AppState>,
    participant: u32,
    screen: bool,
) -> Result<(), Error> {
    send(&state, keyframe_request(participant, screen)).await
}

/// A camera simulcast layer, as the UI names it.
#[derive(Debug, Clone, Copy, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum VideoLayer {
    /// 320×180: a gallery tile.
    Low,
    /// 640×360.
    Medium,
    /// 1280×720 (or the largest the sender has): the speaker.
    High,
}

/// Receives a participant's camera at the layer that suits the size it is
/// shown at (the gallery's tiles are small: a quarter of the pixels to
/// receive and decode).
#[tauri::command]
pub(crate) async fn set_video_layer(
    state: State<'_, AppState>,
    participant: u32,
    layer: VideoLayer,
) -> Result<(), Error> {
    let layer = match layer {
        VideoLayer::Low => confer_wire::simulcast::LayerId::Low,
        VideoLayer::Medium => confer_wire::simulcast::LayerId::Medium,
        VideoLayer::High => confer_wire::simulcast::LayerId::High,
    };
    let participant = ParticipantId(participant);
    send(&state, Command::SetVideoLayer { participant, layer }).await
}

async fn send(state: &AppState, command: Command) -> Result<(), Error> {
    state
        .meeting_commands()
        .await?
        .send(command)
        .await
        .map_err(|_| Error::NotInMeeting)
}

/// Sends a chat message to everyone, or privately to one participant.
#[tauri::command]
pub(crate) async fn send_chat(
    state: State<'_, AppState>,
    request: ChatRequest,
) -> Result<(), Error> {
    let text = request.text.trim();
    if text.is_empty() {
        return Err(Error::InvalidInput("type a message first".into()));
    }
    if text.len() > MAX_CHAT_BYTES {
        return Err(Error::InvalidInput(format!(
            "a message can be at most {MAX_CHAT_BYTES} bytes"
        )));
    }
    let command = Command::Chat {
        to: request.to.map(ParticipantId),
        text: text.to_owned(),
    };
    send(&state, command).await
}

/// Mutes, turns video on or off, raises a hand or shares, for ourselves.
///
/// Muting stops capturing the microphone and turning video off stops the
/// camera, so nothing of either is sent; unmuting and turning video on
/// start them again.
#[tauri::command]
pub(crate) async fn self_control(
    state: State<'_, AppState>,
    control: SelfControl,
) -> Result<(), Error> {
    let (commands, local) = state.meeting_local().await?;
    let capture = {
        let mut l = local
            .lock()
            .map_err(|_| Error::InvalidInput("the meeting's media state is unusable".into()))?;
        match control {
            SelfControl::Mute { muted } => {
                l.muted = muted;
                Some((
                    CaptureTrack::Audio,
                    l.source(CaptureTrack::Audio).map(str::to_owned),
                ))
            }
            SelfControl::Video { on } => {
                l.video_off = !on;
                Some((
                    CaptureTrack::Camera,
                    l.source(CaptureTrack::Camera).map(str::to_owned),
                ))
            }
            SelfControl::Share { on: false } => {
                l.share = None;
                Some((CaptureTrack::Screen, None))
            }
            SelfControl::Hand { .. } | SelfControl::Share { on: true } => None,
        }
    };
    let closed = |_| Error::NotInMeeting;
    // Stop capturing before telling the others we are muted; start again
    // only after telling them we are not.
    let stopping = capture.as_ref().is_some_and(|(_, s)| s.is_none());
    if let (true, Some((track, source))) = (stopping, capture.clone()) {
        commands
            .send(Command::Capture { track, source })
            .await
            .map_err(closed)?;
    }
    commands
        .send(Command::Request(self_message(control)))
        .await
        .map_err(closed)?;
    if let (false, Some((track, source))) = (stopping, capture) {
        commands
            .send(Command::Capture { track, source })
            .await
            .map_err(closed)?;
    }
    Ok(())
}

/// The request for a self control.
pub(crate) fn self_message(control: SelfControl) -> ClientMessage {
    match control {
        SelfControl::Mute { muted } => ClientMessage::SetAudio { muted },
        SelfControl::Video { on } => ClientMessage::SetVideo { on },
        SelfControl::Hand { raised } => ClientMessage::SetHand { raised },
        SelfControl::Share { on } => ClientMessage::SetShare {
            state: if on { ShareState::On } else { ShareState::Off },
        },
    }
}

/// Asks the router for a host control; it refuses unless our role allows.
#[tauri::command]
pub(crate) async fn host_control(
    state: State<'_, AppState>,
    control: HostControl,
) -> Result<(), Error> {
    let action = host_action(control);
    send(&state, Command::Request(ClientMessage::Host(action))).await
}

/// The wire action for a host control.
pub(crate) fn host_action(control: HostControl) -> HostAction {
    let id = |p: u32| ParticipantId(p);
    match control {
        HostControl::Mute { participant } => HostAction::Mute {
            participant_id: participant.map(id),
        },
        HostControl::AskUnmute { participant } => HostAction::AskUnmute {
            participant_id: id(participant),
        },
        HostControl::StopVideo { participant } => HostAction::StopVideo {
            participant_id: Some(id(participant)),
        },
        HostControl::Expel { participant } => HostAction::Expel {
            participant_id: Some(id(participant)),
        },
        HostControl::Lock { locked } => HostAction::Lock { locked },
        HostControl::Admit { participant } => HostAction::Admit {
            participant_id: participant.map(id),
        },
        HostControl::Deny { participant } => HostAction::Deny {
            participant_id: id(participant),
        },
        HostControl::End => HostAction::End,
    }
}

/// Leaves the meeting (the `ended` event follows).
#[tauri::command]
pub(crate) async fn leave_meeting(state: State<'_, AppState>) -> Result<(), Error> {
    send(&state, Command::Leave).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mute_everyone_leaves_the_participant_out() {
        let json = serde_json::to_value(ClientMessage::Host(host_action(HostControl::Mute {
            participant: None,
        })))
        .unwrap();
        assert_eq!(json, serde_json::json!({"type": "host", "action": "mute"}));
    }

    #[test]
    fn processing_follows_the_settings_for_microphones_only() {
        let settings = AppSettings {
            noise_suppression: false,
            ..AppSettings::default()
        };
        let mic = LocalMedia {
            microphone: Some("mic:default".into()),
            ..LocalMedia::default()
        };
        let p = processing_for(&settings, &mic, true);
        assert!(p.echo_cancellation && p.gain_control && !p.noise_suppression);
        // No speaker, no echo to cancel.
        assert!(!processing_for(&settings, &mic, false).echo_cancellation);
        let tone = LocalMedia {
            microphone: Some("tone:440".into()),
            ..LocalMedia::default()
        };
        assert!(!processing_for(&settings, &tone, true).any());
    }

    #[test]
    fn status_quality_comes_from_loss_and_rtt() {
        let update = status_update(Some("12345".into()), 2, Some(500), 0.0, false);
        let json = serde_json::to_value(&update).unwrap();
        assert_eq!(json["type"], "status");
        assert_eq!(json["quality"], "poor");
        assert_eq!(json["securityCode"], "12345");
        assert_eq!(json["reconnecting"], false);
        // While reconnecting nothing is measured: never "good".
        let down = serde_json::to_value(status_update(None, 0, None, 0.0, true)).unwrap();
        assert_eq!(down["quality"], "poor");
        assert_eq!(down["reconnecting"], true);
    }

    #[test]
    fn controls_decode_from_the_ui_shape() {
        let c: HostControl =
            serde_json::from_value(serde_json::json!({"action": "expel", "participant": 3}))
                .unwrap();
        assert_eq!(
            host_action(c),
            HostAction::Expel {
                participant_id: Some(ParticipantId(3))
            }
        );
        let s: SelfControl =
            serde_json::from_value(serde_json::json!({"action": "hand", "raised": true})).unwrap();
        assert_eq!(self_message(s), ClientMessage::SetHand { raised: true });
    }
}
